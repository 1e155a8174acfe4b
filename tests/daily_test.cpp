// The daily routine's rules on their boundaries, as pure functions of the ledger and "now".
#include <doctest/doctest.h>

#include "actors/ledger_reader.h"
#include "events/domain.h"
#include "projections/daily.h"
#include "tests/history.h"
#include "tests/support.h"
#include "projections/views.h"
#include "tools/cli/views.h"

using namespace leanos;
using namespace leanos::projections;

namespace {

const Micros T0 = parse_time("2026-03-01T09:00:00Z").value();
std::uint64_t next_position = 1;

Envelope ev(const google::protobuf::Message& p, Micros at, Micros recorded = 0) {
  Envelope e = make_event(p, at);
  e.set_position(next_position++);
  e.set_event_id("e" + std::to_string(e.position()));
  to_timestamp(recorded ? recorded : at, e.mutable_recorded_at());
  return e;
}

v1::GoalState goal(std::int64_t current, std::int64_t target, Micros defined, Micros due) {
  v1::GoalState g;
  g.set_id("g");
  g.set_target(target);
  g.set_current(current);
  g.set_defined_at(defined);
  g.set_due(due);
  return g;
}

void lead(LedgerView& v, const std::string& id, Micros at, Micros recorded = 0) {
  v1::LeadCaptured l;
  l.set_deal_id(id);
  l.set_company(id);
  l.set_segment("smb");
  l.set_goal_id("g-1");
  l.set_subgoal_id("SG1");
  apply(v, ev(l, at, recorded));
}

void hypothesis(LedgerView& v, const std::string& id, Micros at) {
  v1::HypothesisStated h;
  h.set_deal_id(id);
  h.set_assumption_id("A1");
  apply(v, ev(h, at));
}

void decide(LedgerView& v, const std::string& id, double impact, Micros at, const std::string& actor = "founder") {
  v1::ImplicationAssessed i;
  i.set_deal_id(id);
  i.set_priority(0.5);
  apply(v, ev(i, at));
  v1::DecisionMade d;
  d.set_deal_id(id);
  d.set_verdict(v1::QUALIFY);
  d.set_impact(impact);
  d.set_approval_required(impact >= v.approval_threshold());
  auto e = ev(d, at);
  e.set_actor(actor);
  apply(v, e);
}

bool has(const std::vector<QueueItem>& items, const std::string& id) {
  return std::any_of(items.begin(), items.end(), [&](const QueueItem& i) { return i.deal_id == id; });
}

}  // namespace

TEST_CASE("goal risk: Low beyond 30 days, Medium at 30, High off track, Critical off track at 14 days") {
  const Micros defined = T0 - 10 * kMicrosPerDay;
  // On track: 10 days gave 50 of 100; 30 days left projects 200.
  CHECK(trajectory(goal(50, 100, defined, T0 + 30 * kMicrosPerDay + 1), T0).risk == v1::RISK_LOW);
  CHECK(trajectory(goal(50, 100, defined, T0 + 30 * kMicrosPerDay), T0).risk == v1::RISK_MEDIUM);
  // Off track: 10 days gave 10 of 100; 14 days left projects 24.
  CHECK(trajectory(goal(10, 100, defined, T0 + 15 * kMicrosPerDay), T0).risk == v1::RISK_HIGH);
  CHECK(trajectory(goal(10, 100, defined, T0 + 14 * kMicrosPerDay), T0).risk == v1::RISK_CRITICAL);
  // Exactly on the line is on track.
  auto t = trajectory(goal(50, 100, defined, T0 + 10 * kMicrosPerDay), T0);
  CHECK(t.projected.value() == doctest::Approx(100));
  CHECK(t.on_track);
  CHECK(trajectory(goal(49, 100, defined, T0 + 10 * kMicrosPerDay), T0).on_track == false);
  auto met = goal(100, 100, defined, T0 + 5 * kMicrosPerDay);
  met.set_met(true);
  CHECK(trajectory(met, T0).risk == v1::RISK_LOW);
}

