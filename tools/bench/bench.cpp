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

// Personal events: a contact added to a campaign, their name holding the payload, every event
// sealed (store/personal.h). `new_person`: a new person each, so each event also makes and
// writes a data key (the worst case: a mass import of strangers). `known_person`: each
// appender names the same `per_append` people in every append, as a deal's later events name
// its contact: only the first append of each appender makes keys. `in_clear`: the same
// events, the same bytes, in fields that are not personal (the company, the campaign id) so
// nothing is sealed: what these appends cost without encryption.
enum class People { none, in_clear, new_person, known_person };

Result<AppendRow> store_row(const GlobalOptions& g, const std::string& dir, std::size_t events, int per_append, int appenders,
                            int payload_bytes, People people = People::none) {
  store::StoreOptions options;
  if (g.relaxed) options.durability = store::Durability::relaxed;
  options.master_key_file = dir + ".master-key";
  auto opened = store::EventStore::open(dir, options);
  if (!opened) return opened.status();
  auto& es = **opened;
  const std::size_t appends_each = std::max<std::size_t>(1, events / static_cast<std::size_t>(per_append * appenders));
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(appenders));
  std::atomic<bool> failed{false};
  const std::string payload(static_cast<std::size_t>(payload_bytes), 'p');
  const double cpu0 = bench::process_cpu_seconds();
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      auto& lat = latencies[static_cast<std::size_t>(t)];
      lat.reserve(appends_each);
      for (std::size_t i = 0; i < appends_each && !failed; ++i) {
        std::vector<store::Envelope> batch(static_cast<std::size_t>(per_append));
        int k = 0;
        for (auto& e : batch) {
          if (people != People::none) {
            auto* added = e.mutable_contact_added();
            auto* c = added->mutable_contact();
            const std::string person = people == People::known_person ? std::to_string(k++)
                                                                      : std::to_string(i) + "-" + std::to_string(k++);
            std::string email = "p" + std::to_string(t) + "-" + person + "@bench.example";
            if (people == People::in_clear) {
              c->set_company(payload);
              added->set_campaign_id(std::move(email));
            } else {
              c->set_name(payload);
              c->set_email(std::move(email));
            }
            continue;
          }
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
  const double cpu = bench::process_cpu_seconds() - cpu0;
  if (failed) return Status::io("bench: an append failed");
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const std::size_t total = appends_each * static_cast<std::size_t>(per_append * appenders);
  const auto stats = es.stats();
  const auto groups = static_cast<double>(std::max<std::uint64_t>(stats.groups, 1));
  AppendRow row{per_append, appenders, total, static_cast<double>(total) / elapsed, 0,
                percentile(all, 0.50), percentile(all, 0.99), static_cast<double>(stats.appends) / groups};
  row.cpu_us = cpu * 1e6 / static_cast<double>(total);
  row.own_groups = static_cast<double>(stats.own_groups) / groups;
  return row;
}

int run_bench_append(const GlobalOptions& global, std::string dir, double scale, int payload, bool over_grpc,
                     const std::string& grid, int window) {
  const bool stream = window > 0;
  // In process: 1, 4 and 16 appenders; over gRPC also 64 and 256 clients.
  std::vector<GridCell> all;
  for (int per_append : {1, 10, 100})
    for (int appenders : {1, 4, 16, 64, 256})
      if (over_grpc || appenders <= 16) all.push_back({per_append, appenders});
  auto cells = grid.empty() ? Result<std::vector<GridCell>>(all) : parse_grid(grid, all);
  if (!cells) return fail(cells.status());
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return fail(Status::io("bench: cannot create " + dir + ": " + ec.message()));
  std::vector<AppendRow> rows;
  int n = 0;
  for (const auto [per_append, appenders] : *cells) {
    const auto events = grid_events(per_append, scale);
    {
      const std::string sdir = dir + "/store-" + std::to_string(++n);
      const std::string rdir = dir + "/raw-" + std::to_string(n);
      auto row = over_grpc ? bench_server_row(global, sdir, events, per_append, appenders, payload, 0, window)
                           : store_row(global, sdir, events, per_append, appenders, payload);
      if (!row) return fail(row.status());
      if (!over_grpc) {
        for (const auto people : {People::in_clear, People::new_person, People::known_person}) {
          const std::string pdir = dir + "/personal-" + std::to_string(n) + static_cast<char>('a' + static_cast<int>(people));
          auto contacts = store_row(global, pdir, events, per_append, appenders, payload, people);
          if (!contacts) return fail(contacts.status());
          auto [eps, cpu] = people == People::in_clear     ? std::tie(row->clear_eps, row->clear_cpu_us)
                             : people == People::new_person ? std::tie(row->sealed_eps, row->sealed_cpu_us)
                                                            : std::tie(row->sealed_known_eps, row->sealed_known_cpu_us);
          eps = contacts->store_eps;
          cpu = contacts->cpu_us;
          fs::remove_all(pdir, ec);
          fs::remove(pdir + ".master-key", ec);
        }
      }
      if (over_grpc) {  // the floor, on the same disk, right after
        const std::string fdir = dir + "/floor-" + std::to_string(n);
        auto floor = bench_server_row(global, fdir, events, per_append, appenders, payload, 0, window, true);
        if (!floor) return fail(floor.status());
        row->floor_eps = floor->store_eps;
        row->floor_p50_ms = floor->p50_ms;
        row->floor_p99_ms = floor->p99_ms;
        fs::remove_all(fdir, ec);
      }
      auto raw = bench_raw_rocksdb(rdir, row->events, per_append, payload, !global.relaxed);
      if (!raw) return fail(raw.status());
      row->raw_eps = *raw;
      if (!over_grpc && appenders > 1) {
        // RocksDB's own group commit: as many threads, each writing its batches (synced)
        // straight into RocksDB, whose write group syncs once for the batches waiting.
        fs::remove_all(rdir, ec);
        auto group = bench_raw_rocksdb(rdir, row->events, per_append, payload, !global.relaxed, appenders);
        if (!group) return fail(group.status());
        row->raw_group_eps = *group;
      }
      rows.push_back(*row);
      fs::remove_all(sdir, ec);
      fs::remove_all(rdir, ec);
      std::fprintf(stderr, "bench: %d x %d%s done\n", per_append, appenders, over_grpc ? " over gRPC" : "");
    }
  }
  if (temp) fs::remove_all(dir, ec);

  if (global.json) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      std::printf("%s{\"mode\":\"%s\",\"durability\":\"%s\",\"payload_bytes\":%d,\"events_per_append\":%d,"
                  "\"appenders\":%d,\"events\":%zu,\"store_eps\":%.0f,"
                  "\"raw_eps\":%.0f,\"ratio\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f",
                  i ? "," : "", over_grpc ? "server" : "in-process", global.relaxed ? "relaxed" : "sync", payload, r.events_per_append,
                  r.appenders, r.events, r.store_eps, r.raw_eps, r.store_eps / r.raw_eps, r.p50_ms, r.p99_ms);
      if (!over_grpc)
        std::printf(",\"appends_per_group\":%.2f,\"own_groups\":%.2f,\"clear_contacts_eps\":%.0f,\"sealed_eps\":%.0f,\"sealed_known_eps\":%.0f,"
                    "\"raw_group_eps\":%.0f,\"cpu_us_per_event\":%.2f,\"clear_contacts_cpu_us_per_event\":%.2f,"
                    "\"sealed_cpu_us_per_event\":%.2f,\"sealed_known_cpu_us_per_event\":%.2f",
                    r.group_size, r.own_groups, r.clear_eps, r.sealed_eps, r.sealed_known_eps, r.raw_group_eps, r.cpu_us, r.clear_cpu_us,
                    r.sealed_cpu_us, r.sealed_known_cpu_us);
      else
        std::printf(",\"rpc\":\"%s\",\"window\":%d,\"floor_eps\":%.0f,\"floor_ratio\":%.3f,\"floor_p50_ms\":%.3f,\"floor_p99_ms\":%.3f",
                    stream ? "AppendStream" : "Append", window, r.floor_eps, r.store_eps / r.floor_eps, r.floor_p50_ms, r.floor_p99_ms);
      std::printf("}");
    }
    std::printf("]\n");
    return 0;
  }
  std::printf("%s append (%s), %d-byte payloads, distinct streams%s\n", global.relaxed ? "relaxed" : "durable",
              global.relaxed ? "no fsync" : "sync per group commit", payload,
              !over_grpc ? ""
              : stream   ? ", over gRPC on loopback (a `leanos serve` child, clients in separate processes, each appending over one AppendStream call)"
                         : ", over gRPC on loopback (a `leanos serve` child, clients in separate processes, an Append call each)");
  std::printf("%-14s %-9s %-8s %-11s %-11s %-6s %-8s %-8s %-6s %s\n", "events/append", over_grpc ? "clients" : "appenders", "events",
              "store ev/s", "raw ev/s", "ratio", "p50 ms", "p99 ms", over_grpc ? "" : "group",
              over_grpc ? "floor ev/s  /floor  floor p50  floor p99"
                        : "contacts ev/s: in clear; sealed, new person (x clear), known person (x clear)");
  for (const auto& r : rows) {
    std::printf("%-14d %-9d %-8zu %-11.0f %-11.0f %-6.2f %-8.3f %-8.3f", r.events_per_append, r.appenders, r.events,
                r.store_eps, r.raw_eps, r.store_eps / r.raw_eps, r.p50_ms, r.p99_ms);
    if (over_grpc)
      std::printf("        %-11.0f %-7.2f %-10.3f %.3f", r.floor_eps, r.store_eps / r.floor_eps, r.floor_p50_ms, r.floor_p99_ms);
    else
      std::printf(" %-6.1f %.0f; %.0f (%.2f), %.0f (%.2f)", r.group_size, r.clear_eps, r.sealed_eps, r.sealed_eps / r.clear_eps,
                  r.sealed_known_eps, r.sealed_known_eps / r.clear_eps);
    std::printf("\n");
  }
  if (over_grpc) {  // the goal over gRPC: every cell at 0.9 of the floor or more (with the peers: the peers' harness)
    double worst = 1e9;
    for (const auto& r : rows) worst = std::min(worst, r.store_eps / r.floor_eps);
    std::printf("floor: the server's reactors and settings over one synced file, group-committed alike, measured after each cell; "
                "store/floor %.2f at worst (goal >= 0.9)\n",
                worst);
    return 0;
  }
  auto row = [&](int per_append, int appenders) -> const AppendRow* {
    for (const auto& r : rows)
      if (r.events_per_append == per_append && r.appenders == appenders) return &r;
    return nullptr;
  };
  if (const auto *one = row(1, 1), *sixteen = row(1, 16); one && sixteen)
    std::printf("group commit: 16 appenders of 1 event reach %.1fx the throughput of 1 appender (goal >= 8x); "
                "16 threads writing raw RocksDB through its own write group reach %.1fx one raw writer\n",
                sixteen->store_eps / one->store_eps, sixteen->raw_group_eps / one->raw_eps);
  if (const auto* hundred = row(100, 1))
    std::printf("with 100 events per append, store/raw = %.2f (goal >= 0.5)\n", hundred->store_eps / hundred->raw_eps);
  if (const auto* one = row(1, 1))
    std::printf("single append: store/raw = %.2f (goal >= 0.9), p50 %.3f ms, p99 %.3f ms\n", one->store_eps / one->raw_eps,
                one->p50_ms, one->p99_ms);
  // What sealing costs: CPU per event beside the same contacts in clear, in the cells of
  // batches, where the CPU bounds the throughput (a single append's CPU is mostly the fsync's
  // and the hand-offs', and varies more than sealing costs).
  for (const auto& r : rows)
    if (r.events_per_append > 1)
      std::printf("sealing, %d x %d: %+.1f us CPU per event for a known person, %+.1f for a new one (a key made, wrapped and written), "
                  "on %.1f us for the same contacts in clear (%.1f us a generic event); sealed/clear throughput %.2f and %.2f (goal >= 0.8)\n",
                  r.events_per_append, r.appenders, r.sealed_known_cpu_us - r.clear_cpu_us, r.sealed_cpu_us - r.clear_cpu_us,
                  r.clear_cpu_us, r.cpu_us, r.sealed_known_eps / r.clear_eps, r.sealed_eps / r.clear_eps);
  return 0;
}

}  // namespace

