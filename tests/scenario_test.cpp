// The rules and the folds through the given / when / then harness (tests/scenario.h): given
// what was recorded, when a command, then what it records or the rule that refuses it, and
// what the views say over it.
#include <doctest/doctest.h>

#include <map>

#include "tests/scenario.h"

using namespace leanos;
using leanos::test::lead_captured;
using leanos::test::Scenario;

namespace {

v1::AssumptionRegistered assumption(const std::string& id, int confidence) {
  v1::AssumptionRegistered a;
  a.set_assumption_id(id);
  a.set_statement("Enterprise customers prefer white-label");
  a.set_confidence(confidence);
  return a;
}

v1::HypothesisStated hypothesis(const std::string& deal, const std::string& assumption_id) {
  v1::HypothesisStated h;
  h.set_deal_id(deal);
  h.set_assumption_id(assumption_id);
  h.set_confidence(60);
  return h;
}

v1::CampaignOpened campaign(const std::string& id) {
  v1::CampaignOpened o;
  o.set_campaign_id(id);
  o.set_segment("fintech");
  o.set_objective("ten meetings");
  o.set_target_list_size(50);
  return o;
}

v1::CampaignDecisionMade campaign_decision(const std::string& id, v1::Verdict verdict) {
  v1::CampaignDecisionMade d;
  d.set_campaign_id(id);
  d.set_verdict(verdict);
  d.set_reason("the list is ready");
  return d;
}

v1::ProspectAdded prospect(const std::string& campaign_id) {
  v1::ProspectAdded p;
  p.set_campaign_id(campaign_id);
  p.set_company("Ledgerly");
  return p;
}

v1::GoalDefined goal(const std::string& id, std::int64_t target) {
  v1::GoalDefined g;
  g.set_goal_id(id);
  g.set_title("Reach $5K MRR");
  g.set_metric(v1::MRR);
  g.set_target(target);
  return g;
}

v1::LeadCaptured lead_for(const std::string& deal, const std::string& goal_id) {
  auto l = lead_captured(deal);
  l.set_goal_id(goal_id);
  return l;
}

// As the rules record it: the lead's segment and goal copied onto the outcome.
v1::DealClosed won(const std::string& deal, std::int64_t mrr, const std::string& goal_id) {
  v1::DealClosed c;
  c.set_deal_id(deal);
  c.set_segment("smb");
  c.set_goal_id(goal_id);
  c.set_outcome(v1::WON);
  c.set_mrr(mrr);
  c.set_arr(12 * mrr);
  return c;
}

v1::QueryRequest goal_query(const std::string& id) {
  v1::QueryRequest q;
  q.mutable_goal()->set_goal_id(id);
  return q;
}

}  // namespace

TEST_CASE("given a lead, a hypothesis of an assumption the canvas lacks is refused naming it, and once it is registered, it is recorded") {
  Scenario s;
  s.given(lead_captured("acme"), "2026-01-10")
      .when(hypothesis("acme", "A9"), "2026-01-11")
      .then_refused(rule::kUnknownAssumption, {{"assumption_id", "A9"}});
  CHECK(s.refusal().code() == Code::not_found);
  s.given(assumption("A9", 50), "2026-01-01").when(hypothesis("acme", "A9"), "2026-01-11").then_recorded({"HypothesisStated"});
}

TEST_CASE("given an opened campaign, its prospects wait for a LAUNCH decision, and after it they are recorded") {
  Scenario s;
  const std::string id = "2026-03-01-fintech";
  s.given(campaign(id), "2026-03-01")
      .when(prospect(id), "2026-03-02")
      .then_refused(rule::kNotLaunched, {{"campaign_id", id}});
  s.given(campaign_decision(id, v1::LAUNCH), "2026-03-02").when(prospect(id), "2026-03-03").then_recorded({"ProspectAdded"});
}

TEST_CASE("given a goal and won deals toward it, the goal's view counts each deal at its date and is met by the one that reaches the target") {
  Scenario s;
  s.given(goal("g-mrr-5k", 5000), "2026-01-01")
      .given(lead_for("alpha", "g-mrr-5k"), "2026-01-05")
      .given(won("alpha", 2000, "g-mrr-5k"), "2026-02-01");
  auto g = s.view(goal_query("g-mrr-5k")).goal();
  CHECK(g.current() == 2000);
  CHECK_FALSE(g.met());
  s.given(lead_for("beta", "g-mrr-5k"), "2026-01-06").given(won("beta", 3000, "g-mrr-5k"), "2026-03-01");
  g = s.view(goal_query("g-mrr-5k")).goal();
  CHECK(g.current() == 5000);
  CHECK(g.met());
  CHECK(format_time(from_timestamp(g.met_at())) == "2026-03-01T00:00:00Z");
  auto before = s.view([] {
    auto q = goal_query("g-mrr-5k");
    q.set_as_of("2026-02-15");
    return q;
  }());
  CHECK(before.goal().current() == 2000);  // time travel over the same events
}

