// `leanos serve` and the gRPC client commands (`leanos subscribe --server`).
#pragma once

#include "tools/cli.h"

namespace leanos::cli {

void add_server_commands(CLI::App& app, GlobalOptions& global, Action& action);

}  // namespace leanos::cli
