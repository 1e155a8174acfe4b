// leanos: the LeanOS Ledger command line.
#include <absl/synchronization/mutex.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "events/text.h"
#include "tools/bench/bench.h"
#include "tools/bridge/import_command.h"
#include "tools/cli/arguments.h"
#include "tools/cli/cli.h"
#include "tools/mcp/mcp.h"
#include "tools/server/client.h"
#include "tools/server/server.h"

// jemalloc's settings (the binary's allocator, tools/CMakeLists.txt), read once at its start;
// MALLOC_CONF in the environment still overrides them. One arena per CPU instead of four, and
// freed pages handed back to the system after a second instead of ten: with jemalloc's
// defaults a server's resident set grew by 228-237 MiB under the stalled-subscriber test
// (glibc's malloc: 193-201; the test's bound 240), with these by 125-141 MiB, at the same
// as-of and replay speed (bench replay, interleaved). Unused where jemalloc is not linked
// (the sanitizer builds).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "percpu_arena:percpu,dirty_decay_ms:1000,muzzy_decay_ms:0";
}

int main(int argc, char** argv) {
  using namespace leanos::cli;
  // Debian builds Abseil without NDEBUG, so every absl::Mutex of gRPC's kept a lock graph to
  // find deadlocks: 2 % of the CPU of an Append over gRPC (perf), in server and client alike.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"LeanOS Ledger: the LeanOS sales workflow as an immutable event log", "leanos"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("leanos ") + LEANOS_VERSION);
  // Global options may stand before or after the subcommand.
  app.fallthrough();
  GlobalOptions global;
  global.importer = importer();  // LocalLedgers read workspace folders with the bridge
  app.add_option("--data", global.data, "data folder of the workspace (default ./data)")
      ->envname("LEANOS_DATA");
  app.add_flag("--json", global.json, "machine-readable output");
  app.add_option("--actor", global.actor, "who issues the command (human, agent or skill)");
  app.add_option("--log-level", global.log_level, "trace|debug|info|warn|error (stderr)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option("--server", global.server, "HOST:PORT of a running `leanos serve`: record commands through it");
  app.add_option("--token-file", global.token_file, "bearer token for --server");
  app.add_option("--workspace", global.workspace,
                 "the workspace to talk to on a server hosting many (serve --workspaces); the relay's name for it")
      ->envname("LEANOS_WORKSPACE");
  app.add_option("--master-key-file", global.master_key_file,
                 "the workspace's master key, which seals personal data (default <data>.master-key beside the "
                 "folder; created on first use, mode 0600)")
      ->envname("LEANOS_MASTER_KEY_FILE");
  app.add_flag("--relaxed", global.relaxed,
               "do not fsync each group commit (faster; survives kill -9 but not power loss)");
  app.add_option_function<std::string>(
         "--durability", [&global](const std::string& d) { global.relaxed = d == "relaxed"; },
         "sync (default: each group commit is fsynced) or relaxed (the same as --relaxed)")
      ->check(CLI::IsMember({"sync", "relaxed"}));

  Action action;
  add_domain_commands(app, global, action);
  add_query_commands(app, global, action);
  add_whatif_command(app, global, action);
  add_store_commands(app, global, action);
  add_import_commands(app, global, action);
  add_watch_command(app, global, action);
  add_export_command(app, global, action);
  add_files_commands(app, global, action);
  add_bench_commands(app, global, action);
  add_server_commands(app, global, action);
  add_client_commands(app, global, action);
  add_relay_commands(app, global, action);
  leanos::mcp::add_mcp_command(app, global, action);
  add_number_checks(app);
  add_global_options_footer(app);

  // Every argument becomes text in the log or a name to look up: refuse bytes that are not
  // UTF-8 here, naming the option, before anything is opened.
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto bad = leanos::invalid_utf8_at(arg);
    if (!bad) continue;
    std::string what = "argument " + std::to_string(i) + " ('" + std::string(arg.substr(0, *bad)) + "…')";
    if (arg.rfind("--", 0) == 0 && arg.find('=') < *bad) what = "the value of " + std::string(arg.substr(0, arg.find('=')));
    else if (i > 1 && argv[i - 1][0] == '-') what = "the value of " + std::string(argv[i - 1]);
    return fail(leanos::check_utf8(what, arg));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return report_parse_error(app, e, argc, argv);
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
