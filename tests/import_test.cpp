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
#include "tests/support.h"

using namespace leanos;
namespace fs = std::filesystem;

namespace {

// A copy of the fixture workspace in a scratch folder, and a data folder beside it.
struct Imported {
  test::Workspace w;
  std::string ws;
  Imported() : ws(w.dir.sub("leanos")) { fs::copy(LEANOS_SEED_FIXTURE, ws, fs::copy_options::recursive); }
  std::string file(const std::string& rel) const { return ws + "/" + rel; }
  test::RunResult import(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"import", ws};
    args.insert(args.end(), extra.begin(), extra.end());
    return w.run(args);
  }
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

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

namespace {

// Every file under `dir`, by workspace-relative path.
std::map<std::string, std::string> tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).generic_string()] = read(e.path().string());
  return out;
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
    // Back into the same ledger: nothing new, nothing that differs.
    const int events = w.events();
    auto same = w.run({"import", out.sub("a")});
    INFO(same.out, same.err);
    CHECK(same.exit_code == 0);
    CHECK(same.out.find("note") == std::string::npos);
    CHECK(w.events() == events);
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

  // Into the ledger it came from: nothing new.
  const int events = w.events();
  auto same = w.run({"import", out.sub("a")});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("note") == std::string::npos);
  CHECK(w.events() == events);

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

TEST_CASE("a stage's date written with a month's name is read, one of numbers in another order is named, never replaced by meta.json's") {
  Imported named;
  const std::string input = named.file("threads/sales/acme-corp/1-input.md");
  std::string text = read(input);
  text.replace(text.find("**Date:** 2026-01-10"), 20, "**Date:** January 9, 2026");
  test::write_file(input, text);
  auto r = named.import();
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(named.w.json({"deal", "show", "acme-corp"})["input_at"] == "2026-01-09T00:00:00Z");

  Imported numbers;
  const std::string other = numbers.file("threads/sales/acme-corp/1-input.md");
  text = read(other);
  text.replace(text.find("**Date:** 2026-01-10"), 20, "**Date:** 02/03/2026");
  test::write_file(other, text);
  auto s = numbers.import();
  INFO(s.out);
  CHECK(s.exit_code == 13);
  CHECK(s.out.find("threads/sales/acme-corp/1-input.md:3: the date '02/03/2026' is not one the import reads") != std::string::npos);
}

TEST_CASE("a symbolic link in the workspace is kept as a link, never followed nor left out silently") {
  Imported i;
  test::TempDir elsewhere;
  test::write_file(elsewhere.sub("secret.md"), "# not the workspace's\n");
  fs::create_symlink(elsewhere.sub("secret.md"), i.file("strategy/linked.md"));
  auto r = i.import();
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(i.w.run({"documents", "--content"}).out.find("not the workspace's") == std::string::npos);
  const auto kept = i.w.json({"files", "log", "strategy/linked.md"});
  REQUIRE(kept["versions"].size() == 1);
  CHECK(kept["versions"][0]["kind"] == "symlink");
  test::TempDir out;
  REQUIRE(i.w.run({"checkout", out.sub("ws")}).exit_code == 0);
  CHECK(fs::read_symlink(out.sub("ws/strategy/linked.md")) == fs::path(elsewhere.sub("secret.md")));
}

