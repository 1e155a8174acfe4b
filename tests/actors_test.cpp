// The actor runtime: commands go through per-stream actors; their number stays bounded.
#include <doctest/doctest.h>

#include <thread>

#include "actors/runtime.h"
#include "events/ids.h"
#include "tests/builders.h"
#include "tests/support.h"

using namespace leanos;

namespace {

// A command with this payload, dated 2026-03-02, through the runtime's actors.
Result<Handled> submit(Runtime& runtime, const google::protobuf::Message& payload) {
  Envelope c = make_event(payload, parse_time("2026-03-02").value());
  c.set_event_id(new_event_id());
  return runtime.submit(c);
}

// Stage 3 of a small deal: ARR $1-2K, low strategic value, priority 0.4.
v1::ImplicationAssessed implication(const std::string& deal_id) {
  v1::ImplicationAssessed i;
  i.set_deal_id(deal_id);
  i.set_arr_low(1000);
  i.set_arr_high(2000);
  i.set_strategic(v1::LOW);
  i.set_priority(0.4);
  return i;
}

Envelope lead(const std::string& id) { return test::command(test::lead_captured(id), "2026-03-01", new_event_id()); }

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<store::EventStore> store;
  Fixture() {
    store::StoreOptions relaxed;
    relaxed.durability = store::Durability::relaxed;
    auto s = store::EventStore::open(dir.path(), relaxed);
    REQUIRE(s.is_ok());
    store = std::move(*s);
  }
};

}  // namespace

TEST_CASE("10 000 deals opened and idle do not keep 10 000 actors alive") {
  Fixture f;
  RuntimeOptions options;
  options.max_live = 64;
  options.idle = std::chrono::hours(1);  // only the LRU bound can stop them in this test
  Runtime runtime(*f.store, options);
  for (int i = 0; i < 10'000; ++i) {
    auto r = runtime.submit(lead("d" + std::to_string(i)));
    REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
  }
  const auto stats = runtime.stats();
  CHECK(stats.spawned == 10'000);
  CHECK(stats.live_actors <= 64);
  CHECK(f.store->last_position() == 10'000);
  // A stopped deal's actor comes back from its stream on the next command.
  auto again = runtime.submit(lead("d0"));
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().code() == Code::already_exists);
}

TEST_CASE("a rejected command through the actors appends nothing and names the reason") {
  Fixture f;
  Runtime runtime(*f.store);
  v1::HypothesisStated h;
  h.set_deal_id("ghost");
  h.set_assumption_id("A1");
  h.set_confidence(50);
  Envelope c = make_event(h, 0);
  c.set_event_id(new_event_id());
  auto r = runtime.submit(c);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::not_found);
  CHECK(f.store->last_position() == 0);
  Envelope bad = lead("Bad Id");
  CHECK(runtime.submit(bad).status().code() == Code::invalid_argument);
}

TEST_CASE("the process manager actor derives goal and canvas events before settle returns") {
  Fixture f;
  Runtime runtime(*f.store);
  auto submit = [&](const google::protobuf::Message& p) {
    auto r = ::submit(runtime, p);
    REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
    return r->events.back().position();
  };
  v1::GoalDefined g;
  g.set_goal_id("g-1");
  g.set_title("first customer");
  g.set_metric(v1::CUSTOMERS);
  g.set_target(1);
  submit(g);
  v1::AssumptionRegistered a;
  a.set_assumption_id("A1");
  a.set_statement("SMBs buy self-serve");
  a.set_confidence(50);
  submit(a);
  auto l = lead("d1");
  l.mutable_lead_captured()->set_goal_id("g-1");
  REQUIRE(runtime.submit(l).is_ok());
  v1::HypothesisStated h;
  h.set_deal_id("d1");
  h.set_assumption_id("A1");
  h.set_confidence(50);
  submit(h);
  const auto i = implication("d1");
  submit(i);
  v1::DecisionMade d;
  d.set_deal_id("d1");
  d.set_verdict(v1::QUALIFY);
  d.set_reason("cheap");
  d.set_impact(0.3);
  submit(d);
  v1::DealClosed won;
  won.set_deal_id("d1");
  won.set_outcome(v1::WON);
  won.set_arr(1200);
  submit(won);
  v1::LearningRecorded learn;
  learn.set_deal_id("d1");
  learn.set_result(v1::VALIDATED);
  learn.set_confidence(70);
  const auto last = submit(learn);
  REQUIRE(runtime.settle(last).is_ok());
  auto goal = f.store->read_stream("goal-g-1", 1, store::Direction::forward, 100);
  REQUIRE(goal.is_ok());
  bool met = false;
  for (const auto& e : *goal) met = met || e.has_goal_target_met();
  CHECK(met);
  auto canvas = f.store->read_stream("canvas", 1, store::Direction::forward, 100);
  REQUIRE(canvas.is_ok());
  CHECK(canvas->back().has_assumption_confidence_changed());
  CHECK(canvas->back().assumption_confidence_changed().confidence() == 70);
}

