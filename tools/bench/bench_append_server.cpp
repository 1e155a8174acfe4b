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
#include <atomic>
#include <cstdio>
#include <limits>
#include <thread>

#include "leanos/v1/api.grpc.pb.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"

extern char** environ;

namespace leanos::cli {

namespace {

using bench::Clock;
using bench::percentile;

// A child process with a pipe to its stdin and one from its stdout.
class Child {
 public:
  static Result<std::unique_ptr<Child>> start(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return Status::io("bench: cannot create a pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    for (int fd : {in[0], in[1], out[0], out[1]}) posix_spawn_file_actions_addclose(&actions, fd);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
      close(in[1]);
      close(out[0]);
      return Status::io("bench: cannot start " + args[0]);
    }
    auto c = std::unique_ptr<Child>(new Child);
    c->pid_ = pid;
    c->in_ = fdopen(in[1], "w");
    c->out_ = fdopen(out[0], "r");
    return c;
  }
  ~Child() {
    if (in_) std::fclose(in_);
    if (out_) std::fclose(out_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // One line of its output, without the newline; empty at its end.
  std::string line() {
    std::string s;
    for (int c; (c = std::fgetc(out_)) != EOF && c != '\n';) s.push_back(static_cast<char>(c));
    return s;
  }
  void say(const std::string& text) {
    std::fputs((text + "\n").c_str(), in_);
    std::fflush(in_);
  }
  // Stops it with `sig` (none: waits for it to end); its exit status.
  int stop(int sig) {
    if (sig) kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  Child() = default;
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

}  // namespace

Result<AppendRow> bench_server_row(const GlobalOptions& g, const std::string& dir, std::size_t events, int per_append,
                                   int clients, int payload) {
  using bench::self_path;
  std::vector<std::string> serve = {self_path(), "serve", "--data", dir, "--listen", "127.0.0.1:0", "--log-level", "error"};
  if (g.relaxed) serve.push_back("--relaxed");
  auto server = Child::start(serve);
  if (!server) return server.status();
  const std::string first = (*server)->line();
  int port = 0;
  if (std::sscanf(first.c_str(), "listening on 127.0.0.1:%d", &port) != 1)
    return Status::io("bench: the server did not start (it said '" + first + "')");
  const std::size_t appends_each = std::max<std::size_t>(20, events / static_cast<std::size_t>(per_append * clients));
  const int processes = std::min(clients, 4);
  std::vector<std::unique_ptr<Child>> children;
  for (int p = 0; p < processes; ++p) {
    const int mine = clients / processes + (p < clients % processes ? 1 : 0);
    auto c = Child::start({self_path(), "bench", "append-client", "--target", "127.0.0.1:" + std::to_string(port), "--clients",
                           std::to_string(mine), "--per-append", std::to_string(per_append), "--appends",
                           std::to_string(appends_each), "--payload", std::to_string(payload), "--prefix", "p" + std::to_string(p)});
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
                            const std::string& prefix) {
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
      for (std::size_t i = 0; i < appends; ++i) {
        v1::AppendRequest req;
        req.set_stream("bench-" + prefix + "-" + std::to_string(c) + "-" + std::to_string(i));
        req.set_expected_version("no_stream");
        for (int k = 0; k < per_append; ++k) {
          auto* e = req.add_events();
          e->set_type("BenchEvent");
          e->mutable_generic()->set_blob(blob);
        }
        v1::AppendResponse res;
        grpc::ClientContext ctx;
        const auto a0 = Clock::now();
        const auto s = stubs[static_cast<std::size_t>(c)]->Append(&ctx, req, &res);
        lat.push_back(bench::seconds_since(a0) * 1000.0);
        if (!s.ok()) ++failed;
      }
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