TEST_CASE("LeanOS's 7-stage example thread comes in whole: a won deal with its ARR, what its files do not state recorded as unknown and named, its new hypothesis on the canvas") {
  Imported i;
  fs::copy(LEANOS_7STAGE_FIXTURE, i.file("threads/sales"), fs::copy_options::recursive);
  auto r = i.import({"--json"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 15);  // recorded, with warnings
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["facts_skipped"] == 0);
  nlohmann::json unit;
  for (const auto& u : report["units"])
    if (u["name"] == "threads/sales/elsa-white-label") unit = u;
  REQUIRE(unit.is_object());
  CHECK(unit["status"] == "recorded");
  std::set<std::string> said;
  for (const auto& w : unit["warnings"]) said.insert(w["file"].get<std::string>() + ":" + std::to_string(w["line"].get<int>()) + " " +
                                                     w["what"].get<std::string>().substr(0, w["what"].get<std::string>().find(':')));
  CHECK(said == std::set<std::string>{"threads/sales/elsa-white-label/1-input.md:1 segment", "threads/sales/elsa-white-label/1-input.md:10 email",
                                      "threads/sales/elsa-white-label/1-input.md:1 source",
                                      "threads/sales/elsa-white-label/3-implication.md:1 strategic",
                                      "threads/sales/elsa-white-label/7-learning.md:17 learning about A7"});
  CHECK(report["warnings"] == 5);
  // The deal as its files tell it.
  const auto deal = i.w.json({"deal", "show", "elsa-white-label"});
  CHECK(deal["input"]["company"] == "ElsaAI");
  CHECK(deal["input"]["contact"]["name"] == "Maria Lopez");
  CHECK(deal["input"]["unknown"] == nlohmann::json::array({"segment", "email", "source"}));
  CHECK(deal["hypothesis"]["assumption_id"] == "A4");
  CHECK(deal["implication"]["arr_low"] == 1100000);
  CHECK(deal["implication"]["unknown"] == nlohmann::json::array({"strategic"}));
  CHECK(deal["decision"]["verdict"] == "QUALIFY");
  CHECK(deal["approved_by"] == "Sam Rivera (CEO)");
  CHECK(deal["actions"].size() == 5);
  CHECK(deal["outcome"]["outcome"] == "WON");
  CHECK(deal["outcome"]["arr"] == 1100000);
  CHECK(deal["cycle_days"] == 36);
  std::map<std::string, std::string> learned, evidence;
  for (const auto& l : deal["learnings"]) {
    learned[l["assumption_id"]] = l["result"];
    evidence[l["assumption_id"]] = l["evidence"];
  }
  CHECK(learned == std::map<std::string, std::string>{{"A4", "VALIDATED"}, {"A7", "INVALIDATED"}});
  // Each learning with its own section's evidence.
  CHECK(evidence == std::map<std::string, std::string>{{"A4", "Signed white-label contract, 3 years"},
                                                       {"A7", "36-day cycle with a pilot against 20 without"}});
  // Each fact says where it came from: file, line and the file's version as the files layer keeps it.
  const auto decision_file = i.w.json({"files", "log", "threads/sales/elsa-white-label/4-decision.md"});
  REQUIRE(decision_file["versions"].size() == 1);
  nlohmann::json decided;
  for (const auto& src : deal["sources"])
    if (src["event_type"] == "DecisionMade") decided = src;
  REQUIRE(decided.is_object());
  CHECK(decided["file"] == "threads/sales/elsa-white-label/4-decision.md");
  CHECK(decided["line"] == 6);  // **PURSUE** under ## Verdict
  CHECK(decided["sha256"] == decision_file["versions"][0]["sha256"]);
  CHECK(deal["sources"].size() == 18);  // lead, hypothesis, implication, decision, approval, 10 action facts, outcome, 2 learnings
  CHECK(i.w.run({"audit", "elsa-white-label"}).out.find("by import (recorded ") != std::string::npos);
  CHECK(i.w.run({"audit", "elsa-white-label"}).out.find("(from threads/sales/elsa-white-label/4-decision.md:6, version " +
                                                        decision_file["versions"][0]["sha256"].get<std::string>().substr(0, 12) + ")") !=
        std::string::npos);
  CHECK(i.w.run({"why", "canvas", "H12"}).out.find("(from threads/sales/elsa-white-label/7-learning.md:19, version ") != std::string::npos);
  // What the thread does not state is shown as unknown, never blank or zero.
  const auto shown = i.w.run({"deal", "show", "elsa-white-label"}).out;
  CHECK(shown.find("ElsaAI (segment unknown)") != std::string::npos);
  CHECK(shown.find("source unknown") != std::string::npos);
  CHECK(shown.find("<e-mail unknown>") != std::string::npos);
  CHECK(shown.find("strategic unknown") != std::string::npos);
  CHECK(i.w.run({"deal", "list"}).out.find("elsa-white-label         ElsaAI                 unknown") != std::string::npos);
  // The new hypothesis is an assumption of its own, untested, from the learning's date.
  const auto canvas = i.w.json({"canvas", "show"});
  nlohmann::json h12;
  for (const auto& a : canvas["assumptions"])
    if (a["id"] == "H12") h12 = a;
  REQUIRE(h12.is_object());
  CHECK(h12["statement"] == "Luxury retail brands pay a 30% premium for a white-label SDK");
  CHECK(h12["confidence"] == 40);
  CHECK(i.w.json({"canvas", "show", "--as-of", "2025-12-19"})["assumptions"].dump().find("H12") == std::string::npos);
  // The won deal counts in the metrics, its ARR known.
  const auto metrics = i.w.json({"metrics"});
  CHECK(metrics.dump().find("1100000") != std::string::npos);
  // Again: nothing new, nothing to warn about.
  auto again = i.import();
  INFO(again.out);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("warning") == std::string::npos);
  // Exported, the unknown fields are left out as the files had them; imported back, nothing new.
  test::TempDir out;
  REQUIRE(i.w.run({"export", out.sub("x")}).exit_code == 0);
  const std::string exported = read(out.sub("x") + "/threads/sales/elsa-white-label/1-input.md");
  CHECK(exported.find("**Source:**") == std::string::npos);
  CHECK(exported.find("- **Contact:** Maria Lopez, Head of Product\n") != std::string::npos);
  CHECK(read(out.sub("x") + "/threads/sales/elsa-white-label/meta.json").find("segment") == std::string::npos);
  CHECK(read(out.sub("x") + "/threads/sales/elsa-white-label/3-implication.md").find("Strategic") == std::string::npos);
  const int facts = i.w.events();
  auto back = i.w.run({"import", out.sub("x")});
  INFO(back.out);
  CHECK(back.exit_code == 0);
  CHECK(i.w.events() == facts);

  // --strict: only what the files state; the lead assumed three fields, so it is skipped, and
  // the thread's other facts are refused after it, each named.
  Imported strict;
  fs::copy(LEANOS_7STAGE_FIXTURE, strict.file("threads/sales"), fs::copy_options::recursive);
  auto s = strict.import({"--strict"});
  INFO(s.out);
  CHECK(s.exit_code == 13);
  CHECK(s.out.find("skipped   threads/sales/elsa-white-label: nothing of it recorded") != std::string::npos);
  CHECK(s.out.find("threads/sales/elsa-white-label/1-input.md:1: lead: segment: unknown") != std::string::npos);
  CHECK(s.out.find("(--strict)") != std::string::npos);
  CHECK(strict.w.run({"deal", "show", "elsa-white-label"}).exit_code == 3);
  CHECK(s.out.find("recorded  threads/sales/acme-corp (14 events)") != std::string::npos);
}

