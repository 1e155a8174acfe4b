// The real `leanos` binary through a whole deal, and through each rejection path.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/support.h"

using leanos::test::count_lines;
using leanos::test::run_leanos;
using leanos::test::RunResult;
using leanos::test::TempDir;

using leanos::test::Workspace;

TEST_CASE("a whole deal from open to learn through the CLI, and show tells its six stages") {
  Workspace w;
  w.setup();
  w.to_decision("acme-corp", "qualify");
  struct Step {
    std::string action, outcome, start, end;
  };
  for (const auto& [action, outcome, start, end] :
       std::vector<Step>{
           {"sales:lead-intake", "ready_for_qualification", "2026-01-12", "2026-01-12"},
           {"sales:qualify", "qualified", "2026-01-12", "2026-01-15"},
           {"sales:demo", "interested", "2026-01-16", "2026-01-25"},
           {"sales:pilot", "success", "2026-01-26", "2026-02-19"},
           {"sales:close", "won", "2026-02-20", "2026-02-25"}}) {
    w.ok({"deal", "action", "acme-corp", action, "start", "--at", start});
    w.ok({"deal", "action", "acme-corp", action, "complete", "--outcome", outcome, "--at", end});
  }
  w.ok({"deal", "close", "acme-corp", "won", "--arr", "1100000", "--at", "2026-02-25"});
  w.ok({"deal", "learn", "acme-corp", "--assumption", "A4", "--result", "validated", "--confidence", "95", "--evidence",
        "chose white-label", "--at", "2026-02-26", "--actor", "sales-execution"});
  auto show = w.run({"deal", "show", "acme-corp"});
  REQUIRE(show.exit_code == 0);
  for (const char* line : {"1 input        2026-01-10", "2 hypothesis   2026-01-10  tests A4 at 60 %",
                           "4 decision     2026-01-12  QUALIFY", "sales:pilot completed -> SUCCESS",
                           "6 learning     2026-02-25  won, ARR $1,100,000, MRR $91,666, cycle 46 days",
                           "A4 validated -> 95 %"})
    CHECK_MESSAGE(show.out.find(line) != std::string::npos, line);
  auto json = w.run({"deal", "show", "acme-corp", "--json"});
  CHECK(json.out.find("\"cycle_days\":46") != std::string::npos);
  CHECK(json.out.find("\"stage\":\"6-learning\"") != std::string::npos);
  auto log = w.run({"log", "--stream", "deal-acme-corp", "--json"});
  CHECK(log.out.find("\"actor\":\"sales-execution\"") != std::string::npos);
  CHECK(count_lines(log.out) == 16);  // lead, hypothesis, implication, decision, 5 actions started and completed, close, learning
}

TEST_CASE("deal show --as-of and --at-position tell the thread as it stood, and say when it did not exist yet") {
  Workspace w;
  w.setup();
  w.to_decision("acme-corp", "qualify");
  w.ok({"deal", "action", "acme-corp", "sales:lead-intake", "start", "--at", "2026-01-12"});
  w.ok({"deal", "action", "acme-corp", "sales:lead-intake", "complete", "--outcome", "ready_for_qualification", "--at", "2026-01-13"});
  auto then = w.run({"deal", "show", "acme-corp", "--as-of", "2026-01-11", "--json"});
  INFO(then.err);
  REQUIRE(then.exit_code == 0);
  CHECK(then.out.find("\"stage\":\"3-implication\"") != std::string::npos);
  CHECK(then.out.find("sales:lead-intake") == std::string::npos);
  auto now = w.run({"deal", "show", "acme-corp", "--json"});
  CHECK(now.out.find("\"status\":\"completed\"") != std::string::npos);
  auto before = w.run({"deal", "show", "acme-corp", "--as-of", "2026-01-01"});
  CHECK(before.exit_code != 0);
  CHECK(before.err.find("does not exist at that time") != std::string::npos);
  auto prefix = w.run({"deal", "show", "acme-corp", "--at-position", "3"});
  CHECK(prefix.exit_code != 0);  // goal, subgoal, assumption: no deal yet
}

