// Time travel when history is recorded out of business order: the folds follow business
// time, --as-of and --known-at combine, and backdated facts restate what was derived after
// them. Driven through the real binary (and the real server for subscribers).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "events/time.h"
#include "tests/server_support.h"
#include "tests/support.h"

using namespace leanos;
using nlohmann::json;

namespace {

// A workspace where deals go from lead to won and learned in few commands.
struct Timeline {
  test::Workspace ws;
  void assume(const std::string& id, int confidence, const std::string& at) {
    ws.ok({"canvas", "assume", id, "--statement", "s " + id, "--confidence", std::to_string(confidence), "--at", at});
  }
  // A deal won on `won` (lead a month before, `lead`), linked to `goal` if given.
  void won(const std::string& id, const std::string& lead, const std::string& won, int mrr, const std::string& goal = "") {
    std::vector<std::string> open = {"deal", "open", id, "--company", id, "--segment", "smb", "--source", "inbound",
                                     "--contact-name", "N", "--contact-email", "n@" + id + ".example", "--signal", "s", "--at", lead};
    if (!goal.empty()) open.insert(open.end(), {"--goal", goal});
    ws.ok(open);
    ws.ok({"deal", "hypothesis", id, "--tests", "A9", "--confidence", "50", "--at", lead});
    ws.ok({"deal", "implication", id, "--arr-low", "1", "--arr-high", "2", "--strategic", "high", "--cost-hours", "1",
           "--priority", "0.5", "--at", lead});
    ws.ok({"deal", "decide", id, "qualify", "--reason", "r", "--impact", "0.1", "--at", lead});
    ws.ok({"deal", "close", id, "won", "--arr", std::to_string(mrr * 12), "--mrr", std::to_string(mrr), "--at", won});
  }
  void learn(const std::string& id, const std::string& at, const std::vector<std::string>& how) {
    std::vector<std::string> args = {"deal", "learn", id, "--assumption", "A9", "--at", at};
    args.insert(args.end(), how.begin(), how.end());
    ws.ok(args);
  }
  json query(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = ws.run(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return json::parse(r.out);
  }
  int confidence(std::vector<std::string> time_travel = {}) {
    std::vector<std::string> args = {"canvas", "show"};
    args.insert(args.end(), time_travel.begin(), time_travel.end());
    const json canvas = query(args);
    for (const auto& a : canvas["assumptions"])
      if (a["id"] == "A9") return a["confidence"].get<int>();
    FAIL("A9 is not in the canvas");
    return -1;
  }
  std::string now() { return format_time(now_micros()); }
};

json without_positions(json j) {
  if (j.is_object()) {
    j.erase("position");
    for (auto& [k, v] : j.items()) v = without_positions(v);
  } else if (j.is_array()) {
    for (auto& v : j) v = without_positions(v);
  }
  return j;
}

}  // namespace

TEST_CASE("a learning recorded late takes its place in business time: canvas, as-of and why agree") {
  Timeline t;
  t.assume("A9", 50, "2025-12-01");
  t.won("late-x", "2026-02-01", "2026-03-01", 100);
  t.learn("late-x", "2026-03-01", {"--result", "validated", "--confidence", "80"});
  const std::string before_early = t.now();
  t.won("early-y", "2026-01-01", "2026-02-01", 100);  // recorded after late-x
  t.learn("early-y", "2026-02-01", {"--result", "validated", "--confidence", "60"});

  CHECK(t.confidence() == 80);  // the latest learning in business time said 80 %
  CHECK(t.confidence({"--as-of", "2026-03-15"}) == 80);
  CHECK(t.confidence({"--as-of", "2026-02-15"}) == 60);
  CHECK(t.confidence({"--as-of", "2026-01-15"}) == 50);
  // Both axes: on Feb 15 as the store knew it before early-y was recorded, A9 was still 50 %.
  CHECK(t.confidence({"--as-of", "2026-02-15", "--known-at", before_early}) == 50);
  CHECK(t.confidence({"--known-at", before_early}) == 80);

  auto why = t.ws.run({"why", "canvas", "A9"});
  REQUIRE(why.exit_code == 0);
  INFO(why.out);
  const auto feb = why.out.find("2026-02-01  50 % -> 60 %");
  const auto mar = why.out.find("2026-03-01  60 % -> 80 %");
  CHECK(feb != std::string::npos);
  CHECK(mar != std::string::npos);
  CHECK(feb < mar);  // business order
  CHECK(why.out.find("first recorded as 50 % -> 80 %") != std::string::npos);
  auto j = t.query({"why", "canvas", "A9"});
  int restated = 0;
  for (const auto& c : j["changes"]) restated += !c["restated"].empty();
  CHECK(restated == 1);
  // late-x decided on Feb 1 seeing A9 at 50 %; early-y's learning of that date, recorded
  // since, puts it at 60 % on that date as known now. The audit shows both.
  auto audit = t.query({"audit", "late-x"});
  const auto& inputs = audit["decisions"][0]["inputs"];
  CHECK(inputs["assumption_confidence_then"] == 50);
  CHECK(inputs["assumption_confidence_on_decision_date"] == 60);
  auto text = t.ws.run({"audit", "late-x"});
  CHECK(text.out.find("the canvas had it at 50 % when this was recorded, 60 % on the decision's date as known now") != std::string::npos);
}

TEST_CASE("relative updates follow business order: two validations recorded in reverse add up in time") {
  Timeline t;
  t.assume("A9", 50, "2025-12-01");
  t.won("late-x", "2026-02-01", "2026-03-01", 100);
  t.learn("late-x", "2026-03-01", {"--result", "validated"});  // +10
  t.won("early-y", "2026-01-01", "2026-02-01", 100);
  t.learn("early-y", "2026-02-01", {"--result", "partial"});  // -10, a month before
  CHECK(t.confidence() == 50);                              // 50 -10 +10
  CHECK(t.confidence({"--as-of", "2026-02-15"}) == 40);
  auto why = t.ws.run({"why", "canvas", "A9"});
  CHECK(why.out.find("2026-02-01  50 % -> 40 %") != std::string::npos);
  CHECK(why.out.find("2026-03-01  40 % -> 50 %") != std::string::npos);
}

TEST_CASE("a canvas revision recorded late takes its place: the learnings after it move on from it") {
  Timeline t;
  t.assume("A9", 50, "2025-12-01");
  t.won("x", "2026-02-01", "2026-03-01", 100);
  t.learn("x", "2026-03-01", {"--result", "validated"});  // +10: 60
  REQUIRE(t.confidence() == 60);
  // A review on 2026-02-10 put it at 80 %, typed in now.
  t.ws.ok({"canvas", "revise", "A9", "--confidence", "80", "--status", "validated", "--evidence", "board review", "--at", "2026-02-10"});
  CHECK(t.confidence() == 90);  // the learning of March moves on from the review's 80
  CHECK(t.confidence({"--as-of", "2026-02-20"}) == 80);
  CHECK(t.confidence({"--as-of", "2026-02-01"}) == 50);
  auto why = t.ws.run({"why", "canvas", "A9"});
  CHECK(why.out.find("2026-02-10  50 % -> 80 % (VALIDATED)  revised by") != std::string::npos);
  CHECK(why.out.find("board review") != std::string::npos);
  CHECK(why.out.find("2026-03-01  80 % -> 90 %") != std::string::npos);
  // Replay decides the same.
  auto replay = t.ws.run({"replay", "--process-managers"});
  CHECK(replay.err.find("0 derived event(s)") != std::string::npos);
  // What the rules refuse records nothing.
  t.ws.refused({"canvas", "revise", "A1", "--confidence", "80"}, "A1");
  t.ws.refused({"canvas", "revise", "A9", "--confidence", "140"}, "confidence");
  t.ws.refused({"canvas", "revise", "A9", "--confidence", "70", "--status", "proven"}, "untested, testing, validated, challenged, invalidated");
}

TEST_CASE("a won deal recorded late moves the goal's target-met date to its business date") {
  Timeline t;
  t.ws.ok({"goal", "define", "g-1", "--title", "first MRR", "--metric", "mrr", "--target", "100", "--due", "2026-12-31",
           "--at", "2025-12-01"});
  t.assume("A9", 50, "2025-12-01");
  t.won("late-x", "2026-02-01", "2026-03-01", 100, "g-1");
  auto goal = t.query({"goal", "show", "g-1"});
  INFO(goal.dump());
  CHECK(goal["met_at"].get<std::string>().substr(0, 10) == "2026-03-01");
  t.won("early-y", "2026-01-01", "2026-02-01", 100, "g-1");
  goal = t.query({"goal", "show", "g-1"});
  CHECK(goal["met_at"].get<std::string>().substr(0, 10) == "2026-02-01");
  CHECK(goal["current"] == 200);
  auto feb = t.query({"goal", "show", "g-1", "--as-of", "2026-02-15"});
  CHECK(feb["current"] == 100);
  CHECK(feb["met"] == true);
  // The goal's stream tells the correction: late-x's progress restated, its "met" withdrawn.
  auto log = t.ws.run({"log", "--stream", "goal-g-1", "--json"});
  REQUIRE(log.exit_code == 0);
  int withdrawn = 0, restated = 0;
  std::istringstream lines(log.out);
  for (std::string line; std::getline(lines, line);) {
    auto e = json::parse(line);
    if (e["type"] != "DerivationRestated") continue;
    const auto& p = e["derivation_restated"];
    if (p.value("withdrawn", false)) ++withdrawn;
    else if (p.contains("goal")) {
      ++restated;
      CHECK(p["goal"]["previous"] == "100");
      CHECK(p["goal"]["current"] == "200");
    }
  }
  CHECK(withdrawn == 1);
  CHECK(restated == 1);
}

TEST_CASE("the same facts recorded in two orders give the same state and as-of answers, and replay adds nothing") {
  auto record = [](Timeline& t, bool reversed) {
    t.ws.ok({"goal", "define", "g-1", "--title", "g", "--metric", "mrr", "--target", "250", "--at", "2025-12-01"});
    t.assume("A9", 50, "2025-12-01");
    std::vector<std::function<void()>> deals = {
        [&] { t.won("a", "2026-01-01", "2026-02-01", 100, "g-1"), t.learn("a", "2026-02-01", {"--result", "validated"}); },
        [&] { t.won("b", "2026-01-15", "2026-03-01", 100, "g-1"), t.learn("b", "2026-03-01", {"--result", "partial"}); },
        [&] { t.won("c", "2026-02-01", "2026-04-01", 100, "g-1"), t.learn("c", "2026-04-01", {"--result", "validated", "--confidence", "90"}); },
    };
    if (reversed) std::reverse(deals.begin(), deals.end());
    for (auto& d : deals) d();
  };
  Timeline in_order, reversed;
  record(in_order, false);
  record(reversed, true);
  for (const std::vector<std::string>& q : std::vector<std::vector<std::string>>{
           {"canvas", "show"}, {"goal", "show", "g-1", "--as-of", "2026-12-31"}, {"metrics"}, {"canvas", "show", "--as-of", "2026-02-15"},
           {"canvas", "show", "--as-of", "2026-03-15"}, {"goal", "show", "g-1", "--as-of", "2026-03-15"},
           {"metrics", "--as-of", "2026-03-15"}}) {
    // Log positions differ (corrections are recorded in one order only); nothing else may.
    auto a = without_positions(in_order.query(q)), b = without_positions(reversed.query(q));
    INFO(q[0], " ", q.back());
    CHECK(a.dump() == b.dump());
  }
  CHECK(in_order.confidence({"--as-of", "2026-03-15"}) == 50);  // 50 +10 -10
  CHECK(reversed.confidence() == 90);
  // The process managers appended every correction once: running them again adds nothing.
  const int events = reversed.ws.events();
  auto replay = reversed.ws.run({"replay", "--process-managers"});
  CHECK(replay.exit_code == 0);
  CHECK(replay.err.find("0 derived event(s)") != std::string::npos);
  CHECK(reversed.ws.events() == events);
}

TEST_CASE("a subscriber receives the corrections a backdated fact causes") {
  test::TempDir dir;
  test::Server server(dir.sub("data"));
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server.address()});
    auto r = test::run_leanos(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  };
  cli({"canvas", "assume", "A9", "--statement", "s", "--confidence", "50", "--at", "2025-12-01"});
  for (const auto& [id, lead, won] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"late-x", "2026-02-01", "2026-03-01"}, {"early-y", "2026-01-01", "2026-02-01"}}) {
    cli({"deal", "open", id, "--company", id, "--segment", "smb", "--source", "inbound", "--contact-name", "N",
         "--contact-email", "n@x.example", "--signal", "s", "--at", lead});
    cli({"deal", "hypothesis", id, "--tests", "A9", "--confidence", "50", "--at", lead});
    cli({"deal", "implication", id, "--arr-low", "1", "--arr-high", "2", "--strategic", "high", "--cost-hours", "1",
         "--priority", "0.5", "--at", lead});
    cli({"deal", "decide", id, "qualify", "--reason", "r", "--impact", "0.1", "--at", lead});
    cli({"deal", "close", id, "won", "--arr", "1200", "--mrr", "100", "--at", won});
    cli({"deal", "learn", id, "--assumption", "A9", "--result", "validated", "--at", won});
  }
  cli({"append", "control", "--type", "End"});
  v1::SubscribeRequest req;
  req.set_from_position(1);
  req.add_types("DerivationRestated");
  req.add_types("End");
  grpc::ClientContext ctx;
  auto reader = server.stub().Subscribe(&ctx, req);
  v1::SubscribePage page;
  std::vector<v1::Envelope> corrections;
  bool end = false;
  while (!end && reader->Read(&page))
    for (const auto& e : page.events()) {
      if (e.type() == "End") end = true;
      else corrections.push_back(e);
    }
  ctx.TryCancel();
  reader->Finish();
  REQUIRE(end);
  bool confidence = false;
  for (const auto& c : corrections)
    if (c.derivation_restated().has_confidence()) {
      confidence = true;
      CHECK(c.derivation_restated().confidence().previous() == 60);  // early-y took it to 60 first
      CHECK(c.derivation_restated().confidence().confidence() == 70);
      CHECK(c.stream() == "canvas");
      CHECK(from_timestamp(c.occurred_at()) == parse_time("2026-03-01").value());
    }
  CHECK(confidence);
}
