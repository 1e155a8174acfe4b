// Power cuts, not process kills: the store writes through a file system that forgets every
// byte not synced when the power goes (tests/power_cut.h), at a random moment under
// concurrent single and grouped appends. After each cut the store must open, verify clean,
// hold every acknowledged event byte for byte, and hold each append whole or not at all.
// LEANOS_TEST_SEED=N replays one cut.
#include <doctest/doctest.h>

#include <condition_variable>
#include <filesystem>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "actors/ledger_reader.h"
#include "events/ids.h"
#include "projections/ledger.h"
#include "store/event_store.h"
#include "tests/builders.h"
#include "store/power_cut.h"
#include "store/power_soak.h"
#include "tests/support.h"

using namespace leanos;
using store::Envelope;
using store::EventStore;
using store::ExpectedVersion;

namespace {

// One cut (store/power_soak.h, what `leanos bench crash` runs), checked.
void cut_once(std::uint64_t seed) {
  INFO("seed " << seed << " (LEANOS_TEST_SEED=" << seed << " replays it)");
  test::TempDir dir;
  auto cut = store::power_cut_once(dir.sub("data"), seed, store::Durability::sync);
  REQUIRE_MESSAGE(cut.is_ok(), (cut.is_ok() ? "" : cut.status().to_string()));
  INFO(cut->appends << " appends acknowledged, " << cut->dropped_bytes << " unsynced bytes lost");
  CHECK_MESSAGE(cut->why.empty(), cut->why);
  CHECK(cut->lost == 0);
  CHECK(cut->half_groups == 0);
  CHECK(cut->unerased == 0);
  CHECK_FALSE(cut->unreadable);
  CHECK(cut->events >= cut->appends);
}

}  // namespace

TEST_CASE("after a power cut under concurrent appends, erasures, flushes and compactions every acknowledged event is there, its person's key too unless forgotten, and every append whole or absent") {
  if (const char* s = std::getenv("LEANOS_TEST_SEED")) {
    cut_once(std::strtoull(s, nullptr, 10));
    return;
  }
  std::random_device device;
  const std::uint64_t base = device();
  for (std::uint64_t i = 0; i < 24; ++i) cut_once(base + i);
}

TEST_CASE("the simulated cut does lose what was never synced: relaxed durability's acknowledged appends are gone") {
  // The control for the case above: were the simulator to keep unsynced bytes, that case
  // could not fail.
  test::TempDir dir;
  const std::string data = dir.sub("data");
  auto fs = std::make_shared<store::PowerCutFs>();
  auto env = rocksdb::NewCompositeEnv(fs);
  std::size_t acknowledged = 0;
  {
    store::StoreOptions options;
    options.env = env.get();
    options.durability = store::Durability::relaxed;  // acknowledged before the WAL is synced
    auto opened = EventStore::open(data, options);
    REQUIRE(opened.is_ok());
    for (int i = 0; i < 50; ++i) {
      Envelope e;
      e.set_type("PowerProbe");
      e.mutable_generic()->set_blob("relaxed");
      REQUIRE((*opened)->append("power-relaxed", ExpectedVersion::any(), {e}).is_ok());
      ++acknowledged;
    }
    fs->cut();
  }
  std::mt19937_64 rng(1);
  CHECK(fs->lose_unsynced(rng, false) > 0);
  auto reopened = EventStore::open(data);
  REQUIRE(reopened.is_ok());
  CHECK((*reopened)->last_position() < acknowledged);
}

