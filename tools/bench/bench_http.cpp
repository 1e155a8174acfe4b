// leanos bench http: the dashboard's JSON API on a large history (as-of calls over loopback
// HTTP), and live delivery over Server-Sent Events beside the gRPC subscription, both fed by
// the same appends in the same run.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <unistd.h>

#include "actors/ledger.h"
#include "actors/ledger_reader.h"
#include "store/live_feed.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/grpc_reader.h"
#include "tools/server/http.h"
#include "tools/server/server.h"

namespace leanos::cli {

namespace {

using bench::Clock;
using bench::percentile;
struct CallRow {
  std::string endpoint;
  double p50 = 0, p99 = 0;
};

struct LiveRow {
  std::string transport;
  int subscribers = 0;
  std::uint64_t delivered = 0;
  double p50 = 0, p99 = 0;
};

// One SSE reader on its own thread: the receipt time of each position after `start`.
class SseReader {
 public:
  SseReader(int port, std::uint64_t start, std::uint64_t total) : start_(start), total_(total) {
    received_.reserve(total);
    thread_ = std::thread([this, port] {
      httplib::Client http("127.0.0.1", port);
      http.set_read_timeout(60, 0);
      std::string buffer;
      http.Get("/api/v1/events", {{"Last-Event-ID", std::to_string(start_)}}, [&](const char* data, std::size_t size) {
        const auto at = Clock::now();
        connected_ = true;  // the server's first line: the stream is open
        buffer.append(data, size);
        for (std::size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
          if (buffer.rfind("id: ", 0) == 0) received_.emplace_back(std::stoull(buffer.substr(4, buffer.find('\n') - 4)) - start_, at);
          buffer.erase(0, end + 2);
        }
        return received_.size() < total_;
      });
    });
  }
  const bench::Receipts& wait() {
    thread_.join();
    return received_;
  }
  bool connected() const { return connected_; }

