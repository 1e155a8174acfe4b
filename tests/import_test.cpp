// `leanos import`: a LeanOS workspace folder (tests/fixtures/leanos-seed, written from
// ../shared/docs/leanos-files.md in the seed era's style) through the real binary.
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

TEST_CASE("a seed-era workspace imports through the rules, dated by its files, and importing it again records nothing") {
  Imported i;
  auto first = i.import();
  INFO(first.out, first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("recorded  strategy/canvas/10-assumptions.md (2 events)") != std::string::npos);
  CHECK(first.out.find("recorded  strategy/goals/active/g-mrr-50k.md (2 events)") != std::string::npos);
  CHECK(first.out.find("recorded  threads/sales/acme-corp (14 events)") != std::string::npos);
  // The goal from its frontmatter, its State table and its subgoal; the won deal counts.
  auto goal = nlohmann::json::parse(i.w.run({"goal", "show", "g-mrr-50k", "--json"}).out);
  CHECK(goal["metric"] == "mrr");
  CHECK(goal["target"] == 50000);
  CHECK(goal["due"] == "2026-06-30");
  CHECK(goal["subgoals"][0]["id"] == "SG1");
  CHECK(goal["subgoals"][0]["target"] == 3);
  CHECK(goal["subgoals"][0]["current"] == 1);
  // The 0-byte example thread is placeholders, not a thread with six stages.
  CHECK(first.out.find("threads/sales/example") == std::string::npos);
  CHECK(first.out.find("6 empty placeholder files") != std::string::npos);
  const int events = i.w.events();
  // The canvas now and as the files say it was: A4 registered at 60 %, validated to 95 % by
  // the deal's learning of 2026-02-25.
  auto canvas = nlohmann::json::parse(i.w.run({"canvas", "show", "--json"}).out);
  CHECK(canvas["assumptions"][0]["id"] == "A4");
  CHECK(canvas["assumptions"][0]["confidence"] == 95);
  auto then = nlohmann::json::parse(i.w.run({"canvas", "show", "--json", "--as-of", "2026-02-01"}).out);
  CHECK(then["assumptions"][0]["confidence"] == 60);
  // The thread's stages carry the files' dates, and the metrics follow from them.
  auto deal = nlohmann::json::parse(i.w.run({"deal", "show", "acme-corp", "--json"}).out);
  CHECK(deal["input_at"] == "2026-01-10T00:00:00Z");
  CHECK(deal["decision"]["verdict"] == "QUALIFY");
  CHECK(deal["outcome"]["outcome"] == "WON");
  CHECK(deal["outcome"]["cycle_days"] == 46);
  CHECK(deal["input"]["contact"]["email"] == "jane@acme.example");
  // Again: nothing new.
  auto again = i.import();
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("unchanged threads/sales/acme-corp") != std::string::npos);
  CHECK(i.w.events() == events);
}

TEST_CASE("after an agent adds to a thread, importing again records only what is new") {
  Imported i;
  const std::string learning = read(i.file("threads/sales/acme-corp/6-learning.md"));
  fs::remove(i.file("threads/sales/acme-corp/6-learning.md"));
  auto first = i.import();
  REQUIRE(first.exit_code == 0);
  // The canvas file already says 95 %; without the learning the history gives 60 %: the
  // file's value is recorded as a revision on its **Last validated:** date, as
  // `leanos canvas revise` would.
  INFO(first.out);
  CHECK(first.out.find("recorded  strategy/canvas/10-assumptions.md (A4 60 % TESTING -> 95 % VALIDATED) (1 events)") != std::string::npos);
  CHECK(first.out.find("the file says") == std::string::npos);
  CHECK(nlohmann::json::parse(i.w.run({"canvas", "show", "--json", "--as-of", "2026-02-24"}).out)["assumptions"][0]["confidence"] == 60);
  CHECK(nlohmann::json::parse(i.w.run({"canvas", "show", "--json"}).out)["assumptions"][0]["confidence"] == 95);
  auto why = i.w.run({"why", "canvas", "A4"});
  CHECK(why.out.find("2026-02-25  60 % -> 95 % (VALIDATED)  revised by") != std::string::npos);
  CHECK(i.import().out.find("(A4 ") == std::string::npos);  // nothing to revise again
  const int before = i.w.events();
  test::write_file(i.file("threads/sales/acme-corp/6-learning.md"), learning);
  auto after = i.import();
  INFO(after.out, after.err);
  REQUIRE(after.exit_code == 0);
  CHECK(after.out.find("recorded  threads/sales/acme-corp (2 events)") != std::string::npos);  // the outcome and the learning
  CHECK(after.out.find("the file says") == std::string::npos);  // file and history agree now
  CHECK(i.w.events() > before + 2);  // and what they caused on the canvas and in marketing
  auto canvas = nlohmann::json::parse(i.w.run({"canvas", "show", "--json"}).out);
  CHECK(canvas["assumptions"][0]["confidence"] == 95);
}