TEST_CASE("an fsync that fails is never acknowledged and never retried into a success: the store stops writing and says why") {
  test::TempDir dir;
  const std::string data = dir.sub("data");
  auto fs = std::make_shared<store::PowerCutFs>();
  auto env = rocksdb::NewCompositeEnv(fs);
  auto probe = [](const std::string& id) {
    Envelope e;
    e.set_type("PowerProbe");
    e.set_event_id(id);
    e.mutable_generic()->set_blob(id);
    return e;
  };
  {
    store::StoreOptions options;
    options.env = env.get();
    auto opened = EventStore::open(data, options);
    REQUIRE(opened.is_ok());
    auto& es = **opened;
    REQUIRE(es.append("power-eio", ExpectedVersion::any(), {probe("before")}).is_ok());
    fs->fail_syncs(1);
    auto failed = es.append("power-eio", ExpectedVersion::any(), {probe("unsynced")});
    REQUIRE(!failed.is_ok());  // not acknowledged
    INFO("the failed append: " << failed.status().to_string());
    CHECK(failed.status().message().find("Input/output error") != std::string::npos);
    auto after = es.append("power-eio", ExpectedVersion::any(), {probe("after")});
    REQUIRE(!after.is_ok());  // no write is taken on a disk that lost one
    INFO("the next append: " << after.status().to_string());
    CHECK(after.status().code() == Code::read_only);
    CHECK(after.status().message().find("Input/output error") != std::string::npos);
    CHECK(after.status().message().find("check the disk") != std::string::npos);  // the way out, not "free space"
    CHECK(after.status().message().find("free space") == std::string::npos);
    // Never retried into a success: the disk works again, the store still takes nothing.
    CHECK(!es.append("power-eio", ExpectedVersion::any(), {probe("later")}).is_ok());
    auto read = es.read_all(1, 10);  // reads go on
    REQUIRE(read.is_ok());
    CHECK(read->front().event_id() == "before");
  }
  auto reopened = EventStore::open(data);
  REQUIRE(reopened.is_ok());
  CHECK((*reopened)->verify().clean());
  CHECK((*reopened)->find_event_id("before")->has_value());
  CHECK(!(*reopened)->find_event_id("after")->has_value());
}

TEST_CASE("the simulated cut removes a file made since its directory was last synced, and keeps one whose directory was") {
  test::TempDir dir;
  store::PowerCutFs fs;
  std::unique_ptr<rocksdb::FSDirectory> folder;
  REQUIRE(fs.NewDirectory(dir.path(), {}, &folder, nullptr).ok());
  auto write = [&](const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    REQUIRE(fs.NewWritableFile(dir.sub(name), {}, &f, nullptr).ok());
    REQUIRE(f->Append("synced bytes", {}, nullptr).ok());
    REQUIRE(f->Sync({}, nullptr).ok());
    REQUIRE(f->Close({}, nullptr).ok());
  };
  write("listed");
  REQUIRE(folder->Fsync({}, nullptr).ok());
  write("unlisted");  // its data synced, its directory not
  fs.cut();
  std::mt19937_64 rng(1);
  fs.lose_unsynced(rng, false);
  CHECK(std::filesystem::file_size(dir.sub("listed")) == 12);
  CHECK(!std::filesystem::exists(dir.sub("unlisted")));
}

TEST_CASE("a read the disk fails (EIO) is an error naming it, never a crash or a silent gap, and reads work again with the disk") {
  test::TempDir dir;
  const std::string data = dir.sub("data");
  auto fs = std::make_shared<store::PowerCutFs>();
  auto env = rocksdb::NewCompositeEnv(fs);
  store::StoreOptions options;
  options.env = env.get();
  {
    auto opened = EventStore::open(data, options);
    REQUIRE(opened.is_ok());
    for (int i = 0; i < 200; ++i) {
      std::vector<Envelope> batch(5);
      for (auto& e : batch) {
        e.set_type("PowerProbe");
        e.mutable_generic()->set_blob(std::string(200, 'r'));
      }
      REQUIRE((*opened)->append("power-read", ExpectedVersion::any(), std::move(batch)).is_ok());
    }
    REQUIRE((*opened)->flush().is_ok());  // into table files, read from the disk below
  }
  auto opened = EventStore::open(data, options);
  REQUIRE(opened.is_ok());
  auto& es = **opened;
  fs->fail_reads(true);
  auto scan = es.read_all(1, 5000);
  REQUIRE(!scan.is_ok());
  INFO(scan.status().to_string());
  CHECK(scan.status().message().find("Input/output error") != std::string::npos);
  auto stream = es.read_stream("power-read", 1, store::Direction::forward, 5000);
  CHECK(!stream.is_ok());
  CHECK(!es.verify().clean());
  fs->fail_reads(false);
  auto again = es.read_all(1, 5000);
  REQUIRE(again.is_ok());
  CHECK(again->size() == 1000);
  CHECK(es.verify().clean());
}

