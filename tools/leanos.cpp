// leanos: the LeanOS Ledger command line.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "tools/cli.h"
#include "tools/server.h"

int main(int argc, char** argv) {
  using namespace leanos::cli;
  CLI::App app{"LeanOS Ledger: the LeanOS sales workflow as an immutable event log", "leanos"};
  app.require_subcommand(1);
  // Global options may stand before or after the subcommand.
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--data", global.data, "data folder of the workspace (default ./data)")
      ->envname("LEANOS_DATA");
  app.add_flag("--json", global.json, "machine-readable output");
  app.add_option("--actor", global.actor, "who issues the command (human, agent or skill)");
  app.add_option("--log-level", global.log_level, "trace|debug|info|warn|error (stderr)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--server", global.server, "HOST:PORT of a running `leanos serve`: record commands through it");
  app.add_option("--token-file", global.token_file, "bearer token for --server");
  app.add_flag("--relaxed", global.relaxed,
               "do not fsync each group commit (faster; survives kill -9 but not power loss)");

  Action action;
  add_domain_commands(app, global, action);
  add_query_commands(app, global, action);
  add_store_commands(app, global, action);
  add_bench_commands(app, global, action);
  add_server_commands(app, global, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto logger = spdlog::stderr_color_mt("leanos");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(global.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  if (!action) {
    std::cerr << app.help();
    return 2;
  }
  return action();
}
