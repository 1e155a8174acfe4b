// The event store opened, kept and copied: its indexes mended at open, the folder's lock, verify,
// backup, snapshots and checkpoints, and the read-only open of the commands that only read.
#include <doctest/doctest.h>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <future>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "store/event_store.h"
#include "store/live_feed.h"
#include "store/keys.h"
#include "tests/store_support.h"
#include "tests/support.h"

using namespace leanos;
using namespace leanos::store;
using leanos::test::TempDir;
using leanos::test::event;
using leanos::test::open_store;

namespace {

// The store in `dir` opened as plain RocksDB (for reading only, or not), `each` given every
// column family in turn.
void with_families(const std::string& dir, bool read_only, const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& each) {
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  REQUIRE((read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, cfs, &handles, &raw)
                     : rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &raw))
              .ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  for (auto* h : handles) {
    each(*db, h);
    REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  }
}

// `change` given the store's late index by position: a store as it was before that index, for
// the open that mends it.
void with_late_positions(const std::string& dir, const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& change) {
  with_families(dir, false, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
    if (h->GetName() == kLatePositionsCf) change(db, h);
  });
}

}  // namespace


TEST_CASE("late events are found by business time and by position alike, also in a store written before the position index") {
  TempDir dir;
  std::mt19937_64 rng(11);
  std::vector<EventStore::Late> all_late;  // what the store must call late, in business order
  {
    auto es = open_store(dir.path());
    Micros running_max = 0;
    const Micros base = parse_time("2024-01-01").value();
    for (int i = 0; i < 600; ++i) {
      Envelope e = event("T");
      // Mostly forward in business time, one in four dated back up to 60 days.
      const Micros at = base + static_cast<Micros>(i) * kMicrosPerDay / 2 -
                        (rng() % 4 == 0 ? static_cast<Micros>(rng() % 60) * kMicrosPerDay : 0);
      to_timestamp(at, e.mutable_occurred_at());
      auto r = es->append("s", ExpectedVersion::any(), {e});
      REQUIRE(r.is_ok());
      if (at < running_max) all_late.push_back({at, r->positions.front()});
      running_max = std::max(running_max, at);
    }
  }
  std::sort(all_late.begin(), all_late.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.occurred_at, a.position) < std::make_pair(b.occurred_at, b.position);
  });
  REQUIRE(all_late.size() > 50);
  auto check_queries = [&](EventStore& es) {
    const Micros base = parse_time("2024-01-01").value();
    std::uniform_int_distribution<std::uint64_t> pos(0, 600);
    std::uniform_int_distribution<Micros> day(-70, 310);
    for (int q = 0; q < 300; ++q) {
      // Narrow and wide windows on both axes.
      std::uint64_t after = pos(rng), last = pos(rng);
      if (q % 3 == 0) last = std::min<std::uint64_t>(600, after + 3);
      Micros from = base + day(rng) * kMicrosPerDay, until = base + day(rng) * kMicrosPerDay;
      if (q % 3 == 1) until = from + kMicrosPerDay;
      if (q % 5 == 0) from = -1;  // every late event before `until`
      std::vector<EventStore::Late> expected;
      for (const auto& l : all_late)
        if (l.occurred_at > from && l.occurred_at <= until && l.position > after && l.position <= last) expected.push_back(l);
      auto got = es.late_events(from, until, after, last);
      REQUIRE(got.is_ok());
      INFO("query " << q << ": positions (" << after << ", " << last << "], occurred (" << from << ", " << until << "]");
      REQUIRE(got->size() == expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK((*got)[i].occurred_at == expected[i].occurred_at);
        CHECK((*got)[i].position == expected[i].position);
      }
    }
  };
  {
    auto es = open_store(dir.path());
    check_queries(*es);
    CHECK(es->verify().clean());
  }
  // A store written before the index by position: it is built when the store opens.
  with_late_positions(dir.path(), [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) { REQUIRE(db.DropColumnFamily(h).ok()); });
  auto es = open_store(dir.path());
  CHECK(es->verify().clean());
  check_queries(*es);
}

TEST_CASE("a second process cannot open a data folder that is in use") {
  TempDir dir;
  auto es = open_store(dir.path());
  auto again = EventStore::open(dir.path());
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().code() == Code::unavailable);
  CHECK(again.status().message().find("in use") != std::string::npos);
}

