// What if (actors/whatif.h) through the real binary on the seed's worked example: a branch
// left without a deal, or with a command added, read beside reality; the log never written.
#include <doctest/doctest.h>

#include <httplib.h>

#include <filesystem>

#include "tests/server_support.h"
#include "tests/support.h"

using namespace leanos;
using nlohmann::json;

namespace {

struct Seeded {
  test::Workspace w;
  Seeded() {
    std::filesystem::remove(w.dir.path());
    test::seed_example(w.dir.path());
  }
  json whatif(std::vector<std::string> args) {
    args.insert(args.begin(), "whatif");
    return w.json(args);
  }
};

std::string branch_of(const json& j, const std::string& path) {
  for (const auto& d : j["differences"])
    if (d["path"] == path) return d["branch"].get<std::string>();
  return "(same)";
}

std::string reality_of(const json& j, const std::string& path) {
  for (const auto& d : j["differences"])
    if (d["path"] == path) return d["reality"].get<std::string>();
  return "(same)";
}

json assumption(const json& canvas, const std::string& id) {
  for (const auto& a : canvas["assumptions"])
    if (a["id"] == id) return a;
  return json();
}

}  // namespace

TEST_CASE("without gamma-health the MRR goal is not met, SG1 has 2 of 3, the risk and today's recommendations change") {
  Seeded s;
  auto goal = s.whatif({"goal", "g-mrr-50k", "--without", "gamma-health"});
  CHECK(goal["reality"]["current"] == 50000);
  CHECK(goal["reality"]["met"] == true);
  CHECK(goal["branch"]["current"] == 24000);
  CHECK(goal["branch"]["met"] == false);
  CHECK(goal["branch"]["subgoals"][0]["current"] == 2);
  CHECK(goal["branch"]["subgoals"][0]["target"] == 3);
  CHECK(branch_of(goal, "goal.trajectory.risk") != "(same)");
  CHECK(reality_of(goal, "goal.trajectory.risk") == "Low");
  CHECK(goal["events_left_out"].get<int>() > 0);
  CHECK(goal["events_added"] == 0);
  auto today = s.whatif({"today", "--without", "gamma-health"});
  CHECK(today["reality"] != today["branch"]);
  bool recommendations_differ = false;
  for (const auto& d : today["differences"])
    if (d["path"].get<std::string>().find("recommendations") != std::string::npos ||
        d["path"].get<std::string>().find("goals[g-mrr-50k]") != std::string::npos)
      recommendations_differ = true;
  CHECK(recommendations_differ);
}

TEST_CASE("as of 2026-01-10 without gamma-health A4 reads 70 %, 75 % in reality, and revised to 20 % on 2026-01-15 the branch reads 20 % until the next learning") {
  Seeded s;
  auto before = s.whatif({"canvas", "--as-of", "2026-01-10", "--without", "gamma-health"});
  CHECK(assumption(before["reality"], "A4")["confidence"] == 75);
  CHECK(assumption(before["branch"], "A4")["confidence"] == 70);
  const std::string revise = "canvas revise A4 --confidence 20 --at 2026-01-15";
  auto at16 = s.whatif({"canvas", "--as-of", "2026-01-16", "--with", revise});
  CHECK(assumption(at16["reality"], "A4")["confidence"] == 75);
  CHECK(assumption(at16["branch"], "A4")["confidence"] == 20);
  CHECK(at16["events_added"] == 1);
  // delta-freight's learning on 2026-01-20 states 80 %: the rules take it from there.
  auto at21 = s.whatif({"canvas", "--as-of", "2026-01-21", "--with", revise});
  CHECK(assumption(at21["branch"], "A4")["confidence"] == 80);
  // Business time before the revision: the branch is reality.
  auto at14 = s.whatif({"canvas", "--as-of", "2026-01-14", "--with", revise});
  CHECK(at14["differences"].empty());
}

