// The ledger at a point in time written back as a LeanOS workspace, in the seed era's layout
// (../shared/docs/leanos-files.md): what `leanos import` reads, so that importing an export
// records nothing and an agent can go on working on the files.
//
//   strategy/canvas/10-assumptions.md        one `### A4: statement` block per assumption
//   strategy/goals/{active,completed}/ID.md  frontmatter, success criterion, subgoals, metrics
//   threads/sales/DEAL/meta.json, 1-input.md … 6-learning.md   one file per stage reached
//   threads/sales/campaigns/ID/   the same, and stage 5 as prospects.csv, contacts.csv,
//                                 outreach.csv, responses.csv (tools/bridge/campaigns.h)
//   research/customer/icp/SEGMENT-icp.yaml               the ICP in force
//   artifacts/sales/SEGMENT/narrative/*-narrative.md     the narrative in force, verbatim
//   every document kept at import (canvas sections, notes), byte for byte
//
// Rendering only: the values are the query layer's views (actors/queries.h) at that time.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events/result.h"
#include "events/time.h"
#include "leanos/v1/views.pb.h"

namespace leanos::bridge {

struct LedgerAtTime {
  v1::CanvasView canvas;
  // Each canvas assumption's history up to the canvas's position and the business time.
  std::map<std::string, v1::AssumptionHistoryView> histories;
  Micros occurred_until = 0;  // the business-time bound (--as-of), or the end of time
  std::vector<v1::GoalView> goals;
  std::vector<v1::DealThreadView> deals;
  std::vector<v1::DocumentEntry> documents;  // with their text: written back as they were imported
  std::vector<v1::CampaignView> campaigns;
  std::vector<v1::SegmentStrategy> segments;
};

// Workspace-relative path -> the file's text.
using WorkspaceFiles = std::map<std::string, std::string>;
// Workspace-relative path -> its business date, for files whose text cannot say it (a
// document, a narrative): written as the file's modification time, which import reads back.
using FileDates = std::map<std::string, Micros>;

WorkspaceFiles render_workspace(const LedgerAtTime& ledger, FileDates* dates = nullptr);

// Writes `files` under `dir`, each to a temporary file renamed into place (a reader sees the
// old file or the new one, never half), modified at its date in `dates` if it has one. `dir`
// must be missing or empty unless `force`: already_exists naming it otherwise. `kinds` makes a
// file executable (mode 0755 before the umask) or a symbolic link (its text the target).
using FileKinds = std::map<std::string, v1::FileKind>;
Status write_workspace(const std::string& dir, const WorkspaceFiles& files, bool force, const FileDates& dates = {},
                       const FileKinds& kinds = {});

// The same, a file at a time, from any number of threads (checkout writes each file as soon
// as it has read it): begin checks the folder and every path first (nothing written when one
// is refused), write writes one file (into a temporary beside it over an existing folder),
// finish syncs and renames. Dropped before finish, what it wrote is removed.
class WorkspaceWriter {
 public:
  static Result<std::unique_ptr<WorkspaceWriter>> begin(const std::string& dir, const std::vector<std::string>& paths, bool force);
  ~WorkspaceWriter();
  Status write(const std::string& rel, const std::string& bytes, v1::FileKind kind, std::optional<Micros> date);
  Status finish();

 private:
  WorkspaceWriter() = default;
  void discard();
  std::string dir_;
  bool fresh_ = false;      // the folder was new or empty: files are written in place
  bool made_root_ = false;  // it was new
  bool finished_ = false;
  std::mutex mu_;
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> renames_;  // temporary -> final
};

}  // namespace leanos::bridge