Result<std::vector<GridCell>> parse_grid(const std::string& text, const std::vector<GridCell>& all) {
  std::vector<GridCell> out;
  std::string names;
  for (const auto& c : all) names += (names.empty() ? "" : ",") + std::to_string(c.events_per_append) + "x" + std::to_string(c.appenders);
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    const std::string cell = text.substr(start, end - start);
    int per_append = 0, appenders = 0;
    char tail = 0;
    const bool known = std::sscanf(cell.c_str(), "%dx%d%c", &per_append, &appenders, &tail) == 2 &&
                       std::any_of(all.begin(), all.end(), [&](const GridCell& c) {
                         return c.events_per_append == per_append && c.appenders == appenders;
                       });
    if (!known) return Status::invalid("--rows: '" + cell + "' is not a cell of the grid; use some of " + names);
    out.push_back({per_append, appenders});
    start = end + 1;
  }
  return out;
}

std::size_t grid_events(int per_append, double scale) {
  return static_cast<std::size_t>(scale * (per_append == 1 ? 4000 : per_append == 10 ? 20000 : 100000));
}

// The baseline: `writers` threads (one by default) writing `events` values of `payload` bytes
// in WriteBatches of `per_batch` (each synced unless relaxed), with 8-byte big-endian keys,
// into a fresh RocksDB. With several, RocksDB's write group commits what waits together.
Result<double> bench_raw_rocksdb(const std::string& dir, std::size_t events, int per_batch, int payload, bool sync, int writers) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return Status::io("bench: opening raw RocksDB: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(static_cast<std::size_t>(payload), 'x');
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  std::atomic<std::uint64_t> next{0};  // the next key; a batch takes per_batch of them
  std::mutex failed_mu;
  Status failed;
  auto write = [&] {
    for (;;) {
      const std::uint64_t first = next.fetch_add(static_cast<std::uint64_t>(per_batch));
      if (first >= events) return;
      rocksdb::WriteBatch batch;
      for (std::uint64_t k = first; k < std::min<std::uint64_t>(first + static_cast<std::uint64_t>(per_batch), events); ++k)
        batch.Put(store::be64(k + 1), value);
      if (auto w = db->Write(wo, &batch); !w.ok()) {
        std::lock_guard lock(failed_mu);
        failed = Status::io("bench: raw write: " + w.ToString());
        next = events;
        return;
      }
    }
  };
  const auto t0 = Clock::now();
  if (writers <= 1) {
    write();
  } else {
    std::vector<std::thread> threads;
    for (int i = 0; i < writers; ++i) threads.emplace_back(write);
    for (auto& t : threads) t.join();
  }
  const double secs = seconds_since(t0);
  if (!failed) return failed;
  return static_cast<double>(events) / secs;
}

