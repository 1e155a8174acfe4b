// leanos bench append --server: the append grid over gRPC on loopback, as a user of the
// server sees it. A real `leanos serve` child per cell; the clients are separate processes
// (`leanos bench append-client`, up to four, each with its clients on threads, one channel
// each); every client waits for one start signal, and throughput is the events acknowledged
// over the span from the first start to the last finish.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <thread>

#include "leanos/v1/api.grpc.pb.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"

extern char** environ;

namespace leanos::cli {

namespace {

using bench::Child;
using bench::Clock;
using bench::percentile;

}  // namespace

Result<AppendRow> bench_server_row(const GlobalOptions& g, const std::string& dir, std::size_t events, int per_append,
                                   int clients, int payload, int workspaces, int window, bool floor) {
  using bench::self_path;
  std::vector<std::string> serve = {self_path(), "serve", "--data", dir, "--listen", "127.0.0.1:0", "--log-level", "error"};
  if (floor) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    serve = {self_path(), "bench", "floor-serve", "--dir", dir};
  }
  if (g.relaxed) serve.push_back("--relaxed");
  for (int w = 0; w < workspaces; ++w) {
    auto made = Child::start({self_path(), "workspace", "create", "w" + std::to_string(w), "--workspaces", dir});
    if (!made) return made.status();
    if ((*made)->stop(0) != 0) return Status::io("bench: `leanos workspace create w" + std::to_string(w) + " --workspaces " + dir + "` failed");
  }
  if (workspaces > 0) serve.insert(serve.end(), {"--workspaces", dir});
  auto server = Child::start(serve);
  if (!server) return server.status();
  const std::string first = (*server)->line();
  int port = 0;
  if (std::sscanf(first.c_str(), "listening on 127.0.0.1:%d", &port) != 1)
    return Status::io("bench: the server did not start (it said '" + first + "')");
  const std::size_t appends_each = std::max<std::size_t>(20, events / static_cast<std::size_t>(per_append * clients));
  const int processes = std::min(clients, 4);
  std::vector<std::unique_ptr<Child>> children;
  for (int p = 0, first = 0; p < processes; ++p) {
    const int mine = clients / processes + (p < clients % processes ? 1 : 0);
    std::vector<std::string> args = {self_path(), "bench", "append-client", "--target", "127.0.0.1:" + std::to_string(port), "--clients",
                                     std::to_string(mine), "--per-append", std::to_string(per_append), "--appends",
                                     std::to_string(appends_each), "--payload", std::to_string(payload), "--prefix", "p" + std::to_string(p)};
    if (workspaces > 0)
      args.insert(args.end(), {"--workspaces-dir", dir, "--workspaces", std::to_string(workspaces), "--first-client", std::to_string(first)});
    if (window > 0) args.insert(args.end(), {"--window", std::to_string(window)});
    first += mine;
    auto c = Child::start(args);
    if (!c) return c.status();
    children.push_back(std::move(*c));
  }
  for (auto& c : children)
    if (const auto l = c->line(); l != "ready") return Status::io("bench: a client did not connect (it said '" + l + "')");
  for (auto& c : children) c->say("go");
  long long start = std::numeric_limits<long long>::max(), end = 0;
  std::size_t total = 0;
  std::vector<double> latencies;
  for (auto& c : children) {
    long long t0 = 0, t1 = 0;
    unsigned long long n = 0, failed = 0;
    const auto done = c->line();
    if (std::sscanf(done.c_str(), "done %lld %lld %llu %llu", &t0, &t1, &n, &failed) != 4)
      return Status::io("bench: a client ended without its result (it said '" + done + "')");
    if (failed) return Status::io("bench: " + std::to_string(failed) + " appends over gRPC failed");
    start = std::min(start, t0);
    end = std::max(end, t1);
    total += n;
    const auto values = c->line();
    for (const char* p = values.c_str(); *p;) {
      char* next = nullptr;
      const double v = std::strtod(p, &next);
      if (next == p) break;
      latencies.push_back(v);
      p = next;
    }
    c->stop(0);
  }
  if ((*server)->stop(SIGTERM) != 0) return Status::io("bench: the server did not stop cleanly");
  AppendRow row;
  row.events_per_append = per_append;
  row.appenders = clients;
  row.events = total;
  row.store_eps = static_cast<double>(total) / (static_cast<double>(end - start) / 1e9);
  row.p50_ms = percentile(latencies, 0.5);
  row.p99_ms = percentile(latencies, 0.99);
  return row;
}