TEST_CASE("each rejection path exits non-zero, says why, and appends nothing") {
  Workspace w;
  w.setup();
  w.open_deal("acme-corp");
  w.refused({"deal", "decide", "acme-corp", "qualify", "--reason", "r"}, "stage 2 (hypothesis");   // stage skipped
  w.refused({"deal", "hypothesis", "ghost", "--tests", "A4", "--confidence", "50"}, "does not exist");  // unknown deal
  w.refused({"deal", "hypothesis", "acme-corp", "--tests", "A9", "--confidence", "50"}, "not in the canvas");
  w.refused({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "140"}, "0 to 100");
  w.refused({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "50", "--at", "2026-13-45"},
            "malformed date");
  w.refused({"deal", "action", "acme-corp", "sales:qualify", "start"}, "QUALIFY");  // action before QUALIFY
  w.to_decision("beta-inc", "qualify");
  w.refused({"deal", "close", "beta-inc", "won", "--arr", "-5"}, "--arr -5 is negative");  // the rule says arr, the CLI its flag
  w.ok({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "50"});
  w.refused({"deal", "implication", "acme-corp", "--arr-low", "500", "--arr-high", "100", "--strategic", "high", "--cost-hours", "1",
             "--priority", "0.5"},
            "--arr-high 100 is below --arr-low 500");
  w.to_decision("gamma-llc", "reject");
  w.refused({"deal", "close", "gamma-llc", "lost"}, "REJECT ends the thread");  // outcome after REJECT
  w.refused({"deal", "open", "acme-corp", "--company", "Acme", "--segment", "enterprise", "--source", "inbound",
             "--contact-name", "J", "--contact-email", "j@a.example", "--signal", "s"},
            "already exists");
  w.refused({"deal", "decide", "beta-inc", "maybe", "--reason", "r"}, "qualify, defer, reject");
  w.refused({"deal", "open", "delta", "--company", "D"}, "is missing --segment, --source, --contact-name, --contact-email and --signal");
}

TEST_CASE("campaign prospects and contacts come from CSV, a bad row records nothing and names line and column") {
  Workspace w;
  w.setup();
  w.ok({"campaign", "open", "2026-02-01-fintech-cfo", "--segment", "fintech", "--objective", "book 10 demos", "--targets",
        "50"});
  w.ok({"campaign", "hypothesis", "2026-02-01-fintech-cfo", "--tests", "A4", "--confidence", "40"});
  w.ok({"campaign", "implication", "2026-02-01-fintech-cfo", "--responses", "10", "--meetings", "5", "--deals", "2",
        "--cost-hours", "20"});
  const std::string bad = leanos::test::write_file(w.dir.sub("bad.csv"),
                                                   "contact name,title,email,company\n"
                                                   "Ann,CFO,ann@beta.example,Beta\n"
                                                   "Bob,CEO,not-an-email,Gamma\n");
  const std::string one = leanos::test::write_file(w.dir.sub("one.csv"),
                                                   "contact name,title,email,company\nAnn,CFO,ann@beta.example,Beta\n");
  w.refused({"campaign", "contacts", "2026-02-01-fintech-cfo", "--csv", one}, "LAUNCH");
  w.ok({"campaign", "decide", "2026-02-01-fintech-cfo", "launch", "--reason", "cheap test"});
  w.refused({"campaign", "contacts", "2026-02-01-fintech-cfo", "--csv", bad}, "line 3, column 3 (email)");
  const std::string ragged = leanos::test::write_file(w.dir.sub("ragged.csv"),
                                                      "company,website,linkedin\n\"Beta, Inc\",beta.example,li/beta\nGamma\n");
  w.refused({"campaign", "prospects", "2026-02-01-fintech-cfo", "--csv", ragged}, "line 3: 1 columns, expected 3");
  const std::string good = leanos::test::write_file(w.dir.sub("good.csv"),
                                                    "contact name,title,email,company\n"
                                                    "Ann,CFO,ann@beta.example,Beta\n"
                                                    "\"Lee, Jr.\",CFO,lee@gamma.example,Gamma\n");
  w.ok({"campaign", "contacts", "2026-02-01-fintech-cfo", "--csv", good});
  w.ok({"campaign", "contacts", "2026-02-01-fintech-cfo", "--csv", good});  // the same file again: nothing new
  w.ok({"campaign", "response", "2026-02-01-fintech-cfo", "--email", "ann@beta.example", "--kind", "interested", "--deal",
        "beta"});
  auto show = w.run({"campaign", "show", "2026-02-01-fintech-cfo", "--json"});
  CHECK(show.out.find("\"contacts\":2") != std::string::npos);
  CHECK(show.out.find("\"conversions\":1") != std::string::npos);
  auto deal = w.run({"deal", "show", "beta", "--json"});
  REQUIRE(deal.exit_code == 0);
  CHECK(deal.out.find("\"campaign_id\":\"2026-02-01-fintech-cfo\"") != std::string::npos);
  CHECK(deal.out.find("\"source\":\"CAMPAIGN\"") != std::string::npos);
}

