// The seed's worked example end to end through the real binary (tools/seed-example.sh).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "tests/support.h"

using nlohmann::json;
using leanos::test::Workspace;

namespace {

const json& assumption(const json& canvas, const std::string& id) {
  for (const auto& a : canvas["assumptions"])
    if (a["id"] == id) return a;
  FAIL("assumption " << id << " missing");
  return canvas;
}

struct Seeded {
  Workspace w;
  Seeded() {
    std::filesystem::remove(w.dir.path());
    leanos::test::seed_example(w.dir.path());
  }
};

}  // namespace

TEST_CASE("the seed's example: A4 ends at 95 % with evidence 5, and ARR is 12 x MRR with one-off revenue apart") {
  Seeded s;
  auto canvas = s.w.json({"canvas", "show"});
  const auto& a4 = assumption(canvas, "A4");
  CHECK(a4["confidence"] == 95);
  CHECK(a4["evidence_count"] == 5);
  CHECK(a4["status"] == "VALIDATED");
  CHECK(canvas["metrics"]["mrr"] == 95000);
  CHECK(canvas["metrics"]["arr"] == 12 * 95000);
  CHECK(canvas["metrics"]["one_off"] == 60000);
  CHECK(canvas["metrics"]["avg_deal_size"].get<double>() == doctest::Approx((12 * 95000 + 60000) / 5.0));
  CHECK(canvas["metrics"]["avg_margin_pct"].get<double>() == doctest::Approx(70));
  CHECK(canvas["metrics"]["customers"] == 5);
  CHECK(canvas["metrics"]["win_rate"].get<double>() == doctest::Approx(1.0));
}

TEST_CASE("the seed's example: the third goal-linked close completes SG1 and meets the MRR target") {
  Seeded s;
  auto goal = s.w.json({"goal", "show", "g-mrr-50k"});
  CHECK(goal["metric"] == "mrr");
  CHECK(goal["target"] == 50000);
  CHECK(goal["current"] == 50000);
  CHECK(goal["met"] == true);
  REQUIRE(goal["subgoals"].size() == 1);
  CHECK(goal["subgoals"][0]["id"] == "SG1");
  CHECK(goal["subgoals"][0]["current"] == 3);
  CHECK(goal["subgoals"][0]["done"] == true);
  // The day before acme-corp closed: $42K and SG1 at 2/3.
  auto before = s.w.json({"goal", "show", "g-mrr-50k", "--as-of", "2026-02-24"});
  CHECK(before["current"] == 42000);
  CHECK(before["met"] == false);
  CHECK(before["subgoals"][0]["current"] == 2);
  CHECK(before["subgoals"][0]["done"] == false);
}

TEST_CASE("the seed's example: the 46-day deal shows cycle time 46 and a case study at priority 0.85 appears") {
  Seeded s;
  auto deal = s.w.json({"deal", "show", "acme-corp"});
  CHECK(deal["cycle_days"] == 46);
  auto opportunities = s.w.json({"marketing", "opportunities"})["opportunities"];
  bool case_study = false, pattern = false;
  for (const auto& o : opportunities) {
    if (o["topic"] == "Acme Corp success case study") {
      case_study = true;
      CHECK(o["priority"].get<double>() == doctest::Approx(0.85));
      CHECK(o["kind"] == "case-study");
      CHECK(o["caused_by"] == json::array({"acme-corp"}));
    }
    if (o["kind"] == "pattern") pattern = true;
  }
  CHECK(case_study);
  CHECK(pattern);
}

TEST_CASE("the seed's example: canvas show --as-of a date before the fifth deal shows A4 as it was then") {
  Seeded s;
  auto then = s.w.json({"canvas", "show", "--as-of", "2026-02-20"});
  CHECK(assumption(then, "A4")["confidence"] == 90);
  CHECK(assumption(then, "A4")["evidence_count"] == 4);
  auto earlier = s.w.json({"canvas", "show", "--as-of", "2025-11-30"});
  CHECK(assumption(earlier, "A4")["confidence"] == 60);
  CHECK(assumption(earlier, "A4")["evidence_count"] == 0);
  CHECK(earlier["metrics"]["customers"] == 0);
  // known-at: what the store had recorded by then. Everything was recorded today, so a past
  // date knows nothing, and today knows everything.
  auto known_nothing = s.w.json({"canvas", "show", "--known-at", "2020-01-01"});
  CHECK(known_nothing["assumptions"].empty());
}

TEST_CASE("audit shows the decision, its inputs then, and what it caused downstream") {
  Seeded s;
  auto audit = s.w.json({"audit", "acme-corp"});
  REQUIRE(audit["decisions"].size() == 1);
  const auto& d = audit["decisions"][0];
  CHECK(d["event"]["actor"] == "sales-execution");
  CHECK(d["event"]["decision_made"]["verdict"] == "QUALIFY");
  CHECK(d["inputs"]["hypothesis"]["assumption_id"] == "A4");
  // acme-corp's lead is dated 2026-01-10 but was recorded after epsilon-ins learned (90 %).
  CHECK(d["inputs"]["assumption_confidence_then"] == 90);
  // On its business date (before delta-freight and epsilon-ins learned), A4 was at 75 %.
  CHECK(d["inputs"]["assumption_confidence_on_decision_date"] == 75);
  CHECK(d["inputs"]["implication"]["priority"].get<double>() == doctest::Approx(0.85));
  std::set<std::string> caused;
  for (const auto& e : audit["caused"]) caused.insert(e["type"].get<std::string>());
  for (const char* t : {"AssumptionConfidenceChanged", "GoalProgressed", "SubgoalProgressed", "GoalTargetMet",
                        "ContentOpportunityFlagged", "CanvasMetricRecorded"})
    CHECK_MESSAGE(caused.count(t) == 1, t);
  auto why = s.w.json({"why", "canvas", "A4"});
  REQUIRE(why["changes"].size() == 6);
  CHECK(why["changes"][5]["cause"]["learning_recorded"]["deal_id"] == "acme-corp");
}

TEST_CASE("running the process managers again over the same history appends nothing") {
  Seeded s;
  const int before = s.w.events();
  auto r = s.w.run({"replay", "--process-managers"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("0 derived event(s) were missing") != std::string::npos);
  CHECK(s.w.events() == before);
  CHECK(s.w.run({"verify"}).exit_code == 0);
}
