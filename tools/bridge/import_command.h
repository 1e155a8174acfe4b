// `leanos import` and `leanos export`: a LeanOS workspace folder into the ledger
// (tools/bridge/workspace.h reads it) and back out (tools/bridge/export.h writes it).
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "tools/cli/cli.h"

namespace leanos {
class Runtime;
}

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
// One import of the folder `dir` into an open store through its actor runtime (no runtime: a
// dry run, against the store if there is one), the report printed (quiet: only what changed,
// then the summary line); import's exit code. `leanos watch` runs it after each settled change.
int import_into(const GlobalOptions& g, store::EventStore* store, Runtime* runtime, const std::string& dir, bool strict, bool quiet);
// Told before each unit of an import is recorded: how many are done, of how many, and its name.
using ImportProgress = std::function<void(std::size_t done, std::size_t total, const std::string& unit)>;
// The same import, nothing printed: its report as `import --json` prints it, with its
// "exit_code" (0, 13, 14, 15). For the MCP server's import tool.
Result<nlohmann::json> import_report(const GlobalOptions& g, store::EventStore& store, Runtime& runtime, const std::string& dir, bool strict,
                                     const ImportProgress& progress);
// `leanos watch DIR` (tools/bridge/watch.cpp).
void add_watch_command(CLI::App& app, GlobalOptions& global, Action& action);
// `leanos export` (tools/bridge/export_command.cpp).
void add_export_command(CLI::App& app, GlobalOptions& global, Action& action);
// `leanos files …` and `leanos checkout` (tools/bridge/files_command.cpp).
void add_files_commands(CLI::App& app, GlobalOptions& global, Action& action);

}  // namespace leanos::cli
