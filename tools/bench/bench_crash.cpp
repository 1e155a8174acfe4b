// leanos bench crash: simulated power cuts under load. Each cut runs the store over a file
// system that forgets every byte not synced when the power goes (store/power_cut.h), with
// concurrent single and grouped appends (some naming a person, so the key vault writes in the
// same group), memtable flushes and compactions; at a random moment the power goes, the disk
// keeps what was synced (half the cuts a torn part of what followed), and the store is opened
// again from what is left. Counted: the appends acknowledged, the acknowledged events missing
// or not as appended (lost), the appends present in part (half groups), and the cuts after
// which the store did not open or verify found a problem (unreadable). Each cut's seed derives
// from --seed, and a failing cut prints its own: `--seed S --cuts 1` runs it again.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "store/event_store.h"
#include "store/power_soak.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"

namespace leanos::cli {

namespace {

namespace fs = std::filesystem;

int run_bench_crash(const GlobalOptions& g, std::string dir, int cuts, std::uint64_t seed, bool relaxed) {
  const bool temp = dir.empty();
  // The simulator keeps what was synced itself, whatever the disk beneath does: a RAM disk
  // (/dev/shm, where there is one) makes a cut several times faster than a real one.
  // A small one (a container's 64 MiB) would fill with a store's preallocated log: 1 GiB free.
  std::error_code shm;
  const bool roomy = fs::is_directory("/dev/shm", shm) && fs::space("/dev/shm", shm).available >= (std::uintmax_t{1} << 30) && !shm;
  const fs::path base = roomy ? fs::path("/dev/shm") : fs::temp_directory_path();
  if (temp) dir = (base / ("leanos-bench-crash-" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  std::size_t appends = 0, events = 0, lost = 0, half = 0, unreadable = 0, failed = 0, forgets = 0, unerased = 0;
  std::uint64_t dropped = 0;
  // What the store and RocksDB say when the power goes is expected here, every cut: quiet.
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::critical);
  const auto t0 = bench::Clock::now();
  for (int i = 0; i < cuts; ++i) {
    const std::uint64_t s = seed + static_cast<std::uint64_t>(i);
    auto c = store::power_cut_once(dir + "/data", s, relaxed ? store::Durability::relaxed : store::Durability::sync);
    if (!c) {
      spdlog::set_level(level);
      std::fprintf(stderr, "bench crash: seed %llu: %s\n", static_cast<unsigned long long>(s), c.status().to_string().c_str());
      return fail(c.status());
    }
    appends += c->appends, events += c->events, lost += c->lost, half += c->half_groups, dropped += c->dropped_bytes;
    unreadable += c->unreadable;
    forgets += c->forgets, unerased += c->unerased;
    if (!c->why.empty()) {
      ++failed;
      std::fprintf(stderr, "bench crash: cut with seed %llu (--seed %llu --cuts 1): %s\n", static_cast<unsigned long long>(s),
                   static_cast<unsigned long long>(s), c->why.c_str());
    }
    if (!g.json && (i + 1) % 100 == 0) std::fprintf(stderr, "bench crash: %d of %d cuts\n", i + 1, cuts);
  }
  const double seconds = bench::seconds_since(t0);
  spdlog::set_level(level);
  std::error_code ec;
  if (temp) fs::remove_all(dir, ec);
  if (g.json) {
    out("%s\n", nlohmann::json{{"cuts", cuts},
                               {"seed", seed},
                               {"durability", relaxed ? "relaxed" : "durable"},
                               {"acknowledged", events},
                               {"acknowledged_appends", appends},
                               {"lost", lost},
                               {"half_groups", half},
                               {"unreadable", unreadable},
                               {"acknowledged_forgets", forgets},
                               {"unerased", unerased},
                               {"failed_cuts", failed},
                               {"unsynced_bytes_dropped", dropped},
                               {"seconds", seconds}}
                    .dump()
                    .c_str());
  } else {
    out("%d simulated power cuts (%s, seeds %llu..%llu) in %.1f s: %zu events in %zu appends acknowledged, %llu unsynced bytes "
        "dropped, %zu people forgotten; lost %zu, half groups %zu, unreadable %zu, erasures undone %zu\n",
        cuts, relaxed ? "relaxed durability" : "durable", static_cast<unsigned long long>(seed),
        static_cast<unsigned long long>(seed + static_cast<std::uint64_t>(cuts) - 1), seconds, events, appends,
        static_cast<unsigned long long>(dropped), forgets, lost, half, unreadable, unerased);
  }
  // Relaxed durability is expected to lose acknowledged appends: that is what it names.
  return failed && !relaxed ? 1 : 0;
}

}  // namespace

void add_bench_crash(CLI::App* bench, GlobalOptions& g, Action& action) {
  struct Args {
    std::string dir;
    int cuts = 100;
    std::uint64_t seed = 0;
    bool relaxed = false;
  };
  auto a = std::make_shared<Args>();
  auto* s = bench->add_subcommand("crash",
                                  "simulated power cuts under concurrent appends, flushes and compactions: after each, every "
                                  "acknowledged event must be there, every append whole or absent, the store open and verify clean");
  s->add_option("--cuts", a->cuts, "how many cuts (default 100)")->check(CLI::Range(1, 10'000'000));
  s->add_option("--seed", a->seed, "the first cut's seed (default: random); each cut's is the next");
  s->add_flag("--relaxed", a->relaxed, "with --durability relaxed: how much an unsynced acknowledgement loses at a cut");
  s->add_option("--dir", a->dir, "where the store is made for each cut (default: a temporary folder)");
  s->callback([&g, &action, a] {
    action = [&g, a] {
      std::uint64_t seed = a->seed;
      if (seed == 0) seed = std::random_device{}() | 1;
      return run_bench_crash(g, a->dir, a->cuts, seed, a->relaxed);
    };
  });
}

}  // namespace leanos::cli