TEST_CASE("a bad file spoils only the facts it states: each skipped fact is named by file and line with the facts depending on it, the rest records") {
  Imported i;
  // A meta.json that is not JSON (beyond the `# comment` lines LeanOS's docs write): named,
  // and the thread's stage files still say enough for its lead.
  fs::create_directories(i.file("threads/sales/beta"));
  fs::copy(i.file("threads/sales/acme-corp/1-input.md"), i.file("threads/sales/beta/1-input.md"));
  test::write_file(i.file("threads/sales/beta/meta.json"), "{ \"segment\": \"smb\",\n  \"created\": 2026-01-01 }\n");
  // A confidence of 140 %: the rules refuse the hypothesis, not the lead.
  fs::create_directories(i.file("threads/sales/gamma"));
  fs::copy(i.file("threads/sales/acme-corp/1-input.md"), i.file("threads/sales/gamma/1-input.md"));
  test::write_file(i.file("threads/sales/gamma/meta.json"), "{\"segment\": \"smb\"}\n");
  std::string hypothesis = read(i.file("threads/sales/acme-corp/2-hypothesis.md"));
  hypothesis.replace(hypothesis.find("60%"), 3, "140%");
  test::write_file(i.file("threads/sales/gamma/2-hypothesis.md"), hypothesis);
  // Stage 5 without stage 4: stages 1-3 record, each action is refused.
  fs::create_directories(i.file("threads/sales/delta"));
  for (const char* f : {"meta.json", "1-input.md", "2-hypothesis.md", "3-implication.md", "5-actions.md"})
    fs::copy(i.file(std::string("threads/sales/acme-corp/") + f), i.file(std::string("threads/sales/delta/") + f));
  // Bytes in no encoding the import reads (0x81 is neither UTF-8 nor Windows-1252), a symlink
  // out of the workspace, a file over the size limit: no input, no deal.
  fs::create_directories(i.file("threads/sales/epsilon"));
  fs::copy(i.file("threads/sales/acme-corp/meta.json"), i.file("threads/sales/epsilon/meta.json"));
  test::write_file(i.file("threads/sales/epsilon/1-input.md"), "# Input\n\n**Company:** Caf\x81 Ltd\n");
  fs::create_directories(i.file("threads/sales/zeta"));
  fs::create_symlink("/etc/hostname", i.file("threads/sales/zeta/1-input.md"));
  fs::create_directories(i.file("threads/sales/eta"));
  test::write_file(i.file("threads/sales/eta/1-input.md"), std::string(9 << 20, 'x'));
  auto r = i.import();
  INFO(r.out, r.err);
  CHECK(r.exit_code == 13);
  CHECK(r.out.find("recorded  threads/sales/acme-corp (14 events)") != std::string::npos);
  CHECK(r.out.find("partial   threads/sales/beta (1 events)") != std::string::npos);
  CHECK(r.out.find("threads/sales/beta/meta.json: line 2: not JSON") != std::string::npos);
  CHECK(r.out.find("partial   threads/sales/gamma (1 events)") != std::string::npos);
  CHECK(r.out.find("skipped: threads/sales/gamma/2-hypothesis.md:") != std::string::npos);
  CHECK(r.out.find("0 to 100") != std::string::npos);
  CHECK(r.out.find("partial   threads/sales/delta (3 events)") != std::string::npos);
  CHECK(r.out.find("skipped: threads/sales/delta/5-actions.md:") != std::string::npos);
  CHECK(r.out.find("threads/sales/epsilon/1-input.md: line 3, column 17: byte 0x81 is not valid UTF-8, nor Windows-1252") != std::string::npos);
  CHECK(r.out.find("threads/sales/zeta/1-input.md: a symbolic link: not followed") != std::string::npos);
  CHECK(r.out.find("threads/sales/eta/1-input.md: 9 MiB; files over 8 MiB are not read") != std::string::npos);
  // What each file allowed is in the log, and no more.
  const auto gamma = i.w.json({"deal", "show", "gamma"});
  CHECK(gamma["stage"] == "1-input");
  CHECK(i.w.json({"deal", "show", "delta"})["stage"] == "3-implication");
  CHECK(i.w.json({"deal", "show", "delta"})["actions"].empty());
  // beta's segment was in the meta.json that could not be read: unknown, and said so.
  const auto beta = i.w.json({"deal", "show", "beta"});
  CHECK(beta["input"]["segment"] == "");
  CHECK(beta["input"]["unknown"] == nlohmann::json::array({"segment"}));
  CHECK(i.w.run({"deal", "show", "beta"}).out.find("Acme Corp (segment unknown)") != std::string::npos);
  for (const char* deal : {"epsilon", "zeta", "eta"}) CHECK(i.w.run({"deal", "show", deal}).exit_code == 3);
  // Fixed, what was skipped imports on the next run; the rest stays as it was.
  const int before = i.w.events();
  test::write_file(i.file("threads/sales/gamma/2-hypothesis.md"), read(i.file("threads/sales/acme-corp/2-hypothesis.md")));
  auto fixed = i.import();
  INFO(fixed.out);
  CHECK(fixed.out.find("recorded  threads/sales/gamma (1 events)") != std::string::npos);
  CHECK(fixed.out.find("unchanged threads/sales/acme-corp") != std::string::npos);
  CHECK(i.w.events() == before + 1);
}