void add_bench_commands(CLI::App& app, GlobalOptions& global, Action& action) {
  auto* bench = app.add_subcommand("bench", "measure throughput and latency against raw baselines");
  bench->require_subcommand(1);
  struct Args {
    std::string dir;
    double scale = 1.0;
    int payload = 100;
    bool server = false, stream = false;
    int window = 1;
    std::string rows;
    std::string target, prefix;
    int clients = 1, per_append = 1;
    std::size_t appends = 1;
  };
  auto args = std::make_shared<Args>();
  auto* append = bench->add_subcommand("append", "durable append throughput and latency vs raw RocksDB");
  append->add_option("--dir", args->dir, "scratch folder (default: a temporary folder, removed after)");
  append->add_option("--scale", args->scale, "multiply the event counts (default 1)")->check(CLI::PositiveNumber);
  append->add_option("--payload", args->payload, "bytes per event (default 100)")->check(CLI::Range(1, 65536));
  append->add_flag("--server", args->server,
                   "over gRPC on loopback: a `leanos serve` child, 1-256 clients in separate processes");
  append->add_flag("--stream", args->stream,
                   "with --server: each client sends its appends over one AppendStream call instead of an Append call each");
  append->add_option("--window", args->window,
                     "with --stream: how many appends a client leaves unanswered (default 1: it waits for each, as with Append)")
      ->check(CLI::Range(1, 256));
  append->add_option("--rows", args->rows, "only these cells, e.g. 1x1,100x16 (events per append x appenders)");
  append->callback([&, append, args] {
    if (args->stream && !args->server) throw CLI::ValidationError("--stream", "goes with --server (it is how clients call the server)");
    if (!args->stream && append->count("--window") > 0) throw CLI::ValidationError("--window", "goes with --stream");
    action = [&global, args] {
      return run_bench_append(global, args->dir, args->scale, args->payload, args->server, args->rows, args->stream ? args->window : 0);
    };
  });
  // The client processes of `bench append --server` (not for people: it waits for "go" on stdin).
  auto* client = bench->add_subcommand("append-client", "");
  client->group("");
  client->add_option("--target", args->target)->required();
  client->add_option("--clients", args->clients)->check(CLI::Range(1, 1024));
  client->add_option("--per-append", args->per_append)->check(CLI::Range(1, 10000));
  client->add_option("--appends", args->appends);
  client->add_option("--payload", args->payload)->check(CLI::Range(1, 65536));
  client->add_option("--prefix", args->prefix);
  client->add_option("--window", args->window);
  auto spaces = std::make_shared<ClientWorkspaces>();
  client->add_option("--workspaces-dir", spaces->dir);
  client->add_option("--workspaces", spaces->count)->check(CLI::Range(0, 10000));
  client->add_option("--first-client", spaces->first)->check(CLI::NonNegativeNumber);
  client->callback([&, client, args, spaces] {
    const int window = client->count("--window") > 0 ? args->window : 0;  // 0: Append calls
    action = [args, spaces, window] {
      return run_bench_append_client(args->target, args->clients, args->per_append, args->appends, args->payload, args->prefix, *spaces,
                                     window);
    };
  });
  add_bench_replay(bench, global, action);
  add_bench_subscribe(bench, global, action);
  add_bench_import(bench, global, action);
  add_bench_http(bench, global, action);
  add_bench_relay(bench, global, action);
  add_bench_workspaces(bench, global, action);
  add_bench_mcp(bench, global, action);
  add_bench_whatif(bench, global, action);
  add_bench_crash(bench, global, action);
  add_bench_floor(bench, global, action);
}

}  // namespace leanos::cli
