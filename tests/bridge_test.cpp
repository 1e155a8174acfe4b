// The bridge's thread reader in process (tools/bridge/threads.h): LeanOS's 7-stage example
// thread read as the ledger's commands, each traced to file and line, what the files do not
// state named as a warning, a date it cannot read named as a problem. The same fixture goes
// through the real binary in import_test; here the reader alone, without a store.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tests/support.h"
#include "tools/bridge/threads.h"
#include "tools/bridge/workspace.h"

using namespace leanos;
namespace fs = std::filesystem;

namespace {

struct Read {
  test::TempDir root;
  bridge::Workspace ws;
  bridge::Unit unit;
  explicit Read(const std::function<void(const fs::path&)>& edit = {}) {
    const fs::path folder = fs::path(root.path()) / "threads/sales/elsa-white-label";
    fs::create_directories(folder.parent_path());
    fs::copy(LEANOS_7STAGE_FIXTURE "/elsa-white-label", folder, fs::copy_options::recursive);
    if (edit) edit(folder);
    unit = bridge::read_thread(root.path(), folder, "import", 0, ws);
  }
  // "file:line what" of each fact.
  std::vector<std::string> facts() const {
    std::vector<std::string> out;
    for (const auto& f : unit.facts) out.push_back(f.file.substr(f.file.rfind('/') + 1) + ":" + std::to_string(f.line) + " " + f.what);
    return out;
  }
  const bridge::Fact* fact(Envelope::PayloadCase kind) const {
    for (const auto& f : unit.facts)
      if (f.command.payload_case() == kind) return &f;
    return nullptr;
  }
};

}  // namespace

TEST_CASE("the 7-stage example thread reads as its commands, each traced to file and line, its gaps named as warnings") {
  Read r;
  INFO(doctest::toString(r.facts().size()));
  CHECK(r.unit.name == "threads/sales/elsa-white-label");
  CHECK(r.unit.problems.empty());
  CHECK(r.unit.facts.size() == 18);  // lead, hypothesis, implication, decision, approval, 10 action facts, outcome, 2 learnings
  const auto* lead = r.fact(Envelope::kLeadCaptured);
  REQUIRE(lead);
  CHECK(lead->command.lead_captured().deal_id() == "elsa-white-label");
  CHECK(lead->command.lead_captured().company() == "ElsaAI");
  CHECK(lead->file == "threads/sales/elsa-white-label/1-input.md");
  const auto* decided = r.fact(Envelope::kDecisionMade);
  REQUIRE(decided);
  CHECK(decided->command.decision_made().verdict() == v1::QUALIFY);
  CHECK(decided->file == "threads/sales/elsa-white-label/4-decision.md");
  CHECK(decided->line == 6);  // **PURSUE** under ## Verdict
  const auto* closed = r.fact(Envelope::kDealClosed);
  REQUIRE(closed);
  CHECK(closed->command.deal_closed().outcome() == v1::WON);
  CHECK(closed->command.deal_closed().arr() == 1100000);
  std::map<std::string, v1::LearningResult> learned;
  for (const auto& f : r.unit.facts)
    if (f.command.has_learning_recorded()) learned[f.command.learning_recorded().assumption_id()] = f.command.learning_recorded().result();
  CHECK(learned == std::map<std::string, v1::LearningResult>{{"A4", v1::VALIDATED}, {"A7", v1::INVALIDATED}});
  // What the files do not state: recorded as unknown, each warning with its file and line.
  std::set<std::string> said;
  for (const auto& f : r.unit.facts)
    for (const auto& w : f.warnings) said.insert(w.file.substr(w.file.rfind('/') + 1) + ":" + std::to_string(w.line) + " " + w.what.substr(0, w.what.find(':')));
  CHECK(said == std::set<std::string>{"1-input.md:1 segment", "1-input.md:10 email", "1-input.md:1 source", "3-implication.md:1 strategic",
                                      "7-learning.md:17 learning about A7"});
  // The learning's new hypothesis is proposed for the canvas, not refused.
  CHECK(r.ws.proposed.size() == 1);
}

TEST_CASE("a stage file's date the reader cannot read is named with file and line, and only the facts it dates are held back") {
  Read r([](const fs::path& folder) {
    const fs::path decision = folder / "4-decision.md";
    std::ifstream in(decision);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find("**Date:**");
    REQUIRE(at != std::string::npos);
    const auto end = text.find('\n', at);
    text.replace(at, end - at, "**Date:** sometime in spring");
    std::ofstream(decision, std::ios::trunc) << text;
  });
  bool named = false;
  for (const auto& p : r.unit.problems)
    named = named || (p.file == "threads/sales/elsa-white-label/4-decision.md" && p.line == 3 &&
                      p.what.find("'sometime in spring'") != std::string::npos && p.what.find("YYYY-MM-DD") != std::string::npos);
  CHECK(named);
  CHECK(r.fact(Envelope::kDecisionMade) == nullptr);  // undated, not guessed
  CHECK(r.fact(Envelope::kLeadCaptured) != nullptr);  // the other stages still read
  CHECK(r.fact(Envelope::kImplicationAssessed) != nullptr);
}