TEST_CASE("a dry run reports what it would record and records nothing, and --json gives the report as data") {
  Imported i;
  auto dry = i.import({"--dry-run"});
  INFO(dry.out, dry.err);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("new       threads/sales/acme-corp (14 facts)") != std::string::npos);
  CHECK(i.w.run({"log"}).exit_code == 3);  // no workspace was even created
  auto json = i.w.run({"--json", "import", i.ws});
  REQUIRE(json.exit_code == 0);
  auto report = nlohmann::json::parse(json.out);
  CHECK(report["events_recorded"] == 20);  // the context file, kept as a document, and A7's status as the canvas states it
  CHECK(report["facts_skipped"] == 0);
  CHECK(report["units"][2]["name"] == "threads/sales/acme-corp");
  CHECK(report["units"][2]["status"] == "recorded");
  CHECK(report["placeholders"].size() == 6);
  CHECK(i.w.run({"import", i.w.dir.sub("nowhere")}).exit_code == 3);
}

TEST_CASE("the variants LeanOS wrote over time read as the same thread: a 5-actions folder, 7 stages, frontmatter, Stage N headers") {
  Imported seed;
  REQUIRE(seed.import().exit_code == 0);
  Imported v;
  const std::string t = v.file("threads/sales/acme-corp/");
  // 1-input.md with YAML frontmatter instead of **Date:**.
  std::string input = read(t + "1-input.md");
  input.replace(input.find("**Date:** 2026-01-10\n"), 21, "");
  test::write_file(t + "1-input.md", "---\nthread: acme-corp\nstage: 1-input\ndate: 2026-01-10\nowner: ai-agent\n---\n" + input);
  // 2-hypothesis.md in the operations threads' style.
  test::write_file(t + "2-hypothesis.md",
                   "# Stage 2: Hypothesis\n\n**Thread:** Acme Corp\n**Created:** 2026-01-11\n\n## Assumption Being Tested\n"
                   "**A4:** Enterprise customers prefer white-label\n\n## Confidence Level\n**Prior confidence:** 60%\n");
  // 5-actions/ with one file per action (and the placeholders LeanOS leaves there).
  fs::remove(t + "5-actions.md");
  fs::create_directories(t + "5-actions");
  test::write_file(t + "5-actions/lead-intake.md", "# Lead intake\n\n**Status:** completed\n**Date:** 2026-01-14\n**Result:** READY_FOR_QUALIFICATION\n");
  test::write_file(t + "5-actions/qualification.md", "# Qualify\n\n**Status:** completed\n**Duration:** 2026-01-15 - 2026-01-17\n**Result:** qualified\n");
  test::write_file(t + "5-actions/demo.md", "# Demo\n\n- **Status:** completed\n- **Duration:** 2026-01-20 - 2026-01-22\n- **Result:** INTERESTED (pilot requested)\n");
  test::write_file(t + "5-actions/close.md", "# Close\n\n**Status:** completed\n**Duration:** 2026-02-10 - 2026-02-20\n**Result:** WON\n");
  test::write_file(t + "5-actions/execution-log.md", "");
  // 7 stages: the outcome in 6-results.md, the learning in 7-learning.md.
  const std::string learning = read(t + "6-learning.md");
  fs::remove(t + "6-learning.md");
  test::write_file(t + "6-results.md", learning.substr(0, learning.find("## Hypothesis Validation")));
  test::write_file(t + "7-learning.md", "# Learning\n\n**Date:** 2026-02-25\n\n" + learning.substr(learning.find("## Hypothesis Validation")));
  auto r = v.import();
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("recorded  threads/sales/acme-corp (14 events)") != std::string::npos);
  // Where the files disagree, the report says so and the stage files win.
  CHECK(r.out.find("note: threads/sales/acme-corp/meta.json: meta.json says stage 6, the stage files reach stage 7") !=
        std::string::npos);
  // The same thread and canvas as the seed-era files give.
  for (std::vector<std::string> q : {std::vector<std::string>{"deal", "show", "acme-corp"}, {"canvas", "show"},
                                     {"canvas", "show", "--as-of", "2026-02-01"}, {"goal", "show", "g-mrr-50k", "--as-of", "2026-03-01"}}) {
    CAPTURE(q[0]);
    // The log positions differ: the two folders' files (the files layer) are not the same; and
    // so do the files each fact was read from.
    const std::regex position(" at position [0-9]+|read from the workspace's files\n(  [^\n]*\n)*");
    CHECK(std::regex_replace(v.w.run(q).out, position, "") == std::regex_replace(seed.w.run(q).out, position, ""));
  }
}

