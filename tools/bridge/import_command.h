// `leanos import` and `leanos export`: a LeanOS workspace folder into the ledger
// (tools/bridge/workspace.h reads it) and back out (tools/bridge/export.h writes it).
#pragma once

#include <nlohmann/json.hpp>

#include "tools/cli/cli.h"

namespace leanos::cli {

// Some facts could not be read or were refused by the rules; the rest was recorded. (10, the
// code the issue suggested, already means "the server wants a token".)
inline constexpr int kExitImportIncomplete = 13;
// Everything readable was recorded, but a file now says otherwise than a fact the ledger
// recorded (a verdict rewritten): the ledger kept its fact, the report names both. An agent
// loop tells this apart from success (0) and from skipped facts (13, which wins).
inline constexpr int kExitImportConflicts = 14;
// Everything was recorded, and nothing disagrees, but reading had to assume something: a field
// a file did not state (recorded as unknown), a date taken from elsewhere, bytes read as
// Windows-1252. The report names each; `--strict` refuses such facts instead (then 13).
inline constexpr int kExitImportWarnings = 15;

void add_import_commands(CLI::App& app, GlobalOptions& global, Action& action);
// What reads a workspace folder for a LocalLedger (Ledger::import_folder): the files layer
// first (every file as written), then the facts its files state, through the ledger's runtime
// (none for a dry run).
LocalLedger::Importer importer();
// The report as `import` prints it (quiet: only what has something to say, then the summary
// line; --json: the report whole); returns its exit code. `leanos watch` prints each sync so.
int print_import(const GlobalOptions& g, const v1::ImportReport& report, bool quiet);
// As `import --json` prints it: every count and list, zero and empty too.
nlohmann::json report_json(const v1::ImportReport& report);
// `leanos watch DIR` (tools/bridge/watch.cpp).
void add_watch_command(CLI::App& app, GlobalOptions& global, Action& action);
// `leanos export` (tools/bridge/export_command.cpp).
void add_export_command(CLI::App& app, GlobalOptions& global, Action& action);
// `leanos files …` and `leanos checkout` (tools/bridge/files_command.cpp).
void add_files_commands(CLI::App& app, GlobalOptions& global, Action& action);

}  // namespace leanos::cli
