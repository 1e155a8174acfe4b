#include "store/power_soak.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "store/power_cut.h"

namespace leanos::store {

namespace {

namespace fs = std::filesystem;

struct Acked {
  std::string stream;
  std::vector<v1::Envelope> events;
};

}  // namespace

Result<PowerCut> power_cut_once(const std::string& dir, std::uint64_t seed, Durability durability) {
  std::mt19937_64 rng(seed);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::remove(dir + ".master-key", ec);
  auto disk = std::make_shared<PowerCutFs>();
  auto env = rocksdb::NewCompositeEnv(disk);
  const int appenders = 1 + static_cast<int>(rng() % 4);
  const std::size_t cut_after = 1 + rng() % 200;
  const bool torn = rng() % 2 == 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Acked> acked;
  {
    StoreOptions options;
    options.env = env.get();
    options.durability = durability;
    auto opened = EventStore::open(dir, options);
    if (!opened) return opened.status();
    auto& es = **opened;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < appenders; ++t)
      threads.emplace_back([&, t] {
        std::mt19937_64 own(seed * 31 + static_cast<std::uint64_t>(t));
        for (int i = 0; !stop; ++i) {
          const std::size_t n = 1 + own() % 5;
          std::vector<v1::Envelope> batch(n);
          for (std::size_t k = 0; k < n; ++k) {
            batch[k].set_type("PowerProbe");
            batch[k].set_event_id("p" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(k));
            batch[k].mutable_generic()->set_blob(std::string(20 + own() % 2000, static_cast<char>('a' + k)));
            (*batch[k].mutable_metadata())["group"] = std::to_string(t) + "-" + std::to_string(i);
            (*batch[k].mutable_metadata())["of"] = std::to_string(n);
            if (own() % 4 == 0) batch[k].set_subject("person-" + std::to_string(own() % 50) + "@example.com");
          }
          const std::string stream = "power-" + std::to_string(t % 2);
          auto copy = batch;
          if (!es.append(stream, ExpectedVersion::any(), std::move(batch))) return;  // the power is gone
          std::lock_guard lock(mu);
          acked.push_back({stream, std::move(copy)});
          cv.notify_all();
        }
      });
    std::thread maintenance([&] {
      std::mt19937_64 own(seed * 17);
      while (!stop) {
        std::unique_lock lock(mu);
        const auto at = acked.size();
        cv.wait(lock, [&] { return stop || acked.size() >= at + 1 + own() % 40; });
        lock.unlock();
        if (stop) break;
        own() % 2 ? (void)es.flush() : (void)es.compact();
      }
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return acked.size() >= cut_after; });
    }
    disk->cut();
    stop = true;
    cv.notify_all();
    for (auto& t : threads) t.join();
    maintenance.join();
  }  // the store closes on a dead disk
  PowerCut out;
  out.dropped_bytes = disk->lose_unsynced(rng, torn);
  out.appends = acked.size();
  for (const auto& a : acked) out.events += a.events.size();
  auto reopened = EventStore::open(dir);
  if (!reopened) {
    out.unreadable = true;
    out.why = "the store does not open: " + reopened.status().to_string();
    return out;
  }
  auto& es = **reopened;
  const auto report = es.verify();
  if (!report.clean()) {
    out.unreadable = true;
    out.why = "verify: " + report.problems.front().what;
  }
  for (const auto& a : acked)
    for (const auto& e : a.events) {
      auto at = es.find_event_id(e.event_id());
      if (!at) return at.status();
      bool same = at->has_value();
      if (same) {
        auto stored = es.read_event(**at);
        if (!stored) return stored.status();
        same = stored->stream() == a.stream && stored->generic().blob() == e.generic().blob() &&
               stored->metadata().at("group") == e.metadata().at("group") && stored->subject() == e.subject();
      }
      if (!same) {
        ++out.lost;
        if (out.why.empty()) out.why = "acknowledged event " + e.event_id() + " is gone or not as appended";
      }
    }
  auto all = es.read_all(1, std::numeric_limits<std::size_t>::max());
  if (!all) return all.status();
  std::map<std::string, std::size_t> seen, wanted;
  std::uint64_t expect = 1;
  for (const auto& e : *all) {
    if (e.position() != expect++ && out.why.empty()) {
      out.unreadable = true;
      out.why = "positions are not dense at " + std::to_string(e.position());
    }
    ++seen[e.metadata().at("group")];
    wanted[e.metadata().at("group")] = std::stoul(e.metadata().at("of"));
  }
  for (const auto& [group, count] : seen)
    if (count != wanted[group]) {
      ++out.half_groups;
      if (out.why.empty()) out.why = "append " + group + " is there in part (" + std::to_string(count) + " of " + std::to_string(wanted[group]) + ")";
    }
  return out;
}

}  // namespace leanos::store
