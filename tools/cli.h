// Shared plumbing of the `leanos` CLI: global options, store opening, output and errors.
//
// User-facing output goes to stdout; diagnostics and errors to stderr. A command returns
// its exit code: 0 on success, non-zero (see exit_code) when anything was rejected.
#pragma once

#include <CLI/CLI.hpp>
#include <google/protobuf/message.h>

#include <functional>
#include <memory>
#include <string>

#include "events/result.h"
#include "actors/commands.h"
#include "store/event_store.h"

namespace leanos::cli {

struct GlobalOptions {
  std::string data = "data";     // --data, or $LEANOS_DATA
  bool json = false;             // --json: machine-readable output
  std::string actor;             // --actor: who issued the command (default $USER)
  std::string log_level = "warn";
  bool relaxed = false;          // --durability relaxed
  std::string server;            // --server HOST:PORT: talk to a running `leanos serve`
  std::string token_file;        // --token-file: the bearer token for --server
};

// The command chosen on the command line, bound to its parsed options.
using Action = std::function<int()>;

// Each group of commands registers its subcommands; the chosen one stores its action.
void add_store_commands(CLI::App& app, GlobalOptions& global, Action& action);
void add_bench_commands(CLI::App& app, GlobalOptions& global, Action& action);
void add_bench_replay(CLI::App* bench, GlobalOptions& global, Action& action);
void add_domain_commands(CLI::App& app, GlobalOptions& global, Action& action);
// Queries attach to the goal/canvas subcommands: call after add_domain_commands.
void add_query_commands(CLI::App& app, GlobalOptions& global, Action& action);

// The whole file, or not_found naming the path.
Result<std::string> read_text_file(const std::string& path);

int exit_code(Code code);
// Prints "leanos: <kind>: <message>" on stderr and returns the exit code for it.
int fail(const Status& status);

Result<std::unique_ptr<store::EventStore>> open_store(const GlobalOptions& global);

// protobuf's own JSON mapping, snake_case field names, one line.
std::string to_json(const google::protobuf::Message& message);
// Parses protobuf JSON into `message`, naming the field or position on error.
Status from_json(const std::string& text, google::protobuf::Message* message, const std::string& what);

std::string actor_or_default(const GlobalOptions& global);

// Sends a domain command to a running server (--server) and returns what it recorded, as
// stored. Registered by the server module so that the CLI library needs no gRPC.
using RemoteSubmit = std::function<Result<leanos::Handled>(const GlobalOptions&, const v1::Envelope&)>;
void set_remote_submit(RemoteSubmit submit);
const RemoteSubmit& remote_submit();

}  // namespace leanos::cli
