// leanos bench replay: projection replay vs a raw RocksDB scan of the same log, as-of query
// latency with and without snapshots, and memory per idle deal actor.
#include <rocksdb/db.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <queue>
#include <tuple>
#include <random>
#include <thread>

#include "actors/ledger_reader.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "store/keys.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/bench.h"

// jemalloc's control interface, when jemalloc is the allocator (the leanos binary links it,
// tools/CMakeLists.txt): a weak reference, null in the sanitizer builds and the test binaries.
extern "C" int mallctl(const char* name, void* old_value, std::size_t* old_size, void* new_value, std::size_t new_size) __attribute__((weak));

namespace leanos::cli {

namespace {

using bench::Clock;
const auto since = bench::seconds_since;
const auto pct = bench::percentile;

// One deal thread of 14 events, all six stages, dated from `lead` on.
std::vector<Envelope> deal_thread(std::uint64_t n, Micros lead, std::mt19937_64& rng) {
  const std::string id = "d" + std::to_string(n);
  std::vector<Envelope> out;
  Micros at = lead;
  auto add = [&](const google::protobuf::Message& p, Micros step) {
    at += step;
    Envelope e = make_event(p, at);
    e.set_event_id(id + "-" + std::to_string(out.size()));
    e.set_actor("sales-execution");
    out.push_back(std::move(e));
  };
  v1::LeadCaptured l;
  l.set_deal_id(id);
  l.set_company("Company " + id);
  l.set_segment(n % 3 ? "smb" : "enterprise");
  l.set_source(v1::INBOUND);
  l.mutable_contact()->set_name("Contact");
  l.mutable_contact()->set_email("c@" + id + ".example");
  l.set_signal("demo request");
  if (n % 4 == 0) l.set_goal_id("g-mrr");
  add(l, 0);
  v1::HypothesisStated h;
  h.set_deal_id(id);
  h.set_assumption_id("A" + std::to_string(n % 8));
  h.set_confidence(60);
  add(h, kMicrosPerDay / 4);
  v1::ImplicationAssessed i;
  i.set_deal_id(id);
  i.set_arr_low(10000);
  i.set_arr_high(50000);
  i.set_strategic(v1::HIGH);
  i.set_priority(0.6);
  add(i, kMicrosPerDay / 4);
  v1::DecisionMade d;
  d.set_deal_id(id);
  d.set_verdict(v1::QUALIFY);
  d.set_reason("fits");
  d.set_impact(0.5);
  add(d, kMicrosPerDay / 2);
  for (const char* a : {"sales:qualify", "sales:demo", "sales:pilot", "sales:close"}) {
    v1::ActionStarted s;
    s.set_deal_id(id);
    s.set_action(a);
    add(s, kMicrosPerDay);
    v1::ActionCompleted c;
    c.set_deal_id(id);
    c.set_action(a);
    add(c, static_cast<Micros>(rng() % 5 + 1) * kMicrosPerDay);
  }
  v1::DealClosed closed;
  closed.set_deal_id(id);
  const bool won = rng() % 10 < 6;
  closed.set_outcome(won ? v1::WON : v1::LOST);
  if (won) {
    closed.set_arr(12000 * static_cast<std::int64_t>(rng() % 10 + 1));
    closed.set_mrr(closed.arr() / 12);
  }
  closed.set_cycle_days(static_cast<int>((at - lead) / kMicrosPerDay));
  add(closed, 0);
  v1::LearningRecorded learn;
  learn.set_deal_id(id);
  learn.set_assumption_id(h.assumption_id());
  learn.set_result(won ? v1::VALIDATED : v1::PARTIAL);
  add(learn, kMicrosPerDay);
  v1::AssumptionConfidenceChanged cc;  // what the canvas process manager would append
  cc.set_assumption_id(h.assumption_id());
  cc.set_confidence(static_cast<int>(rng() % 100));
  cc.set_status(v1::ASSUMPTION_VALIDATED);
  cc.set_deal_id(id);
  add(cc, 0);
  return out;
}

// How much of the history is recorded late: each event, with probability `fraction`, is
// recorded up to `days` of business time after it occurred (the way people and imports
// record facts), so the folds merge late events back into business-time order.
struct Backdating {
  double fraction = 0.05;
  int days = 60;
};

Status generate(store::EventStore& es, std::uint64_t events, const Backdating& backdating) {
  std::mt19937_64 rng(42);
  const Micros start = parse_time("2024-01-01").value();
  // Setup: the assumptions and the goal.
  std::vector<Envelope> setup;
  for (int a = 0; a < 8; ++a) {
    v1::AssumptionRegistered r;
    r.set_assumption_id("A" + std::to_string(a));
    r.set_statement("assumption " + std::to_string(a));
    r.set_confidence(50);
    setup.push_back(make_event(r, start));
  }
  if (auto r = es.append("canvas", store::ExpectedVersion::any(), setup); !r) return r.status();
  v1::GoalDefined g;
  g.set_goal_id("g-mrr");
  g.set_title("MRR");
  g.set_metric(v1::MRR);
  g.set_target(1'000'000'000);
  if (auto r = es.append("goal-g-mrr", store::ExpectedVersion::any(), {make_event(g, start)}); !r) return r.status();
  // Deals start ~every 20 minutes of business time and run for weeks, so many are open at
  // once. Events are recorded as they happen: a min-heap releases every pending event dated
  // before the next deal's lead, so the log is in business-time order, appended event by
  // event (pipelined, so the store group-commits them).
  std::vector<std::future<Result<store::AppendResult>>> inflight;
  auto drain = [&]() -> Status {
    for (auto& f : inflight)
      if (auto r = f.get(); !r) return r.status();
    inflight.clear();
    return Status::success();
  };
  using Pending = std::tuple<Micros, std::uint64_t, std::string, Envelope>;
  auto later = [](const Pending& a, const Pending& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) > std::tie(std::get<0>(b), std::get<1>(b));
  };
  std::priority_queue<Pending, std::vector<Pending>, decltype(later)> pending(later);
  // Held back: keyed by when they are recorded, not when they occurred.
  std::priority_queue<Pending, std::vector<Pending>, decltype(later)> held(later);
  std::uint64_t seq = 0, queued = es.last_position();
  std::bernoulli_distribution late(backdating.fraction);
  std::uniform_int_distribution<Micros> delay(1, std::max(1, backdating.days) * kMicrosPerDay);
  auto record = [&](std::priority_queue<Pending, std::vector<Pending>, decltype(later)>& from) -> Status {
    auto& top = const_cast<Pending&>(from.top());
    inflight.push_back(es.append_async(std::get<2>(top), store::ExpectedVersion::any(), {std::move(std::get<3>(top))}));
    from.pop();
    ++queued;
    if (inflight.size() >= 512) return drain();
    return Status::success();
  };
  auto release = [&](Micros until) -> Status {
    while (queued < events) {
      const bool due = !pending.empty() && std::get<0>(pending.top()) < until;
      const bool held_due = !held.empty() && std::get<0>(held.top()) < until &&
                            (!due || std::get<0>(held.top()) <= std::get<0>(pending.top()));
      if (held_due) {
        if (auto s = record(held); !s) return s;
      } else if (due) {
        if (backdating.fraction > 0 && late(rng)) {  // recorded later, dated now
          auto& top = const_cast<Pending&>(pending.top());
          held.emplace(std::get<0>(top) + delay(rng), std::get<1>(top), std::move(std::get<2>(top)), std::move(std::get<3>(top)));
          pending.pop();
        } else if (auto s = record(pending); !s) {
          return s;
        }
      } else {
        break;
      }
    }
    return Status::success();
  };
  for (std::uint64_t n = 0; queued < events; ++n) {
    const Micros lead = start + static_cast<Micros>(n) * 20 * 60 * kMicrosPerSecond;
    if (auto s = release(lead); !s) return s;
    const std::string stream = "deal-d" + std::to_string(n);
    for (auto& e : deal_thread(n, lead, rng)) pending.emplace(from_timestamp(e.occurred_at()), seq++, stream, std::move(e));
    if (pending.size() > 4 * (events - queued) + 64) break;  // enough queued to finish
  }
  if (auto s = release(std::numeric_limits<Micros>::max()); !s) return s;
  return drain();
}

Result<double> raw_scan_eps(const std::string& dir, std::uint64_t& scanned) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> names;
  if (auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names); !s.ok()) return Status::io(s.ToString());
  for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (auto s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, cfs, &handles, &raw); !s.ok())
    return Status::io(s.ToString());
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == store::kEventsCf) events = handles[i];
  const auto t0 = Clock::now();
  std::size_t bytes = 0;
  scanned = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), events));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      bytes += it->key().size() + it->value().size();
      ++scanned;
    }
  }
  const double secs = since(t0);
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  if (bytes == 0) return Status::io("raw scan read nothing");
  return static_cast<double>(scanned) / secs;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// The bytes the program holds allocated. Under jemalloc its own count: jemalloc hands freed