TEST_CASE("a file's encoding: UTF-16 with a byte order mark is read, Windows-1252 bytes are read with a warning naming the byte, the bytes kept as written") {
  Imported i;
  const std::string input = i.file("threads/sales/acme-corp/1-input.md");
  std::string text = read(input);
  // A curly apostrophe as Windows-1252 writes it (0x92), and an e acute (0xe9).
  text.replace(text.find("Acme Corp asked"), 15, "Acme\x92s team asked");
  text.replace(text.find("Jane Doe"), 8, "Ren\xe9 Doe");
  test::write_file(input, text);
  // The goal file as UTF-16 (little end first, with its byte order mark).
  const std::string goal = i.file("strategy/goals/active/g-mrr-50k.md");
  std::string utf8 = read(goal);
  utf8.replace(utf8.find("\xE2\x86\x91"), 3, "up");  // ASCII, so that each byte is one UTF-16 unit below
  std::string utf16 = "\xFF\xFE";
  for (unsigned char c : utf8) {
    utf16 += static_cast<char>(c);
    utf16 += '\0';
  }
  test::write_file(goal, utf16);
  auto r = i.import();
  INFO(r.out, r.err);
  CHECK(r.exit_code == 15);
  CHECK(r.out.find("recorded  strategy/goals/active/g-mrr-50k.md (2 events)") != std::string::npos);
  CHECK(r.out.find("recorded  threads/sales/acme-corp (14 events)") != std::string::npos);
  CHECK(r.out.find("warning: threads/sales/acme-corp/1-input.md:6: column 5: byte 0x92 is not valid UTF-8: read as Windows-1252 ('\xE2\x80\x99')") !=
        std::string::npos);
  const auto deal = i.w.json({"deal", "show", "acme-corp"});
  CHECK(deal["input"]["contact"]["name"] == "Ren\xC3\xA9 Doe");
  CHECK(deal["input"]["signal"] == "Acme\xE2\x80\x99s team asked for a demo of the white-label dashboard after the webinar.");
  CHECK(i.w.json({"goal", "show", "g-mrr-50k"})["target"] == 50000);
  // The files layer keeps the bytes as they were written.
  test::TempDir out;
  REQUIRE(i.w.run({"checkout", out.sub("ws")}).exit_code == 0);
  CHECK(read(out.sub("ws") + "/threads/sales/acme-corp/1-input.md") == text);
  CHECK(read(out.sub("ws") + "/strategy/goals/active/g-mrr-50k.md") == utf16);
}

