// `leanos bench relay`: how fast the relay copies a log into JetStream (one nats-server, and a
// three-node cluster with R3, started here) against how fast the store appends it.
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "store/nats.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"

extern char** environ;

namespace leanos::cli {

namespace {

using bench::Clock;
using bench::seconds_since;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  return ok ? ntohs(a.sin_port) : 0;
}

// nats-server processes with JetStream, killed when this goes.
class NatsCluster {
 public:
  ~NatsCluster() {
    for (pid_t p : pids_) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
  }
  Status start(const std::string& dir, int nodes) {
    std::string binary;
    for (const char* b : {"/usr/sbin/nats-server", "/usr/bin/nats-server"})
      if (std::filesystem::exists(b)) binary = b;
    if (binary.empty()) return Status::not_found("bench relay needs Debian's nats-server (tools/setup.sh installs it)");
    std::vector<int> cluster;
    std::string routes;
    for (int i = 0; i < nodes; ++i) {
      ports_.push_back(free_port());
      cluster.push_back(free_port());
      routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(cluster.back());
    }
    for (int i = 0; i < nodes; ++i) {
      const auto n = static_cast<std::size_t>(i);
      std::vector<std::string> args = {binary, "-a", "127.0.0.1", "-p", std::to_string(ports_[n]), "-js", "-sd",
                                       dir + "/node-" + std::to_string(i), "-n", "n" + std::to_string(i),
                                       "-l", dir + "/node-" + std::to_string(i) + ".log"};
      if (nodes > 1)
        args.insert(args.end(), {"--cluster_name", "bench", "--cluster", "nats://127.0.0.1:" + std::to_string(cluster[n]), "--routes", routes});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      pid_t pid = 0;
      if (::posix_spawn(&pid, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        return Status::io("cannot start " + binary);
      pids_.push_back(pid);
    }
    return Status::success();
  }
  std::string urls() const {
    std::string u;
    for (int p : ports_) u += (u.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(p);
    return u;
  }

 private:
  std::vector<int> ports_;
  std::vector<pid_t> pids_;
};

struct RelayRow {
  int nodes = 0;
  std::size_t events = 0;
  double append_eps = 0, relay_eps = 0;
  double live_p50_ms = 0, live_p99_ms = 0, live_max_ms = 0;  // append -> JetStream consumer
};

// The live phase: appends of one event paced at `rate` per second while the relay follows the
// log and a JetStream consumer (an ordered push consumer, as another service would run) reads
// the stream; the time from each append's call to the consumer receiving it. The first tenth
// is left out: the consumer is still being made.
Status live_latency(store::EventStore& es, const store::JetStreamOptions& nats, std::size_t events, int rate, RelayRow& row) {
  const std::uint64_t first = es.last_position() + 1;
  std::vector<Clock::time_point> appended(events), received(events);
  std::atomic<bool> stop{false};
  Status relayed, read;
  std::thread relayer([&] {
    store::StoreSource source(es, "bench-relay", true, &stop);
    store::RelayOptions o;
    o.nats = nats;
    o.stop = &stop;
    if (auto r = store::relay(source, o); !r) relayed = r.status();
  });
  std::thread consumer([&] {
    auto log = store::JetStreamLog::connect(nats);
    if (!log) {
      read = log.status();
      return;
    }
    read = (*log)->read(
        first,
        [&](v1::Envelope&& e) {
          received[e.position() - first] = Clock::now();
          return Status::success();
        },
        first + events - 1);
  });
  const std::string payload(100, 'p');
  const auto every = std::chrono::nanoseconds(1'000'000'000 / rate);
  Status appended_all;
  for (std::size_t i = 0; i < events && appended_all.is_ok(); ++i) {
    std::vector<store::Envelope> one(1);
    one[0].set_type("BenchEvent");
    one[0].mutable_generic()->set_blob(payload);
    appended[i] = Clock::now();
    if (auto r = es.append("live-" + std::to_string(i % 64), store::ExpectedVersion::any(), std::move(one)); !r) appended_all = r.status();
    std::this_thread::sleep_until(appended[i] + every);
  }
  consumer.join();
  stop = true;
  relayer.join();
  if (!appended_all) return appended_all;
  if (!read) return Status(read.code(), "bench: the JetStream consumer: " + read.message());
  if (!relayed) return relayed;
  std::vector<double> ms;
  for (std::size_t i = events / 10; i < events; ++i)
    ms.push_back(std::chrono::duration<double, std::milli>(received[i] - appended[i]).count());
  row.live_p50_ms = bench::percentile(ms, 0.5);
  row.live_p99_ms = bench::percentile(ms, 0.99);
  row.live_max_ms = bench::percentile(ms, 1.0);
  return Status::success();
}

// `people`: "none", generic events; "new", a contact added with a new person each (each
// event sealed under a data key of its own, which the relay publishes too); "known", the
// same 100 people over and over.
Result<RelayRow> relay_row(const GlobalOptions& g, const std::string& dir, int nodes, std::size_t events, std::size_t live_events,
                           int live_rate, const std::string& people) {
  NatsCluster cluster;
  if (auto s = cluster.start(dir, nodes); !s) return s;
  store::JetStreamOptions nats;
  nats.url = cluster.urls();
  nats.workspace = "bench";
  nats.replicas = nodes;
  // Ready once the stream can be made (a cluster first elects its metadata leader).
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto log = store::JetStreamLog::connect(nats);
    Status s = log ? (*log)->ensure_stream() : log.status();
    if (s) {
      auto t = (*log)->tail();
      if (!t) s = t.status();
    }
    if (s) break;
    if (Clock::now() > deadline) return Status::unavailable("bench: JetStream did not come up: " + s.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  store::StoreOptions options;
  if (g.relaxed) options.durability = store::Durability::relaxed;
  options.master_key_file = dir + "/store.master-key";
  auto opened = store::EventStore::open(dir + "/store", options);
  if (!opened) return opened.status();
  auto& es = **opened;
  const std::string payload(100, 'p');
  const auto t0 = Clock::now();
  for (std::size_t done = 0; done < events; done += 100) {
    std::vector<store::Envelope> batch(100);
    for (std::size_t k = 0; k < batch.size(); ++k) {
      auto& e = batch[k];
      if (people == "none") {
        e.set_type("BenchEvent");
        e.mutable_generic()->set_blob(payload);
        continue;
      }
      auto* c = e.mutable_contact_added()->mutable_contact();
      c->set_name(payload);
      c->set_email("p" + std::to_string(people == "new" ? done + k : (done + k) % 100) + "@bench.example");
    }
    if (auto r = es.append("bench-" + std::to_string(done / 100 % 64), store::ExpectedVersion::any(), std::move(batch)); !r)
      return r.status();
  }
  RelayRow row;
  row.nodes = nodes;
  row.events = es.last_position();
  row.append_eps = static_cast<double>(row.events) / seconds_since(t0);
  store::StoreSource source(es, "bench-relay");
  store::RelayOptions o;
  o.nats = nats;
  o.once = true;
  const auto t1 = Clock::now();
  auto relayed = store::relay(source, o);
  if (!relayed) return relayed.status();
  row.relay_eps = static_cast<double>(relayed->relayed) / seconds_since(t1);
  if (relayed->held != row.events) return Status::io("bench: JetStream holds " + std::to_string(relayed->held) + " events, not all");
  if (auto s = live_latency(es, nats, live_events, live_rate, row); !s) return s;
  return row;
}

int run_bench_relay(const GlobalOptions& g, std::string dir, std::size_t events, const std::vector<int>& node_counts,
                    std::size_t live_events, int live_rate, const std::string& people) {
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-relay-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::vector<RelayRow> rows;
  for (int nodes : node_counts) {
    const std::string d = dir + "/nodes-" + std::to_string(nodes);
    fs::create_directories(d, ec);
    auto row = relay_row(g, d, nodes, events, live_events, live_rate, people);
    if (!row) {
      if (temp) fs::remove_all(dir, ec);
      return fail(row.status());
    }
    rows.push_back(*row);
    std::fprintf(stderr, "bench: relay to %d node(s) done\n", nodes);
  }
  if (temp) fs::remove_all(dir, ec);
  if (g.json) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::printf("%s{\"nodes\":%d,\"replicas\":%d,\"events\":%zu,\"append_eps\":%.0f,\"relay_eps\":%.0f,\"ratio\":%.3f,"
                  "\"live_rate\":%d,\"live_p50_ms\":%.3f,\"live_p99_ms\":%.3f,\"live_max_ms\":%.3f,\"people\":\"%s\"}",
                  i ? "," : "", rows[i].nodes, rows[i].nodes, rows[i].events, rows[i].append_eps, rows[i].relay_eps,
                  rows[i].relay_eps / rows[i].append_eps, live_rate, rows[i].live_p50_ms, rows[i].live_p99_ms, rows[i].live_max_ms,
                  people.c_str());
    std::printf("]\n");
    return 0;
  }
  std::printf("relay into JetStream (nats-server 2.9, file storage) vs the store's own append (%s, 100 events per append%s)\n",
              g.relaxed ? "relaxed" : "synced",
              people == "new" ? "; a new person each event" : people == "known" ? "; 100 people over and over" : "");
  std::printf("%-6s %-9s %-8s %-14s %-12s %-13s %s\n", "nodes", "replicas", "events", "append ev/s", "relay ev/s", "relay/append",
              "append -> consumer p50 / p99 / max ms");
  for (const auto& r : rows)
    std::printf("%-6d %-9d %-8zu %-14.0f %-12.0f %-13.2f %.2f / %.2f / %.2f (%d appends/s)\n", r.nodes, r.nodes, r.events, r.append_eps,
                r.relay_eps, r.relay_eps / r.append_eps, r.live_p50_ms, r.live_p99_ms, r.live_max_ms, live_rate);
  for (const auto& r : rows)
    if (r.nodes == 3) std::printf("relay with R3 reaches %.2f of the append rate (goal >= 0.5)\n", r.relay_eps / r.append_eps);
  return 0;
}

}  // namespace

void add_bench_relay(CLI::App* bench, GlobalOptions& global, Action& action) {
  struct Args {
    std::string dir;
    std::size_t events = 100'000;
    std::vector<int> nodes = {1, 3};
    std::size_t live_events = 3000;
    int live_rate = 1000;
    std::string people = "none";
  };
  auto a = std::make_shared<Args>();
  auto* relay = bench->add_subcommand("relay", "the relay into NATS JetStream (1 node; 3 nodes, R3) vs the store's append rate");
  relay->add_option("--events", a->events, "events to append, then relay (default 100000)")->check(CLI::Range(100, 100'000'000));
  relay->add_option("--nodes", a->nodes, "cluster sizes to measure (default 1 3)")->check(CLI::IsMember({1, 3}));
  relay->add_option("--live-events", a->live_events, "then events appended one at a time while relayed and consumed (default 3000)")
      ->check(CLI::Range(100, 10'000'000));
  relay->add_option("--live-rate", a->live_rate, "appends per second of the live phase (default 1000)")->check(CLI::Range(1, 100'000));
  relay->add_option("--dir", a->dir, "scratch folder (default: a temporary folder, removed after)");
  relay->add_option("--people", a->people,
                    "what the appended events are: none (generic, the default), new (a contact added, a new person each: "
                    "every event sealed under a key of its own, which the relay publishes too), known (100 people over and over)")
      ->check(CLI::IsMember({"none", "new", "known"}));
  relay->callback([&, a] {
    action = [&global, a] { return run_bench_relay(global, a->dir, a->events, a->nodes, a->live_events, a->live_rate, a->people); };
  });
}

}  // namespace leanos::cli
