// A LeanOS workspace folder read as the ledger's commands (../shared/docs/leanos-files.md).
//
// Reading decides nothing: it turns each fact a file states into the command the CLI would
// send (dated with the file's dates, never the import's clock), with an id derived from the
// file's workspace-relative path, the fact and its content, so that reading the same folder
// again gives the same commands. What it cannot read is a problem naming the file, the line
// and what would make it importable; it drops that fact alone. A field a file does not state
// is recorded as unknown (LeadCaptured.unknown, ImplicationAssessed.unknown) and every such
// assumption, or a date taken from elsewhere, is a warning with the fact. The rules decide
// when the commands are recorded (the import command, through the actors), fact by fact.
//
// Every other text file (.md, .yaml, .yml, .json, .csv, .txt; hidden files and .git/ aside)
// is a document, kept verbatim (DocumentWritten), dated by the date it states (**Last
// updated:**, frontmatter or YAML `date`/`updated`/`generated_date`), else by its mtime.
//
// Read so far: the canvas's assumptions (`strategy/canvas/NN-assumptions.md`, also the dotted
// `NN.assumptions.md`), and sales deal threads (`threads/sales/{deal}/`: meta.json, with the
// `# comment` lines LeanOS's docs put in it, and the stage files in the seed era's style:
// `# Input` … `**Date:**`, YAML frontmatter too), campaign threads with their prospect,
// contact, outreach and response lists, ICPs and narratives (tools/bridge/campaigns.h). A
// 0-byte stage file is a placeholder.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "events/domain.h"
#include "events/result.h"

namespace leanos::bridge {

struct Problem {
  std::string file;  // workspace-relative
  int line = 0;      // 0: the file as a whole
  std::string what;  // what could not be read, and what would make it importable
};

struct Fact {
  std::string file;
  int line = 0;
  std::string what;  // "lead", "action sales:demo started", ...
  Envelope command;  // payload, occurred_at, a derived event_id, actor
  // What reading it had to assume: a field the file did not state (recorded as unknown), a
  // date taken from elsewhere (meta.json's created, the git commit). Told when the fact is
  // recorded; `import --strict` refuses the fact instead.
  std::vector<Problem> warnings;
};

// What is read together: the facts of one thread, or of one canvas file. Each fact is
// recorded on its own: a problem drops the fact it spoils (and the rules then refuse the facts
// that depend on it, each named), never the unit's other facts.
struct Unit {
  std::string name;  // "threads/sales/acme-corp", "strategy/canvas/10-assumptions.md"
  std::vector<Fact> facts;
  std::vector<Problem> problems;
  // Where the files disagree with each other (meta.json's stage and the stage files): told,
  // not a reason to skip; the stage files win.
  std::vector<Problem> conflicts;
};

// An assumption's confidence as the canvas file states it now ("95%" of "60% → 95%").
struct StatedConfidence {
  std::string id, file;
  int line = 0;
  int confidence = 0;
  v1::AssumptionStatus status = v1::ASSUMPTION_STATUS_UNSPECIFIED;  // unspecified: the file gives none
  // Where the recorded history gives another confidence or status (an agent edited the canvas, or its
  // learnings are not in the threads): the AssumptionRevised that restates the file's value,
  // dated **Last validated:**. None without that date.
  std::optional<Fact> revision;
};

struct Workspace {
  std::vector<Unit> units;
  std::vector<StatedConfidence> stated;  // to compare with what the recorded history gives        // the canvas first (threads refer to its assumptions), then threads
  std::vector<Problem> refused;   // files not read at all: symlinks, too large, in no encoding read (UTF-8, UTF-16 with a BOM, Windows-1252)
  std::vector<std::string> placeholders;  // 0-byte stage files
  std::size_t files_read = 0;
  std::set<std::string> modeled;  // files read as the ledger's facts; the other text files are documents
  // What reading a file had to assume (its bytes read as Windows-1252): told with the facts
  // recorded from it; `--strict` refuses them.
  std::map<std::string, std::vector<Problem>> warnings_by_file;
  std::vector<Fact> proposed;  // while reading: new hypotheses the threads' learnings state
};

inline constexpr std::size_t kMaxImportFileBytes = 8 << 20;  // 8 MiB: LeanOS's files are a few KB

struct ReadOptions {
  std::string actor;  // who the commands are recorded as
  // The date of a fact whose file gives none (a git commit's date); 0: such a fact is a
  // problem (stage files, goals, assumptions), and a document is dated by its mtime.
  Micros fallback_date = 0;
  // A git commit after the one imported before it: the paths its tree changed. The other
  // text files hold the documents recorded from them then, and are not read again as
  // documents. None: every file is read.
  const std::set<std::string>* changed = nullptr;
};

// not_found for a missing folder; otherwise the workspace as read, problems included.
Result<Workspace> read_workspace(const std::string& dir, const ReadOptions& options);

}  // namespace leanos::bridge