TEST_CASE("given a lead with a goal no one defined, the rules refuse it as an unknown goal, and defined first, the lead opens the deal") {
  Scenario s;
  s.when(lead_for("gamma", "g-missing"), "2026-01-05").then_refused(rule::kUnknownGoal, {{"goal_id", "g-missing"}});
  s.given(goal("g-missing", 1000), "2026-01-01").when(lead_for("gamma", "g-missing"), "2026-01-05").then_recorded({"LeadCaptured"});
}

TEST_CASE("a field out of range is refused as INVALID_FIELD naming the payload's field, whatever the command") {
  Scenario s;
  auto bad = campaign("2026-03-01-fintech");
  bad.set_objective(" ");
  s.when(bad, "2026-03-01").then_refused(rule::kInvalidField, {{"field", "objective"}});
  CHECK(s.refusal().code() == Code::invalid_argument);
  auto big = assumption("A1", 140);
  s.when(big, "2026-01-01").then_refused(rule::kInvalidField, {{"field", "confidence"}});
}

namespace {

v1::ContactAdded contact(const std::string& campaign_id, const std::string& email) {
  v1::ContactAdded c;
  c.set_campaign_id(campaign_id);
  c.mutable_contact()->set_name("Ana");
  c.mutable_contact()->set_email(email);
  c.mutable_contact()->set_company("Ledgerly");
  return c;
}

v1::ResponseReceived response(const std::string& campaign_id, const std::string& email, const std::string& kind,
                              v1::ResponseKind typed = v1::RESPONSE_KIND_UNSPECIFIED) {
  v1::ResponseReceived r;
  r.set_campaign_id(campaign_id);
  r.set_email(email);
  r.set_kind(kind);
  r.set_response(typed);
  return r;
}

}  // namespace

TEST_CASE("a response's kind is a closed set: given as a word or as the enum, recorded as both, and one recorded before the enum reads as now") {
  Scenario s;
  const std::string id = "2026-03-01-fintech";
  s.given(campaign(id), "2026-03-01").given(campaign_decision(id, v1::LAUNCH), "2026-03-02");
  s.given(contact(id, "ana@ledgerly.example"), "2026-03-03").given(contact(id, "bo@ledgerly.example"), "2026-03-03");
  s.given(contact(id, "cy@ledgerly.example"), "2026-03-03");
  // A word the set does not hold, and a word and an enum that disagree: refused, naming the field.
  s.when(response(id, "ana@ledgerly.example", "maybe"), "2026-03-05").then_refused(rule::kInvalidField, {{"field", "kind"}});
  CHECK(s.refusal().message().find("interested, not_interested, later, bounced") != std::string::npos);
  s.when(response(id, "ana@ledgerly.example", "later", v1::RESPONSE_INTERESTED), "2026-03-05")
      .then_refused(rule::kInvalidField, {{"field", "kind"}});
  s.when(response(id, "ana@ledgerly.example", ""), "2026-03-05").then_refused(rule::kInvalidField, {{"field", "kind"}});
  // The enum alone, and the word alone (any case): each recorded with both.
  s.when(response(id, "ana@ledgerly.example", "", v1::RESPONSE_INTERESTED), "2026-03-05").then_recorded({"ResponseReceived"});
  s.when(response(id, "bo@ledgerly.example", "Later"), "2026-03-05").then_recorded({"ResponseReceived"});
  // One recorded before the enum existed: the word only, as the store holds it.
  s.given(response(id, "cy@ledgerly.example", "interested"), "2026-03-06");
  v1::QueryRequest q;
  q.mutable_campaign()->set_campaign_id(id);
  const auto view = s.view(q).campaign();
  REQUIRE(view.response_list_size() == 3);
  std::map<std::string, std::pair<std::string, v1::ResponseKind>> by_email;
  for (const auto& e : view.response_list()) by_email[e.response().email()] = {e.response().kind(), e.response().response()};
  CHECK(by_email["ana@ledgerly.example"] == std::make_pair(std::string("interested"), v1::RESPONSE_INTERESTED));
  CHECK(by_email["bo@ledgerly.example"] == std::make_pair(std::string("later"), v1::RESPONSE_LATER));
  CHECK(by_email["cy@ledgerly.example"] == std::make_pair(std::string("interested"), v1::RESPONSE_INTERESTED));
  CHECK(view.interested() == 2);  // the old one counted as the new
}