// pages back to the system over the following seconds, so the resident set shrank while the
// actors were made after a large run and their cost came out negative. Otherwise the
// resident set (glibc keeps what it freed mapped).
double allocated_bytes() {
  if (mallctl) {
    std::uint64_t epoch = 1;
    std::size_t size = sizeof epoch;
    mallctl("epoch", &epoch, &size, &epoch, size);  // refreshes the statistics
    std::size_t allocated = 0;
    size = sizeof allocated;
    if (mallctl("stats.allocated", &allocated, &size, nullptr, 0) == 0) return static_cast<double>(allocated);
  }
  return static_cast<double>(rss_kb()) * 1024.0;
}

struct ReplayRow {
  std::uint64_t events;
  double replay_eps, replay_snap_eps, raw_eps;
  double asof_snap_p50, asof_snap_p99, asof_full_p50, asof_full_p99;
  double snapshot_mb;
  double log_mb, store_mb;  // on disk: the log alone (indexes too), then with the snapshots the replay wrote
};

Result<ReplayRow> replay_row(const std::string& dir, std::uint64_t events, int queries, int full_queries,
                             std::uint64_t snapshot_every, const Backdating& backdating) {
  ReplayRow row{};
  {
    store::StoreOptions relaxed;
    relaxed.durability = store::Durability::relaxed;  // generating the log is not what we measure
    relaxed.max_occurred_ahead_micros = -1;           // the synthetic log spans decades from 2024
    auto es = store::EventStore::open(dir, relaxed);
    if (!es) return es.status();
    std::fprintf(stderr, "bench: generating %llu events...\n", static_cast<unsigned long long>(events));
    if (auto s = generate(**es, events, backdating); !s) return s;
    // Both the replay and the raw scan below then read a quiet, compacted log, instead of
    // the replay competing with the generator's leftover compactions for the two cores.
    std::fprintf(stderr, "bench: compacting...\n");
    if (auto s = (*es)->compact(); !s) return s;
    row.events = (*es)->last_position();
    row.log_mb = static_cast<double>(bench::folder_bytes(dir)) / 1e6;
    // Replay: every projection together, from the first event.
    LedgerOptions options;
    options.use_snapshots = false;
    options.write_snapshots = false;
    // Three rounds of replay then raw scan (a read-only open takes no lock), the best of each:
    // on a shared machine noise only ever slows a run down.
    Result<LedgerRead> r = Status::io("no replay ran");
    for (int round = 0; round < 3; ++round) {
      std::fprintf(stderr, "bench: replaying (round %d of 3)...\n", round + 1);
      const auto t0 = Clock::now();
      r = read_ledger(**es, AsOf{}, options);
      if (!r) return r.status();
      row.replay_eps = std::max(row.replay_eps, static_cast<double>(r->folded) / since(t0));
      std::uint64_t scanned = 0;
      auto raw = raw_scan_eps(dir, scanned);
      if (!raw) return raw.status();
      row.raw_eps = std::max(row.raw_eps, *raw);
    }
    std::fprintf(stderr, "bench: replaying again, writing snapshots...\n");
    // The same pass writing snapshots, for the as-of queries below (0: no snapshots): full
    // ones every `snapshot_every`, core ones every 500 events.
    {
      options.write_snapshots = true;
      options.snapshot_every = snapshot_every;  // 0: core snapshots only
      options.core_snapshot_every = 500;
      const auto t1 = Clock::now();
      if (auto w = read_ledger(**es, AsOf{}, options); !w) return w.status();
      row.replay_snap_eps = static_cast<double>(r->folded) / since(t1);
      if (auto s = (*es)->compact_snapshots(); !s) return s;  // as `leanos replay` does
      if (auto s = (*es)->flush(); !s) return s;
      row.store_mb = static_cast<double>(bench::folder_bytes(dir)) / 1e6;
    }
    row.snapshot_mb = static_cast<double>(projections::serialize(r->view).size()) / 1e6;
    // As-of at random business dates, with and without snapshots.
    std::fprintf(stderr, "bench: as-of queries...\n");
    auto first = (*es)->read_event(1);
    if (!first) return first.status();
    const Micros lo = from_timestamp(first->occurred_at()), hi = r->view.max_occurred_at();
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<Micros> when(lo, hi);
    // "canvas show --as-of": the core from a core snapshot, deals rebuilt when the tail touches them.
    LedgerOptions snap, full;
    snap.write_snapshots = false;
    snap.need_deals = false;
    full.use_snapshots = false;
    full.write_snapshots = false;
    std::vector<double> with, without;
    std::uint64_t folded = 0;
    int by_time = 0;
    for (int q = 0; q < queries; ++q) {
      const AsOf at{.occurred = when(rng)};
      const auto q0 = Clock::now();
      auto v = read_ledger(**es, at, snap);
      if (!v) return v.status();
      with.push_back(since(q0) * 1000);
      folded += v->folded;
      by_time += v->time_snapshot;
      if (q < full_queries) {
        const auto q1 = Clock::now();
        if (auto v = read_ledger(**es, at, full); !v) return v.status();
        without.push_back(since(q1) * 1000);
      }
    }
    std::fprintf(stderr, "bench: as-of queries folded %.0f events on average on top of a snapshot (%d of %d keyed by business time)\n",
                 queries ? static_cast<double>(folded) / queries : 0.0, by_time, queries);
    row.asof_snap_p50 = pct(with, 0.5);
    row.asof_snap_p99 = pct(with, 0.99);
    row.asof_full_p50 = pct(without, 0.5);
    row.asof_full_p99 = pct(without, 0.99);
  }
  return row;
}

