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
#include "actors/ledger.h"
#include "store/event_store.h"
#include "leanos/v1/query.pb.h"

namespace leanos::cli {

struct GlobalOptions {
  std::string data = "data";     // --data, or $LEANOS_DATA
  bool json = false;             // --json: machine-readable output
  std::string actor;             // --actor: who issued the command (default $USER)
  std::string log_level = "warn";
  bool relaxed = false;          // --durability relaxed
  std::string server;            // --server HOST:PORT: talk to a running `leanos serve`
  std::string token_file;        // --token-file: the bearer token for --server
  std::string master_key_file;   // --master-key-file, or $LEANOS_MASTER_KEY_FILE
  std::string workspace;         // --workspace: which workspace of a server hosting many; also the relay's name for it
  // How the binary reaches --server (tools/server/client.h sets it): the CLI library has no gRPC.
  std::function<Result<std::unique_ptr<Ledger>>(const GlobalOptions&)> connect;
  // What reads a workspace folder into a ledger of this process (tools/bridge; the binary's
  // main gives it): every LocalLedger open_ledger opens imports with it.
  LocalLedger::Importer importer;
  // Set: recording commands hand their command envelopes here instead of recording them (and
  // may be dated in the future): `whatif --with 'COMMAND'`.
  std::vector<Envelope>* capture = nullptr;
};

// The command chosen on the command line, bound to its parsed options.
using Action = std::function<int()>;

// Each group of commands registers its subcommands; the chosen one stores its action.
void add_store_commands(CLI::App& app, GlobalOptions& global, Action& action);
void add_domain_commands(CLI::App& app, GlobalOptions& global, Action& action);
// Queries attach to the goal/canvas subcommands: call after add_domain_commands.
void add_query_commands(CLI::App& app, GlobalOptions& global, Action& action);
// `leanos whatif` (tools/cli/whatif_command.cpp).
void add_whatif_command(CLI::App& app, GlobalOptions& global, Action& action);

// The whole file as UTF-8: transcoded from `encoding` (any name iconv knows), a byte order
// mark dropped. not_found naming the path, or invalid_argument naming the line and column of
// the first byte that is not text in that encoding.
Result<std::string> read_text_file(const std::string& path, const std::string& encoding = "utf-8");

int exit_code(Code code);
// Prints "leanos: <kind>: <message>" on stderr and returns the exit code for it.
int fail(const Status& status);

// User-facing output (printf-like) on stdout.
void out(const char* format, ...) __attribute__((format(printf, 1, 2)));

// The command's open store.
using StoreRef = std::unique_ptr<store::EventStore>;

// `read`: an existing workspace only (not_found says how to make one), opened for writing
// all the same (a server's workspaces, relay checkpoints, forget); commands that record
// create it when the folder holds none, and say so on stderr.
// `build`: a command whose purpose is a new folder (restore) creates it without the note.
// `only_read`: a command that reads and never writes (views, log, files, checkout, export,
// verify) opens the folder for reading only (StoreOptions::read_only): nothing is written to
// it, other readers share it, and it opens in a third of the time.
enum class Access { read, record, build, only_read };
Result<StoreRef> open_store(const GlobalOptions& global, Access access = Access::read);

// protobuf's own JSON mapping, snake_case field names, one line.
std::string to_json(const google::protobuf::Message& message);
// Parses protobuf JSON into `message`, naming the field or position on error.
Status from_json(const std::string& text, google::protobuf::Message* message, const std::string& what);

std::string actor_or_default(const GlobalOptions& global);

// The bearer token in the first line of a token file (trailing spaces and CR dropped).
Result<std::string> read_token(const std::string& path);

// The workspace every command talks to: with --server the running server's (through
// `connect`), else the data folder's, opened for `access`.
Result<std::unique_ptr<Ledger>> open_ledger(const GlobalOptions& global, Access access = Access::read);

// Answers a query: locally (the data folder, through the query layer) or with --server
// remotely. Prints the typed view as text, or with --json as JSON; returns the exit code.
int query(const GlobalOptions& global, const v1::QueryRequest& request);
// The same answer, for a command that needs to know something first.
Result<v1::QueryReply> ask(const GlobalOptions& global, const v1::QueryRequest& request);

}  // namespace leanos::cli
