#include "store/power_soak.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "store/personal.h"
#include "store/power_cut.h"

namespace leanos::store {

namespace {

namespace fs = std::filesystem;

struct Acked {
  std::string stream;
  std::vector<v1::Envelope> events;
};

// A forget acknowledged: whom, what it answered, and how many appends were acknowledged
// before it began (theirs are erased for sure; later ones may name the person anew).
struct Forgot {
  std::string subject;
  ForgetResult result;
  std::size_t acked_before = 0;
};

std::string person(std::uint64_t k) { return "person-" + std::to_string(k % 50) + "@example.com"; }

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
  std::vector<Forgot> forgot;
  std::set<std::string> forgetting;
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
            if (own() % 4 == 0) batch[k].set_subject(person(own()));
          }
          const std::string stream = "power-" + std::to_string(t % 2);
          auto copy = batch;
          if (!es.append(stream, ExpectedVersion::any(), std::move(batch))) return;  // the power is gone
          std::lock_guard lock(mu);
          acked.push_back({stream, std::move(copy)});
          cv.notify_all();
        }
      });
    // Now and then a person is forgotten; who was ever asked to be (acknowledged or not)
    // may read "[erased]" after the cut.
    std::thread forgetter([&] {
      std::mt19937_64 own(seed * 13);
      while (!stop) {
        std::unique_lock lock(mu);
        const auto at = acked.size();
        cv.wait(lock, [&] { return stop || acked.size() >= at + 1 + own() % 20; });
        if (stop) break;
        const std::string who = person(own());
        forgetting.insert(who);
        const std::size_t before = acked.size();
        lock.unlock();
        auto done = es.forget(who, "power soak", "soak");
        if (!done && done.status().code() == Code::not_found) continue;  // nothing sealed under them (yet, or still)
        if (!done) return;  // the power is gone
        lock.lock();
        forgot.push_back({who, *done, before});
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
    forgetter.join();
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
  // Acknowledged before an acknowledged erasure of its subject began: erased for sure.
  std::map<std::string, std::size_t> erased_before;
  for (const auto& f : forgot) erased_before[f.subject] = std::max(erased_before[f.subject], f.acked_before);
  for (std::size_t i = 0; i < acked.size(); ++i) {
    const auto& a = acked[i];
    for (const auto& e : a.events) {
      auto at = es.find_event_id(e.event_id());
      if (!at) return at.status();
      bool same = at->has_value();
      bool unerased = false;
      if (same) {
        auto stored = es.read_event(**at);
        if (!stored) return stored.status();
        const auto erasure = e.subject().empty() ? erased_before.end() : erased_before.find(e.subject());
        const bool erased = stored->subject() == "[erased]";
        unerased = erasure != erased_before.end() && i < erasure->second && !erased;
        same = stored->stream() == a.stream && stored->generic().blob() == e.generic().blob() &&
               stored->metadata().at("group") == e.metadata().at("group") &&
               (stored->subject() == e.subject() || (erased && forgetting.count(e.subject()) > 0));
      }
      if (unerased) {
        ++out.unerased;
        if (out.why.empty()) out.why = "acknowledged event " + e.event_id() + " names " + e.subject() + " again, whose erasure was acknowledged";
      } else if (!same) {
        ++out.lost;
        if (out.why.empty()) out.why = "acknowledged event " + e.event_id() + " is gone or not as appended";
      }
    }
  }
  // Each acknowledged erasure: its event in the log, its subject listed as forgotten.
  out.forgets = forgot.size();
  auto listed = read_forgotten(dir + ".master-key");
  if (!listed) {
    out.unreadable = true;
    if (out.why.empty()) out.why = "the forgotten-subjects list: " + listed.status().to_string();
  }
  for (const auto& f : forgot) {
    auto event = es.read_event(f.result.position);
    const bool logged = event && event->has_subject_forgotten() && event->subject_forgotten().subject_hash() == f.result.subject_hash;
    const bool on_list = listed && std::any_of(listed->begin(), listed->end(), [&](const auto& l) { return to_hex(l.first) == f.result.subject_hash; });
    if (!logged || !on_list) {
      ++out.unerased;
      if (out.why.empty())
        out.why = "the acknowledged erasure of " + f.subject + " (position " + std::to_string(f.result.position) + ") is " +
                  (!logged ? "not in the log" : "not on the forgotten-subjects list");
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
    if (e.has_subject_forgotten()) continue;  // an erasure, not a probe
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
