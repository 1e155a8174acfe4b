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

// The synthetic sales history of `bench replay` (deals every 20 minutes of business time from
// 2024, 5 % of events recorded late), appended to `es` until it holds `events` more.
Status generate_history(store::EventStore& es, std::uint64_t events);

}  // namespace leanos::cli