TEST_CASE("files with old Mac or Windows line endings read the same, frontmatter included") {
  Imported i;
  const std::string t = i.file("threads/sales/acme-corp/");
  auto with_endings = [](std::string text, const std::string& eol) {
    std::string out;
    for (char c : text) out += c == '\n' ? eol : std::string(1, c);
    return out;
  };
  std::string input = read(t + "1-input.md");
  input.replace(input.find("**Date:** 2026-01-10\n"), 21, "");
  // (meta.json says created 2026-01-10: the frontmatter's date must be the one read)
  test::write_file(t + "1-input.md", with_endings("---\ndate: 2026-01-09\n---\n" + input, "\r"));
  test::write_file(t + "2-hypothesis.md", with_endings(read(t + "2-hypothesis.md"), "\r\n"));
  auto r = i.import();
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("recorded  threads/sales/acme-corp (14 events)") != std::string::npos);
  auto deal = nlohmann::json::parse(i.w.run({"deal", "show", "acme-corp", "--json"}).out);
  CHECK(deal["input_at"] == "2026-01-09T00:00:00Z");
}

TEST_CASE("a thread the CLI recorded, imported as files: only the stage the ledger lacks is recorded, a stage that differs is named") {
  test::Workspace w;
  w.setup();
  w.to_decision("northwind", "qualify");
  test::TempDir out;
  const std::string ws = out.sub("ws");
  REQUIRE(w.run({"export", ws}).exit_code == 0);
  const std::string thread = ws + "/threads/sales/northwind/";
  REQUIRE(fs::exists(thread + "4-decision.md"));
  const int before = w.events();
  // An agent starts the first action and rewrites the decision's verdict.
  test::write_file(thread + "5-actions.md",
                   "# Actions\n\n## Action 1: Intake\n**Type:** sales:lead-intake\n**Status:** in_progress\n**Duration:** 2026-03-02\n");
  std::string decision = read(thread + "4-decision.md");
  decision.replace(decision.find("**QUALIFY**"), 11, "**REJECT**");
  test::write_file(thread + "4-decision.md", decision);
  auto r = w.run({"import", ws, "--json"});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 14);  // recorded what was new; a file disagrees with a recorded fact
  auto report = nlohmann::json::parse(r.out);
  CHECK(report["events_recorded"] == 1);
  CHECK(report["conflicts"] == 1);
  CHECK(w.events() == before + 1);
  bool named = false;
  for (const auto& u : report["units"])
    for (const auto& c : u["conflicts"])
      if (c["file"] == "threads/sales/northwind/4-decision.md" && c["what"].get<std::string>().find("REJECT in the file, QUALIFY in the ledger") != std::string::npos)
        named = true;
  CHECK(named);
  auto deal = nlohmann::json::parse(w.run({"deal", "show", "northwind", "--json"}).out);
  CHECK(deal["decision"]["verdict"] == "QUALIFY");
  CHECK(deal["actions"][0]["status"] == "in_progress");
  // Again: nothing new, and the conflict stands — the thread says so, not "unchanged", exit 14.
  auto again = w.run({"import", ws});
  CHECK(again.exit_code == 14);
  CHECK(again.out.find("conflict  threads/sales/northwind") != std::string::npos);
  CHECK(again.out.find("1 conflicts with the ledger") != std::string::npos);
}