TEST_CASE("a with command the rules refuse on the branch makes the scenario impossible, named by its rule, and a branch writes nothing") {
  Seeded s;
  const auto log_before = s.w.run({"log", "--json"}).out;
  const auto last_before = s.w.all_events();
  auto refused = s.w.run({"whatif", "canvas", "--with", "deal close acme-corp won --arr 480000 --at 2026-04-15"});
  CHECK(refused.exit_code == 5);
  CHECK(refused.err.find("on the branch, with 1 (DealClosed)") != std::string::npos);
  CHECK(refused.err.find("closed won") != std::string::npos);
  // Asked twice, the same bytes; and the log as it was, byte for byte.
  auto a = s.w.run({"whatif", "today", "--without", "gamma-health", "--as-of", "2026-03-01", "--json"});
  auto b = s.w.run({"whatif", "today", "--without", "gamma-health", "--as-of", "2026-03-01", "--json"});
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK(s.w.run({"log", "--json"}).out == log_before);
  CHECK(s.w.all_events() == last_before);
  auto verify = s.w.run({"verify"});
  CHECK(verify.exit_code == 0);
  // Bad input is named.
  auto unknown = s.w.run({"whatif", "goal", "g-mrr-50k", "--without", "no-such-deal"});
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("deal 'no-such-deal' has no events to leave out") != std::string::npos);
  auto view = s.w.run({"whatif", "audit", "--without", "gamma-health"});
  CHECK(view.exit_code != 0);
  CHECK(view.err.find("whatif reads canvas, goal ID, today") != std::string::npos);
  auto nothing = s.w.run({"whatif", "canvas"});
  CHECK(nothing.err.find("a scenario needs a change") != std::string::npos);
  auto type = s.w.run({"whatif", "canvas", "--without", "LearnignRecorded@2026-01-01"});
  CHECK(type.err.find("did you mean 'LearningRecorded'") != std::string::npos);
  auto quoted = s.w.run({"whatif", "canvas", "--with", "deal close 'acme"});
  CHECK(quoted.err.find("unbalanced quotes") != std::string::npos);
}

TEST_CASE("every learning of a type left out from a date: A4 stays where the last one before it left it") {
  Seeded s;
  auto j = s.whatif({"canvas", "--without", "LearningRecorded@2026-01-15"});
  CHECK(assumption(j["reality"], "A4")["confidence"] == 95);
  CHECK(assumption(j["branch"], "A4")["confidence"] == 75);
}