TEST_CASE("milestones are reached at the event that crosses them, with its date") {
  LedgerView v = empty_ledger();
  v1::GoalDefined g;
  g.set_goal_id("g-1");
  g.set_metric(v1::MRR);
  g.set_target(1000);
  apply(v, ev(g, T0));
  // Progress comes from won deals of the goal, folded in business-time order.
  int deals = 0;
  auto progress = [&](std::int64_t current, Micros at) {
    v1::DealClosed c;
    c.set_deal_id("d" + std::to_string(++deals));
    c.set_goal_id("g-1");
    c.set_outcome(v1::WON);
    c.set_mrr(current - v.goals().at("g-1").current());
    apply(v, ev(c, at));
    CHECK(v.goals().at("g-1").current() == current);
  };
  progress(249, T0 + kMicrosPerDay);
  CHECK(v.goals().at("g-1").milestones_size() == 0);
  progress(250, T0 + 2 * kMicrosPerDay);
  REQUIRE(v.goals().at("g-1").milestones_size() == 1);
  CHECK(v.goals().at("g-1").milestones(0).reached_at() == T0 + 2 * kMicrosPerDay);
  progress(800, T0 + 3 * kMicrosPerDay);  // crosses 50 and 75 at once
  REQUIRE(v.goals().at("g-1").milestones_size() == 3);
  CHECK(v.goals().at("g-1").milestones(2).percent() == 75);
  CHECK(v.goals().at("g-1").milestones(2).reached_at() == T0 + 3 * kMicrosPerDay);
}

TEST_CASE("subgoal status is derived: pending, in progress, blocked, completed") {
  LedgerView v = empty_ledger();
  v1::GoalDefined g;
  g.set_goal_id("g-1");
  g.set_target(3);
  apply(v, ev(g, T0));
  v1::SubgoalDefined sg;
  sg.set_goal_id("g-1");
  sg.set_subgoal_id("SG1");
  sg.set_metric(v1::CUSTOMERS);
  sg.set_target(1);
  apply(v, ev(sg, T0));
  const auto& gv = [&]() -> const v1::GoalState& { return v.goals().at("g-1"); };
  CHECK(subgoal_status(v, gv(), gv().subgoals(0)) == v1::SUBGOAL_PENDING);
  lead(v, "d1", T0);
  CHECK(subgoal_status(v, gv(), gv().subgoals(0)) == v1::SUBGOAL_IN_PROGRESS);
  v1::ActionBlocked b;
  b.set_deal_id("d1");
  b.set_action("sales:pilot");
  apply(v, ev(b, T0 + kMicrosPerDay));
  CHECK(subgoal_status(v, gv(), gv().subgoals(0)) == v1::SUBGOAL_BLOCKED);
  v1::DealClosed won;  // counts one customer towards SG1
  won.set_deal_id("d1");
  won.set_goal_id("g-1");
  won.set_subgoal_id("SG1");
  won.set_outcome(v1::WON);
  apply(v, ev(won, T0 + 2 * kMicrosPerDay));
  CHECK(subgoal_status(v, gv(), gv().subgoals(0)) == v1::SUBGOAL_COMPLETED);
}

TEST_CASE("SLAs on their boundaries: input 24 h, hypothesis 2 days") {
  LedgerView v = empty_ledger();
  lead(v, "on-time", T0, T0 + 24 * kMicrosPerHour);
  lead(v, "late", T0, T0 + 24 * kMicrosPerHour + 1);
  auto q = work_queue(v, T0 + 25 * kMicrosPerHour);
  CHECK_FALSE(has(q.overdue, "on-time"));
  CHECK(has(q.overdue, "late"));
  // The hypothesis is due 2 days after the input.
  LedgerView w = empty_ledger();
  lead(w, "d", T0);
  CHECK_FALSE(overdue_stage(w.deals().at("d"), T0 + 2 * kMicrosPerDay).has_value());
  CHECK(overdue_stage(w.deals().at("d"), T0 + 2 * kMicrosPerDay + 1).value().find("hypothesis") == 0);
  hypothesis(w, "d", T0 + kMicrosPerDay);
  CHECK_FALSE(overdue_stage(w.deals().at("d"), T0 + 4 * kMicrosPerDay).has_value());  // implication due 3 days after
  CHECK(overdue_stage(w.deals().at("d"), T0 + 4 * kMicrosPerDay + 1).value().find("implication") == 0);
}

TEST_CASE("a deal is stalled after more than 7 days in one stage with no event") {
  LedgerView v = empty_ledger();
  lead(v, "d", T0);
  CHECK_FALSE(stalled(v.deals().at("d"), T0 + 7 * kMicrosPerDay));
  CHECK(stalled(v.deals().at("d"), T0 + 7 * kMicrosPerDay + 1));
  hypothesis(v, "d", T0 + 7 * kMicrosPerDay);  // an event resets the clock
  CHECK_FALSE(stalled(v.deals().at("d"), T0 + 8 * kMicrosPerDay));
  auto recs = recommendations(v, T0 + 15 * kMicrosPerDay);
  CHECK(std::any_of(recs.begin(), recs.end(), [](const Recommendation& r) { return r.action == "review stalled deal: d"; }));
}

