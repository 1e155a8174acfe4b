// `leanos mcp`: the Model Context Protocol over stdio, on the data folder or a running server.
#pragma once

#include <cstdio>

#include "tools/cli/cli.h"
#include "tools/mcp/server.h"

namespace leanos::mcp {

// The largest message read from a client; a longer line is answered with an error and dropped.
inline constexpr std::size_t kMaxMessageBytes = 4 << 20;

// Serves one client: newline-delimited JSON-RPC messages from `in`, answers and notifications
// to `out`, until `in` ends or `out` is closed. Returns 0.
int serve_stdio(Ledger& ledger, const Options& options, int in, std::FILE* out);

void add_mcp_command(CLI::App& app, cli::GlobalOptions& global, cli::Action& action);

}  // namespace leanos::mcp
