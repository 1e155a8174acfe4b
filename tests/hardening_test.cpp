// What a first-time user types and a careless file holds cannot break the ledger: the real
// binary refuses invalid text, impossible times and numbers, raw writes into the rules'
// streams, reused ids and typos, with an error that names what was wrong, exit 2 (or the
// rule's code), and nothing appended. Each case failed before the hardening issue.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support.h"

using leanos::test::count_lines;
using leanos::test::run_leanos;
using leanos::test::TempDir;
using leanos::test::Workspace;
using leanos::test::write_file;

namespace {

void launched_campaign(Workspace& w, const std::string& id) {
  w.ok({"campaign", "open", id, "--segment", "fintech", "--objective", "book 10 demos", "--targets", "50"});
  w.ok({"campaign", "hypothesis", id, "--tests", "A4", "--confidence", "40"});
  w.ok({"campaign", "implication", id, "--responses", "10", "--meetings", "5", "--deals", "2", "--cost-hours", "20"});
  w.ok({"campaign", "decide", id, "launch", "--reason", "cheap test"});
}

}  // namespace

TEST_CASE("invalid UTF-8 in an argument is refused naming the option, and the log stays readable") {
  Workspace w;
  w.setup();
  auto r = w.run({"append", "misc", "--type", "T\xff"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("the value of --type is not valid UTF-8: byte 0xff at offset 1") != std::string::npos);
  r = w.run({"deal", "open", "bad", "--company", "Bad\xff", "--segment", "s", "--source", "inbound", "--contact-name", "J",
             "--contact-email", "j@x.example", "--signal", "s"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--company") != std::string::npos);
  CHECK(w.events() == 3);
  CHECK(w.run({"verify"}).exit_code == 0);
  CHECK(w.run({"canvas", "show"}).exit_code == 0);
}

TEST_CASE("a Latin-1 CSV is refused naming line and column, and read right with --encoding latin1") {
  Workspace w;
  w.setup();
  launched_campaign(w, "2026-02-01-fintech-cfo");
  const auto csv = write_file(w.dir.sub("latin1.csv"), "company name,website,linkedin\nBeta,,\nSoci\xe9t\xe9 G\xe9n\xe9rale,,\n");
  w.refused({"campaign", "prospects", "2026-02-01-fintech-cfo", "--csv", csv}, "latin1.csv line 3, column 5: byte 0xe9");
  w.ok({"campaign", "prospects", "2026-02-01-fintech-cfo", "--csv", csv, "--encoding", "latin1"});
  auto show = w.run({"log", "--stream", "campaign-2026-02-01-fintech-cfo", "--json"});
  CHECK(show.out.find("Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale") != std::string::npos);
  w.refused({"campaign", "prospects", "2026-02-01-fintech-cfo", "--csv", csv, "--encoding", "klingon"}, "unknown encoding");
  CHECK(w.run({"verify"}).exit_code == 0);
}

TEST_CASE("a CSV quote followed by more text in the same cell is an error, not a silent merge") {
  Workspace w;
  w.setup();
  launched_campaign(w, "2026-02-01-fintech-cfo");
  const auto csv = write_file(w.dir.sub("q.csv"), "company name,website,linkedin\n\"Bad \"quote,,\n");
  w.refused({"campaign", "prospects", "2026-02-01-fintech-cfo", "--csv", csv}, "line 2, column 1: text after the closing quote");
}

TEST_CASE("raw appends cannot write the rules' streams nor domain events") {
  Workspace w;
  w.setup();
  w.open_deal("acme-corp");
  const int before = w.events();
  w.refused({"append", "deal-acme-corp", "--type", "DealClosed"}, "belongs to the workflow's rules");
  w.refused({"append", "canvas", "--type", "NoteTaken"}, "belongs to the workflow's rules");
  w.refused({"append", "notes", "--type", "DealClosed"}, "domain type 'DealClosed' but no such payload");
  const auto forged = write_file(w.dir.sub("forged.jsonl"),
                                 R"({"type":"DealClosed","deal_closed":{"deal_id":"acme-corp","outcome":"WON","arr":"1000000000000"}})"
                                 "\n");
  w.refused({"append", "notes", "--file", forged}, "carries a DealClosed payload");
  const auto mismatched = write_file(w.dir.sub("mismatch.jsonl"), R"({"type":"NoteTaken","generic":{}})"
                                                                  "\n"
                                                                  R"({"type":"Other","goal_target_met":{"goal_id":"x"}})"
                                                                  "\n");
  w.refused({"append", "notes", "--file", mismatched}, "GoalTargetMet payload");
  CHECK(w.events() == before);
}

TEST_CASE("impossible times are refused: outside 1970-2199, leap seconds, and business time after recording") {
  Workspace w;
  w.setup();
  w.refused({"append", "notes", "--type", "T", "--at", "0000-01-01"}, "year outside 1970-2199");
  w.refused({"append", "notes", "--type", "T", "--at", "2026-12-31T23:59:60Z"}, "time of day out of range");
  w.refused({"append", "notes", "--type", "T", "--at", "2200-01-01"}, "year outside 1970-2199");
  w.refused({"append", "notes", "--type", "T", "--at", "1970-01-01T00:30:00+01:00"}, "outside 1970-2199");
  w.refused({"append", "notes", "--type", "T", "--at", "2199-01-01"}, "after it is recorded");
  w.refused({"deal", "open", "future", "--company", "F", "--segment", "s", "--source", "inbound", "--contact-name", "J",
             "--contact-email", "j@f.example", "--signal", "s", "--at", "2099-05-01"},
            "--at 2099-05-01 is in the future");  // the command names its flag; the store refuses it too (above)
  CHECK(w.run({"log", "--json"}).out.find("error") == std::string::npos);
}

TEST_CASE("no stage of a deal occurs before its lead") {
  Workspace w;
  w.setup();
  w.open_deal("acme-corp");  // lead on 2026-01-10
  w.refused({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "60", "--at", "2026-01-09"},
            "is before the deal's lead (2026-01-10T00:00:00Z)");
  w.ok({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "60", "--at", "2026-01-10"});
}

TEST_CASE("numbers that do not fit are refused, never clamped, and usage errors exit 2 naming what is expected") {
  Workspace w;
  w.refused({"goal", "define", "g1", "--title", "x", "--metric", "mrr", "--target", "9223372036854775808"},
            "'9223372036854775808' is out of range");
  w.refused({"goal", "define", "g1", "--title", "x", "--metric", "mrr", "--target", "1e30"}, "expected a whole number");
  auto r = w.run({"canvas", "assume", "A1", "--statement", "s", "--confidence", "0.6"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--confidence: expected a whole number (whole percent, 0-100), got '0.6'") != std::string::npos);
  r = w.run({"log", "--limit", "-1"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("0 or more") != std::string::npos);
  r = w.run({"deal", "implication", "d", "--arr-low", "1", "--arr-high", "2", "--strategic", "high", "--cost-hours", "1",
             "--priority", "nan"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("expected a decimal number") != std::string::npos);
}

TEST_CASE("a subcommand typo names the unknown word and the closest commands") {
  auto r = run_leanos({"deals", "show"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'leanos' has no command 'deals'; did you mean 'deal'?") != std::string::npos);
  r = run_leanos({"--data", "x", "deal", "shwo", "acme"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'leanos deal' has no command 'shwo'; did you mean 'show'?") != std::string::npos);
  r = run_leanos({"deal"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'leanos deal' needs a command: action approve") != std::string::npos);
}

TEST_CASE("every missing required option is named at once") {
  auto r = run_leanos({"deal", "open", "d1", "--company", "C"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("is missing --segment, --source, --contact-name, --contact-email and --signal") != std::string::npos);
}

TEST_CASE("an id reused with other content is refused, the same content is an idempotent retry") {
  Workspace w;
  w.ok({"canvas", "assume", "A1", "--statement", "first", "--confidence", "50", "--id", "a1"});
  auto same = w.run({"canvas", "assume", "A1", "--statement", "first", "--confidence", "50", "--id", "a1"});
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("already recorded") != std::string::npos);
  auto other = w.run({"canvas", "assume", "A2", "--statement", "second", "--confidence", "40", "--id", "a1"});
  CHECK(other.exit_code == 6);
  CHECK(other.err.find("id 'a1' was already used at position 1") != std::string::npos);
  CHECK(w.events() == 1);
}

TEST_CASE("queries never create a workspace, recording creates one and says so") {
  TempDir dir;
  const std::string data = dir.sub("missing");
  auto r = run_leanos({"--data", data, "canvas", "show"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("no workspace at " + data) != std::string::npos);
  CHECK(r.err.find("leanos init") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(data));
  CHECK(run_leanos({"--data", data, "log"}).exit_code == 3);
  r = run_leanos({"--data", data, "canvas", "assume", "A1", "--statement", "s", "--confidence", "50"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("created a new workspace in " + data) != std::string::npos);
  r = run_leanos({"--data", data, "canvas", "assume", "A2", "--statement", "s", "--confidence", "50"});
  CHECK(r.err.find("created") == std::string::npos);
  CHECK(run_leanos({"--data", data, "canvas", "show"}).exit_code == 0);
  r = run_leanos({"--data", dir.sub("fresh"), "init"});
  CHECK(r.exit_code == 0);
  CHECK(run_leanos({"--data", dir.sub("fresh"), "log"}).exit_code == 0);
}

TEST_CASE("an ICP whose YAML escapes decode to bytes that are not UTF-8 is refused, not a crash") {
  Workspace w;
  // yaml-cpp turns "\_" (a no-break space) into one Latin-1 byte; the fuzzer found the crash.
  const auto icp = write_file(w.dir.sub("icp.yaml"), "segment: fintech\nfilters:\n  industry: [\"banks\\_and insurers\"]\n");
  auto r = w.run({"segment", "icp", "fintech", "--file", icp});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("line 3") != std::string::npos);
  CHECK(r.err.find("not UTF-8") != std::string::npos);
  const auto fine = write_file(w.dir.sub("fine.yaml"), "segment: fintech\nfilters:\n  industry: [\"banks and insurers\"]\n"
                                                     "sample_companies: [A, B, C, D, E]\n");
  w.ok({"segment", "icp", "fintech", "--file", fine});
}

TEST_CASE("an ICP that expands without bound through YAML aliases is refused") {
  Workspace w;
  // Ten aliases of the level below at each of eight levels: 10^8 values from 300 bytes.
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 8; ++i) {
    const std::string below = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + below;
    for (int k = 1; k < 10; ++k) yaml += ", " + below;
    yaml += "]\n";
  }
  const auto icp = write_file(w.dir.sub("bomb.yaml"), yaml);
  auto r = w.run({"segment", "icp", "fintech", "--file", icp});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("expands to more than") != std::string::npos);
}

TEST_CASE("revenue that does not recur is one-off (not ARR with MRR 0), a goal past its deadline says so, and a goal not yet defined then says that") {
  Workspace w;
  w.setup();  // goal g-mrr-50k due 2026-06-30, defined 2026-01-01
  w.to_decision("one-off", "qualify");
  // ARR is 12 x MRR: "ARR 12,000 with MRR 0" (accepted before) does not add up.
  w.refused({"deal", "close", "one-off", "won", "--arr", "12000", "--mrr", "0", "--at", "2026-01-20"}, "is not 12 x MRR");
  w.ok({"deal", "close", "one-off", "won", "--one-off", "12000", "--at", "2026-01-20"});
  auto log = w.run({"log", "--stream", "deal-one-off", "--json"});
  CHECK(log.out.find("\"mrr\":\"0\"") != std::string::npos);
  CHECK(log.out.find("\"one_off\":\"12000\"") != std::string::npos);
  auto past = w.run({"goal", "show", "g-mrr-50k"});
  CHECK(past.out.find("days past due") != std::string::npos);
  CHECK(past.out.find("days left") == std::string::npos);
  auto before = w.run({"goal", "show", "g-mrr-50k", "--known-at", "2020-03-01"});
  CHECK(before.exit_code == 3);
  CHECK(before.err.find("was not defined yet as known on 2020-03-01") != std::string::npos);
  auto json = w.run({"goal", "show", "g-mrr-50k", "--json"});
  const auto at = json.out.find("\"projected\":");
  REQUIRE(at != std::string::npos);
  const std::string projected = json.out.substr(at, json.out.find_first_of(",}", at) - at);
  CHECK(projected.find('.') == std::string::npos);  // whole dollars
}

TEST_CASE("export never writes through a symbolic link planted in its folder: it names the link and writes nothing") {
  Workspace w;
  w.setup();
  w.to_decision("acme-corp", "qualify");
  TempDir elsewhere;
  const std::string out = w.dir.sub("export");
  std::filesystem::create_directories(out);
  write_file(out + "/README.md", "mine\n");
  std::filesystem::create_symlink(elsewhere.path(), out + "/threads");
  auto r = w.run({"export", out, "--force"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(out + "/threads is a symbolic link (to " + elsewhere.path() + ")") != std::string::npos);
  CHECK(std::filesystem::is_empty(elsewhere.path()));
  CHECK_FALSE(std::filesystem::exists(out + "/strategy"));  // nothing written, not even what the link does not lead to
  // A link in place of a file is refused too.
  std::filesystem::remove(out + "/threads");
  std::filesystem::create_directories(out + "/threads/sales/acme-corp");
  std::filesystem::create_symlink(elsewhere.sub("victim"), out + "/threads/sales/acme-corp/1-input.md");
  r = w.run({"export", out, "--force"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("1-input.md is a symbolic link") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(elsewhere.sub("victim")));
}

TEST_CASE("ids that are not safe folder names ('.', '..', hidden) are refused, so export and import cannot lose deals") {
  Workspace w;
  w.setup();
  for (const std::string id : {".", "..", ".hidden"}) {
    CAPTURE(id);
    w.refused({"deal", "open", id, "--company", "X", "--segment", "s", "--source", "inbound", "--contact-name", "J", "--contact-email",
               "j@x.example", "--signal", "s"},
              "an id starts with a letter or a digit");
    w.refused({"goal", "define", id, "--title", "T", "--metric", "mrr", "--target", "1"}, "an id starts with a letter or a digit");
  }
}

TEST_CASE("a workspace name or a token that cannot travel in a header is a clear error, not an abort") {
  Workspace w;
  auto r = w.run({"today", "--server", "127.0.0.1:1", "--workspace", "\xc3\xbcn\xc3\xaf"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("workspace name") != std::string::npos);
  const std::string token = write_file(w.dir.sub("token"), "t\xc3\xb6k\n");
  r = w.run({"today", "--server", "127.0.0.1:1", "--token-file", token});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("holds the byte 0xc3 at offset 1") != std::string::npos);
  const std::string control = write_file(w.dir.sub("token2"), "ab\x01" "c\n");
  r = w.run({"today", "--server", "127.0.0.1:1", "--token-file", control});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("holds the byte 0x01 at offset 2") != std::string::npos);
}

TEST_CASE("an unknown option or a stray word names itself and the command, with the closest option when there is one") {
  Workspace w;
  w.setup();
  auto r = w.run({"deal", "close", "acme", "won", "--arr", "1", "--currency", "usd"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'leanos deal close' has no option '--currency'") != std::string::npos);
  CHECK(r.err.find("The following arguments were not expected") == std::string::npos);
  r = w.run({"deal", "close", "acme", "won", "--mrrr", "1"});
  CHECK(r.err.find("has no option '--mrrr'; did you mean '--mrr'?") != std::string::npos);
  r = w.run({"deal", "close", "acme", "won", "usd"});
  CHECK(r.err.find("'leanos deal close' does not take the argument 'usd'") != std::string::npos);
  CHECK(w.events() == 3);
}

TEST_CASE("today on an empty workspace says there is nothing yet and where to start, not empty headers") {
  Workspace w;
  w.ok({"init"});
  auto r = w.run({"today"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("none defined yet") != std::string::npos);
  CHECK(r.out.find("nothing waits for a person") != std::string::npos);
  CHECK(r.out.find("nothing overdue or stalled") != std::string::npos);
  CHECK(r.out.find("start with a goal") != std::string::npos);
}

TEST_CASE("a mistyped deal id names the close ones, and --at in the future or malformed names --at") {
  Workspace w;
  w.setup();
  w.open_deal("acme-corp");
  auto r = w.run({"deal", "show", "acme-crop"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("deal 'acme-crop' does not exist; did you mean 'acme-corp'?") != std::string::npos);
  r = w.run({"audit", "acme-crop"});
  CHECK(r.err.find("did you mean 'acme-corp'?") != std::string::npos);
  w.refused({"deal", "hypothesis", "acme-crop", "--tests", "A4", "--confidence", "50"}, "did you mean 'acme-corp'?");
  w.refused({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "50", "--at", "2199-01-01"},
            "--at 2199-01-01 is in the future");
  w.refused({"deal", "hypothesis", "acme-corp", "--tests", "A4", "--confidence", "50", "--at", "2026-13-01"},
            "--at: malformed date '2026-13-01'");
  auto far = w.run({"deal", "show", "zzzzzz"});
  CHECK(far.err.find("did you mean") == std::string::npos);  // nothing close: no guess
}

TEST_CASE("every option and argument of every command says what it is in --help") {
  // CLI11 prints a name padded to column 30, then the description; a longer name puts the
  // description on the next line. A name with nothing after it is an option nobody explained.
  Workspace w;
  std::vector<std::vector<std::string>> todo{{}};
  std::vector<std::string> undescribed;
  int commands = 0;
  while (!todo.empty()) {
    const auto path = todo.back();
    todo.pop_back();
    auto args = path;
    args.push_back("--help");
    const auto help = w.run(args);
    REQUIRE(help.exit_code == 0);
    ++commands;
    std::vector<std::string> lines;
    std::istringstream in(help.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::string section;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto& line = lines[i];
      if (!line.empty() && line[0] != ' ') {
        section = line;
        continue;
      }
      if (line.size() < 3 || line.compare(0, 2, "  ") != 0 || line[2] == ' ') continue;
      std::string text = line.substr(2);
      while (!text.empty() && text.back() == ' ') text.pop_back();
      if (section == "Subcommands:") {
        auto sub = path;
        sub.push_back(text.substr(0, text.find(' ')));
        todo.push_back(sub);
        continue;
      }
      if (section != "Options:" && section != "Positionals:") continue;
      // The description starts at column 30, after a name padded to it.
      const bool described = line.size() > 30 && line[29] == ' ' && line[30] != ' ';
      const bool next_line_describes = i + 1 < lines.size() && lines[i + 1].compare(0, 4, "    ") == 0;
      if (!described && !next_line_describes) {
        std::string where = "leanos";
        for (const auto& p : path) where += " " + p;
        undescribed.push_back(where + ": " + text);
      }
    }
  }
  CHECK(commands > 60);
  std::string all;
  for (const auto& u : undescribed) all += "\n  " + u;
  CHECK_MESSAGE(undescribed.empty(), "give these a description:" << all);
}

TEST_CASE("goal list gives every goal, and a subcommand's help tells the global options and what a command does not do") {
  Workspace w;
  w.setup();
  auto list = w.run({"goal", "list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("g-mrr-50k") != std::string::npos);
  auto json = w.run({"goal", "list", "--json", "--as-of", "2025-12-01"});
  REQUIRE(json.exit_code == 0);
  CHECK(json.out == "{\"goals\":[]}\n");  // not defined yet then
  auto help = w.run({"deal", "close", "--help"});
  CHECK(help.out.find("Global options (before or after the command):") != std::string::npos);
  for (const char* global : {"--data", "--json", "--server", "--token-file", "--workspace"}) CHECK(help.out.find(global) != std::string::npos);
  CHECK(w.run({"deal", "qualify-score", "--help"}).out.find("it does not complete sales:qualify") != std::string::npos);
  CHECK(w.run({"deal", "action", "--help"}).out.find("sales:lead-intake -> sales:qualify -> sales:demo") != std::string::npos);
}