// What each stream actor kept alive by the router (idle, never evicted) holds allocated.
Result<double> bytes_per_idle_deal(const std::string& dir, int deals) {
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;
  auto es = store::EventStore::open(dir, relaxed);
  if (!es) return es.status();
  RuntimeOptions options;
  options.max_live = static_cast<std::size_t>(deals) + 16;
  options.idle = std::chrono::hours(1);
  Runtime runtime(**es, options);
  auto open = [&](int i) {
    v1::LeadCaptured l;
    l.set_deal_id("m" + std::to_string(i));
    l.set_company("C");
    l.set_segment("smb");
    l.set_source(v1::INBOUND);
    l.mutable_contact()->set_name("N");
    l.mutable_contact()->set_email("n@c.example");
    l.set_signal("s");
    Envelope c = make_event(l, 0);
    c.set_event_id(new_event_id());
    return runtime.submit(c);
  };
  for (int i = 0; i < 200; ++i)  // warm up allocators and RocksDB's memtable
    if (auto r = open(i); !r) return r.status();
  const double before = allocated_bytes();
  for (int i = 200; i < 200 + deals; ++i)
    if (auto r = open(i); !r) return r.status();
  const double after = allocated_bytes();
  if (runtime.stats().live_actors < static_cast<std::size_t>(deals)) return Status::io("actors stopped during the measurement");
  return (after - before) / deals;
}