TEST_CASE("a decision at impact 0.8 waits in the approval queue until approved") {
  LedgerView v = empty_ledger();
  lead(v, "big", T0);
  decide(v, "big", 0.8, T0);
  lead(v, "small", T0);
  decide(v, "small", 0.79, T0, "sales-execution");
  auto q = work_queue(v, T0 + kMicrosPerHour);
  CHECK(has(q.approvals, "big"));
  CHECK_FALSE(has(q.approvals, "small"));
  CHECK(has(q.agent_decisions, "small"));  // decided on its own, in the last 24 h
  CHECK_FALSE(has(work_queue(v, T0 + kMicrosPerDay + 1).agent_decisions, "small"));
  v1::DecisionApproved a;
  a.set_deal_id("big");
  a.set_approved_by("ceo");
  apply(v, ev(a, T0 + 2 * kMicrosPerHour));
  CHECK_FALSE(has(work_queue(v, T0 + 3 * kMicrosPerHour).approvals, "big"));
}

TEST_CASE("changing the approval threshold moves items in and out of the queue") {
  LedgerView v = empty_ledger();
  lead(v, "d", T0);
  decide(v, "d", 0.75, T0);
  CHECK_FALSE(has(work_queue(v, T0).approvals, "d"));
  v1::SettingChanged s;
  s.set_key("approval-threshold");
  s.set_value("0.7");
  apply(v, ev(s, T0 + kMicrosPerHour));
  CHECK(has(work_queue(v, T0 + kMicrosPerHour).approvals, "d"));
  s.set_value("0.9");
  apply(v, ev(s, T0 + 2 * kMicrosPerHour));
  CHECK_FALSE(has(work_queue(v, T0 + 2 * kMicrosPerHour).approvals, "d"));
}

TEST_CASE("today --as-of on a generated history equals today on a copy of the log cut at that date") {
  test::TempDir dir;
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;
  auto full = store::EventStore::open(dir.sub("full"), relaxed);
  REQUIRE(full.is_ok());
  std::mt19937_64 rng(11);
  test::HistoryOptions options;
  options.commands = 800;
  test::generate_history(**full, rng, options, [](const v1::LedgerView&) {});
  auto all = (*full)->read_all(1, 1'000'000);
  REQUIRE(all.is_ok());
  for (int k = 0; k < 4; ++k) {
    const Micros cut = options.start + (k + 1) * 60 * kMicrosPerDay / 5 * 5;
    auto copy = store::EventStore::open(dir.sub("cut-" + std::to_string(k)), relaxed);
    REQUIRE(copy.is_ok());
    for (const auto& e : *all) {
      if (from_timestamp(e.occurred_at()) > cut) continue;
      Envelope c = e;
      c.clear_position();
      c.clear_version();
      c.clear_recorded_at();
      REQUIRE((*copy)->append(e.stream(), store::ExpectedVersion::any(), {c}).is_ok());
    }
    auto as_of = read_ledger(**full, AsOf{.occurred = cut});
    auto on_copy = read_ledger(**copy, AsOf{});
    REQUIRE(as_of.is_ok());
    REQUIRE(on_copy.is_ok());
    auto a = cli::proto_json(projections::today_view(as_of->view, cut));
    auto b = cli::proto_json(projections::today_view(on_copy->view, cut));
    // The input SLA reads recorded_at, which the copy re-stamps: compare everything else.
    auto without_input_sla = [](nlohmann::json j) {
      auto& overdue = j["alerts"]["overdue"];
      overdue.erase(std::remove_if(overdue.begin(), overdue.end(),
                                   [](const nlohmann::json& i) { return i["what"].get<std::string>().find("input recorded") != std::string::npos; }),
                    overdue.end());
      // When the events were recorded differs too: the copy was recorded anew.
      j.erase("first_recorded_at");
      j.erase("last_recorded_at");
      return j;
    };
    INFO("cut " << format_time(cut));
    CHECK(without_input_sla(a).dump() == without_input_sla(b).dump());
    CHECK_FALSE(a["goals"].empty());
  }
}