TEST_CASE("verify reports a value overwritten with garbage at its position without crashing") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 5; ++i) REQUIRE(es->append("s", ExpectedVersion::any(), {event("T")}).is_ok());
  }
  // Overwrite event 3 behind the store's back.
  with_families(dir.path(), false, [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
    if (h->GetName() == kEventsCf) REQUIRE(db.Put({}, h, be64(3), "\xff\xff\xff garbage").ok());
  });
  auto es = open_store(dir.path());
  auto report = es->verify();
  REQUIRE_FALSE(report.clean());
  bool found = false;
  for (const auto& p : report.problems) found = found || p.position == 3;
  CHECK(found);
  auto read = es->read_all(1, 100);
  REQUIRE_FALSE(read.is_ok());
  CHECK(read.status().code() == Code::corruption);
  CHECK(read.status().message().find("position 3") != std::string::npos);
  // Events before the damage still read.
  CHECK(es->read_event(2).is_ok());
  // The pipelined scan stops at the same place, with the same error.
  std::vector<std::uint64_t> seen;
  auto scanned = es->scan_pipelined(1, 5, [&](const Envelope& e) {
    seen.push_back(e.position());
    return true;
  });
  CHECK(scanned.code() == Code::corruption);
  CHECK(scanned.message().find("position 3") != std::string::npos);
  CHECK(seen == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("the log's tables are zstd compressed, so hex ids and digests take about half their bytes") {
  TempDir dir;
  std::mt19937_64 rng(5);
  auto hex = [&rng](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += "0123456789abcdef"[rng() % 16];
    return out;
  };
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 2000; ++i) {
      // A digest and a commit, as an import's events hold, and an id like theirs.
      Envelope e = event("T", "d-" + hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12), hex(64) + " " + hex(40));
      auto r = es->append("imported-" + std::to_string(i % 10), ExpectedVersion::any(), {e});
      REQUIRE_MESSAGE(r.is_ok(), r.status().to_string());
    }
    REQUIRE(es->flush().is_ok());
  }
  with_families(dir.path(), true, [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
    rocksdb::TablePropertiesCollection tables;
    REQUIRE(db.GetPropertiesOfAllTables(h, &tables).ok());
    for (const auto& table : tables) {  // not a structured binding: clang's INFO cannot capture one
      const auto& t = table.second;
      INFO(h->GetName() << " " << table.first);
      if (h->GetName() == kKeysCf) {
        CHECK(t->compression_name == "NoCompression");  // a byte scan proves a key gone
        continue;
      }
      CHECK(t->compression_name == "ZSTD");
      if (h->GetName() == kEventsCf) {
        // Snappy, RocksDB's default, left hex at its size: the data took 0.9 of the values.
        CHECK(t->data_size < t->raw_value_size * 7 / 10);
        CHECK((t->raw_key_size + t->raw_value_size) / t->num_data_blocks > 12 * 1024);  // blocks of 16 KiB before compression
      }
    }
  });
}

TEST_CASE("a backup is a consistent copy that opens as a store") {
  TempDir dir;
  auto es = open_store(dir.sub("live"));
  for (int i = 0; i < 20; ++i) REQUIRE(es->append("s", ExpectedVersion::any(), {event("T")}).is_ok());
  REQUIRE(es->backup(dir.sub("copy")).is_ok());
  CHECK(es->backup(dir.sub("copy")).code() == Code::invalid_argument);  // exists already
  auto copy = open_store(dir.sub("copy"));
  CHECK(copy->last_position() == 20);
  CHECK(copy->verify().clean());
}

