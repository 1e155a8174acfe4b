// `leanos export` and the round trip through the real binary: the seed-era layout, as of a
// date, a random history exported, imported into a new ledger and exported again, campaigns,
// ICPs and narratives. The import itself: import_test.cpp and import_reading_test.cpp.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "events/time.h"
#include "tests/imported.h"
#include "tests/support.h"

using namespace leanos;
namespace fs = std::filesystem;

using test::Imported;
using test::read;

namespace {

// Every file under `dir`, by workspace-relative path.
std::map<std::string, std::string> tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).generic_string()] = read(e.path().string());
  return out;
}

// `dir`, exported from `w`, imported back into it: nothing new, nothing that differs.
void reimport_records_nothing(test::Workspace& w, const std::string& dir) {
  const int events = w.events();
  auto same = w.run({"import", dir});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("note") == std::string::npos);
  CHECK(w.events() == events);
}

}  // namespace

TEST_CASE("export writes the seed-era layout: imported back it records nothing, and a new ledger built from it exports the same bytes") {
  test::Workspace seeded;
  fs::remove(seeded.dir.path());
  test::seed_example(seeded.dir.path());
  test::TempDir out;
  const std::string exported = out.sub("export");
  auto e = seeded.run({"export", exported});
  INFO(e.out, e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(e.out.find("1 assumptions, 1 goals, 5 deal threads") != std::string::npos);
  const auto files = tree(exported);
  CHECK(files.size() == 37);  // the canvas, the goal, 5 threads of meta.json + 6 stages
  const std::string canvas = files.at("strategy/canvas/10-assumptions.md");
  CHECK(canvas.find("### A4: Enterprise customers prefer white-label") != std::string::npos);
  CHECK(canvas.find("**Confidence:** 95% (previously: 90%)") != std::string::npos);
  CHECK(canvas.find("**Evidence:** N=5") != std::string::npos);
  CHECK(canvas.find("**Last validated:** 2026-02-25") != std::string::npos);
  const auto meta = nlohmann::json::parse(files.at("threads/sales/acme-corp/meta.json"));
  CHECK(meta["stage"] == 6);
  CHECK(meta["goal_id"] == "g-mrr-50k");
  CHECK(files.at("strategy/goals/completed/g-mrr-50k.md").find("| MRR | $50,000 | $50,000 | $0 |") != std::string::npos);
  CHECK(files.count("threads/sales/acme-corp/6-learning.md"));

  // Into the ledger it came from: everything is there already, whoever recorded it.
  const int before = seeded.events();
  auto same = seeded.run({"import", exported});
  INFO(same.out);
  CHECK(same.exit_code == 0);
  CHECK(seeded.events() == before);
  CHECK(same.out.find("note:") == std::string::npos);

  // Into a new ledger: the same history, so the same files.
  test::Workspace fresh;
  auto in = fresh.run({"import", exported});
  INFO(in.out, in.err);
  REQUIRE(in.exit_code == 0);
  auto again = fresh.run({"export", out.sub("again")});
  REQUIRE(again.exit_code == 0);
  CHECK(tree(out.sub("again")) == files);
  auto canvas_of = [](test::Workspace& w) {
    auto j = nlohmann::json::parse(w.run({"canvas", "show", "--json"}).out);
    j.erase("position");  // the seed also recorded workspace settings
    return j;
  };
  CHECK(canvas_of(fresh) == canvas_of(seeded));
}

TEST_CASE("export --as-of writes the workspace as it stood then, and a ledger built from it exports the same") {
  test::Workspace seeded;
  fs::remove(seeded.dir.path());
  test::seed_example(seeded.dir.path());
  test::TempDir out;
  // 2026-01-06: two learnings in (A4 at 75 %), epsilon-ins still piloting, acme-corp at its start.
  auto e = seeded.run({"export", out.sub("then"), "--as-of", "2026-01-06"});
  INFO(e.out, e.err);
  REQUIRE(e.exit_code == 0);
  const auto files = tree(out.sub("then"));
  CHECK(files.at("strategy/canvas/10-assumptions.md").find("**Confidence:** 75%") != std::string::npos);
  CHECK(files.count("threads/sales/epsilon-ins/5-actions.md"));
  CHECK_FALSE(files.count("threads/sales/epsilon-ins/6-learning.md"));
  CHECK_FALSE(files.count("threads/sales/acme-corp/meta.json"));  // its lead came on 2026-01-10
  CHECK(nlohmann::json::parse(files.at("threads/sales/epsilon-ins/meta.json"))["stage"] == 5);
  test::Workspace fresh;
  REQUIRE(fresh.run({"import", out.sub("then")}).exit_code == 0);
  REQUIRE(fresh.run({"export", out.sub("again")}).exit_code == 0);
  CHECK(tree(out.sub("again")) == files);
  // What the canvas said then is what the ledger says for then.
  auto then = nlohmann::json::parse(seeded.run({"canvas", "show", "--as-of", "2026-01-06", "--json"}).out);
  CHECK(then["assumptions"][0]["confidence"] == 75);
}

TEST_CASE("export refuses a folder with files unless --force, and leaves no half-written file") {
  test::Workspace seeded;
  fs::remove(seeded.dir.path());
  test::seed_example(seeded.dir.path());
  test::TempDir out;
  const std::string dir = out.sub("busy");
  fs::create_directories(dir);
  test::write_file(dir + "/notes.md", "mine\n");
  auto refused = seeded.run({"export", dir});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("is not empty") != std::string::npos);
  CHECK(refused.err.find("--force") != std::string::npos);
  CHECK(tree(dir).size() == 1);
  auto forced = seeded.run({"export", dir, "--force"});
  INFO(forced.err);
  REQUIRE(forced.exit_code == 0);
  const auto files = tree(dir);
  CHECK(files.at("notes.md") == "mine\n");
  CHECK(files.size() == 38);
  for (const auto& [path, text] : files) CHECK(path.find(".leanos-tmp") == std::string::npos);
  auto bad = seeded.run({"export", out.sub("x"), "--as-of", "2026-02-30"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--as-of") != std::string::npos);
}

namespace {

// A random history of six deals through the CLI, exported, imported into a new ledger and
// exported again. (One seed per test case: each is a few hundred commands, a minute or two
// under ASan.)
// Every file of `expected` in `got` with the same bytes, and no other file.
void check_same_files(const std::map<std::string, std::string>& got, const std::map<std::string, std::string>& expected) {
  for (const auto& entry : expected) {
    const std::string& path = entry.first;  // a plain variable: doctest's INFO captures it
    const std::string& text = entry.second;
    INFO(path);
    CHECK(got.count(path));
    if (got.count(path)) CHECK(got.at(path) == text);
  }
  CHECK(got.size() == expected.size());
}

void round_trip_of_random_history(unsigned seed) {
  {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    test::Workspace w;
    w.setup();
    w.ok({"canvas", "assume", "A7", "--statement", "Pilots shorten the cycle", "--confidence", "50", "--at", "2026-01-01"});
    const char* actions[] = {"sales:lead-intake", "sales:qualify", "sales:demo", "sales:pilot", "sales:close"};
    const char* results[] = {"ready_for_qualification", "qualified", "interested", "success", "won"};
    for (int i = 0; i < 6; ++i) {
      const std::string id = "deal-" + std::to_string(i);
      int day = 1 + pick(40);
      auto at = [&]() {
        day += pick(4);
        return format_date(parse_time("2026-01-01").value() + days(day));
      };
      std::vector<std::string> open = {"deal", "open", id, "--company", "Company " + std::to_string(i), "--segment", pick(2) ? "enterprise" : "smb",
                                       "--source", pick(2) ? "inbound" : "outbound", "--contact-name", "Pat Lee", "--contact-title", "CTO",
                                       "--contact-email", "pat@" + id + ".example", "--signal", "asked for a demo", "--at", at()};
      if (pick(2)) open.insert(open.end(), {"--goal", "g-mrr-50k", "--subgoal", "SG1"});
      w.ok(open);
      const std::string assumption = pick(2) ? "A4" : "A7";
      if (pick(5) == 0) continue;
      w.run({"deal", "hypothesis", id, "--tests", assumption, "--confidence", std::to_string(40 + 5 * pick(8)), "--at", at()});
      w.run({"deal", "implication", id, "--arr-low", std::to_string(100000 * (1 + pick(5))), "--arr-high", "900000", "--strategic",
             pick(2) ? "high" : "low", "--cost-hours", std::to_string(10 + pick(30)), "--priority", pick(2) ? "0.6" : "0.85", "--at", at()});
      const char* verdict = pick(4) == 0 ? "defer" : "qualify";
      w.run({"deal", "decide", id, verdict, "--reason", "fits", "--impact", pick(2) ? "0.9" : "0.4", "--at", at()});
      if (pick(3) == 0) w.run({"deal", "approve", id, "--at", at()});
      const int steps = pick(6);
      for (int a = 0; a < steps; ++a) {
        w.run({"deal", "action", id, actions[a], "start", "--at", at()});
        if (a + 1 == steps && pick(3) == 0) break;  // still running
        w.run({"deal", "action", id, actions[a], "complete", "--outcome", results[a], "--at", at()});
      }
      if (steps == 5) {
        const bool won = pick(3) != 0;
        if (won) w.run({"deal", "close", id, "won", "--arr", std::to_string(120000 * (1 + pick(9))), "--margin", "60", "--at", at()});
        else w.run({"deal", "close", id, "lost", "--reason", "pricing", "--at", at()});
        std::vector<std::string> learn = {"deal", "learn", id, "--assumption", assumption, "--result", won ? "validated" : "partial", "--at", at()};
        if (pick(2)) learn.insert(learn.end(), {"--confidence", std::to_string(50 + pick(50))});
        w.run(learn);
      }
    }
    test::TempDir out;
    REQUIRE(w.run({"export", out.sub("a")}).exit_code == 0);
    const auto files = tree(out.sub("a"));
    reimport_records_nothing(w, out.sub("a"));
    // Into a new ledger and out again: the same bytes; the same canvas and goal.
    test::Workspace fresh;
    auto in = fresh.run({"import", out.sub("a")});
    INFO(in.out, in.err);
    REQUIRE(in.exit_code == 0);
    REQUIRE(fresh.run({"export", out.sub("b")}).exit_code == 0);
    const auto again = tree(out.sub("b"));
    check_same_files(again, files);
    for (const char* q : {"canvas", "goal"}) {
      std::vector<std::string> args = q == std::string("canvas")
                                          ? std::vector<std::string>{"canvas", "show", "--json"}
                                          : std::vector<std::string>{"goal", "show", "g-mrr-50k", "--json", "--as-of", "2026-06-01"};
      auto a = nlohmann::json::parse(w.run(args).out), b = nlohmann::json::parse(fresh.run(args).out);
      a.erase("position"), b.erase("position");
      CHECK(a == b);
    }
  }
}

}  // namespace

TEST_CASE("the round trip holds over a random history (seed 7): export, import into a new ledger, export again gives the same bytes") {
  round_trip_of_random_history(7);
}

TEST_CASE("the round trip holds over a random history (seed 2026): export, import into a new ledger, export again gives the same bytes") {
  round_trip_of_random_history(2026);
}

TEST_CASE("campaigns, ICPs and narratives round-trip: a campaign folder with its lists, the ICP and narrative files, back as the same facts") {
  test::Workspace w;
  w.setup();
  test::TempDir in;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(in.sub(name)) << text;
    return in.sub(name);
  };
  const std::string id = "2026-02-01-fintech-cfo";
  w.ok({"segment", "icp", "enterprise", "--file",
        write("icp.yaml", "filters:\n  industry: [fintech, \"2020\"]\n  revenue_range: \"$1M-$10M\"\nqualification_criteria: [\"has a CFO\"]\n"
                          "qualification_score: 0.85\nsample_companies: [Acme, Globex, Initech, Umbrella, Hooli]\n"),
        "--at", "2026-01-10"});
  w.ok({"segment", "narrative", "enterprise", "--problem", write("p.md", "# Problem\n\nCFOs lose a week a month.\n"), "--solution",
        write("s.md", "# Solution\n\nClose in a day.\n"), "--specifics", write("x.md", "# Specifics\n\n- 5x faster\n"), "--at", "2026-01-12"});
  w.ok({"campaign", "open", id, "--segment", "enterprise", "--objective", "Book 5 demos with fintech CFOs", "--targets", "50", "--goal",
        "g-mrr-50k", "--at", "2026-02-01"});
  w.ok({"campaign", "hypothesis", id, "--tests", "A4", "--confidence", "60", "--at", "2026-02-02"});
  w.ok({"campaign", "implication", id, "--responses", "10", "--meetings", "4", "--deals", "1", "--cost-hours", "20", "--at", "2026-02-03"});
  w.ok({"campaign", "decide", id, "launch", "--reason", "fits, and cheap", "--alternative", "wait for Q3", "--at", "2026-02-04"});
  w.ok({"campaign", "prospects", id, "--csv", write("p.csv", "company,website,linkedin\n\"Acme, Inc.\",acme.example,\nGlobex,globex.example,in/globex\n"),
        "--at", "2026-02-05"});
  w.ok({"campaign", "contacts", id, "--csv",
        write("c.csv", "name,title,email,company\n\"Pat \"\"PJ\"\" Lee\",CFO,pat@acme.example,\"Acme, Inc.\"\nSam Roe,VP Finance,sam@globex.example,Globex\n"),
        "--at", "2026-02-06"});
  w.ok({"campaign", "sequence", id, "--step", "1:email:intro", "--step", "4:linkedin:follow-up", "--at", "2026-02-07"});
  w.ok({"campaign", "sent", id, "--email", "pat@acme.example", "--step", "1", "--at", "2026-02-08"});
  w.ok({"campaign", "sent", id, "--email", "sam@globex.example", "--step", "1", "--at", "2026-02-08"});
  w.ok({"campaign", "response", id, "--email", "sam@globex.example", "--kind", "later", "--at", "2026-02-09"});
  w.ok({"campaign", "response", id, "--email", "pat@acme.example", "--kind", "interested", "--deal", "acme-fintech", "--at", "2026-02-10"});
  w.ok({"deal", "hypothesis", "acme-fintech", "--tests", "A4", "--confidence", "60", "--at", "2026-02-11"});
  w.ok({"campaign", "results", id, "--assumption", "A4", "--result", "validated", "--confidence", "70", "--summary", "CFOs answer", "--at",
        "2026-03-01"});

  test::TempDir out;
  auto e = w.run({"export", out.sub("a")});
  INFO(e.out, e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(e.out.find("1 campaigns, 1 segment strategies") != std::string::npos);
  const auto files = tree(out.sub("a"));
  const std::string dir = "threads/sales/campaigns/" + id + "/";
  for (const char* f : {"meta.json", "1-input.md", "2-hypothesis.md", "3-implication.md", "4-decision.md", "5-actions.md", "6-learning.md",
                        "prospects.csv", "contacts.csv", "outreach.csv", "responses.csv"})
    CHECK_MESSAGE(files.count(dir + f), std::string(dir + f));
  CHECK(files.at(dir + "prospects.csv") ==
        "date,company,website,linkedin\n2026-02-05,\"Acme, Inc.\",acme.example,\n2026-02-05,Globex,globex.example,in/globex\n");
  CHECK(files.at(dir + "contacts.csv").find("2026-02-06,\"Pat \"\"PJ\"\" Lee\",CFO,pat@acme.example,\"Acme, Inc.\"") != std::string::npos);
  CHECK(files.at(dir + "responses.csv").find("2026-02-10,pat@acme.example,interested,acme-fintech") != std::string::npos);
  CHECK(files.at(dir + "5-actions.md").find("- Day 4: linkedin: follow-up") != std::string::npos);
  CHECK(nlohmann::json::parse(files.at(dir + "meta.json"))["status"] == "completed");
  const std::string icp = files.at("research/customer/icp/enterprise-icp.yaml");
  CHECK(icp.find("generated_date: 2026-01-10") != std::string::npos);
  CHECK(icp.find("\"2020\"") != std::string::npos);  // text stays text
  CHECK(files.at("artifacts/sales/enterprise/narrative/solution-narrative.md") == "# Solution\n\nClose in a day.\n");
  // The narrative's date is its file's modification time (its text cannot say it).
  const auto mtime = fs::last_write_time(out.sub("a") + "/artifacts/sales/enterprise/narrative/problem-narrative.md");
  CHECK(format_date(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::file_clock::to_sys(mtime).time_since_epoch()).count()) ==
        "2026-01-12");

  reimport_records_nothing(w, out.sub("a"));

  // Into a new ledger: the response opens the deal once, and the files come out the same.
  test::Workspace fresh;
  fresh.setup();
  auto imported = fresh.run({"import", out.sub("a")});
  INFO(imported.out, imported.err);
  REQUIRE(imported.exit_code == 0);
  REQUIRE(fresh.run({"export", out.sub("b")}).exit_code == 0);
  const auto again = tree(out.sub("b"));
  check_same_files(again, files);
  auto campaign = [&](test::Workspace& x) { return nlohmann::json::parse(x.run({"campaign", "show", id, "--json"}).out); };
  CHECK(campaign(fresh) == campaign(w));
  auto segments = [&](test::Workspace& x) {
    auto j = nlohmann::json::parse(x.run({"segment", "show", "--json", "--as-of", "2026-01-31"}).out);
    j.erase("position");
    return j;
  };
  CHECK(segments(fresh) == segments(w));
  CHECK(segments(w)["campaigns"].empty());  // opened in February
  CHECK(segments(w)["segments"][0]["icp"]["qualification_score"] == 0.85);
}

TEST_CASE("importing an older export of the same ledger records nothing: its canvas was the history's on its own date") {
  test::Workspace w;
  w.setup();  // A4 at 60 % on 2026-01-01
  w.to_decision("one", "qualify");
  w.ok({"deal", "close", "one", "lost", "--reason", "timing", "--at", "2026-01-20"});
  w.ok({"deal", "learn", "one", "--result", "partial", "--confidence", "55", "--at", "2026-01-21"});
  test::TempDir out;
  REQUIRE(w.run({"export", out.sub("old")}).exit_code == 0);  // A4 55 %, last validated 2026-01-21
  w.to_decision("two", "qualify");
  w.ok({"deal", "close", "two", "lost", "--reason", "timing", "--at", "2026-03-01"});
  w.ok({"deal", "learn", "two", "--result", "validated", "--confidence", "75", "--at", "2026-03-02"});
  const int events = w.events();
  auto again = w.run({"import", out.sub("old")});
  INFO(again.out, again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("75 % -> 55 %") == std::string::npos);  // no revision reported ...
  CHECK(w.events() == events);                                   // ... nor recorded
  auto canvas = nlohmann::json::parse(w.run({"canvas", "show", "--json"}).out);
  CHECK(canvas["assumptions"][0]["confidence"] == 75);
}