TEST_CASE("a deferred deal decided again in its file is a new decision, as the CLI would record it") {
  test::Workspace w;
  w.setup();
  w.to_decision("contoso", "defer");
  test::TempDir out;
  const std::string ws = out.sub("ws");
  REQUIRE(w.run({"export", ws}).exit_code == 0);
  const std::string file = ws + "/threads/sales/contoso/4-decision.md";
  std::string decision = read(file);
  decision.replace(decision.find("**DEFER**"), 9, "**QUALIFY**");
  decision.replace(decision.find("2026-01-12"), 10, "2026-02-01");
  test::write_file(file, decision);
  auto r = w.run({"import", ws});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("recorded  threads/sales/contoso (1 events)") != std::string::npos);
  auto deal = nlohmann::json::parse(w.run({"deal", "show", "contoso", "--json"}).out);
  CHECK(deal["decision"]["verdict"] == "QUALIFY");
  CHECK(deal["decision_at"] == "2026-02-01T00:00:00Z");
}

TEST_CASE("files the ledger does not model are kept verbatim as versioned documents, and export gives them back as they were then") {
  Imported i;
  test::write_file(i.file("strategy/canvas/07-uvp.md"), "# UVP\n\n**Last updated:** 2026-01-05\n\nWhite-label in a week.\n");
  fs::create_directories(i.file("research/icp"));
  test::write_file(i.file("research/icp/enterprise.yaml"), "segment: enterprise\ngenerated_date: 2026-01-02\nqualification_score: 0.85\n");
  test::write_file(i.file(".hidden.md"), "not a document\n");
  auto first = i.import({"--json"});
  INFO(first.out, first.err);
  REQUIRE(first.exit_code == 0);
  auto docs = nlohmann::json::parse(i.w.run({"documents", "--json"}).out)["documents"];
  std::map<std::string, nlohmann::json> by_path;
  for (const auto& d : docs) by_path[d["path"]] = d;
  CHECK(by_path.count("strategy/canvas/01-context.md"));
  CHECK(by_path.count("research/icp/enterprise.yaml"));
  CHECK_FALSE(by_path.count(".hidden.md"));
  CHECK_FALSE(by_path.count("strategy/canvas/10-assumptions.md"));  // modeled: assumptions
  CHECK(by_path.at("strategy/canvas/07-uvp.md")["written_at"] == "2026-01-05T00:00:00Z");  // its own date
  CHECK(by_path.at("research/icp/enterprise.yaml")["written_at"] == "2026-01-02T00:00:00Z");

  // An agent rewrites the UVP; later it goes back to the first text: three versions.
  test::write_file(i.file("strategy/canvas/07-uvp.md"), "# UVP\n\n**Last updated:** 2026-02-01\n\nWhite-label in a day.\n");
  REQUIRE(i.import().exit_code == 0);
  CHECK(i.import().out.find("unchanged strategy/canvas/07-uvp.md") != std::string::npos);
  test::write_file(i.file("strategy/canvas/07-uvp.md"), "# UVP\n\n**Last updated:** 2026-03-01\n\nWhite-label in a week.\n");
  REQUIRE(i.import().exit_code == 0);
  auto now = nlohmann::json::parse(i.w.run({"documents", "--json"}).out)["documents"];
  for (const auto& d : now)
    if (d["path"] == "strategy/canvas/07-uvp.md") CHECK(d["versions"] == 3);
  // A version dated before the one in force is refused, by file, and nothing of it recorded.
  test::write_file(i.file("strategy/canvas/07-uvp.md"), "# UVP\n\n**Last updated:** 2025-06-01\n\nOld.\n");
  auto stale = i.import();
  CHECK(stale.exit_code == 13);
  CHECK(stale.out.find("before the version in force") != std::string::npos);
  test::write_file(i.file("strategy/canvas/07-uvp.md"), "# UVP\n\n**Last updated:** 2026-03-01\n\nWhite-label in a week.\n");

  // Export gives each document back as it was at the time asked.
  test::TempDir out;
  REQUIRE(i.w.run({"export", out.sub("feb"), "--as-of", "2026-02-15"}).exit_code == 0);
  CHECK(read(out.sub("feb") + "/strategy/canvas/07-uvp.md").find("in a day") != std::string::npos);
  REQUIRE(i.w.run({"export", out.sub("now")}).exit_code == 0);
  CHECK(read(out.sub("now") + "/strategy/canvas/07-uvp.md") == read(i.file("strategy/canvas/07-uvp.md")));
  CHECK(read(out.sub("now") + "/research/icp/enterprise.yaml") == read(i.file("research/icp/enterprise.yaml")));
  CHECK(read(out.sub("now") + "/strategy/canvas/01-context.md") == read(i.file("strategy/canvas/01-context.md")));
}

