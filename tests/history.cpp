#include "tests/history.h"

#include <algorithm>

#include <doctest/doctest.h>

#include "events/ids.h"

namespace leanos::test {

namespace {

struct Gen {
  store::EventStore& store;
  std::mt19937_64& rng;
  const HistoryOptions& o;
  CommandHandler handler{store};
  v1::LedgerView view = projections::empty_ledger();
  Micros clock = 0;
  int next_deal = 0;
  std::string refused;  // why the last refused command was refused

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  double unit() { return std::uniform_real_distribution<double>(0, 1)(rng); }
  bool chance(double p) { return unit() < p; }

  bool submit(const google::protobuf::Message& payload, Micros at, const std::function<void(const v1::LedgerView&)>& cb) {
    Envelope c = make_event(payload, at);
    c.set_event_id(new_event_id());
    c.set_actor(chance(0.5) ? "sales-execution" : "founder");
    auto h = handler.handle(c);
    if (!h) {
      refused = h.status().to_string();
      return false;
    }
    auto r = follow_log(store, view, append_to(store));
    REQUIRE(r.is_ok());
    cb(view);
    return true;
  }
};

}  // namespace

void generate_history(store::EventStore& store, std::mt19937_64& rng, const HistoryOptions& o,
                      const std::function<void(const v1::LedgerView&)>& on_commit) {
  Gen g{store, rng, o, CommandHandler{store}, projections::empty_ledger(), o.start, 0, ""};
  g.clock = o.start;
  for (int i = 0; i < o.goals; ++i) {
    v1::GoalDefined goal;
    goal.set_goal_id("g-" + std::to_string(i));
    goal.set_title("goal " + std::to_string(i));
    goal.set_metric(i % 2 ? v1::CUSTOMERS : v1::MRR);
    goal.set_target(i % 2 ? 5 : 200000);
    REQUIRE(g.submit(goal, g.clock, on_commit));
    v1::SubgoalDefined sg;
    sg.set_goal_id(goal.goal_id());
    sg.set_subgoal_id("SG1");
    sg.set_title("first customers");
    sg.set_metric(v1::CUSTOMERS);
    sg.set_target(3);
    REQUIRE(g.submit(sg, g.clock, on_commit));
  }
  for (int i = 0; i < o.assumptions; ++i) {
    v1::AssumptionRegistered a;
    a.set_assumption_id("A" + std::to_string(i));
    a.set_statement("assumption " + std::to_string(i));
    a.set_confidence(40 + 10 * i);
    REQUIRE(g.submit(a, g.clock, on_commit));
  }
  std::vector<std::string> deals;
  int n_version = 0;
  for (int n = 0; n < o.commands; ++n) {
    g.clock += static_cast<Micros>(g.unit() * 2 * kMicrosPerDay);
    // Past today every command would be refused as recorded before it happens, and the
    // history would end silently short.
    REQUIRE_MESSAGE(g.clock < now_micros(), "the history runs past today after " << n << " commands; start it earlier");
    if (g.chance(o.strategy_probability)) {
      const std::string segment = g.chance(0.5) ? "enterprise" : "smb";
      if (g.chance(0.5)) {
        v1::IcpDefined icp;
        icp.set_segment(segment);
        icp.mutable_filters()->add_industry(g.chance(0.5) ? "saas" : "retail");
        icp.set_qualification_score(g.pick(101) / 100.0);
        for (int k = 0; k < 5; ++k) icp.add_sample_companies("Sample " + std::to_string(g.pick(1000)));
        REQUIRE_MESSAGE(g.submit(icp, g.clock, on_commit), g.refused);
      } else {
        v1::NarrativeWritten n;
        n.set_segment(segment);
        n.set_problem("problem " + std::to_string(n_version++));
        n.set_solution("solution");
        n.set_specifics("specifics");
        REQUIRE_MESSAGE(g.submit(n, g.clock, on_commit), g.refused);
      }
      continue;
    }
    if (deals.empty() || g.chance(0.12)) {
      v1::LeadCaptured l;
      l.set_deal_id("d" + std::to_string(g.next_deal++));
      l.set_company("Company " + l.deal_id());
      l.set_segment(g.chance(0.5) ? "enterprise" : "smb");
      l.set_source(g.chance(0.5) ? v1::INBOUND : v1::OUTBOUND);
      l.mutable_contact()->set_name("Contact");
      l.mutable_contact()->set_email("c@" + l.deal_id() + ".example");
      l.set_signal("reply");
      if (g.chance(0.6)) {
        l.set_goal_id("g-" + std::to_string(g.pick(o.goals)));
        l.set_subgoal_id("SG1");
      }
      if (g.submit(l, g.clock, on_commit)) deals.push_back(l.deal_id());
      continue;
    }
    const std::string id = deals[static_cast<std::size_t>(g.pick(static_cast<int>(deals.size())))];
    auto state = g.handler.deal(id);
    REQUIRE(state.is_ok());
    const auto& s = *state;
    Micros at = g.clock;
    if (g.chance(o.backdate_probability)) at = std::max(s.last_event_at, at - static_cast<Micros>(g.unit() * 10 * kMicrosPerDay));
    switch (s.stage()) {
      case v1::STAGE_INPUT: {
        v1::HypothesisStated h;
        h.set_deal_id(id);
        h.set_assumption_id("A" + std::to_string(g.pick(o.assumptions)));
        h.set_confidence(g.pick(101));
        g.submit(h, at, on_commit);
        break;
      }
      case v1::STAGE_HYPOTHESIS: {
        v1::ImplicationAssessed i;
        i.set_deal_id(id);
        i.set_arr_low(10000 * g.pick(50));
        i.set_arr_high(i.arr_low() + 10000 * g.pick(50));
        i.set_strategic(static_cast<v1::StrategicValue>(1 + g.pick(3)));
        i.set_cost_hours(g.pick(80));
        i.set_priority(g.pick(101) / 100.0);
        g.submit(i, at, on_commit);
        break;
      }
      case v1::STAGE_IMPLICATION:
      case v1::STAGE_DECISION: {
        if (s.decision && s.decision->verdict() == v1::QUALIFY && s.decision->approval_required() && !s.approved) {
          v1::DecisionApproved a;
          a.set_deal_id(id);
          a.set_approved_by("ceo");
          g.submit(a, at, on_commit);
          break;
        }
        if (s.decision && s.decision->verdict() == v1::QUALIFY) {
          v1::ActionStarted a;
          a.set_deal_id(id);
          a.set_action("sales:lead-intake");
          g.submit(a, at, on_commit);
          break;
        }
        v1::DecisionMade d;
        d.set_deal_id(id);
        const double r = g.unit();
        d.set_verdict(r < 0.7 ? v1::QUALIFY : r < 0.85 ? v1::DEFER : v1::REJECT);
        d.set_reason("generated");
        d.set_impact(g.pick(101) / 100.0);
        g.submit(d, at, on_commit);
        break;
      }
      case v1::STAGE_ACTIONS: {
        const double r = g.unit();
        if (r < 0.2) {
          v1::DealClosed c;
          c.set_deal_id(id);
          const double o2 = g.unit();
          c.set_outcome(o2 < 0.6 ? v1::WON : o2 < 0.9 ? v1::LOST : v1::STALLED);
          if (c.outcome() == v1::WON) c.set_arr(12000 * (1 + g.pick(100)));
          c.set_cost(100 * g.pick(100));
          g.submit(c, at, on_commit);
        } else if (r < 0.3) {
          v1::QualificationScored q;
          q.set_deal_id(id);
          q.set_problem(g.unit());
          q.set_authority(g.unit());
          q.set_budget(g.unit());
          q.set_urgency(g.unit());
          q.set_fit(g.unit());
          g.submit(q, at, on_commit);
        } else {
          // The action in progress completes with a random result; else the actions are tried
          // from a random one on until the rules let one start (stage 5 runs in order).
          auto running = std::find_if(s.actions.begin(), s.actions.end(), [](const auto& a) { return a.second.status == v1::ACTION_IN_PROGRESS; });
          if (running != s.actions.end()) {
            v1::ActionCompleted c;
            c.set_deal_id(id);
            c.set_action(running->first);
            const auto& results = action_results(running->first);
            c.set_result(results[static_cast<std::size_t>(g.pick(static_cast<int>(results.size())))]);
            g.submit(c, at, on_commit);
          } else {
            const int first = g.pick(5);
            for (int k = 0; k < 5; ++k) {
              v1::ActionStarted a;
              a.set_deal_id(id);
              a.set_action(kSalesActions[(first + k) % 5]);
              if (g.submit(a, at, on_commit)) break;
            }
          }
        }
        break;
      }
      case v1::STAGE_LEARNING: {
        if (s.outcome && s.outcome->outcome() == v1::STALLED && g.chance(0.5)) {
          v1::DealClosed c;
          c.set_deal_id(id);
          c.set_outcome(v1::WON);
          c.set_arr(24000);
          g.submit(c, at, on_commit);
          break;
        }
        // Now and then a learning again: the same one (nothing new) or a correction.
        if (!s.learnings.empty() && !g.chance(o.relearn_probability)) break;
        v1::LearningRecorded l;
        l.set_deal_id(id);
        const double r = g.unit();
        l.set_result(r < 0.6 ? v1::VALIDATED : r < 0.85 ? v1::PARTIAL : v1::INVALIDATED);
        if (l.result() != v1::INVALIDATED && g.chance(0.7)) l.set_confidence(g.pick(101));
        g.submit(l, at, on_commit);
        break;
      }
      default: break;
    }
  }
}

}  // namespace leanos::test
