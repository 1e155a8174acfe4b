// leanos bench whatif: a scenario removing one deal from about a month before the end of the
// generated history (bench replay's), read on the branch: canvas, goal and today, p50/p99,
// beside the same view in reality (the query a branch is compared with), in process.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <random>

#include "actors/ledger.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"

namespace leanos::cli {

namespace {

namespace fs = std::filesystem;
using bench::Clock;
using bench::percentile;

struct WhatIfRow {
  std::uint64_t events = 0;
  struct View {
    std::string name;
    double reality_p50 = 0, reality_p99 = 0, branch_p50 = 0, branch_p99 = 0;
  };
  std::vector<View> views;
};

Result<WhatIfRow> measure(const std::string& dir, std::uint64_t events, int calls) {
  auto es = store::EventStore::open(dir, store::StoreOptions{});
  if (!es) return es.status();
  LocalLedger ledger(std::move(*es));
  // The newest deal, and the ones opened about a month of business time before it (a deal
  // every 20 minutes: 72 a day).
  const std::uint64_t end = ledger.store().last_position();
  auto tail = ledger.store().read_all(end > 1000 ? end - 1000 : 1, 1000);
  if (!tail) return tail.status();
  std::uint64_t newest = 0;
  for (const auto& e : *tail)
    if (e.stream().rfind("deal-d", 0) == 0) newest = std::max<std::uint64_t>(newest, std::stoull(e.stream().substr(6)));
  const std::uint64_t month = 30 * 72;
  if (newest < month + 100) return Status::invalid("bench whatif: a history of at least ~50 000 events (a month and more of deals)");
  std::mt19937_64 rng(7);
  WhatIfRow row{events, {}};
  for (const char* view : {"canvas", "goal", "today"}) {
    std::vector<double> reality, branch;
    for (int i = 0; i < calls; ++i) {
      v1::WhatIfRequest request;
      if (std::string(view) == "canvas") request.mutable_query()->mutable_canvas();
      else if (std::string(view) == "goal") request.mutable_query()->mutable_goal()->set_goal_id("g-mrr");
      else request.mutable_query()->mutable_today();
      request.add_without()->set_deal_id("d" + std::to_string(newest - month + rng() % 100));
      auto t0 = Clock::now();
      auto real = ledger.query(request.query());
      if (!real) return real.status();
      reality.push_back(bench::seconds_since(t0) * 1e3);
      t0 = Clock::now();
      auto answer = ledger.what_if(request);
      if (!answer) return answer.status();
      branch.push_back(bench::seconds_since(t0) * 1e3);
    }
    row.views.push_back({view, percentile(reality, 0.5), percentile(reality, 0.99), percentile(branch, 0.5), percentile(branch, 0.99)});
  }
  return row;
}

int run_bench_whatif(const GlobalOptions& g, std::string dir, const std::vector<std::uint64_t>& sizes, int calls) {
  std::vector<WhatIfRow> rows;
  auto s = on_histories(dir, "whatif", sizes, [&](const std::string& data, std::uint64_t events) -> Status {
    auto row = measure(data, events, calls);
    if (!row) return row.status();
    rows.push_back(*row);
    return Status::success();
  });
  if (!s) return fail(s);
  if (g.json) {
    auto a = nlohmann::json::array();
    for (const auto& r : rows)
      for (const auto& v : r.views)
        a.push_back({{"events", r.events}, {"view", v.name}, {"reality_p50_ms", v.reality_p50}, {"reality_p99_ms", v.reality_p99},
                     {"branch_p50_ms", v.branch_p50}, {"branch_p99_ms", v.branch_p99}});
    std::printf("%s\n", nlohmann::json{{"calls", calls}, {"rows", a}}.dump().c_str());
    return 0;
  }
  std::printf("what if without one deal from a month before the end, %d calls each (ms), in process\n", calls);
  std::printf("%10s %8s %12s %12s %12s %12s\n", "events", "view", "reality p50", "reality p99", "branch p50", "branch p99");
  for (const auto& r : rows)
    for (const auto& v : r.views)
      std::printf("%10llu %8s %12.2f %12.2f %12.2f %12.2f\n", static_cast<unsigned long long>(r.events), v.name.c_str(), v.reality_p50,
                  v.reality_p99, v.branch_p50, v.branch_p99);
  std::printf("goal: branch p99 <= 100 ms at 1 M events, growing with the events after the change, not with the log\n");
  return 0;
}

}  // namespace

void add_bench_whatif(CLI::App* bench, GlobalOptions& g, Action& action) {
  struct Args {
    std::vector<std::uint64_t> sizes{100000, 1000000};
    int calls = 50;
    std::string dir;
  };
  auto a = std::make_shared<Args>();
  auto* s = bench->add_subcommand("whatif", "what if without one deal of a month ago: canvas, goal, today on the branch beside reality");
  s->add_option("--events", a->sizes, "history sizes (default 100000 1000000)");
  s->add_option("--calls", a->calls, "scenarios per view (default 50)")->check(CLI::Range(1, 100000));
  s->add_option("--dir", a->dir, "where the histories go (default a temporary folder, removed after)");
  s->callback([&g, &action, a] { action = [&g, a] { return run_bench_whatif(g, a->dir, a->sizes, a->calls); }; });
}

}  // namespace leanos::cli
