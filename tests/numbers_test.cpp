// Numbers a founder can trust, through the real binary: a learning stated twice is one fact,
// a different one corrects it; unknown margins and costs stay unknown; ARR is 12 x MRR.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support.h"

using nlohmann::json;
using leanos::test::Workspace;

namespace {

json assumption(Workspace& w, const std::string& id) {
  const json canvas = w.json({"canvas", "show"});
  for (const auto& a : canvas["assumptions"])
    if (a["id"] == id) return a;
  FAIL("no assumption " << id);
  return {};
}

// A deal from its lead through sales:close WON (lead 2026-01-10, closed at `close`); the
// outcome is left to the caller.
void to_close(Workspace& w, const std::string& id, const std::string& close, bool pilot = true) {
  w.to_decision(id, "qualify");
  w.ok({"deal", "action", id, "sales:lead-intake", "start", "--at", "2026-01-12"});
  w.ok({"deal", "action", id, "sales:lead-intake", "complete", "--at", "2026-01-12"});
  w.ok({"deal", "action", id, "sales:qualify", "start", "--at", "2026-01-12"});
  w.ok({"deal", "action", id, "sales:qualify", "complete", "--outcome", "qualified", "--at", "2026-01-13"});
  w.ok({"deal", "action", id, "sales:demo", "start", "--at", "2026-01-14"});
  w.ok({"deal", "action", id, "sales:demo", "complete", "--outcome", "interested", "--at", "2026-01-15"});
  if (pilot) {
    w.ok({"deal", "action", id, "sales:pilot", "start", "--at", "2026-01-16"});
    w.ok({"deal", "action", id, "sales:pilot", "complete", "--outcome", "success", "--at", close});
  }
  w.ok({"deal", "action", id, "sales:close", "start", "--at", close});
  w.ok({"deal", "action", id, "sales:close", "complete", "--outcome", "won", "--at", close});
}

void won(Workspace& w, const std::string& id, const std::string& close, std::vector<std::string> extra = {"--mrr", "1000"}) {
  to_close(w, id, close);
  std::vector<std::string> args{"deal", "close", id, "won", "--at", close};
  args.insert(args.end(), extra.begin(), extra.end());
  w.ok(args);
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a learning recorded twice is one fact: nothing new, exit 0, one piece of evidence, one case study") {
  Workspace w;
  w.setup();
  won(w, "umbrella", "2026-02-01");
  w.ok({"deal", "learn", "umbrella", "--result", "validated", "--evidence", "chose white-label", "--at", "2026-02-02"});
  const int events = w.events();
  CHECK(assumption(w, "A4")["confidence"] == 70);
  auto again = w.run({"deal", "learn", "umbrella", "--result", "validated", "--evidence", "chose white-label", "--at", "2026-02-02"});
  INFO(again.out, again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already recorded") != std::string::npos);
  CHECK(w.events() == events);
  // Typed again a day later (the command's own date does not make it a new fact).
  auto later = w.run({"deal", "learn", "umbrella", "--result", "validated", "--evidence", "chose white-label"});
  CHECK(later.exit_code == 0);
  CHECK(later.out.find("already recorded") != std::string::npos);
  CHECK(w.events() == events);
  const auto a4 = assumption(w, "A4");
  CHECK(a4["confidence"] == 70);
  CHECK(a4["evidence_count"] == 1);
  const auto opportunities = w.json({"marketing", "opportunities"})["opportunities"];
  CHECK(opportunities.size() == 1);
  CHECK(count(w.run({"today"}).out, "Acme Corp success case study") == 1);
}

TEST_CASE("a different learning corrects the first: it replaces it in every derivation, and why shows both") {
  Workspace w;
  w.setup();
  won(w, "umbrella", "2026-02-01");
  w.ok({"deal", "learn", "umbrella", "--result", "validated", "--evidence", "chose white-label", "--at", "2026-02-02"});
  won(w, "other", "2026-03-01");
  w.ok({"deal", "learn", "other", "--result", "validated", "--at", "2026-03-02"});  // 70 -> 80
  CHECK(assumption(w, "A4")["confidence"] == 80);
  // The first deal's learning was wrong: partial, not validated. As if it had said so on its
  // own date: 60 -> 50, then the other deal's +10 -> 60.
  auto fix = w.run({"deal", "learn", "umbrella", "--result", "partial", "--evidence", "wanted their own brand after all"});
  INFO(fix.out, fix.err);
  REQUIRE(fix.exit_code == 0);
  CHECK(fix.out.find("already recorded") == std::string::npos);
  const auto a4 = assumption(w, "A4");
  CHECK(a4["confidence"] == 60);
  CHECK(a4["evidence_count"] == 2);  // two deals, not three learnings
  CHECK(a4["agreeing_share"].get<double>() == doctest::Approx(0.5));
  // The deal shows the learning in force, and that it is a correction.
  auto show = w.run({"deal", "show", "umbrella"});
  CHECK(count(show.out, "A4 partial") == 1);
  CHECK(count(show.out, "A4 validated") == 0);
  CHECK(show.out.find("corrected; was validated") != std::string::npos);
  // The case study the first learning raised is no longer one to act on; the other deal's is.
  const auto opportunities = w.json({"marketing", "opportunities"})["opportunities"];
  REQUIRE(opportunities.size() == 1);
  CHECK(opportunities[0]["caused_by"][0] == "other");
  // why: the first learning's change as first recorded, and the correction at the same date.
  auto why = w.run({"why", "canvas", "A4"});
  INFO(why.out);
  CHECK(why.out.find("60 % -> 70 % (VALIDATED)") != std::string::npos);
  CHECK(why.out.find("70 % -> 50 % (CHALLENGED)  because deal umbrella corrected its learning to PARTIAL (was VALIDATED)") !=
        std::string::npos);
  CHECK(why.out.find("50 % -> 60 % (VALIDATED)  because deal other") != std::string::npos);
  // A replay from the log alone gives the same canvas.
  auto replayed = w.run({"replay"});
  REQUIRE(replayed.exit_code == 0);
  CHECK(assumption(w, "A4")["confidence"] == 60);
}

TEST_CASE("a corrected learning exports as one block and the export imports back into a new ledger") {
  Workspace w;
  w.setup();
  won(w, "umbrella", "2026-02-01");
  w.ok({"deal", "learn", "umbrella", "--result", "validated", "--at", "2026-02-02"});
  w.ok({"deal", "learn", "umbrella", "--result", "validated"});  // the same again
  w.ok({"deal", "learn", "umbrella", "--result", "validated", "--confidence", "85"});  // a correction
  const std::string out = w.dir.sub("export");
  auto exported = w.run({"export", out});
  REQUIRE(exported.exit_code == 0);
  std::ifstream in(out + "/threads/sales/umbrella/6-learning.md");
  const std::string learning(std::istreambuf_iterator<char>(in), {});
  INFO(learning);
  CHECK(count(learning, "### A4") == 1);
  CHECK(learning.find("**Confidence:** 85%") != std::string::npos);
  Workspace fresh;
  auto imported = fresh.run({"import", out});
  INFO(imported.out, imported.err);
  CHECK(imported.exit_code == 0);
  CHECK(assumption(fresh, "A4")["confidence"] == 85);
  CHECK(assumption(fresh, "A4")["evidence_count"] == 1);
}

TEST_CASE("unknown is not zero: a margin or a cost nobody recorded is left out of the averages, and CAC without costs is unknown") {
  Workspace w;
  w.setup();
  won(w, "one", "2026-02-01", {"--mrr", "1000", "--margin", "75"});
  won(w, "two", "2026-02-02", {"--mrr", "2000"});
  auto metrics = w.json({"metrics"});
  CHECK(metrics["avg_margin_pct"].get<double>() == doctest::Approx(75));
  CHECK(metrics["margins_known"] == 1);
  CHECK_FALSE(metrics.contains("cac"));
  CHECK(metrics["costs_known"] == 0);
  auto canvas = w.json({"canvas", "show"});
  CHECK_FALSE(canvas["metrics"].contains("cac"));
  CHECK(w.run({"canvas", "show"}).out.find("CAC -") != std::string::npos);
  auto text = w.run({"metrics"}).out;
  CHECK(text.find("75.0 %  (1 of 2 won deals' margins known)") != std::string::npos);
  // A cost of 0 is an answer: CAC $0 is then what the records say.
  won(w, "three", "2026-02-03", {"--mrr", "500", "--cost", "0"});
  metrics = w.json({"metrics"});
  REQUIRE(metrics.contains("cac"));
  CHECK(metrics["cac"].get<double>() == doctest::Approx(0));
  CHECK(metrics["costs_known"] == 1);
}

TEST_CASE("ARR is 12 x MRR: a won deal giving both that disagree is refused, and one-off revenue is its own") {
  Workspace w;
  w.setup();
  to_close(w, "acme-corp", "2026-02-25");
  w.refused({"deal", "close", "acme-corp", "won", "--arr", "1100000", "--mrr", "8000", "--at", "2026-02-25"}, "12 x MRR");
  w.refused({"deal", "close", "acme-corp", "won", "--arr", "1000000", "--mrr", "0", "--at", "2026-02-25"}, "12 x MRR");
  w.ok({"deal", "close", "acme-corp", "won", "--mrr", "8000", "--one-off", "40000", "--at", "2026-02-25"});
  auto metrics = w.json({"metrics"});
  CHECK(metrics["mrr"] == 8000);
  CHECK(metrics["arr"] == 96000);
  CHECK(metrics["one_off"] == 40000);
  CHECK(metrics["avg_deal_size"].get<double>() == doctest::Approx(136000));
  auto goal = w.json({"goal", "show", "g-mrr-50k"});
  CHECK(goal["current"] == 8000);  // one-off revenue is not MRR
  // A one-off deal alone is a won deal with revenue, and no recurring revenue.
  to_close(w, "licence", "2026-03-01");
  w.ok({"deal", "close", "licence", "won", "--one-off", "50000", "--at", "2026-03-01"});
  CHECK(w.json({"metrics"})["mrr"] == 8000);
}

TEST_CASE("pilot conversion counts pilots that concluded: one still running is not a failure") {
  Workspace w;
  w.setup();
  won(w, "done", "2026-02-01");
  w.to_decision("running", "qualify");
  w.ok({"deal", "action", "running", "sales:lead-intake", "start", "--at", "2026-01-12"});
  w.ok({"deal", "action", "running", "sales:lead-intake", "complete", "--at", "2026-01-12"});
  w.ok({"deal", "action", "running", "sales:qualify", "start", "--at", "2026-01-12"});
  w.ok({"deal", "action", "running", "sales:qualify", "complete", "--outcome", "qualified", "--at", "2026-01-13"});
  w.ok({"deal", "action", "running", "sales:demo", "start", "--at", "2026-01-14"});
  w.ok({"deal", "action", "running", "sales:demo", "complete", "--outcome", "interested", "--at", "2026-01-15"});
  w.ok({"deal", "action", "running", "sales:pilot", "start", "--at", "2026-01-16"});
  auto metrics = w.json({"metrics"});
  CHECK(metrics["pilot_conversion"].get<double>() == doctest::Approx(1.0));
}

TEST_CASE("each metric's target is data in the view: its comparison and value, judged by the ledger where the metric is known") {
  Workspace w;
  w.setup();
  auto targets = [&w] {
    const json metrics = w.json({"metrics"});
    REQUIRE(metrics["targets"].is_array());
    std::map<std::string, json> by;
    for (const auto& t : metrics["targets"]) {
      CHECK(t["metric"].is_string());
      by[t["metric"].get<std::string>()] = t;
    }
    return std::make_pair(metrics, by);
  };
  auto [metrics, by] = targets();
  CHECK(by.size() == 8);
  CHECK(by["lead_response_hours"]["comparison"] == "<");
  CHECK(by["lead_response_hours"]["value"] == 24);
  CHECK(by["close_rate"]["comparison"] == ">=");
  CHECK(by["close_rate"]["value"].get<double>() == doctest::Approx(0.5));
  CHECK(by["email_response_rate"]["comparison"] == ">");
  for (const auto& target : by) {  // nothing measured yet: nothing judged (unknown is not a miss)
    const std::string& name = target.first;
    CAPTURE(name);
    CHECK_FALSE(metrics.contains(name));
    CHECK_FALSE(target.second.contains("met"));
  }
  // Lead on 2026-01-10, first action two days later: 48 h against < 24 h; every qualified deal won.
  won(w, "one", "2026-02-01");
  std::tie(metrics, by) = targets();
  CHECK(metrics["lead_response_hours"].get<double>() == doctest::Approx(48));
  CHECK(by["lead_response_hours"]["met"] == false);
  CHECK(by["close_rate"]["met"] == true);
  CHECK_FALSE(by["email_response_rate"].contains("met"));
  const std::string text = w.run({"metrics"}).out;
  CHECK(text.find("lead response time (hours)      48.0       < 24  missed") != std::string::npos);
  CHECK(text.find("close rate (qualified)          100 %      >= 50 %  met") != std::string::npos);
  CHECK(text.find("email response rate             -          > 10 %\n") != std::string::npos);
}
