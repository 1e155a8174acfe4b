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

// A cell of the append grid: events per append x appenders (clients over gRPC).
struct GridCell {
  int events_per_append = 1;
  int appenders = 1;
};
// "1x1,10x16": the cells named, or an error naming the one that is not NxM.
Result<std::vector<GridCell>> parse_grid(const std::string& text, const std::vector<GridCell>& all);
// Events per cell at scale 1: 4 000, 20 000 and 100 000 for 1, 10 and 100 events per append.
std::size_t grid_events(int events_per_append, double scale);

// `bench append --server` and its client processes (tools/bench/bench_append_server.cpp).
int run_bench_append_server(const GlobalOptions& global, const std::string& dir, double scale, int payload,
                            const std::vector<GridCell>& cells);
int run_bench_append_client(const std::string& target, int clients, int per_append, std::size_t appends, int payload,
                            const std::string& prefix);
// The raw baseline of `bench append`: synced (or not) WriteBatches of `per_batch` values.
Result<double> bench_raw_rocksdb(const std::string& dir, std::size_t events, int per_batch, int payload, bool sync);

// The synthetic sales history of `bench replay` (deals every 20 minutes of business time from
// 2024, 5 % of events recorded late), appended to `es` until it holds `events` more.
Status generate_history(store::EventStore& es, std::uint64_t events);

}  // namespace leanos::cli