TEST_CASE("a scenario saved by name is recorded once as its definition, listed, and run again against the grown log") {
  Seeded s;
  const auto before = s.w.all_events();
  auto saved = s.whatif({"goal", "g-mrr-50k", "--without", "gamma-health", "--save", "no-gamma", "--description",
                         "would we meet the goal without gamma-health?", "--actor", "planner"});
  CHECK(saved["branch"]["current"] == 24000);
  CHECK(saved["saved"]["name"] == "no-gamma");
  CHECK(saved["saved"]["version"] == 1);
  // One event: the definition. The branch's effects are never recorded.
  const int after = s.w.all_events();
  CHECK(after == before + 1);
  const auto log = s.w.run({"log", "--json"}).out;
  const auto last = json::parse(log.substr(log.rfind('\n', log.size() - 2) + 1));
  CHECK(last["type"] == "ScenarioSaved");
  CHECK(last["stream"] == "scenarios");
  CHECK(last["actor"] == "planner");
  // Saved again as it reads: nothing new.
  auto again = s.whatif({"goal", "g-mrr-50k", "--without", "gamma-health", "--save", "no-gamma", "--description",
                         "would we meet the goal without gamma-health?"});
  CHECK(again["saved"]["version"] == 1);
  CHECK(s.w.all_events() == after);
  auto listed = s.w.json({"scenarios"});
  REQUIRE(listed["scenarios"].size() == 1);
  CHECK(listed["scenarios"][0]["without"] == json::array({{{"deal_id", "gamma-health"}}}));
  CHECK(listed["scenarios"][0]["description"] == "would we meet the goal without gamma-health?");
  CHECK(listed["scenarios"][0]["saved_by"] == "planner");
  // Run by name: the same branch; the log grows (A4 revised), the saved scenario reads it.
  auto rerun = s.whatif({"canvas", "--scenario", "no-gamma"});
  CHECK(rerun["scenario"]["name"] == "no-gamma");
  CHECK(assumption(rerun["branch"], "A4")["confidence"] == 95);
  s.w.run({"canvas", "revise", "A4", "--confidence", "30", "--at", "2026-03-05"});
  auto grown = s.whatif({"canvas", "--scenario", "no-gamma"});
  CHECK(assumption(grown["branch"], "A4")["confidence"] == 30);
  CHECK(s.whatif({"goal", "g-mrr-50k", "--scenario", "no-gamma"})["branch"]["current"] == 24000);
  // Its changes and the run's own, saved under the name: its next version (a hypothetical deal
  // needs no person).
  auto v2 = s.whatif({"goal", "g-mrr-50k", "--scenario", "no-gamma", "--with",
                      "deal open zeta --company Zeta --segment enterprise --source inbound --goal g-mrr-50k --at 2026-03-01", "--save",
                      "no-gamma"});
  CHECK(v2["saved"]["version"] == 2);
  auto versions = s.w.json({"scenarios", "no-gamma"});
  REQUIRE(versions["scenarios"].size() == 2);
  CHECK(versions["scenarios"][1]["without"] == versions["scenarios"][0]["without"]);
  CHECK(versions["scenarios"][1]["with"].size() == 1);
  CHECK(versions["scenarios"][1]["with"][0]["type"] == "LeadCaptured");
  CHECK(s.w.run({"verify"}).exit_code == 0);
  // Refused, named, nothing recorded: a person in a saved scenario, a name that is no slug, a
  // scenario never saved.
  const int count = s.w.all_events();
  auto person = s.w.run({"whatif", "canvas", "--with",
                         "deal open omega --company Omega --segment enterprise --source inbound --contact-name Ann --contact-email ann@omega.example "
                         "--signal demo --at 2026-03-01",
                         "--save", "with-ann"});
  CHECK(person.exit_code == 2);
  CHECK(person.err.find("holds personal data in lead_captured.contact.name") != std::string::npos);
  auto name = s.w.run({"whatif", "canvas", "--without", "gamma-health", "--save", "No Gamma"});
  CHECK(name.exit_code == 2);
  CHECK(name.err.find("scenario name") != std::string::npos);
  auto unknown = s.w.run({"whatif", "canvas", "--scenario", "nope"});
  CHECK(unknown.exit_code == 3);
  CHECK(unknown.err.find("no scenario 'nope' was saved; saved: no-gamma") != std::string::npos);
  CHECK(s.w.all_events() == count);
  // What the log knew: before it was saved, no scenario.
  auto earlier = s.w.json({"scenarios", "--at-position", std::to_string(before)});
  CHECK(earlier["scenarios"].empty());
}

TEST_CASE("a deal won and validated on the branch flags its case study there, as the process managers would") {
  Seeded s;
  const std::string at = " --at 2026-03-02";
  auto j = s.whatif({"opportunities",
                     "--with", "deal open zeta --company 'Zeta Corp' --segment enterprise --source inbound" + at,
                     "--with", "deal hypothesis zeta --tests A4 --confidence 60" + at,
                     "--with", "deal implication zeta --arr-low 100000 --arr-high 200000 --strategic high --cost-hours 20 --priority 0.9" + at,
                     "--with", "deal decide zeta qualify --reason 'tests A4'" + at,
                     "--with", "deal close zeta won --mrr 9000" + at,
                     "--with", "deal learn zeta --assumption A4 --result validated --confidence 96" + at});
  CHECK(j["events_added"] == 6);
  auto topics = [](const json& view) {
    std::vector<std::string> out;
    for (const auto& o : view["opportunities"]) out.push_back(o["topic"].get<std::string>());
    return out;
  };
  const auto branch = topics(j["branch"]), reality = topics(j["reality"]);
  CHECK(std::count(branch.begin(), branch.end(), "Zeta Corp success case study") == 1);
  CHECK(std::count(reality.begin(), reality.end(), "Zeta Corp success case study") == 0);
  CHECK(branch.size() == reality.size() + 1);
}