TEST_CASE("snapshots are found at or before a position, those of other names can be dropped, and checkpoints persist") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    REQUIRE(es->put_snapshot("canvas", 10, "ten").is_ok());
    REQUIRE(es->put_snapshot("canvas", 20, "twenty").is_ok());
    REQUIRE(es->put_snapshot("goals", 15, "g").is_ok());
    REQUIRE(es->save_checkpoint("skill-a", 42).is_ok());
  }
  auto es = open_store(dir.path());
  CHECK(es->snapshot_at_or_before("canvas", 9).value() == std::nullopt);
  CHECK(es->snapshot_at_or_before("canvas", 15).value()->second == "ten");
  CHECK(es->snapshot_at_or_before("canvas", 99).value()->first == 20);
  CHECK(es->snapshot_at_or_before("goals", 14).value() == std::nullopt);
  CHECK(es->load_checkpoint("skill-a").value() == 42);
  CHECK(es->load_checkpoint("nobody").value() == 0);
  // An earlier build's names dropped (`leanos replay`), the names kept untouched.
  REQUIRE(es->put_snapshot("canvas-v0", 10, "old").is_ok());
  REQUIRE(es->put_snapshot("canvas-v0", 30, "older").is_ok());
  REQUIRE(es->drop_snapshots_except({"canvas", "goals"}).is_ok());
  CHECK(es->snapshot_at_or_before("canvas-v0", 99).value() == std::nullopt);
  CHECK(es->snapshot_at_or_before("canvas", 99).value()->second == "twenty");
  CHECK(es->snapshot_at_or_before("goals", 99).value()->second == "g");
  REQUIRE(es->drop_snapshots_except({}).is_ok());
  CHECK(es->snapshot_at_or_before("canvas", 99).value() == std::nullopt);
  CHECK(es->load_checkpoint("skill-a").value() == 42);  // another column family
}

namespace {

// What the files of a folder hold, in bytes.
std::uintmax_t bytes_in(const std::string& dir) {
  std::uintmax_t n = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir))
    if (f.is_regular_file()) n += f.file_size();
  return n;
}

// A state of `size` bytes that a fold might write: random bytes (nothing for LZ4 to take),
// with `changes` of them rewritten from `seed` on.
std::string state_like(std::size_t size, int changes, std::uint64_t seed) {
  std::mt19937_64 same(1), other(seed);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>('a' + same() % 26);
  for (int i = 0; i < changes; ++i) s[other() % size] = static_cast<char>('A' + other() % 26);
  return s;
}

}  // namespace

// Consecutive core snapshots of a large history share most of their bytes: each is kept as a
// zstd delta of the whole one before it (one level: reading one reads its base), or whole when
// a delta would not be much smaller. Every one reads back exactly.
TEST_CASE("large snapshots are kept as deltas of a whole one before them and read back byte for byte") {
  TempDir dir;
  constexpr std::size_t kSize = 100'000;
  std::vector<std::string> states;
  for (int i = 0; i < 40; ++i) states.push_back(state_like(kSize, 50 * i, static_cast<std::uint64_t>(i)));
  static constexpr char kZeroFirst[] = "\0\1 not a delta";
  const std::string zero_first(kZeroFirst, sizeof kZeroFirst - 1);  // its 14 bytes, the zeros too
  const auto before = [&] {
    auto es = open_store(dir.path());
    return bytes_in(dir.path());
  }();
  {
    auto es = open_store(dir.path());
    for (int i = 0; i < 40; ++i) REQUIRE(es->put_snapshot("core", 10 * (i + 1), states[static_cast<std::size_t>(i)]).is_ok());
    // A state that starts with a zero byte, and one too small for a delta, read as written.
    REQUIRE(es->put_snapshot("odd", 5, zero_first).is_ok());
    REQUIRE(es->put_snapshot("odd", 6, std::string(1, '\0')).is_ok());
  }
  // 40 states of 100 KB that LZ4 cannot shrink are 4 MB whole (in the log file or the blob
  // files): as deltas a fraction of it.
  CHECK(bytes_in(dir.path()) - before < 40 * kSize / 4);
  auto es = open_store(dir.path());
  for (int i = 0; i < 40; ++i) {
    auto at = es->snapshot_at_or_before("core", 10 * (i + 1) + 5);
    REQUIRE(at.value().has_value());
    CHECK((*at)->first == static_cast<std::uint64_t>(10 * (i + 1)));
    CHECK((*at)->second == states[static_cast<std::size_t>(i)]);
  }
  CHECK(es->snapshot_at_or_before("odd", 5).value()->second == zero_first);
  CHECK(es->snapshot_at_or_before("odd", 6).value()->second == std::string(1, '\0'));

  // A whole state written again (a time snapshot a later fold knows more about): the deltas
  // made against the old one are not read against the new one — the snapshot before them
  // serves until they are written again.
  REQUIRE(es->put_snapshot("core", 10, state_like(kSize, 7, 99)).is_ok());
  auto stale = es->snapshot_at_or_before("core", 25);
  REQUIRE(stale.value().has_value());
  CHECK((*stale)->first == 10);
  CHECK((*stale)->second == state_like(kSize, 7, 99));
  REQUIRE(es->put_snapshot("core", 20, states[1]).is_ok());
  CHECK(es->snapshot_at_or_before("core", 25).value()->second == states[1]);
}

