// leanos bench append: durable append throughput and latency against raw synced RocksDB.
//
// Every figure is printed beside a baseline measured in the same run on the same disk,
// because these machines are shared and absolute numbers drift.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "store/keys.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/bench.h"

namespace leanos::cli {

namespace {

using bench::Clock;
using bench::percentile;
using bench::seconds_since;

struct AppendRow {
  int events_per_append;
  int appenders;
  std::size_t events;
  double store_eps;
  double raw_eps;
  double p50_ms;
  double p99_ms;
  double group_size;  // appends per group commit (per fsync)
};

// The baseline: one thread writing `events` 100-byte values in synced WriteBatches of
// `per_batch`, with 8-byte big-endian keys, into a fresh RocksDB.
Result<double> raw_rocksdb_eps(const std::string& dir, std::size_t events, int per_batch) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return Status::io("bench: opening raw RocksDB: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(100, 'x');
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto t0 = Clock::now();
  std::uint64_t key = 0;
  for (std::size_t done = 0; done < events;) {
    rocksdb::WriteBatch batch;
    for (int i = 0; i < per_batch && done < events; ++i, ++done) batch.Put(store::be64(++key), value);
    if (auto w = db->Write(wo, &batch); !w.ok()) return Status::io("bench: raw write: " + w.ToString());
  }
  return static_cast<double>(events) / seconds_since(t0);
}

Result<AppendRow> store_row(const std::string& dir, std::size_t events, int per_append, int appenders) {
  auto opened = store::EventStore::open(dir);
  if (!opened) return opened.status();
  auto& es = **opened;
  const std::size_t appends_each = std::max<std::size_t>(1, events / static_cast<std::size_t>(per_append * appenders));
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(appenders));
  std::atomic<bool> failed{false};
  std::string payload(100, 'p');
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      auto& lat = latencies[static_cast<std::size_t>(t)];
      lat.reserve(appends_each);
      for (std::size_t i = 0; i < appends_each && !failed; ++i) {
        std::vector<store::Envelope> batch(static_cast<std::size_t>(per_append));
        for (auto& e : batch) {
          e.set_type("BenchEvent");
          e.mutable_generic()->set_blob(payload);
        }
        const auto a0 = Clock::now();
        auto r = es.append("bench-" + std::to_string(t) + "-" + std::to_string(i), store::ExpectedVersion::no_stream(),
                           std::move(batch));
        lat.push_back(seconds_since(a0) * 1000.0);
        if (!r) failed = true;
      }
    });
  }
  for (auto& th : threads) th.join();
  const double elapsed = seconds_since(t0);
  if (failed) return Status::io("bench: an append failed");
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const std::size_t total = appends_each * static_cast<std::size_t>(per_append * appenders);
  const auto stats = es.stats();
  return AppendRow{per_append, appenders, total, static_cast<double>(total) / elapsed, 0,
                   percentile(all, 0.50), percentile(all, 0.99),
                   static_cast<double>(stats.appends) / static_cast<double>(std::max<std::uint64_t>(stats.groups, 1))};
}

int run_bench_append(const GlobalOptions& global, std::string dir, double scale) {
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return fail(Status::io("bench: cannot create " + dir + ": " + ec.message()));

  std::vector<AppendRow> rows;
  int n = 0;
  for (int per_append : {1, 10, 100}) {
    const auto events = static_cast<std::size_t>(scale * (per_append == 1 ? 4000 : per_append == 10 ? 20000 : 100000));
    for (int appenders : {1, 4, 16}) {
      const std::string sdir = dir + "/store-" + std::to_string(++n);
      const std::string rdir = dir + "/raw-" + std::to_string(n);
      auto row = store_row(sdir, events, per_append, appenders);
      if (!row) return fail(row.status());
      auto raw = raw_rocksdb_eps(rdir, row->events, per_append);
      if (!raw) return fail(raw.status());
      row->raw_eps = *raw;
      rows.push_back(*row);
      fs::remove_all(sdir, ec);
      fs::remove_all(rdir, ec);
      std::fprintf(stderr, "bench: %d x %d done\n", per_append, appenders);
    }
  }
  if (temp) fs::remove_all(dir, ec);

  if (global.json) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      std::printf("%s{\"events_per_append\":%d,\"appenders\":%d,\"events\":%zu,\"store_eps\":%.0f,"
                  "\"raw_eps\":%.0f,\"ratio\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"appends_per_group\":%.2f}",
                  i ? "," : "", r.events_per_append, r.appenders, r.events, r.store_eps, r.raw_eps,
                  r.store_eps / r.raw_eps, r.p50_ms, r.p99_ms, r.group_size);
    }
    std::printf("]\n");
    return 0;
  }
  std::printf("durable append (sync per group commit), 100-byte payloads, distinct streams\n");
  std::printf("%-14s %-9s %-8s %-11s %-11s %-6s %-8s %-8s %-6s\n", "events/append", "appenders", "events",
              "store ev/s", "raw ev/s", "ratio", "p50 ms", "p99 ms", "group");
  for (const auto& r : rows)
    std::printf("%-14d %-9d %-8zu %-11.0f %-11.0f %-6.2f %-8.3f %-8.3f %-6.1f\n", r.events_per_append, r.appenders,
                r.events, r.store_eps, r.raw_eps, r.store_eps / r.raw_eps, r.p50_ms, r.p99_ms, r.group_size);
  const double one = rows[0].store_eps, sixteen = rows[2].store_eps;
  std::printf("group commit: 16 appenders of 1 event reach %.1fx the throughput of 1 appender (goal >= 8x)\n",
              sixteen / one);
  std::printf("with 100 events per append, store/raw = %.2f (goal >= 0.4)\n", rows[6].store_eps / rows[6].raw_eps);
  std::printf("single durable append: p50 %.3f ms, p99 %.3f ms (goal p99 <= 2 ms)\n", rows[0].p50_ms, rows[0].p99_ms);
  return 0;
}

}  // namespace

void add_bench_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto* bench = app.add_subcommand("bench", "measure throughput and latency against raw baselines");
  bench->require_subcommand(1);
  struct Args {
    std::string dir;
    double scale = 1.0;
  };
  auto args = std::make_shared<Args>();
  auto* append = bench->add_subcommand("append", "durable append throughput and latency vs raw RocksDB");
  append->add_option("--dir", args->dir, "scratch folder (default: a temporary folder, removed after)");
  append->add_option("--scale", args->scale, "multiply the event counts (default 1)")->check(CLI::PositiveNumber);
  append->callback([&, args] { action = [&global, args] { return run_bench_append(global, args->dir, args->scale); }; });
  add_bench_replay(bench, global, action);
  add_bench_subscribe(bench, global, action);
  add_bench_import(bench, global, action);
  add_bench_http(bench, global, action);
}

}  // namespace leanos::cli
