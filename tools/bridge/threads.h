// The sales deal threads of a LeanOS workspace (`threads/sales/{deal}/`: meta.json and the
// stage files in every style LeanOS wrote them), read as the ledger's commands with the
// conventions of tools/bridge/workspace.h: dated by the files, ids derived from path and
// content, what a file does not state recorded as unknown with a warning, problems by file
// and line. A learning's new hypotheses go to `ws.proposed`, for the canvas.
#pragma once

#include <filesystem>
#include <string>

#include "tools/bridge/workspace.h"

namespace leanos::bridge {

// One deal thread folder as one unit; `fallback_date` dates a stage file without a date (a
// git commit's), with a warning.
Unit read_thread(const std::filesystem::path& root, const std::filesystem::path& folder, const std::string& actor, Micros fallback_date,
                 Workspace& ws);

}  // namespace leanos::bridge