TEST_CASE("a document's text that is its file's bytes is stored once: its version names the files layer's content, and every reader gets the text") {
  Imported i;
  const std::string uvp = "# UVP\n\n**Last updated:** 2026-01-05\n\nWhite-label in a week.\n";
  test::write_file(i.file("strategy/canvas/07-uvp.md"), uvp);
  test::write_file(i.file("strategy/canvas/notes.md"), "Notes\x92 here\n");  // Windows-1252: its text is not its bytes
  REQUIRE(i.import().exit_code == 15);  // the Windows-1252 byte is a warning
  std::map<std::string, nlohmann::json> written;
  std::istringstream log(i.w.run({"log", "--stream", "documents", "--json"}).out);
  for (std::string line; std::getline(log, line);)
    if (!line.empty()) {
      auto e = nlohmann::json::parse(line);
      written[e["document_written"]["path"]] = e["document_written"];
    }
  REQUIRE(written.count("strategy/canvas/07-uvp.md"));
  const auto files = i.w.json({"files"})["files"];
  std::map<std::string, std::string> sha_of;
  for (const auto& f : files) sha_of[f["path"]] = f["sha256"].get<std::string>();
  CHECK_FALSE(written["strategy/canvas/07-uvp.md"].contains("content"));
  CHECK(written["strategy/canvas/07-uvp.md"]["content_sha256"] == sha_of["strategy/canvas/07-uvp.md"]);
  CHECK(written["strategy/canvas/notes.md"]["content"] == "Notes\xE2\x80\x99 here\n");  // decoded: held as text
  CHECK_FALSE(written["strategy/canvas/notes.md"].contains("content_sha256"));
  std::map<std::string, std::string> text;
  const auto docs = i.w.json({"documents", "--content"});
  for (const auto& d : docs["documents"]) text[d["path"]] = d["content"].get<std::string>();
  CHECK(text["strategy/canvas/07-uvp.md"] == uvp);
  CHECK(text["strategy/canvas/notes.md"] == "Notes\xE2\x80\x99 here\n");
  test::TempDir out;
  REQUIRE(i.w.run({"export", out.sub("ws")}).exit_code == 0);
  CHECK(read(out.sub("ws") + "/strategy/canvas/07-uvp.md") == uvp);
  // Read again, the same texts are no new versions; an edit is one, named by its content.
  CHECK(i.import().out.find("unchanged strategy/canvas/07-uvp.md") != std::string::npos);
  test::write_file(i.file("strategy/canvas/07-uvp.md"), "# UVP\n\n**Last updated:** 2026-02-01\n\nWhite-label in a day.\n");
  REQUIRE(i.import().exit_code == 0);
  const auto edited = i.w.json({"documents", "--content"});
  for (const auto& d : edited["documents"])
    if (d["path"] == "strategy/canvas/07-uvp.md") {
      CHECK(d["versions"] == 2);
      CHECK(d["content"].get<std::string>().find("in a day") != std::string::npos);
    }
}