int run_bench_append_client(const std::string& target, int clients, int per_append, std::size_t appends, int payload,
                            const std::string& prefix, const ClientWorkspaces& workspaces, int window) {
  const bool stream = window > 0;
  // Each client's workspace and token (none: the server's one data folder).
  std::vector<std::pair<std::string, std::string>> names(static_cast<std::size_t>(clients));
  for (int c = 0; c < clients && workspaces.count > 0; ++c) {
    const std::string name = "w" + std::to_string((workspaces.first + c) % workspaces.count);
    auto token = read_token(workspaces.dir + "/" + name + ".token");
    if (!token) {
      std::printf("%s\n", token.status().message().c_str());
      return 1;
    }
    names[static_cast<std::size_t>(c)] = {name, *token};
  }
  auto name_call = [&](grpc::ClientContext& ctx, int c) {
    const auto& [name, token] = names[static_cast<std::size_t>(c)];
    if (name.empty()) return;
    ctx.AddMetadata("leanos-workspace", name);
    ctx.AddMetadata("authorization", "Bearer " + token);
  };
  std::vector<std::unique_ptr<v1::Ledger::Stub>> stubs;
  for (int c = 0; c < clients; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own, as separate clients have
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::printf("cannot connect to %s\n", target.c_str());
      return 1;
    }
    stubs.push_back(v1::Ledger::NewStub(channel));
    if (workspaces.count > 0) {  // opens the workspace before the start; not counted
      v1::AppendRequest req;
      req.set_stream("warmup-" + prefix + "-" + std::to_string(c));
      req.add_events()->set_type("BenchEvent");
      v1::AppendResponse res;
      grpc::ClientContext ctx;
      name_call(ctx, c);
      if (auto s = stubs.back()->Append(&ctx, req, &res); !s.ok()) {
        std::printf("warm-up append failed: %s\n", s.error_message().c_str());
        return 1;
      }
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  char go[16];
  if (!std::fgets(go, sizeof go, stdin)) return 1;
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::atomic<unsigned long long> failed{0};
  const std::string blob(static_cast<std::size_t>(payload), 'p');
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      auto& lat = latencies[static_cast<std::size_t>(c)];
      lat.reserve(appends);
      grpc::ClientContext stream_ctx;
      std::deque<Clock::time_point> sent;
      std::unique_ptr<grpc::ClientReaderWriter<v1::AppendRequest, v1::AppendStreamReply>> calls;
      if (stream) {
        name_call(stream_ctx, c);
        calls = stubs[static_cast<std::size_t>(c)]->AppendStream(&stream_ctx);
      }
      for (std::size_t i = 0; i < appends; ++i) {
        v1::AppendRequest req;
        req.set_stream("bench-" + prefix + "-" + std::to_string(c) + "-" + std::to_string(i));
        req.set_expected_version("no_stream");
        for (int k = 0; k < per_append; ++k) {
          auto* e = req.add_events();
          e->set_type("BenchEvent");
          e->mutable_generic()->set_blob(blob);
        }
        if (stream) {  // up to `window` unanswered; the answers come in the order sent
          sent.push_back(Clock::now());
          if (!calls->Write(req)) ++failed;
          while (sent.size() >= static_cast<std::size_t>(window) || (i + 1 == appends && !sent.empty())) {
            v1::AppendStreamReply reply;
            if (!calls->Read(&reply)) {
              failed += sent.size();
              sent.clear();
              break;
            }
            lat.push_back(bench::seconds_since(sent.front()) * 1000.0);
            sent.pop_front();
            if (reply.code() != 0) ++failed;
          }
          continue;
        }
        v1::AppendResponse res;
        grpc::ClientContext ctx;
        name_call(ctx, c);
        const auto a0 = Clock::now();
        const auto s = stubs[static_cast<std::size_t>(c)]->Append(&ctx, req, &res);
        lat.push_back(bench::seconds_since(a0) * 1000.0);
        if (!s.ok()) ++failed;
      }
      if (stream && !(calls->WritesDone() && calls->Finish().ok())) ++failed;
    });
  for (auto& t : threads) t.join();
  const auto t1 = Clock::now();
  auto ns = [](Clock::time_point t) { return static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()); };
  std::printf("done %lld %lld %llu %llu\n", ns(t0), ns(t1), static_cast<unsigned long long>(appends) * static_cast<unsigned long long>(clients * per_append),
              failed.load());
  for (const auto& l : latencies)
    for (double v : l) std::printf("%.4f ", v);
  std::printf("\n");
  return 0;
}

}  // namespace leanos::cli