TEST_CASE("a document's versions, whoever writes them: the same text records nothing, an earlier date is refused") {
  auto doc = [](const std::string& text, bool removed = false) {
    v1::DocumentWritten d;
    d.set_path("strategy/canvas/07-uvp.md");
    d.set_content(text);
    d.set_removed(removed);
    return d;
  };
  Scenario s;
  s.when(doc("", true), "2026-01-31").then_refused(rule::kDocumentNotInForce, {{"path", "strategy/canvas/07-uvp.md"}});
  s.when(doc("White-label in a day."), "2026-02-01").then_recorded({"DocumentWritten"});
  s.when(doc("White-label in a day."), "2026-03-01").then_already_recorded({"DocumentWritten"});
  s.when(doc("White-label in a week."), "2026-01-15")
      .then_refused(rule::kDocumentOutOfOrder, {{"path", "strategy/canvas/07-uvp.md"}, {"in_force_at", "2026-02-01T00:00:00Z"}});
  s.when(doc("White-label in a week."), "2026-03-01").then_recorded({"DocumentWritten"});
  s.when(doc("", true), "2026-04-01").then_recorded({"DocumentWritten"});
  s.when(doc("White-label in a day."), "2026-05-01").then_recorded({"DocumentWritten"});  // back to the first text: a version
}

namespace {

// A deal toward goal `goal_id` up to a QUALIFY decision, given (no rules asked).
void qualified_deal(test::Scenario& s, const std::string& deal, const std::string& goal_id) {
  s.given(lead_for(deal, goal_id), "2026-01-05").given(hypothesis(deal, "A1"), "2026-01-06");
  v1::ImplicationAssessed i;
  i.set_deal_id(deal);
  i.set_arr_low(10000);
  i.set_arr_high(90000);
  i.set_strategic(v1::HIGH);
  i.set_priority(0.5);
  s.given(i, "2026-01-07");
  v1::DecisionMade d;
  d.set_deal_id(deal);
  d.set_verdict(v1::QUALIFY);
  d.set_reason("fits");
  d.set_impact(0.5);
  d.set_threshold(0.8);
  s.given(d, "2026-01-08");
}

}  // namespace

TEST_CASE("a correction replaces a won close where it stands: the goal counts the corrected value once, unmet when it falls short, and the log keeps both") {
  Scenario s;
  s.given(assumption("A1", 50), "2026-01-01").given(goal("g-mrr-5k", 5000), "2026-01-01");
  qualified_deal(s, "alpha", "g-mrr-5k");
  const std::string decision = s.given_id();
  s.given(won("alpha", 5000, "g-mrr-5k"), "2026-02-01");
  const std::string close = s.given_id();
  CHECK(s.view(goal_query("g-mrr-5k")).goal().met());
  s.when_correcting(won("alpha", 3000, "g-mrr-5k"), close).then_recorded({"DealClosed"});
  CHECK(s.recorded()[0].corrects_event_id() == close);
  CHECK(format_time(from_timestamp(s.recorded()[0].occurred_at())) == "2026-02-01T00:00:00Z");  // where the close stands
  const std::string correction = s.recorded()[0].event_id();
  auto g = s.view(goal_query("g-mrr-5k")).goal();
  CHECK(g.current() == 3000);
  CHECK_FALSE(g.met());
  CHECK(g.milestones_size() == 2);  // 25 % and 50 %: 75 % and 100 % were the replaced close's
  CHECK(g.history_size() == 1);
  CHECK(g.history(0).value() == 3000);
  v1::QueryRequest deal;
  deal.mutable_deal()->set_deal_id("alpha");
  auto thread = s.view(deal).deal();
  CHECK(thread.outcome().mrr() == 3000);
  CHECK(thread.outcome_event_id() == correction);
  CHECK(thread.corrections() == 1);
  CHECK(s.store().last_position() > 0);
  // The one it replaced is no longer in force; the same values again correct nothing.
  s.when_correcting(won("alpha", 4000, "g-mrr-5k"), close)
      .then_refused(rule::kCorrectionNotInForce, {{"deal_id", "alpha"}, {"in_force", correction}});
  s.when_correcting(won("alpha", 3000, "g-mrr-5k"), correction).then_refused(rule::kNothingToCorrect);
  // Back to 5 000: met again, by the correction.
  s.when_correcting(won("alpha", 5000, "g-mrr-5k"), correction).then_recorded({"DealClosed"});
  g = s.view(goal_query("g-mrr-5k")).goal();
  CHECK(g.current() == 5000);
  CHECK(g.met());
  CHECK(format_time(from_timestamp(g.met_at())) == "2026-02-01T00:00:00Z");
  CHECK(g.milestones_size() == 4);
  // A decision's correction keeps its verdict; a learning corrects itself; a canvas fact has none.
  v1::DecisionMade reject;
  reject.set_deal_id("alpha");
  reject.set_verdict(v1::REJECT);
  reject.set_reason("no budget");
  reject.set_impact(0.5);
  s.when_correcting(reject, decision).then_refused(rule::kInvalidField, {{"field", "verdict"}});
  v1::DecisionMade reason = reject;
  reason.set_verdict(v1::QUALIFY);
  s.when_correcting(reason, decision).then_recorded({"DecisionMade"});
  CHECK(s.view(deal).deal().decision().reason() == "no budget");
  CHECK(s.view(deal).deal().stage() == v1::STAGE_LEARNING);
  v1::LearningRecorded l;
  l.set_deal_id("alpha");
  l.set_assumption_id("A1");
  l.set_result(v1::VALIDATED);
  s.when_correcting(l, close);
  CHECK(s.refusal().message().find("a learning is corrected by recording it again") != std::string::npos);
  s.when_correcting(assumption("A1", 60), close);
  CHECK(s.refusal().message().find("is not a fact a correction replaces") != std::string::npos);
  v1::LeadCaptured nobody = lead_captured("beta");
  s.when_correcting(nobody, close).then_refused(rule::kUnknownDeal);
}