namespace {

// `git` in `repo`, REQUIRED to succeed.
void git(const std::string& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"-C", repo, "-c", "user.name=Founder", "-c", "user.email=founder@example.com"});
  auto r = test::run("/usr/bin/git", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

void canvas_at(const std::string& repo, int confidence) {
  test::write_file(repo + "/strategy/canvas/10-assumptions.md",
                   "# Assumptions\n\n### A4: White-label\n**Hypothesis:** Enterprise customers prefer white-label\n**Confidence:** " +
                       std::to_string(confidence) + "%\n");
}

}  // namespace

TEST_CASE("import --git walks the history oldest first: each commit's changes dated by the commit, so as-of shows each, and a re-run takes only new commits") {
  test::Workspace w;
  test::TempDir scratch;
  const std::string repo = scratch.sub("repo");
  fs::create_directories(repo + "/strategy/canvas");
  git(repo, {"init", "-q"});
  const std::vector<std::pair<int, std::string>> commits = {{60, "2026-01-05T10:00:00Z"}, {80, "2026-02-10T10:00:00Z"}, {95, "2026-03-15T10:00:00Z"}};
  for (const auto& [confidence, date] : commits) {
    canvas_at(repo, confidence);
    test::write_file(repo + "/strategy/canvas/01-context.md", "# Context\n\nAt " + std::to_string(confidence) + ".\n");
    git(repo, {"add", "-A"});
    git(repo, {"commit", "-q", "--date", date, "-m", "A4 at " + std::to_string(confidence)});
  }
  auto first = w.run({"import", "--git", repo});
  INFO(first.out, first.err);
  REQUIRE(first.exit_code == 15);  // recorded, each commit's date a warning: the file gives none
  CHECK(first.out.find("from 3 new commits") != std::string::npos);
  CHECK(first.out.find("warning: strategy/canvas/10-assumptions.md:3: assumption A4: no **Last validated:**: its revision dated by its git commit, 2026-02-10") !=
        std::string::npos);
  auto confidence_on = [&](const std::string& date) {
    return nlohmann::json::parse(w.run({"canvas", "show", "--json", "--as-of", date}).out)["assumptions"][0]["confidence"].get<int>();
  };
  CHECK(confidence_on("2026-01-06") == 60);
  CHECK(confidence_on("2026-03-01") == 80);  // what the canvas said on March 1
  CHECK(confidence_on("2026-03-16") == 95);
  auto docs = nlohmann::json::parse(w.run({"documents", "--json", "--content", "--as-of", "2026-03-01"}).out)["documents"];
  REQUIRE(docs.size() == 1);
  CHECK(docs[0]["content"] == "# Context\n\nAt 80.\n");
  CHECK(docs[0]["versions"] == 2);
  // The events carry the commit they came from.
  auto log = w.run({"log", "--stream", "canvas", "--json"});
  CHECK(log.out.find("\"git_commit\":\"") != std::string::npos);
  CHECK(log.out.find("\"source_file\":\"strategy/canvas/10-assumptions.md\"") != std::string::npos);
  const int events = w.events();
  auto again = w.run({"import", "--git", repo});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("from 0 new commits (3 imported before)") != std::string::npos);
  CHECK(w.events() == events);
  // A new commit: only it is read.
  canvas_at(repo, 70);
  fs::create_symlink("/etc/passwd", repo + "/strategy/canvas/99-link.md");
  git(repo, {"add", "-A"});
  git(repo, {"commit", "-q", "--date", "2026-04-01T10:00:00Z", "-m", "A4 challenged"});
  auto next = w.run({"import", "--git", repo});
  INFO(next.out);
  CHECK(next.exit_code == 15);  // the symbolic link is kept as a link (the files layer), never followed; the revision dated by its commit
  CHECK(next.out.find("from 1 new commits (3 imported before)") != std::string::npos);
  const auto link = w.json({"files", "log", "strategy/canvas/99-link.md"});
  REQUIRE(link["versions"].size() == 1);
  CHECK(link["versions"][0]["kind"] == "symlink");
  CHECK(link["versions"][0]["size"] == std::string("/etc/passwd").size());  // the target, not the file it names
  CHECK(confidence_on("2026-04-02") == 70);
  CHECK(confidence_on("2026-03-16") == 95);
  // A crafted commit whose tree holds a ".." folder: nothing is written outside the checkout.
  const std::string evil = scratch.sub("evil");
  git(scratch.path(), {"init", "-q", evil});
  auto plumb = [&](const std::string& script) {
    auto r = test::run("/bin/bash", {"-c", script, "plumb", evil});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  plumb("cd \"$1\" && b=$(echo pwned | git hash-object -w --stdin) && in=$(printf '100644 blob %s\\tescaped.md\\n' $b | git mktree) && "
        "t=$(printf '040000 tree %s\\t..\\n100644 blob %s\\tok.md\\n' $in $b | git mktree) && "
        "c=$(git -c user.name=a -c user.email=a@b commit-tree $t -m crafted) && git update-ref HEAD $c");
  test::Workspace victim;
  auto crafted = victim.run({"import", "--git", evil});
  INFO(crafted.out, crafted.err);
  CHECK(crafted.exit_code == 13);
  CHECK(crafted.out.find("..: a path that leaves the workspace") != std::string::npos);
  CHECK_FALSE(fs::exists(fs::temp_directory_path() / "escaped.md"));
  // Not a repository: said, nothing recorded.
  auto plain = w.run({"import", "--git", scratch.path()});
  CHECK(plain.exit_code != 0);
  CHECK(plain.err.find("is not a git repository") != std::string::npos);
}