TEST_CASE("a power cut while snapshots are written: after it the ledger read from snapshots equals the one folded from the log alone") {
  std::random_device device;
  const std::uint64_t base = std::getenv("LEANOS_TEST_SEED") ? std::strtoull(std::getenv("LEANOS_TEST_SEED"), nullptr, 10) : device();
  int from_a_snapshot = 0;  // runs whose read after the cut started from a snapshot
  for (std::uint64_t seed = base; seed < base + 8; ++seed) {
    INFO("seed " << seed << " (LEANOS_TEST_SEED=" << seed << " replays it first)");
    std::mt19937_64 rng(seed);
    test::TempDir dir;
    const std::string data = dir.sub("data");
    auto fs = std::make_shared<store::PowerCutFs>();
    auto env = rocksdb::NewCompositeEnv(fs);
    const std::size_t cut_after = 20 + rng() % 300;
    std::vector<std::string> acked;
    std::mutex mu;
    std::condition_variable cv;
    {
      store::StoreOptions options;
      options.env = env.get();
      options.max_occurred_ahead_micros = -1;
      auto opened = EventStore::open(data, options);
      REQUIRE(opened.is_ok());
      auto& es = **opened;
      std::atomic<bool> stop{false};
      std::thread appender([&] {
        for (int i = 0; !stop; ++i) {
          const std::string deal = "d" + std::to_string(i);
          Envelope lead = test::command(test::lead_captured(deal), "2026-01-01", "lead-" + deal);
          if (!es.append(deal_stream(deal), ExpectedVersion::no_stream(), {lead})) return;
          std::lock_guard lock(mu);
          acked.push_back(deal);
          cv.notify_all();
        }
      });
      std::thread snapshotter([&] {  // folds the log again and again, writing snapshots as it goes
        LedgerOptions often;
        often.snapshot_every = 40;
        often.core_snapshot_every = 15;
        while (!stop && read_ledger(es, AsOf{}, often).is_ok()) {
        }
      });
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return acked.size() >= cut_after; });
      }
      fs->cut();
      stop = true;
      appender.join();
      snapshotter.join();
    }
    fs->lose_unsynced(rng, rng() % 2 == 0);
    auto reopened = EventStore::open(data);
    REQUIRE(reopened.is_ok());
    LedgerOptions from_snapshots, from_log;
    from_snapshots.write_snapshots = from_log.write_snapshots = false;
    from_log.use_snapshots = false;
    auto with = read_ledger(**reopened, AsOf{}, from_snapshots);
    auto without = read_ledger(**reopened, AsOf{}, from_log);
    REQUIRE(with.is_ok());
    REQUIRE(without.is_ok());
    CHECK(projections::serialize(with->view) == projections::serialize(without->view));
    for (const auto& deal : acked) CHECK_MESSAGE(without->view.deals().count(deal) == 1, "acknowledged deal " << deal << " is gone");
    from_a_snapshot += with->snapshot_position > 0;
  }
  CHECK(from_a_snapshot > 0);  // else the case tested nothing of snapshots
}

TEST_CASE("bench crash: a few hundred simulated power cuts of the real binary's store lose nothing acknowledged and leave no half append") {
  const std::string seed = std::to_string(std::random_device{}() | 1);
  INFO("seed " << seed << " (leanos bench crash --seed " << seed << " replays the run)");
  auto r = test::run_leanos({"bench", "crash", "--cuts", "150", "--seed", seed, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["cuts"] == 150);
  CHECK(j["acknowledged"].get<int>() > 150);
  CHECK(j["lost"] == 0);
  CHECK(j["half_groups"] == 0);
  CHECK(j["unreadable"] == 0);
  // People were forgotten under the same cuts, and every acknowledged erasure held.
  CHECK(j["acknowledged_forgets"].get<int>() > 0);
  CHECK(j["unerased"] == 0);
  CHECK(j["unsynced_bytes_dropped"].get<std::uint64_t>() > 0);  // the cuts did drop what was not synced
  // The control: acknowledged before the WAL is synced, appends are lost — and counted so.
  auto relaxed = test::run_leanos({"bench", "crash", "--cuts", "10", "--seed", seed, "--relaxed", "--json"});
  REQUIRE(relaxed.exit_code == 0);
  CHECK(nlohmann::json::parse(relaxed.out)["lost"].get<int>() > 0);
}
