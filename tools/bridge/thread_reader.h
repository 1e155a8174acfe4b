// Reading one deal thread of a LeanOS workspace (threads.cpp: its folder, stages 1-4;
// thread_actions.cpp: stages 5-6): each stage file's facts as the ledger's commands, each
// gap named by file and line. Internal to tools/bridge.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tools/bridge/markdown.h"
#include "tools/bridge/reading.h"
#include "tools/bridge/workspace.h"

namespace leanos::bridge::detail {

class ThreadReader {
 public:
  ThreadReader(std::string deal, std::string actor, Micros fallback, Unit& unit)
      : deal_(std::move(deal)), actor_(std::move(actor)), fallback_(fallback), unit_(unit) {}

  void problem(const std::string& file, int line, std::string what) {
    unit_.problems.push_back({file, line, std::move(what)});
    notes_.clear();  // the fact they were about is not recorded
  }
  // What reading the stage had to assume, told with the next fact it gives.
  void warn(const StageDoc& d, int line, std::string what) { notes_.push_back({d.file.rel, line, std::move(what)}); }
  void add(const StageDoc& d, int line, std::string what, const google::protobuf::Message& payload, Micros at) {
    unit_.facts.push_back(fact(d.file.rel, line, std::move(what), payload, at, actor_));
    for (auto& n : notes_)
      if (n.file == d.file.rel) unit_.facts.back().warnings.push_back(std::move(n));
    notes_.clear();
  }

  // Names a date the stage gives but the import cannot read; true when there is one.
  bool unreadable(const StageDoc& d) {
    auto bad = unreadable_date(d);
    if (!bad) return false;
    problem(d.file.rel, bad->first,
            "the date '" + bad->second + "' is not one the import reads: write YYYY-MM-DD or \"March 3, 2026\" (a date of numbers in "
            "another order, 02/03/2026, could be 2 March or 3 February)");
    return true;
  }

  // A stage's date, or a problem saying how to give one.
  std::optional<Micros> dated(const StageDoc& d) {
    notes_.clear();
    if (auto t = stage_date(d)) return t->first;
    if (unreadable(d)) return std::nullopt;
    if (fallback_) {
      warn(d, 1, "no **Date:**: dated by its git commit, " + format_date(fallback_));
      return fallback_;
    }
    problem(d.file.rel, 1, "no date: add a line **Date:** YYYY-MM-DD (the import dates each stage with the file's own date)");
    return std::nullopt;
  }

  void input(const StageDoc& d, const nlohmann::json& meta, Micros fallback_date);

  void hypothesis(const StageDoc& d);

  void implication(const StageDoc& d, const nlohmann::json& meta);

  void decision(const StageDoc& d, const nlohmann::json& meta);

  // The approval goes after the decision, and only when the rules need one: recorded if the
  // decision needs it (the importer cannot know the threshold then), so it is kept aside.
  struct Approval {
    StageDoc doc;
    int line = 0;
    v1::DecisionApproved payload;
    Micros at = 0;
  };
  std::optional<Approval> approval_;

  // `## Action N: Name` blocks of 5-actions.md.
  void actions(const StageDoc& d);

  // One file of a 5-actions/ folder (lead-intake.md, qualify.md, ...): the whole file is the
  // action, its type from the file's name unless it says **Type:**.
  void action_file(const StageDoc& d, const std::string& type);

  void action(const StageDoc& d, const MdSection& s, const std::string& type_hint);

  // Stage 6: the outcome (6-learning.md, or 6-results.md of the 7-stage variant).
  void outcome(const StageDoc& d);

  void learnings(const StageDoc& d);

  // "### H9: Title" with **Status:** 🆕 NEW HYPOTHESIS: not a test of an assumption but a new
  // one the deal taught, registered on the canvas (untested, at the confidence it states) as
  // `leanos canvas assume` would. Kept aside: the canvas records it, not the deal's stream.
  void proposed(const StageDoc& d, const MdSection& s, const std::string& id, const std::string& title, Micros at);
  std::vector<Fact> proposed_;  // new hypotheses, for the canvas

  Micros lead_at() const { return lead_at_; }

 private:
  std::string deal_, actor_;
  Micros fallback_ = 0;  // a git commit's date, for a stage file without one
  Unit& unit_;
  Micros lead_at_ = 0;
  std::vector<Problem> notes_;  // warnings for the next fact
};

}  // namespace leanos::bridge::detail
