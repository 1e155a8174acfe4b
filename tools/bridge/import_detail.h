// What `leanos import` (import_command.cpp) and `import --git` (import_git.cpp) share: the
// report of a folder's import, recording a folder through the rules, the report's lines.
// Internal to tools/bridge.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime.h"
#include "tools/bridge/files_import.h"
#include "tools/bridge/import_command.h"
#include "tools/bridge/reading.h"
#include "tools/bridge/workspace.h"

namespace leanos::cli::import_detail {

struct UnitReport {
  std::string name;
  // recorded | partial (some facts skipped) | unchanged | conflict | skipped (nothing
  // recorded, some facts skipped) | would record
  std::string status;
  std::size_t events = 0;
  std::vector<bridge::Problem> problems;  // the facts skipped, and why
  std::vector<bridge::Problem> conflicts;
  std::vector<bridge::Problem> warnings;  // what reading the facts recorded (or to record) assumed
  std::vector<bridge::Problem> corrected;  // recorded facts a file rewrote, corrected (--accept-files)
};

// One folder's import: what each unit did, and what the workspace as a whole says.
struct FolderImport {
  std::vector<UnitReport> reports;
  std::vector<bridge::Problem> refused, disagreements;
  std::vector<std::string> placeholders;
  std::size_t files_read = 0, recorded = 0, skipped = 0;
  std::size_t conflicts = 0;  // facts a file tells otherwise than the ledger recorded them
  std::size_t corrected = 0;  // of those, corrected as the file tells them (--accept-files)
  std::size_t warnings = 0;
};

struct ImportOptions {
  bridge::ReadOptions read;
  std::map<std::string, std::string> metadata;  // into every recorded command's envelope (the git commit)
  bool strict = false;  // a fact whose reading had to assume something is skipped, not recorded
  bool accept_files = false;  // a fact a file rewrote is corrected as the file tells it (not a conflict)
  // The files the files layer found deleted (a git commit's, or gone from the folder): a
  // document in force at such a path is removed, dated then.
  std::vector<std::string> deleted;
  Micros deleted_at = 0;
  std::function<void(std::size_t, std::size_t, const std::string&)> progress;  // told before each unit (a thread, the canvas, a document)
};

// Reads `dir` and records what is new through `runtime` (none: a dry run).
Result<FolderImport> import_folder(store::EventStore* store, Runtime* runtime, const std::string& dir, const ImportOptions& opts);

// 13 when facts were skipped (it wins), 14 when a file disagrees with a recorded fact, 15 when
// what was recorded needed an assumption (warnings), else 0.
int exit_of(std::size_t skipped, std::size_t conflicts, std::size_t warnings);
// The report of a folder's import (the files layer's part too), with its exit code.
v1::ImportReport to_report(const FolderImport& f, const bridge::FilesRecorded& files, bool dry_run);
// The files layer's line of the report, and each file it could not keep.
void print_files(const v1::ImportReport& r);

// How much of the report: every unit, those that changed (a git commit's import), or only
// those with something to say (a skipped fact, a warning, a conflict: `watch`).
enum class Detail { every_unit, changed, problems };

// The report's lines, each unit that did something or has something to say, as `detail` asks.
void print_units(const v1::ImportReport& r, Detail detail);

// The store and the runtime an import records through.
struct Opened {
  StoreRef store;
  std::unique_ptr<Runtime> runtime;  // none for a dry run
};
Result<Opened> open_for_import(const GlobalOptions& g, bool dry_run);
// Who recorded an imported fact, as `why` and `audit` say it: the import (and the commit it
// read), or the --actor given for it.
std::string import_actor(const GlobalOptions& g, const std::string& commit);
Result<bridge::FilesHeld> held_files(const Opened& o);

// `import --git` (import_git.cpp).
int run_git_import(const GlobalOptions& g, const std::string& dir, bool dry_run, bool strict, bool accept_files);

}  // namespace leanos::cli::import_detail