TEST_CASE("what if through a server answers what the data folder answers, and POST /api/v1/whatif too") {
  Seeded s;
  const std::vector<std::string> ask = {"whatif", "goal", "g-mrr-50k", "--without", "gamma-health", "--as-of", "2026-03-01", "--json"};
  auto local = s.w.run(ask);
  REQUIRE(local.exit_code == 0);
  test::Server server(s.w.dir.path(), {"--http", "127.0.0.1:0"});
  std::vector<std::string> remote_args = {"--server", server.address()};
  remote_args.insert(remote_args.end(), ask.begin(), ask.end());
  auto remote = test::run_leanos(remote_args);
  INFO(remote.err);
  CHECK(remote.exit_code == 0);
  CHECK(json::parse(remote.out)["differences"] == json::parse(local.out)["differences"]);
  CHECK(json::parse(remote.out)["branch"] == json::parse(local.out)["branch"]);
  httplib::Client http("127.0.0.1", server.http_port());
  auto posted = http.Post("/api/v1/whatif", R"({"query":{"goal":{"goal_id":"g-mrr-50k"},"as_of":"2026-03-01"},"without":[{"deal_id":"gamma-health"}]})",
                          "application/json");
  REQUIRE(posted);
  CHECK(posted->status == 200);
  INFO(posted->body);
  CHECK(json::parse(posted->body)["differences"] == json::parse(local.out)["differences"]);
  auto empty = http.Post("/api/v1/whatif", R"({"query":{"canvas":{}},"with":[{"occurred_at":"2026-04-01T00:00:00Z"}]})", "application/json");
  REQUIRE(empty);
  CHECK(empty->status == 400);
  CHECK(empty->body.find("with 1: a command needs its payload") != std::string::npos);
  auto bad = http.Post("/api/v1/whatif", "{nope", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->body.find("malformed JSON in the what-if request") != std::string::npos);
  // Saved through the HTTP API, listed by the server's CLI and GET /api/v1/scenarios, run by name.
  auto save = http.Post("/api/v1/whatif",
                        R"({"query":{"goal":{"goal_id":"g-mrr-50k"}},"without":[{"deal_id":"gamma-health"}],"save":"no-gamma","actor":"board"})",
                        "application/json");
  REQUIRE(save);
  INFO(save->body);
  CHECK(save->status == 200);
  CHECK(json::parse(save->body)["saved"]["version"] == 1);
  auto listed = test::run_leanos({"--server", server.address(), "scenarios", "--json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(json::parse(listed.out)["scenarios"][0]["saved_by"] == "board");
  auto got = http.Get("/api/v1/scenarios/no-gamma");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(json::parse(got->body)["scenarios"][0]["without"][0]["deal_id"] == "gamma-health");
  auto missing = http.Get("/api/v1/scenarios/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  std::vector<std::string> by_name = {"--server", server.address(), "whatif", "goal", "g-mrr-50k", "--scenario", "no-gamma",
                                      "--as-of", "2026-03-01", "--json"};
  auto run = test::run_leanos(by_name);
  REQUIRE(run.exit_code == 0);
  CHECK(json::parse(run.out)["branch"] == json::parse(local.out)["branch"]);
}

TEST_CASE("bench whatif reads the branch beside reality on a generated history") {
  auto r = test::run_leanos({"bench", "whatif", "--events", "60000", "--calls", "2", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = json::parse(r.out);
  REQUIRE(j["rows"].size() == 3);
  for (const auto& row : j["rows"]) {
    CHECK(row["events"] == 60000);
    CHECK(row["branch_p50_ms"].get<double>() > 0);
    CHECK(row["reality_p50_ms"].get<double>() > 0);
  }
}