TEST_CASE("a corrected lead moves its deal's sums to the segment it names, and keeps its goal") {
  Scenario s;
  s.given(assumption("A1", 50), "2026-01-01").given(goal("g-mrr-5k", 5000), "2026-01-01");
  qualified_deal(s, "alpha", "g-mrr-5k");
  s.given(won("alpha", 2000, "g-mrr-5k"), "2026-02-01");
  v1::QueryRequest deal;
  deal.mutable_deal()->set_deal_id("alpha");
  const std::string lead = s.view(deal).deal().input_event_id();
  auto moved = lead_for("alpha", "g-mrr-5k");
  moved.set_segment("enterprise");
  s.when_correcting(moved, lead).then_recorded({"LeadCaptured"});
  auto metrics = [&](const std::string& segment) {
    v1::QueryRequest q;
    q.mutable_metrics()->set_segment(segment);
    return s.view(q).metrics();
  };
  CHECK(metrics("enterprise").SerializeAsString() != metrics("smb").SerializeAsString());
  v1::QueryRequest pipeline;
  pipeline.mutable_deals()->set_segment("enterprise");
  CHECK(s.view(pipeline).deals().deals_size() == 1);
  pipeline.mutable_deals()->set_segment("smb");
  CHECK(s.view(pipeline).deals().deals_size() == 0);
  CHECK(s.view(goal_query("g-mrr-5k")).goal().current() == 2000);
  auto elsewhere = moved;
  elsewhere.clear_goal_id();
  s.when_correcting(elsewhere, s.view(deal).deal().input_event_id()).then_refused(rule::kInvalidField, {{"field", "goal_id"}});
}

TEST_CASE("a finished deal's lead corrected after snapshots were written: across every segment it is still one deal, won") {
  Scenario s;
  s.given(assumption("A1", 50), "2026-01-01").given(goal("g-mrr-5k", 5000), "2026-01-01");
  qualified_deal(s, "alpha", "g-mrr-5k");
  s.given(won("alpha", 2000, "g-mrr-5k"), "2026-02-01");
  v1::LearningRecorded l;
  l.set_deal_id("alpha");
  l.set_assumption_id("A1");
  l.set_result(v1::VALIDATED);
  s.given(l, "2026-02-01");  // learned from: finished, so no core snapshot holds it
  v1::SettingChanged setting;
  setting.set_key("approval-threshold");
  setting.set_value("0.8");
  for (int i = 0; i < 520; ++i) s.given(setting, "2026-02-02");
  v1::QueryRequest all;
  all.mutable_metrics();
  const auto before = s.view(all).metrics();  // writes the core snapshot at position 500
  v1::QueryRequest deal;
  deal.mutable_deal()->set_deal_id("alpha");
  auto moved = lead_for("alpha", "g-mrr-5k");
  moved.set_segment("enterprise");
  s.when_correcting(moved, s.view(deal).deal().input_event_id()).then_recorded({"LeadCaptured"});
  // The deal moved segment; across every segment it is the same one deal, won.
  CHECK(s.view(all).metrics().SerializeAsString() == before.SerializeAsString());
}