int run_bench_replay(const GlobalOptions& global, std::string dir, std::vector<std::uint64_t> sizes, int queries,
                     int full_queries, std::uint64_t snapshot_every, const Backdating& backdating) {
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-replay-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  std::vector<ReplayRow> rows;
  for (auto n : sizes) {
    const std::string d = dir + "/log-" + std::to_string(n);
    fs::remove_all(d, ec);
    fs::create_directories(d, ec);
    auto row = replay_row(d, n, queries, full_queries, snapshot_every, backdating);
    if (!row) return fail(row.status());
    rows.push_back(*row);
    if (temp) fs::remove_all(d, ec);  // a --dir keeps each log: `leanos replay --data DIR/log-N`
  }
  const std::string mdir = dir + "/memory";
  fs::remove_all(mdir, ec);
  auto mem = bytes_per_idle_deal(mdir, 10'000);
  if (!mem) return fail(mem.status());
  if (temp) fs::remove_all(dir, ec);

  if (global.json) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      std::printf("%s{\"events\":%llu,\"replay_eps\":%.0f,\"raw_scan_eps\":%.0f,\"ratio\":%.3f,\"asof_snapshot_p50_ms\":%.3f,"
                  "\"asof_snapshot_p99_ms\":%.3f,\"replay_writing_snapshots_eps\":%.0f,\"asof_full_p50_ms\":%.3f,\"asof_full_p99_ms\":%.3f,\"snapshot_mb\":%.2f,"
                  "\"log_mb\":%.1f,\"store_mb\":%.1f}",
                  i ? "," : "", static_cast<unsigned long long>(r.events), r.replay_eps, r.raw_eps, r.replay_eps / r.raw_eps,
                  r.asof_snap_p50, r.asof_snap_p99, r.replay_snap_eps, r.asof_full_p50, r.asof_full_p99, r.snapshot_mb, r.log_mb, r.store_mb);
    }
    std::printf(",{\"bytes_per_idle_deal_actor\":%.0f}]\n", *mem);
    return 0;
  }
  std::printf("replay of every projection vs a raw RocksDB scan of the same log (best of 3 interleaved rounds each)\n");
  std::printf("%-10s %-12s %-12s %-6s %-22s %-22s %-9s %-16s\n", "events", "replay ev/s", "raw ev/s", "ratio",
              "as-of core p50/p99 ms", "as-of full p50/p99 ms", "snap MB", "log / store MB");
  for (const auto& r : rows)
    std::printf("%-10llu %-12.0f %-12.0f %-6.2f %-22s %-22s %-9.2f %-16s\n", static_cast<unsigned long long>(r.events), r.replay_eps,
                r.raw_eps, r.replay_eps / r.raw_eps,
                r.asof_snap_p99 > 0 ? (std::to_string(r.asof_snap_p50).substr(0, 7) + " / " + std::to_string(r.asof_snap_p99).substr(0, 7)).c_str() : "-",
                r.asof_full_p99 > 0 ? (std::to_string(r.asof_full_p50).substr(0, 7) + " / " + std::to_string(r.asof_full_p99).substr(0, 7)).c_str() : "-",
                r.snapshot_mb, (std::to_string(static_cast<long>(r.log_mb)) + " / " + std::to_string(static_cast<long>(r.store_mb))).c_str());
  for (const auto& r : rows)
    if (r.replay_snap_eps > 0)
      std::printf("replay of %llu events writing snapshots: %.0f events/s\n", static_cast<unsigned long long>(r.events),
                  r.replay_snap_eps);
  std::printf("memory per idle deal actor: %.0f bytes (10 000 actors alive)\n", *mem);
  return 0;
}

}  // namespace