namespace leanos::cli {

namespace {

// `leanos bench workspaces`: one server hosting many workspaces, each with an appender,
// against one workspace alone (one appender; as many appenders as there are workspaces).
int run_bench_workspaces(const GlobalOptions& g, std::string dir, int workspaces, std::size_t events, int rounds) {
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-workspaces-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  struct Cell {
    const char* name;
    int workspaces, clients;
    std::size_t events;
    AppendRow best;
  };
  std::vector<Cell> cells = {{"1 workspace, 1 appender", 1, 1, events / 10, {}},
                             {"1 workspace, N appenders", 1, workspaces, events, {}},
                             {"N workspaces, 1 appender each", workspaces, workspaces, events, {}}};
  for (int round = 0; round < rounds; ++round)
    for (std::size_t i = 0; i < cells.size(); ++i) {
      auto& c = cells[i];
      const std::string d = dir + "/round-" + std::to_string(round) + "-" + std::to_string(i);
      fs::remove_all(d, ec);
      fs::create_directories(d, ec);
      auto row = bench_server_row(g, d, c.events, 1, c.clients, 100, c.workspaces);
      fs::remove_all(d, ec);
      if (!row) {
        if (temp) fs::remove_all(dir, ec);
        return fail(row.status());
      }
      if (row->store_eps > c.best.store_eps) c.best = *row;
      std::fprintf(stderr, "bench: round %d, %s: %.0f events/s\n", round + 1, c.name, row->store_eps);
    }
  if (temp) fs::remove_all(dir, ec);
  const double alone = cells[0].best.store_eps, together = cells[1].best.store_eps, many = cells[2].best.store_eps;
  if (g.json) {
    std::printf("[");
    for (std::size_t i = 0; i < cells.size(); ++i)
      std::printf("%s{\"workspaces\":%d,\"appenders\":%d,\"events\":%zu,\"eps\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}", i ? "," : "",
                  cells[i].workspaces, cells[i].clients, cells[i].best.events, cells[i].best.store_eps, cells[i].best.p50_ms,
                  cells[i].best.p99_ms);
    std::printf("]\n");
    return 0;
  }
  std::printf("one `leanos serve --workspaces` over gRPC on loopback, 1 event (100 bytes) per append, %s; best of %d round(s)\n",
              g.relaxed ? "relaxed" : "synced", rounds);
  std::printf("%-32s %-11s %-10s %-12s %-9s %s\n", "", "workspaces", "appenders", "events/s", "p50 ms", "p99 ms");
  for (const auto& c : cells)
    std::printf("%-32s %-11d %-10d %-12.0f %-9.2f %.2f\n", c.name, c.workspaces, c.clients, c.best.store_eps, c.best.p50_ms, c.best.p99_ms);
  std::printf("%d workspaces together: %.2fx one workspace with one appender, %.2fx one workspace with %d appenders\n", workspaces,
              many / alone, many / together, workspaces);
  return 0;
}

}  // namespace

void add_bench_workspaces(CLI::App* bench, GlobalOptions& global, Action& action) {
  struct Args {
    std::string dir;
    int workspaces = 100;
    std::size_t events = 20'000;
    int rounds = 2;
  };
  auto a = std::make_shared<Args>();
  auto* w = bench->add_subcommand("workspaces", "one server hosting many workspaces, each appending, vs one workspace alone");
  w->add_option("--workspaces", a->workspaces, "workspaces, one appender each (default 100)")->check(CLI::Range(2, 1000));
  w->add_option("--events", a->events, "events per cell with many appenders (default 20000; one appender: a tenth)")
      ->check(CLI::Range(1000, 100'000'000));
  w->add_option("--rounds", a->rounds, "interleaved rounds, the best kept (default 2)")->check(CLI::Range(1, 10));
  w->add_option("--dir", a->dir, "scratch folder (default: a temporary folder, removed after)");
  w->callback([&, a] { action = [&global, a] { return run_bench_workspaces(global, a->dir, a->workspaces, a->events, a->rounds); }; });
}

}  // namespace leanos::cli