TEST_CASE("segment ICP from YAML is versioned, malformed YAML names its line") {
  Workspace w;
  const std::string icp = leanos::test::write_file(w.dir.sub("icp.yaml"),
                                                   "segment: enterprise\n"
                                                   "filters:\n"
                                                   "  industry: [fintech, insurance]\n"
                                                   "  business_model: B2B SaaS\n"
                                                   "  revenue_range: $1M-$10M\n"
                                                   "  tech_stack: [salesforce]\n"
                                                   "  problem_indicators:\n"
                                                   "    - manual reconciliation\n"
                                                   "qualification_criteria: [budget owner identified]\n"
                                                   "qualification_score: 0.85\n"
                                                   "sample_companies: [a, b, c, d, e]\n");
  w.ok({"segment", "icp", "enterprise", "--file", icp});
  w.ok({"segment", "icp", "enterprise", "--file", icp});
  auto log = w.run({"log", "--stream", "segment-enterprise", "--json"});
  CHECK(log.out.find("\"version\":2") != std::string::npos);
  CHECK(log.out.find("\"revenue_range\":\"$1M-$10M\"") != std::string::npos);
  const std::string broken = leanos::test::write_file(w.dir.sub("broken.yaml"), "segment: enterprise\nfilters: [a, b\n");
  auto r = w.run({"segment", "icp", "enterprise", "--file", broken});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("malformed YAML") != std::string::npos);
}