void add_bench_replay(CLI::App* bench, GlobalOptions& global, Action& action) {
  struct Args {
    std::string dir;
    std::vector<std::uint64_t> sizes{1'000'000, 10'000'000};
    int queries = 200;
    int full_queries = 10;
    std::uint64_t snapshot_every = 100'000;
    Backdating backdating;
  };
  auto args = std::make_shared<Args>();
  auto* s = bench->add_subcommand("replay", "projection replay vs raw scan, as-of latency, memory per idle deal");
  s->add_option("--dir", args->dir, "scratch folder, kept after (default: a temporary folder, removed after)");
  s->add_option("--events", args->sizes, "log sizes to generate (default 1000000 10000000)");
  s->add_option("--queries", args->queries, "as-of queries with snapshots per size");
  s->add_option("--full-queries", args->full_queries, "as-of queries without snapshots per size (each a full fold)");
  s->add_option("--snapshot-every", args->snapshot_every, "full-snapshot interval (core snapshots: every 500); 0 = core only");
  s->add_option("--backdated", args->backdating.fraction, "share of events recorded late (default 0.05; 0 = in business order)")
      ->check(CLI::Range(0.0, 1.0));
  s->add_option("--backdated-days", args->backdating.days, "how late, at most, in days of business time (default 60)")
      ->check(CLI::Range(1, 3650));
  s->callback([&, args] {
    action = [&global, args] { return run_bench_replay(global, args->dir, args->sizes, args->queries, args->full_queries,
                                                      args->snapshot_every, args->backdating); };
  });
}

Status generate_history(store::EventStore& es, std::uint64_t events) { return generate(es, events, Backdating{}); }

Status on_histories(std::string dir, const std::string& name, const std::vector<std::uint64_t>& sizes,
                    const std::function<Status(const std::string& data, std::uint64_t events)>& measure) {
  namespace fs = std::filesystem;
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-" + name + "-" + std::to_string(::getpid()))).string();
  Status outcome = Status::success();
  for (auto events : sizes) {
    const std::string data = dir + "/" + std::to_string(events);
    std::error_code ec;
    fs::remove_all(data, ec);
    fs::remove(data + ".master-key", ec);
    if (outcome = prepare_history(data, events); !outcome) break;
    if (outcome = measure(data, events); !outcome) break;
  }
  if (temp) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return outcome;
}

Status prepare_history(const std::string& dir, std::uint64_t events) {
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;  // generating the history is not what we measure
  relaxed.max_occurred_ahead_micros = -1;
  auto es = store::EventStore::open(dir, relaxed);
  if (!es) return es.status();
  std::fprintf(stderr, "bench: generating %llu events...\n", static_cast<unsigned long long>(events));
  if (auto s = generate_history(**es, events); !s) return s;
  if (auto s = (*es)->compact(); !s) return s;
  LedgerOptions options;
  options.write_snapshots = true;
  if (auto r = read_ledger(**es, AsOf{}, options); !r) return r.status();
  return (*es)->compact_snapshots();
}

}  // namespace leanos::cli