namespace {

// Every fact of the seed's workspace as "file:line Type", by unit.
std::map<std::string, std::vector<std::string>> facts_of(const bridge::Workspace& ws) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& u : ws.units)
    for (const auto& f : u.facts) out[u.name].push_back(f.file + ":" + std::to_string(f.line) + " " + f.command.type());
  return out;
}

const bridge::Fact* find_fact(const bridge::Workspace& ws, Envelope::PayloadCase kind, const std::string& id) {
  for (const auto& u : ws.units)
    for (const auto& f : u.facts)
      if (f.command.payload_case() == kind && (f.command.has_assumption_registered() ? f.command.assumption_registered().assumption_id() == id
                                               : f.command.has_goal_defined()          ? f.command.goal_defined().goal_id() == id
                                                                                       : true))
        return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("the canvas and goal readers: each assumption and goal read as its command, traced to file and line") {
  auto ws = bridge::read_workspace(LEANOS_SEED_FIXTURE, {"import", 0, nullptr});
  REQUIRE(ws.is_ok());
  const auto* a4 = find_fact(*ws, Envelope::kAssumptionRegistered, "A4");
  REQUIRE(a4);
  CHECK(a4->file == "strategy/canvas/10-assumptions.md");
  CHECK(a4->line == 3);
  CHECK(a4->command.assumption_registered().statement() == "Enterprise customers prefer white-label");
  CHECK(a4->command.assumption_registered().confidence() == 60);  // where it started; the learnings take it on
  const auto* a7 = find_fact(*ws, Envelope::kAssumptionRegistered, "A7");
  REQUIRE(a7);
  CHECK(a7->line == 11);
  CHECK(a7->command.assumption_registered().confidence() == 50);
  CHECK(format_time(from_timestamp(a7->command.occurred_at())) == "2025-12-01T00:00:00Z");
  // What the canvas file says now, to compare with the recorded history.
  REQUIRE(ws->stated.size() == 2);
  CHECK(ws->stated[0].id == "A4");
  CHECK(ws->stated[0].confidence == 95);
  CHECK(ws->stated[0].status == v1::ASSUMPTION_VALIDATED);
  const auto* goal = find_fact(*ws, Envelope::kGoalDefined, "g-mrr-50k");
  REQUIRE(goal);
  CHECK(goal->file == "strategy/goals/active/g-mrr-50k.md");
  CHECK(goal->command.goal_defined().title() == "Reach $50K MRR by Q2");
  CHECK(goal->command.goal_defined().metric() == v1::MRR);
  CHECK(goal->command.goal_defined().target() == 50000);
  CHECK(format_time(from_timestamp(goal->command.occurred_at())) == "2025-12-01T00:00:00Z");
  CHECK(goal->warnings.empty());
  const auto subgoal = std::find_if(ws->units.begin(), ws->units.end(), [](const bridge::Unit& u) {
    return std::any_of(u.facts.begin(), u.facts.end(), [](const bridge::Fact& f) { return f.command.has_subgoal_defined(); });
  });
  REQUIRE(subgoal != ws->units.end());
  CHECK(ws->placeholders.size() == 6);  // the example thread's empty stage files
  CHECK(facts_of(*ws).size() >= 3);     // the canvas, the goal, the acme-corp thread
}

TEST_CASE("a goal without created: is dated by the earliest date its text states, with a warning naming file and line") {
  test::TempDir root;
  fs::copy(LEANOS_SEED_FIXTURE, root.path(), fs::copy_options::recursive);
  const auto goal = fs::path(root.path()) / "strategy/goals/active/g-mrr-50k.md";
  std::ifstream in(goal);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("created: 2025-12-01\n"), std::string("created: 2025-12-01\n").size(), "");
  text.replace(text.find("- 2025-12-01: goal created"), std::string("- 2025-12-01: goal created").size(), "- 2025-11-20: goal drafted");
  std::ofstream(goal) << text;
  auto ws = bridge::read_workspace(root.path(), {"import", 0, nullptr});
  REQUIRE(ws.is_ok());
  const auto* g = find_fact(*ws, Envelope::kGoalDefined, "g-mrr-50k");
  REQUIRE(g);
  CHECK(format_time(from_timestamp(g->command.occurred_at())) == "2025-11-20T00:00:00Z");
  REQUIRE(!g->warnings.empty());
  CHECK(g->warnings.front().file == "strategy/goals/active/g-mrr-50k.md");
  CHECK(g->warnings.front().what.find("2025-11-20") != std::string::npos);
}
