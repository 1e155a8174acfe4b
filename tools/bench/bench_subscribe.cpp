// leanos bench subscribe: live delivery latency and catch-up over gRPC, against the service
// running in this process on loopback.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "leanos/v1/api.grpc.pb.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/grpc_reader.h"
#include "tools/server/server.h"

namespace leanos::cli {

namespace {

using v1::Envelope;

struct SubscribeRow {
  int subscribers = 0;
  int rate = 0;
  std::uint64_t delivered = 0;
  double p50_ms = 0, p99_ms = 0;
};

// Subscribers read from now on; one appender appends at `rate` events/s (one append per
// millisecond) for `seconds`; latency = receipt - the append's acknowledgement.
Result<SubscribeRow> subscribe_row(store::EventStore& es, v1::Ledger::Stub& stub, int subscribers, int rate, double seconds) {
  using Clock = std::chrono::steady_clock;
  const std::uint64_t start = es.last_position();
  const auto total = static_cast<std::uint64_t>(rate * seconds);
  std::vector<Clock::time_point> acked(total + 1);
  std::vector<std::unique_ptr<BenchReader>> readers;
  for (int i = 0; i < subscribers; ++i) readers.push_back(std::make_unique<BenchReader>(stub, start, total, "bench-sub"));
  const int per_ms = std::max(1, rate / 1000);
  auto next = Clock::now();
  for (std::uint64_t sent = 0; sent < total;) {
    std::vector<Envelope> batch(static_cast<std::size_t>(std::min<std::uint64_t>(per_ms, total - sent)));
    for (auto& e : batch) {
      e.set_type("BenchEvent");
      e.mutable_generic()->set_blob(std::string(100, 'b'));
    }
    auto r = es.append("bench-sub", store::ExpectedVersion::any(), std::move(batch));
    if (!r) return r.status();
    const auto now = Clock::now();
    for (auto p : r->positions) acked[p - start] = now;
    sent += r->positions.size();
    next += std::chrono::microseconds(1000 * per_ms * 1000 / std::max(rate, 1000));
    std::this_thread::sleep_until(next);
  }
  SubscribeRow row{subscribers, rate, 0, 0, 0};
  std::vector<double> latencies;
  for (auto& reader : readers) bench::add_latencies(reader->wait(), acked, latencies);
  row.delivered = latencies.size();
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    row.p50_ms = latencies[latencies.size() / 2];
    row.p99_ms = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return row;
}

int bench_subscribe(const GlobalOptions& g, std::string dir, std::uint64_t catchup_events) {
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-subscribe-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::vector<SubscribeRow> rows;
  double catchup_eps = 0, raw_eps = 0;
  {
    auto store = store::EventStore::open(dir);
    if (!store) return fail(store.status());
    auto server = LocalServer::start(**store);
    if (!server) return fail(server.status());
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
    for (auto [subs, rate] : {std::pair{1, 10000}, {10, 10000}, {100, 1000}}) {
      std::fprintf(stderr, "bench: %d subscriber(s) at %d events/s\n", subs, rate);
      auto row = subscribe_row(**store, *stub, subs, rate, 2.0);
      if (!row) return fail(row.status());
      rows.push_back(*row);
    }
    // Catch-up: one subscriber reads a range already in the store, vs the store's own read.
    std::fprintf(stderr, "bench: catch-up over %llu events\n", static_cast<unsigned long long>(catchup_events));
    const std::uint64_t first = (*store)->last_position() + 1;
    for (std::uint64_t done = 0; done < catchup_events; done += 1000) {
      std::vector<Envelope> batch(1000);
      for (auto& e : batch) {
        e.set_type("CatchUp");
        e.mutable_generic()->set_blob(std::string(100, 'c'));
      }
      if (auto r = (*store)->append("bench-catchup", store::ExpectedVersion::any(), std::move(batch)); !r) return fail(r.status());
    }
    const std::uint64_t last = (*store)->last_position();
    auto t0 = std::chrono::steady_clock::now();
    std::uint64_t seen = 0;
    auto s = (*store)->scan(first, last, [&](const Envelope&) { ++seen; return true; });
    if (!s) return fail(s);
    raw_eps = static_cast<double>(seen) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t0 = std::chrono::steady_clock::now();
    BenchReader reader(*stub, first - 1, last - first + 1, "");
    seen = reader.wait().size();
    catchup_eps = static_cast<double>(seen) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (temp) fs::remove_all(dir, ec);
  if (g.json) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::printf("%s{\"subscribers\":%d,\"events_per_second\":%d,\"deliveries\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f}",
                  i ? "," : "", rows[i].subscribers, rows[i].rate, static_cast<unsigned long long>(rows[i].delivered),
                  rows[i].p50_ms, rows[i].p99_ms);
    std::printf(",{\"catchup_eps\":%.0f,\"raw_read_eps\":%.0f,\"ratio\":%.3f}]\n", catchup_eps, raw_eps, catchup_eps / raw_eps);
    return 0;
  }
  std::printf("live delivery, append acknowledged -> event received (durable appends, loopback gRPC)\n");
  std::printf("%-12s %-12s %-12s %-9s %-9s\n", "subscribers", "events/s", "deliveries", "p50 ms", "p99 ms");
  for (const auto& r : rows)
    std::printf("%-12d %-12d %-12llu %-9.3f %-9.3f\n", r.subscribers, r.rate, static_cast<unsigned long long>(r.delivered),
                r.p50_ms, r.p99_ms);
  std::printf("catch-up: one subscriber %.0f events/s vs the store's own read %.0f events/s, ratio %.2f (goal >= 0.5)\n",
              catchup_eps, raw_eps, catchup_eps / raw_eps);
  return 0;
}

}  // namespace

void add_bench_subscribe(CLI::App* bench, GlobalOptions& g, Action& action) {
  struct Args {
    std::string dir;
    std::uint64_t catchup = 1'000'000;
  };
  auto a = std::make_shared<Args>();
  auto* s = bench->add_subcommand("subscribe", "live delivery latency with 1/10/100 subscribers; catch-up vs raw read");
  s->add_option("--dir", a->dir, "scratch folder (default: a temporary folder, removed after)");
  s->add_option("--catchup-events", a->catchup, "events for the catch-up measurement (default 1000000)");
  s->callback([&, a] { action = [&g, a] { return bench_subscribe(g, a->dir, a->catchup); }; });
}

}  // namespace leanos::cli