TEST_CASE("a goal without created: is dated by the earliest date it states, else the file's time, each said in a warning") {
  Imported i;
  const std::string goal = i.file("strategy/goals/active/g-mrr-50k.md");
  std::string text = read(goal);
  text.erase(text.find("created: 2025-12-01\n"), 20);
  test::write_file(goal, text + "\n## Log\n- 2025-11-20: goal set after the board meeting\n- 2026-01-15: first customer\n");
  auto r = i.import({"--json"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 15);
  CHECK(r.out.find("dated by the earliest date it states (line ") != std::string::npos);
  CHECK(i.w.json({"goal", "show", "g-mrr-50k", "--as-of", "2025-11-20"})["target"] == 50000);
  CHECK(i.w.run({"goal", "show", "g-mrr-50k", "--as-of", "2025-11-19"}).exit_code == 3);

  // No date in it at all: the file's modification time.
  Imported bare;
  const std::string other = bare.file("strategy/goals/active/g-bare.md");
  text = "---\nid: g-bare\n---\n\n# Reach $20K MRR\n\n## Success Criteria\n- [ ] MRR >= $20,000\n";
  test::write_file(other, text);
  const auto mtime = std::chrono::file_clock::from_sys(std::chrono::sys_seconds(std::chrono::sys_days(std::chrono::year(2025) / 10 / 5)));
  fs::last_write_time(other, mtime);
  auto s = bare.import();
  INFO(s.out);
  CHECK(s.exit_code == 15);
  CHECK(s.out.find("dated by the file's modification time, 2025-10-05") != std::string::npos);
  CHECK(bare.w.json({"goal", "show", "g-bare"})["target"] == 20000);
  // --strict refuses it instead.
  Imported strict;
  test::write_file(strict.file("strategy/goals/active/g-bare.md"), text);
  auto t = strict.import({"--strict"});
  CHECK(t.exit_code == 13);
  CHECK(strict.w.run({"goal", "show", "g-bare"}).exit_code == 3);
}

TEST_CASE("a re-import that finds a recorded field rewritten names both texts as a conflict, exit 14, and the ledger keeps what it recorded") {
  Imported i;
  REQUIRE(i.import().exit_code == 0);
  const std::string decision = i.file("threads/sales/acme-corp/4-decision.md");
  std::string text = read(decision);
  text.replace(text.find("Strong fit with the white-label hypothesis; budget confirmed."), 61, "Budget confirmed by the CFO.");
  test::write_file(decision, text);
  const std::string implication = i.file("threads/sales/acme-corp/3-implication.md");
  text = read(implication);
  text.replace(text.find("$1M-$1.5M"), 9, "$1M-$2M");
  test::write_file(implication, text);
  const int before = i.w.events();
  auto r = i.import({"--json"});
  INFO(r.out);
  CHECK(r.exit_code == 14);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["conflicts"] == 2);
  std::vector<std::string> said;
  for (const auto& u : report["units"])
    if (u["name"] == "threads/sales/acme-corp") {
      CHECK(u["status"] == "conflict");
      for (const auto& c : u["conflicts"]) said.push_back(c["what"]);
    }
  CHECK(said == std::vector<std::string>{
                    "implication: ARR high $2000000 in the file, $1500000 in the ledger; the ledger keeps what it recorded",
                    "decision: reason 'Budget confirmed by the CFO.' in the file, 'Strong fit with the white-label hypothesis; budget confirmed.' in "
                    "the ledger; the ledger keeps what it recorded"});
  CHECK(i.w.events() == before);
  CHECK(i.w.json({"deal", "show", "acme-corp"})["decision"]["reason"] == "Strong fit with the white-label hypothesis; budget confirmed.");
}