 private:
  const std::uint64_t start_, total_;
  std::atomic<bool> connected_{false};
  bench::Receipts received_;
  std::thread thread_;
};

int bench_http(const GlobalOptions& g, std::string dir, std::uint64_t events, int calls, int subscribers) {
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-http-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::vector<CallRow> call_rows;
  std::vector<LiveRow> live_rows;
  std::uint64_t history = 0;
  {
    {
      store::StoreOptions relaxed;
      relaxed.durability = store::Durability::relaxed;  // generating the history is not what we measure
      relaxed.max_occurred_ahead_micros = -1;
      auto es = store::EventStore::open(dir, relaxed);
      if (!es) return fail(es.status());
      std::fprintf(stderr, "bench: generating %llu events...\n", static_cast<unsigned long long>(events));
      if (auto s = generate_history(**es, events); !s) return fail(s);
      if (auto s = (*es)->compact(); !s) return fail(s);
      std::fprintf(stderr, "bench: folding once, writing snapshots (as `leanos replay` does)...\n");
      LedgerOptions options;
      options.write_snapshots = true;
      if (auto r = read_ledger(**es, AsOf{}, options); !r) return fail(r.status());
      if (auto s = (*es)->compact_snapshots(); !s) return fail(s);
    }
    store::StoreOptions options;  // durable appends from here on
    options.max_occurred_ahead_micros = -1;
    auto es = store::EventStore::open(dir, options);
    if (!es) return fail(es.status());
    history = (*es)->last_position();
    auto first = (*es)->read_event(1);
    if (!first) return fail(first.status());
    auto last = (*es)->read_event(history);
    if (!last) return fail(last.status());
    store::LiveFeed feed(**es);
    auto* one = es->get();
    LocalLedger ledger(*one);
    auto http = HttpApi::start(
        [one, &ledger, &feed](const std::string&) -> Result<HttpWorkspace> { return HttpWorkspace{one, &ledger, &feed, "", nullptr}; }, false,
        "127.0.0.1:0");
    if (!http) return fail(http.status());
    const int port = (*http)->port();
    // As-of calls at random business dates over the history, one client with keep-alive.
    {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_read_timeout(60, 0);
      std::mt19937_64 rng(7);
      std::uniform_int_distribution<Micros> when(from_timestamp(first->occurred_at()), from_timestamp(last->occurred_at()));
      for (const std::string endpoint : {"canvas", "goals/g-mrr", "metrics", "today"}) {
        std::fprintf(stderr, "bench: %d calls of /api/v1/%s?as_of=...\n", calls, endpoint.c_str());
        std::vector<double> took;
        for (int i = 0; i < calls; ++i) {
          const std::string path = "/api/v1/" + endpoint + "?as_of=" + format_time(when(rng));
          const auto t0 = Clock::now();
          auto res = client.Get(path.c_str());
          took.push_back(bench::seconds_since(t0) * 1000);
          if (!res || res->status != 200)
            return fail(Status::io("GET " + path + ": " + (res ? std::to_string(res->status) + " " + res->body : "no answer")));
        }
        call_rows.push_back({endpoint, percentile(took, 0.5), percentile(took, 0.99)});
      }
    }
    // Live delivery: SSE readers and gRPC subscribers on the same appends, 1,000 events/s for
    // 3 s; latency = receipt - the append's acknowledgement.
    {
      auto grpc_server = LocalServer::start(**es);
      if (!grpc_server) return fail(grpc_server.status());
      auto stub = v1::Ledger::NewStub(
          grpc::CreateChannel("127.0.0.1:" + std::to_string((*grpc_server)->port()), grpc::InsecureChannelCredentials()));
      const int rate = 1000;
      const std::uint64_t total = 3 * rate;
      const std::uint64_t start = (*es)->last_position();
      std::fprintf(stderr, "bench: %d SSE and %d gRPC subscribers, %d events/s\n", subscribers, subscribers, rate);
      std::vector<std::unique_ptr<SseReader>> sse;
      std::vector<std::unique_ptr<BenchReader>> rpc;
      for (int i = 0; i < subscribers; ++i) {
        sse.push_back(std::make_unique<SseReader>(port, start, total));
        rpc.push_back(std::make_unique<BenchReader>(*stub, start, total, "bench-http"));
      }
      // Every stream open before the first append: connecting is not delivery.
      for (const auto deadline = Clock::now() + std::chrono::seconds(30); Clock::now() < deadline;) {
        if (std::all_of(sse.begin(), sse.end(), [](const auto& r) { return r->connected(); })) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      std::vector<Clock::time_point> acked(total + 1);
      auto next = Clock::now();
      for (std::uint64_t sent = 0; sent < total; ++sent) {
        Envelope e;
        e.set_type("BenchEvent");
        e.mutable_generic()->set_blob(std::string(100, 'b'));
        auto r = (*es)->append("bench-http", store::ExpectedVersion::any(), {e});
        if (!r) return fail(r.status());
        acked[r->positions.front() - start] = Clock::now();
        next += std::chrono::microseconds(1'000'000 / rate);
        std::this_thread::sleep_until(next);
      }
      auto row = [&](const char* transport, auto& readers) {
        std::vector<double> latencies;
        for (auto& r : readers) bench::add_latencies(r->wait(), acked, latencies);
        return LiveRow{transport, subscribers, latencies.size(), percentile(latencies, 0.5), percentile(latencies, 0.99)};
      };
      live_rows = {row("SSE (HTTP)", sse), row("gRPC Subscribe", rpc)};
      feed.stop();  // ends the SSE streams before the server stops
    }
  }
  if (temp) fs::remove_all(dir, ec);
  if (g.json) {
    std::printf("{\"events\":%llu,\"calls\":[", static_cast<unsigned long long>(history));
    for (std::size_t i = 0; i < call_rows.size(); ++i)
      std::printf("%s{\"endpoint\":\"%s\",\"p50_ms\":%.3f,\"p99_ms\":%.3f}", i ? "," : "", call_rows[i].endpoint.c_str(), call_rows[i].p50,
                  call_rows[i].p99);
    std::printf("],\"live\":[");
    for (std::size_t i = 0; i < live_rows.size(); ++i)
      std::printf("%s{\"transport\":\"%s\",\"subscribers\":%d,\"deliveries\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f}", i ? "," : "",
                  live_rows[i].transport.c_str(), live_rows[i].subscribers, static_cast<unsigned long long>(live_rows[i].delivered),
                  live_rows[i].p50, live_rows[i].p99);
    std::printf("]}\n");
    return 0;
  }
  std::printf("as-of calls over loopback HTTP on a %llu-event history (random business dates, snapshots written once)\n",
              static_cast<unsigned long long>(history));
  std::printf("%-24s %-9s %-9s\n", "endpoint", "p50 ms", "p99 ms");
  for (const auto& r : call_rows) std::printf("%-24s %-9.2f %-9.2f\n", ("/api/v1/" + r.endpoint).c_str(), r.p50, r.p99);
  std::printf("goal: p99 <= 50 ms\n\nlive delivery at 1000 events/s, append acknowledged -> event received, same appends\n");
  std::printf("%-16s %-12s %-11s %-9s %-9s\n", "transport", "subscribers", "deliveries", "p50 ms", "p99 ms");
  for (const auto& r : live_rows)
    std::printf("%-16s %-12d %-11llu %-9.3f %-9.3f\n", r.transport.c_str(), r.subscribers, static_cast<unsigned long long>(r.delivered),
                r.p50, r.p99);
  return 0;
}

}  // namespace

void add_bench_http(CLI::App* bench, GlobalOptions& g, Action& action) {
  struct Args {
    std::string dir;
    std::uint64_t events = 1'000'000;
    int calls = 200;
    int subscribers = 10;
  };
  auto a = std::make_shared<Args>();
  auto* s = bench->add_subcommand("http", "the dashboard's API: as-of call latency on a large history; SSE delivery beside gRPC");
  s->add_option("--dir", a->dir, "scratch folder (default: a temporary folder, removed after)");
  s->add_option("--events", a->events, "history to generate (default 1000000)");
  s->add_option("--calls", a->calls, "as-of calls per endpoint (default 200)");
  s->add_option("--subscribers", a->subscribers, "SSE readers and gRPC subscribers each (default 10)");
  s->callback([&, a] { action = [&g, a] { return bench_http(g, a->dir, a->events, a->calls, a->subscribers); }; });
}

}  // namespace leanos::cli
