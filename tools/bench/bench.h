// `leanos bench`: performance targets, measured by commands, never asserted in a timed test.
#pragma once

#include "tools/cli/cli.h"

namespace leanos::cli {

// `bench append`, `bench replay`, `bench subscribe` and `bench import`.
void add_bench_commands(CLI::App& app, GlobalOptions& global, Action& action);
void add_bench_replay(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_subscribe(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_import(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_http(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_relay(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_workspaces(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_mcp(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_whatif(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_crash(CLI::App* bench, GlobalOptions& global, Action& action);
void add_bench_floor(CLI::App* bench, GlobalOptions& global, Action& action);

// A cell of the append grid: events per append x appenders (clients over gRPC).
struct GridCell {
  int events_per_append = 1;
  int appenders = 1;
};
// "1x1,10x16": the cells named, or an error naming the one that is not NxM.
Result<std::vector<GridCell>> parse_grid(const std::string& text, const std::vector<GridCell>& all);
// Events per cell at scale 1: 4 000, 20 000 and 100 000 for 1, 10 and 100 events per append.
std::size_t grid_events(int events_per_append, double scale);

// One cell's measurement. Over gRPC the store's group size is not seen: group_size 0.
struct AppendRow {
  int events_per_append = 0;
  int appenders = 0;  // threads in process, clients over gRPC
  std::size_t events = 0;
  double store_eps = 0;
  double raw_eps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double group_size = 0;  // appends per group commit (per fsync)
  double own_groups = 0;  // share of the groups an appender committed itself (StoreStats::own_groups)
  double sealed_eps = 0;  // in process: the same cell with personal events, each sealed, a new person each
  double sealed_known_eps = 0;  // the same, naming people already recorded
  double clear_eps = 0;  // the same contact events with their text in fields that are not personal: nothing sealed
  double raw_group_eps = 0;  // in process, appenders > 1: raw RocksDB written by as many threads (its own write group)
  // Over gRPC: the same cell against the floor (`bench floor-serve`: the server's reactors
  // over a synced file, group-committed alike), in the same run.
  double floor_eps = 0, floor_p50_ms = 0, floor_p99_ms = 0;
  // In process: the process's CPU time per event (µs, all threads) for generic events,
  // contacts in clear, new and known people sealed: what sealing costs, apart from how the
  // cores were shared.
  double cpu_us = 0, clear_cpu_us = 0, sealed_cpu_us = 0, sealed_known_cpu_us = 0;
};

// A cell of `bench append --server` (tools/bench/bench_append_server.cpp): a `leanos serve`
// child on `dir` (or, `floor`, a `leanos bench floor-serve` child), its clients in separate
// processes; and those client processes.
// With `workspaces` > 0 the server hosts that many workspaces (serve --workspaces; made
// under `dir`), client k appends to workspace "w<k mod workspaces>", and each client makes one
// append before the start (opening its workspace) that is not counted.
Result<AppendRow> bench_server_row(const GlobalOptions& global, const std::string& dir, std::size_t events, int per_append,
                                   int clients, int payload, int workspaces = 0, int window = 0, bool floor = false);
// Which workspaces a client process's clients name (count 0: none, one data folder served):
// its client c appends to "w<(first + c) mod count>" with the token dir/w<k>.token.
struct ClientWorkspaces {
  std::string dir;
  int count = 0;
  int first = 0;
};
// `window` > 0: each client sends its appends over one AppendStream call, up to `window` of
// them unanswered (1: it waits for each answer, as with Append); 0: one Append call each.
int run_bench_append_client(const std::string& target, int clients, int per_append, std::size_t appends, int payload,
                            const std::string& prefix, const ClientWorkspaces& workspaces, int window = 0);
// The raw baseline of `bench append`: synced (or not) WriteBatches of `per_batch` values.
Result<double> bench_raw_rocksdb(const std::string& dir, std::size_t events, int per_batch, int payload, bool sync, int writers = 1);

// The synthetic sales history of `bench replay` (deals every 20 minutes of business time from
// 2024, 5 % of events recorded late), appended to `es` until it holds `events` more.
Status generate_history(store::EventStore& es, std::uint64_t events);
// That history in a new data folder `dir`, compacted, folded once with snapshots written.
Status prepare_history(const std::string& dir, std::uint64_t events);
// `measure(data folder, events)` on such a history of each size, made under `dir` (none: a
// temporary folder named after `name`, removed after).
Status on_histories(std::string dir, const std::string& name, const std::vector<std::uint64_t>& sizes,
                    const std::function<Status(const std::string& data, std::uint64_t events)>& measure);

}  // namespace leanos::cli
