// What the rules tests share: commands dated on a day of 2026, the facts the rules consult,
// and a deal brought to a stage through the rules themselves.
#pragma once

#include <doctest/doctest.h>

#include "actors/commands.h"
#include "events/ids.h"
#include "events/rules.h"

namespace leanos::rules_test {

inline Micros day(int d) { return parse_time("2026-01-01").value() + (d - 1) * kMicrosPerDay; }

inline Envelope cmd(const google::protobuf::Message& payload, int on_day = 1) {
  Envelope c = make_event(payload, day(on_day));
  c.set_event_id(new_event_id());
  c.set_actor("tester");
  return c;
}

inline Facts facts() {
  Facts f;
  f.assumptions = {"A4"};
  f.goals["g-mrr-50k"] = {"SG1"};
  f.campaigns = {"2026-01-01-fintech"};
  return f;
}

inline v1::LeadCaptured lead(const std::string& id = "acme") {
  v1::LeadCaptured l;
  l.set_deal_id(id);
  l.set_company("Acme");
  l.set_segment("enterprise");
  l.set_source(v1::INBOUND);
  l.mutable_contact()->set_name("Jane");
  l.mutable_contact()->set_email("jane@acme.example");
  l.set_signal("demo request");
  return l;
}

inline v1::HypothesisStated hypothesis(const std::string& a = "A4", int conf = 60) {
  v1::HypothesisStated h;
  h.set_deal_id("acme");
  h.set_assumption_id(a);
  h.set_confidence(conf);
  return h;
}

inline v1::ImplicationAssessed implication(double priority = 0.5) {
  v1::ImplicationAssessed i;
  i.set_deal_id("acme");
  i.set_arr_low(100000);
  i.set_arr_high(150000);
  i.set_strategic(v1::HIGH);
  i.set_cost_hours(40);
  i.set_priority(priority);
  return i;
}

inline v1::DecisionMade decision(v1::Verdict v, double impact = 0.5) {
  v1::DecisionMade d;
  d.set_deal_id("acme");
  d.set_verdict(v);
  d.set_reason("because");
  d.set_impact(impact);
  return d;
}

inline v1::ActionStarted start(const std::string& action) {
  v1::ActionStarted a;
  a.set_deal_id("acme");
  a.set_action(action);
  return a;
}

inline v1::DealClosed closed(v1::Outcome o, std::int64_t arr = 0) {
  v1::DealClosed c;
  c.set_deal_id("acme");
  c.set_outcome(o);
  c.set_arr(arr);
  return c;
}

// Applies `c` through the rules and folds the result into `s`; returns the rules' answer.
inline Result<Events> step(DealState& s, const google::protobuf::Message& payload, int on_day = 1, const Facts& f = facts()) {
  auto r = decide_deal(s, cmd(payload, on_day), f);
  if (r)
    for (const auto& e : *r) apply(s, e);
  return r;
}

inline v1::ActionCompleted done(const std::string& action, const std::string& result = "") {
  v1::ActionCompleted c;
  c.set_deal_id("acme");
  c.set_action(action);
  c.set_result(result);
  return c;
}

// Runs stage 5 up to (not including) `action`: each action before it started and completed
// with the result that leads on.
inline void run_up_to(DealState& s, const std::string& action) {
  static const std::pair<const char*, const char*> kPath[] = {{"sales:lead-intake", "READY_FOR_QUALIFICATION"},
                                                              {"sales:qualify", "QUALIFIED"},
                                                              {"sales:demo", "INTERESTED"},
                                                              {"sales:pilot", "SUCCESS"}};
  for (const auto& [a, result] : kPath) {
    if (action == a) return;
    REQUIRE(step(s, start(a)).is_ok());
    REQUIRE(step(s, done(a, result)).is_ok());
  }
}

inline DealState qualified(double impact = 0.5) {
  DealState s;
  REQUIRE(step(s, lead()).is_ok());
  REQUIRE(step(s, hypothesis()).is_ok());
  REQUIRE(step(s, implication()).is_ok());
  REQUIRE(step(s, decision(v1::QUALIFY, impact), 2).is_ok());
  return s;
}


}  // namespace leanos::rules_test
