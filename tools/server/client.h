// `leanos subscribe` and every command's --server path (the gRPC client side).
#pragma once

#include "tools/cli/cli.h"

namespace leanos::cli {

// Registers `subscribe` and the remote paths of commands, queries, append and log.
void add_client_commands(CLI::App& app, GlobalOptions& global, Action& action);

}  // namespace leanos::cli