TEST_CASE("a campaign folder with a broken list is reported by file and line: what it states before the break records, and the rest imports") {
  Imported x;
  const std::string dir = x.file("threads/sales/campaigns/2026-02-01-fintech-cfo");
  fs::create_directories(dir);
  std::ofstream(dir + "/1-input.md") << "# Input\n\n**Date:** 2026-02-01\n\n**Segment:** enterprise\n**Objective:** Book demos\n**Target list size:** 50\n";
  std::ofstream(dir + "/2-hypothesis.md") << "# Hypothesis\n\n**Date:** 2026-02-02\n\n### A4\n\n**Confidence:** 60%\n";
  std::ofstream(dir + "/3-implication.md") << "# Implication\n\n**Date:** 2026-02-03\n\n**Expected responses:** ten\n";
  std::ofstream(dir + "/4-decision.md") << "# Decision\n\n**Date:** 2026-02-04\n\n## Verdict\n\n**LAUNCH**\n\n**Reasoning:** cheap\n";
  std::ofstream(dir + "/prospects.csv") << "date,company\n2026-02-05,Acme\n02/06/2026,Globex\n";
  auto r = x.import();
  INFO(r.out, r.err);
  CHECK(r.exit_code == 13);  // some facts skipped
  CHECK(r.out.find("threads/sales/campaigns/2026-02-01-fintech-cfo/3-implication.md:5: 'ten' is not a whole number: write **Expected responses:** 10") !=
        std::string::npos);
  CHECK(r.out.find("threads/sales/campaigns/2026-02-01-fintech-cfo/prospects.csv:3: date '02/06/2026' is not YYYY-MM-DD") != std::string::npos);
  CHECK(r.out.find("recorded  threads/sales/acme-corp") != std::string::npos);
  // The rest of the campaign is recorded: its stages, and the prospect whose row could be read.
  CHECK(r.out.find("partial   threads/sales/campaigns/2026-02-01-fintech-cfo (5 events)") != std::string::npos);
  const auto campaign = x.w.json({"campaign", "show", "2026-02-01-fintech-cfo"});
  CHECK(campaign["prospects"] == 1);
}

TEST_CASE("the canvas file's status is kept, and imported facts say they came from the import") {
  Imported i;
  auto first = i.import();
  INFO(first.out, first.err);
  REQUIRE(first.exit_code == 0);
  // A7 is TESTING in the file though no thread tests it: the ledger said UNTESTED before.
  auto canvas = nlohmann::json::parse(i.w.run({"canvas", "show", "--json"}).out);
  std::map<std::string, std::string> status;
  for (const auto& a : canvas["assumptions"]) status[a["id"]] = a["status"];
  CHECK(status["A4"] == "VALIDATED");
  CHECK(status["A7"] == "TESTING");
  // Who recorded it: the import, not "cli" or whoever ran it.
  auto why = i.w.run({"why", "canvas", "A4"});
  CHECK(why.out.find("registered at 60 % by import") != std::string::npos);
  CHECK(why.out.find("by cli") == std::string::npos);
  // An --actor given for the import is what it says.
  Imported named;
  REQUIRE(named.import({"--actor", "nightly-sync"}).exit_code == 0);
  CHECK(named.w.run({"why", "canvas", "A4"}).out.find("by nightly-sync") != std::string::npos);
}