TEST_CASE("deal list finds deals by stage, segment and status, and refuses a filter it does not know") {
  Workspace w;
  w.setup();
  w.to_decision("acme-corp", "qualify");
  w.open_deal("beta-bank");
  auto by_name = w.run({"deal", "list", "--stage", "decision"});
  REQUIRE(by_name.exit_code == 0);
  CHECK(by_name.out.find("acme-corp") != std::string::npos);
  CHECK(by_name.out.find("beta-bank") == std::string::npos);
  CHECK(w.run({"deal", "list", "--stage", "4"}).out == by_name.out);
  CHECK(w.run({"deal", "list", "--stage", "4-decision"}).out == by_name.out);
  CHECK(w.run({"deal", "list", "--stage", "input"}).out.find("beta-bank") != std::string::npos);
  CHECK(w.run({"deal", "list", "--status", "won"}).out == "no deals match\n");
  auto open = w.run({"deal", "list", "--status", "open", "--segment", "enterprise"});
  CHECK(open.out.find("acme-corp") != std::string::npos);
  CHECK(open.out.find("beta-bank") != std::string::npos);
  auto bad = w.run({"deal", "list", "--stage", "nine"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("stage 'nine' is not one of input, hypothesis") != std::string::npos);
  CHECK(w.run({"deal", "list", "--status", "closed"}).exit_code == 2);
}

TEST_CASE("a time that has not happened is left out of the JSON, not printed as 1970") {
  Workspace w;
  w.setup();
  w.to_decision("acme-corp", "qualify");
  auto deal = w.run({"deal", "show", "acme-corp", "--json"});
  REQUIRE(deal.exit_code == 0);
  CHECK(deal.out.find("\"decision_at\":\"2026-01-12") != std::string::npos);
  CHECK(deal.out.find("outcome_at") == std::string::npos);
  CHECK(deal.out.find("learning_at") == std::string::npos);
  auto goal = w.run({"goal", "show", "g-mrr-50k", "--json"});
  REQUIRE(goal.exit_code == 0);
  CHECK(goal.out.find("\"met\":false") != std::string::npos);
  CHECK(goal.out.find("met_at") == std::string::npos);
  for (const auto& out : {deal.out, goal.out}) CHECK(out.find("1970") == std::string::npos);
}

TEST_CASE("a response that opens a deal records the lead, the response and the conversion together, or nothing") {
  Workspace w;
  const std::string id = "2026-02-01-fintech-cfo";
  w.ok({"canvas", "assume", "A4", "--statement", "CFOs feel the pain", "--confidence", "50"});
  w.ok({"campaign", "open", id, "--segment", "fintech", "--objective", "book demos", "--targets", "5"});
  w.ok({"campaign", "hypothesis", id, "--tests", "A4", "--confidence", "40"});
  w.ok({"campaign", "implication", id, "--responses", "10", "--meetings", "5", "--deals", "2", "--cost-hours", "20"});
  w.ok({"campaign", "decide", id, "launch", "--reason", "cheap test"});
  const std::string contacts = leanos::test::write_file(
      w.dir.sub("contacts.csv"), "contact name,title,email,company\nAnn,CFO,ann@beta.example,Beta\nLee,CFO,lee@gamma.example,Gamma\n");
  w.ok({"campaign", "contacts", id, "--csv", contacts});
  w.ok({"deal", "open", "gamma", "--company", "Gamma", "--segment", "fintech", "--source", "inbound", "--contact-name", "Lee",
        "--contact-email", "lee@gamma.example", "--signal", "inbound call"});
  // The deal id is taken: the response is not recorded either (it used to be, without its deal).
  auto taken = w.run({"campaign", "response", id, "--email", "lee@gamma.example", "--kind", "interested", "--deal", "gamma"});
  CHECK(taken.exit_code == 6);
  CHECK(taken.err.find("deal 'gamma' already exists") != std::string::npos);
  CHECK(w.run({"campaign", "show", id, "--json"}).out.find("\"responses\":0") != std::string::npos);
  // Only an interested response opens a deal.
  CHECK(w.run({"campaign", "response", id, "--email", "ann@beta.example", "--kind", "later", "--deal", "beta"}).exit_code == 2);
  auto opened = w.run({"campaign", "response", id, "--email", "ann@beta.example", "--kind", "interested", "--deal", "beta", "--id", "r1"});
  REQUIRE(opened.exit_code == 0);
  CHECK(opened.out.find("recorded LeadCaptured in deal-beta") != std::string::npos);
  CHECK(opened.out.find("recorded ResponseReceived in campaign-" + id) != std::string::npos);
  CHECK(opened.out.find("recorded ProspectConverted in campaign-" + id) != std::string::npos);
  // A retry records nothing.
  auto again = w.run({"campaign", "response", id, "--email", "ann@beta.example", "--kind", "interested", "--deal", "beta", "--id", "r1"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already recorded") != std::string::npos);
  const auto show = w.run({"campaign", "show", id, "--json"}).out;
  CHECK(show.find("\"responses\":1") != std::string::npos);
  CHECK(show.find("\"conversions\":1") != std::string::npos);
  auto deal = w.run({"deal", "show", "beta", "--json"});
  CHECK(deal.out.find("\"source\":\"CAMPAIGN\"") != std::string::npos);
  CHECK(deal.out.find("\"company\":\"Beta\"") != std::string::npos);
}

TEST_CASE("leanos forget erases a contact from every view and export, keeps the deal, and refuses what it cannot") {
  Workspace w;
  w.setup();
  w.ok({"deal", "open", "acme-corp", "--company", "Acme Corp", "--segment", "enterprise", "--source", "inbound",
        "--contact-name", "Jane Roe", "--contact-email", "jane.roe@acme.example", "--signal", "Jane asked for a demo"});
  w.ok({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "70"});
  auto shown = w.run({"deal", "show", "acme-corp"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("Jane Roe") != std::string::npos);

  w.refused({"forget", "nobody@nowhere.example", "--reason", "erasure request"}, "no data subject 'nobody@nowhere.example'");
  w.refused({"forget", "jane.roe@acme.example"}, "--reason");
  auto unknown = w.run({"forget", "nobody@nowhere.example", "--reason", "erasure request"});
  CHECK(unknown.exit_code == 3);  // not found

  const int before = w.events();
  auto forgot = w.run({"forget", "Jane.Roe@acme.example", "--reason", "erasure request of 2026-11-26", "--actor", "dpo"});
  INFO(forgot.err);
  REQUIRE(forgot.exit_code == 0);
  CHECK(forgot.out.find("their personal fields read [erased]") != std::string::npos);
  CHECK(w.events() == before + 1);

  auto after = w.run({"deal", "show", "acme-corp"});
  REQUIRE(after.exit_code == 0);
  CHECK(after.out.find("Jane") == std::string::npos);
  CHECK(after.out.find("[erased]") != std::string::npos);
  CHECK(after.out.find("Acme Corp") != std::string::npos);
  CHECK(after.out.find("2-hypothesis") != std::string::npos);
  auto log = w.run({"--json", "log"});
  CHECK(log.out.find("jane") == std::string::npos);
  CHECK(log.out.find("Jane") == std::string::npos);
  CHECK(log.out.find("\"type\":\"SubjectForgotten\"") != std::string::npos);
  CHECK(log.out.find("\"actor\":\"dpo\"") != std::string::npos);
  auto exported = w.run({"export", w.dir.sub("out")});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  auto grep = leanos::test::run("/bin/grep", {"-rli", "jane", w.dir.sub("out")});
  CHECK(grep.out == "");
  CHECK(w.run({"verify"}).exit_code == 0);
  // Once is enough: a second time finds no one, and records nothing.
  w.refused({"forget", "jane.roe@acme.example", "--reason", "again"}, "forgotten already");
}

TEST_CASE("forget erases a contact's name from the deal's free text too: reasons, alternatives, blockers, evidence") {
  // A name typed into a decision's reason, an alternative, a blocker, a lost reason or a
  // learning's evidence is sealed under the deal's contact like the contact fields, and the
  // canvas derives from the learning without copying its evidence.
  Workspace w;
  w.setup();
  w.ok({"deal", "open", "acme-corp", "--company", "Acme Corp", "--segment", "enterprise", "--source", "inbound",
        "--contact-name", "Jane Roe", "--contact-email", "jane.roe@acme.example", "--signal", "a demo request", "--at", "2026-01-10"});
  w.ok({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "60", "--at", "2026-01-10"});
  w.ok({"deal", "implication", "acme-corp", "--arr-low", "100000", "--arr-high", "200000", "--strategic", "high", "--cost-hours",
        "40", "--priority", "0.5", "--at", "2026-01-11"});
  w.ok({"deal", "decide", "acme-corp", "qualify", "--reason", "Jane Roe owns the budget", "--alternative", "wait for Jane Roe's successor",
        "--alternative", "go through procurement", "--at", "2026-01-12"});
  w.ok({"deal", "action", "acme-corp", "sales:lead-intake", "start", "--at", "2026-01-12"});
  w.ok({"deal", "action", "acme-corp", "sales:lead-intake", "block", "--reason", "Jane Roe is on leave", "--at", "2026-01-13"});
  w.ok({"deal", "close", "acme-corp", "lost", "--reason", "Jane Roe left Acme", "--at", "2026-01-20"});
  const std::vector<std::string> learn{"deal", "learn", "acme-corp", "--result", "invalidated", "--evidence", "Jane Roe chose a competitor",
                                       "--at", "2026-01-21"};
  w.ok(learn);
  const std::string data = w.dir.path();
  CHECK(leanos::test::files_holding(data, "Jane Roe").empty());  // sealed from the first write
  auto before = w.run({"--json", "log"});
  CHECK(before.out.find("Jane Roe owns the budget") != std::string::npos);
  CHECK(before.out.find("Jane Roe chose a competitor") != std::string::npos);

  w.ok({"forget", "jane.roe@acme.example", "--reason", "erasure request"});
  auto log = w.run({"--json", "log"});
  REQUIRE(log.exit_code == 0);
  CHECK(log.out.find("Jane") == std::string::npos);
  CHECK(log.out.find("\"alternatives\":[\"[erased]\",\"[erased]\"]") != std::string::npos);  // two, as decided
  CHECK(log.out.find("\"verdict\":\"QUALIFY\"") != std::string::npos);                      // the facts stay
  CHECK(log.out.find("\"outcome\":\"LOST\"") != std::string::npos);
  for (const std::vector<std::string>& view : {std::vector<std::string>{"deal", "show", "acme-corp"},
                                                std::vector<std::string>{"why", "canvas", "A4"},
                                                std::vector<std::string>{"audit", "acme-corp"}}) {
    auto shown = w.run(view);
    INFO(view[0], " ", shown.err);
    CHECK(shown.exit_code == 0);
    CHECK(shown.out.find("Jane") == std::string::npos);
  }
  auto a4 = w.json({"canvas", "show"});
  bool found = false;
  for (const auto& a : a4["assumptions"])
    if (a["id"] == "A4") found = a["confidence"] == 0 || a["confidence"] == nullptr;
  CHECK(found);  // the learning still moved the canvas
  REQUIRE(w.run({"export", w.dir.sub("out")}).exit_code == 0);
  CHECK(leanos::test::run("/bin/grep", {"-rli", "jane", w.dir.sub("out")}).out == "");
  // An agent re-running the step after the erasure records nothing new.
  const int events = w.events();
  auto again = w.run(learn);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already recorded") != std::string::npos);
  CHECK(w.events() == events);
}

TEST_CASE("without its master key the workspace reads [locked] and records nothing, naming the key file") {
  Workspace w;
  w.setup();
  w.open_deal("acme-corp");
  std::filesystem::rename(w.dir.path() + ".master-key", w.dir.sub("moved.key"));
  auto locked = w.run({"deal", "show", "acme-corp"});
  REQUIRE(locked.exit_code == 0);
  CHECK(locked.out.find("[locked]") != std::string::npos);
  CHECK(locked.err.find(w.dir.path() + ".master-key is missing") != std::string::npos);
  w.refused({"canvas", "assume", "A5", "--statement", "s", "--confidence", "5"}, "pass --master-key-file");
  auto opened = w.run({"--master-key-file", w.dir.sub("moved.key"), "deal", "show", "acme-corp"});
  CHECK(opened.out.find("[locked]") == std::string::npos);
}