TEST_CASE("the facts shared by the stream actors follow the canvas, the goals and the settings as they change") {
  Fixture f;
  Runtime runtime(*f.store);
  auto submit = [&](const google::protobuf::Message& p) { return ::submit(runtime, p); };
  v1::AssumptionRegistered a1;
  a1.set_assumption_id("A1");
  a1.set_statement("SMBs buy self-serve");
  a1.set_confidence(50);
  REQUIRE(submit(a1).is_ok());
  auto to_goal = lead("d1");
  to_goal.mutable_lead_captured()->set_goal_id("g-later");
  CHECK(runtime.submit(to_goal).status().code() == Code::not_found);  // no such goal yet
  REQUIRE(runtime.submit(lead("d1")).is_ok());  // the facts are read (and cached) here
  v1::HypothesisStated h;
  h.set_deal_id("d1");
  h.set_assumption_id("A2");
  h.set_confidence(50);
  auto early = submit(h);
  REQUIRE_FALSE(early.is_ok());
  CHECK(early.status().message().find("A2") != std::string::npos);
  v1::AssumptionRegistered a2 = a1;
  a2.set_assumption_id("A2");
  REQUIRE(submit(a2).is_ok());
  CHECK(submit(h).is_ok());  // the cache saw A2 arrive
  v1::GoalDefined g;
  g.set_goal_id("g-later");
  g.set_title("later");
  g.set_metric(v1::CUSTOMERS);
  g.set_target(1);
  REQUIRE(submit(g).is_ok());
  auto d2 = lead("d2");
  d2.mutable_lead_captured()->set_goal_id("g-later");
  CHECK(runtime.submit(d2).is_ok());  // and the goal
  const auto i = implication("d1");
  REQUIRE(submit(i).is_ok());
  v1::SettingChanged t;
  t.set_key("approval-threshold");
  t.set_value("0.2");
  REQUIRE(submit(t).is_ok());
  v1::DecisionMade d;
  d.set_deal_id("d1");
  d.set_verdict(v1::QUALIFY);
  d.set_reason("cheap");
  d.set_impact(0.3);  // above the new threshold: needs approval before any action
  REQUIRE(submit(d).is_ok());
  v1::ActionPlanned plan;
  plan.set_deal_id("d1");
  plan.set_action("sales:lead-intake");
  auto blocked = submit(plan);
  REQUIRE_FALSE(blocked.is_ok());
  CHECK(blocked.status().message().find("approv") != std::string::npos);
}

TEST_CASE("a stream actor with no message for its idle time stops, and comes back on the next command") {
  Fixture f;
  RuntimeOptions options;
  options.idle = std::chrono::milliseconds(20);
  Runtime runtime(*f.store, options);
  REQUIRE(runtime.submit(lead("quiet")).is_ok());
  CHECK(runtime.stats().spawned == 1);
  // Waits for the stop (a condition, not a duration: the test fails only if it never comes).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (runtime.stats().live_actors != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(runtime.stats().live_actors == 0);
  REQUIRE(submit(runtime, implication("quiet")).status().code() == Code::failed_precondition);  // its state came from the log
  CHECK(runtime.stats().spawned == 2);
}