// Reads open the folder read-only (StoreOptions::read_only): a read-write open writes a
// MANIFEST, an OPTIONS and a log file and syncs them each time. A read-only open writes
// nothing, refuses every write by name, shares the folder with other readers and keeps
// writers out; a folder that needs mending at open is opened for writing instead.
TEST_CASE("a store opened for reading only writes nothing, refuses writes by name, shares the folder with readers only, and opens for writing when it needs mending") {
  TempDir dir;
  StoreOptions reading;
  reading.read_only = true;
  {
    auto es = open_store(dir.path());
    auto e1 = event("T", "e1"), e2 = event("T", "e2");
    to_timestamp(1'700'000'000'000'000, e1.mutable_occurred_at());
    to_timestamp(1'600'000'000'000'000, e2.mutable_occurred_at());  // before e1: a late event, in the late indexes
    REQUIRE(es->append("s", ExpectedVersion::any(), {e1, e2}).is_ok());
  }
  auto files = [&] {  // name -> size and modification time
    std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> out;
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) out[f.path().filename().string()] = {f.file_size(), f.last_write_time()};
    return out;
  };
  const auto before = files();
  {
    auto es = EventStore::open(dir.path(), reading);
    REQUIRE(es.is_ok());
    CHECK((*es)->read_only());
    CHECK((*es)->last_position() == 2);
    auto all = (*es)->read_all(1, 10);
    REQUIRE(all.is_ok());
    CHECK(all->size() == 2);
    auto late = (*es)->late_events(-1, 1'800'000'000'000'000, 0, 2);
    REQUIRE(late.is_ok());
    CHECK(late->size() == 1);
    auto appended = (*es)->append("s", ExpectedVersion::any(), {event("T", "e3")});
    REQUIRE_FALSE(appended.is_ok());
    CHECK(appended.status().code() == Code::read_only);
    CHECK(appended.status().message().find("open for reading only") != std::string::npos);
    CHECK((*es)->compact().code() == Code::read_only);
    CHECK((*es)->save_checkpoint("sub", 2).code() == Code::read_only);
    CHECK((*es)->put_snapshot("view", 2, "state").is_ok());  // derived: not kept, the fold goes on
    auto snap = (*es)->snapshot_at_or_before("view", 2);
    REQUIRE(snap.is_ok());
    CHECK_FALSE(snap->has_value());
    // Another reader shares the folder; a writer is kept out, told why.
    auto other = EventStore::open(dir.path(), reading);
    REQUIRE(other.is_ok());
    CHECK((*other)->read_only());
    auto writer = EventStore::open(dir.path());
    REQUIRE_FALSE(writer.is_ok());
    CHECK(writer.status().code() == Code::unavailable);
    CHECK(writer.status().message().find("in use") != std::string::npos);
  }
  CHECK(files() == before);  // not a file made, changed or removed
  {  // and a reader is kept out by a writer
    auto es = open_store(dir.path());
    auto reader = EventStore::open(dir.path(), reading);
    REQUIRE_FALSE(reader.is_ok());
    CHECK(reader.status().code() == Code::unavailable);
    CHECK(reader.status().message().find("in use") != std::string::npos);
  }
  // A store whose late index by position is missing (as before that index): mended by a
  // read-write open, which a read-only one becomes; the next read-only open stays one.
  with_late_positions(dir.path(), [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
    REQUIRE(db.DeleteRange(rocksdb::WriteOptions(), h, std::string(8, '\0'), std::string(8, '\xff')).ok());
  });
  {
    auto es = EventStore::open(dir.path(), reading);
    REQUIRE(es.is_ok());
    CHECK_FALSE((*es)->read_only());
    auto late = (*es)->late_events(-1, 1'800'000'000'000'000, 0, 2);
    REQUIRE(late.is_ok());
    CHECK(late->size() == 1);
  }
  auto es = EventStore::open(dir.path(), reading);
  REQUIRE(es.is_ok());
  CHECK((*es)->read_only());
  CHECK((*es)->verify().clean());
}
