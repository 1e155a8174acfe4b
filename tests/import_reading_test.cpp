// `leanos import` reading a workspace leniently, through the real binary: dates in other
// formats, encodings, links, LeanOS's 7-stage example, goals without a creation date, a
// document stored once, and a file that rewrites what the ledger recorded (conflicts, and
// --accept-files). The rest of the import: import_test.cpp.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "events/time.h"
#include "tests/imported.h"
#include "tests/support.h"

using namespace leanos;
namespace fs = std::filesystem;
using test::Imported;
using test::read;

TEST_CASE("a stage's date written with a month's name is read, one of numbers in another order is named, never replaced by meta.json's") {
  Imported named;
  named.rewrite("threads/sales/acme-corp/1-input.md", "**Date:** 2026-01-10", "**Date:** January 9, 2026");
  auto r = named.import();
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(named.w.json({"deal", "show", "acme-corp"})["input_at"] == "2026-01-09T00:00:00Z");

  Imported numbers;
  numbers.rewrite("threads/sales/acme-corp/1-input.md", "**Date:** 2026-01-10", "**Date:** 02/03/2026");
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
  i.rewrite("threads/sales/acme-corp/4-decision.md", "Strong fit with the white-label hypothesis; budget confirmed.", "Budget confirmed by the CFO.");
  i.rewrite("threads/sales/acme-corp/3-implication.md", "$1M-$1.5M", "$1M-$2M");
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
  i.rewrite("threads/sales/acme-corp/4-decision.md", "Strong fit with the white-label hypothesis; budget confirmed.", "Budget confirmed by the CFO.");
  i.rewrite("threads/sales/acme-corp/6-learning.md", "**ARR:** $1.1M", "**ARR:** $1.2M");
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