TEST_CASE("import --accept-files corrects the recorded facts a file rewrote: the ledger follows the file, the audit keeps both, a closed deal's ARR too") {
  Imported i;
  REQUIRE(i.import().exit_code == 0);
  const auto before_show = i.w.json({"deal", "show", "acme-corp"});
  const std::string decision = i.file("threads/sales/acme-corp/4-decision.md");
  std::string text = read(decision);
  text.replace(text.find("Strong fit with the white-label hypothesis; budget confirmed."), 61, "Budget confirmed by the CFO.");
  test::write_file(decision, text);
  const std::string learning = i.file("threads/sales/acme-corp/6-learning.md");
  text = read(learning);
  text.replace(text.find("**ARR:** $1.1M"), 14, "**ARR:** $1.2M");
  test::write_file(learning, text);
  const int before = i.w.events();  // the facts (the files layer keeps the new versions)
  // Without the flag: two conflicts, no fact recorded.
  auto plain = i.import({"--json"});
  CHECK(plain.exit_code == 14);
  CHECK(nlohmann::json::parse(plain.out)["conflicts"] == 2);
  CHECK(i.w.events() == before);
  auto dry = i.import({"--accept-files", "--dry-run", "--json"});
  CHECK(nlohmann::json::parse(dry.out)["corrected"] == 2);
  CHECK(i.w.events() == before);
  auto r = i.import({"--accept-files", "--json"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["conflicts"] == 0);
  CHECK(report["corrected"] == 2);
  std::vector<std::string> said;
  for (const auto& u : report["units"])
    for (const auto& c : u["corrected"]) said.push_back(c["what"]);
  REQUIRE(said.size() == 2);
  CHECK(said[0].find("reason 'Budget confirmed by the CFO.' in the file") != std::string::npos);
  CHECK(said[0].find("corrected: the ledger follows the file") != std::string::npos);
  CHECK(said[1].find("ARR $1200000 in the file, $1100000 in the ledger") != std::string::npos);
  // The facts follow the file, dated where they stood; the approval and the stage stay.
  const auto show = i.w.json({"deal", "show", "acme-corp"});
  CHECK(show["decision"]["reason"] == "Budget confirmed by the CFO.");
  CHECK(show["decision_at"] == before_show["decision_at"]);
  CHECK(show["approved"] == before_show["approved"]);
  CHECK(show["outcome"]["arr"] == 1200000);
  CHECK(show["outcome"]["mrr"] == 100000);
  CHECK(show["outcome_at"] == before_show["outcome_at"]);
  CHECK(show["stage"] == before_show["stage"]);
  CHECK(show["corrections"] == 2);
  CHECK(show["decision_event_id"] != before_show["decision_event_id"]);
  // The audit keeps both: the decision as first recorded and its correction.
  const auto audit = i.w.run({"audit", "acme-corp", "--json"}).out;
  CHECK(audit.find("Strong fit with the white-label hypothesis; budget confirmed.") != std::string::npos);
  CHECK(audit.find("Budget confirmed by the CFO.") != std::string::npos);
  CHECK(audit.find(before_show["decision_event_id"].get<std::string>()) != std::string::npos);
  // The metrics count the corrected close once, at its new value.
  auto metrics = i.w.json({"metrics"});
  CHECK(metrics.dump().find("1200000") != std::string::npos);
  // Again: the file and the ledger agree, nothing to record or correct.
  const int after = i.w.all_events();
  auto again = i.import({"--accept-files", "--json"});
  CHECK(again.exit_code == 0);
  CHECK(nlohmann::json::parse(again.out)["corrected"] == 0);
  CHECK(i.w.all_events() == after);
  CHECK(i.w.run({"verify"}).exit_code == 0);
  // A rebuild from the log gives the same deal.
  i.w.ok({"replay"});
  CHECK(i.w.json({"deal", "show", "acme-corp"}) == show);
}
