// The event store's contract, one behaviour per test case.
#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <future>
#include <cstdio>
#include <cstring>
#include <fstream>
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

TEST_CASE("positions are dense across the log and versions dense per stream") {
  TempDir dir;
  auto es = open_store(dir.path());
  auto a = es->append("orders-a", ExpectedVersion::no_stream(), {event("T"), event("T")});
  auto b = es->append("orders-b", ExpectedVersion::any(), {event("T")});
  auto c = es->append("orders-a", ExpectedVersion::exact(2), {event("T")});
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  REQUIRE(c.is_ok());
  CHECK(a->positions == std::vector<std::uint64_t>{1, 2});
  CHECK(b->positions == std::vector<std::uint64_t>{3});
  CHECK(c->positions == std::vector<std::uint64_t>{4});
  CHECK(c->stream_version == 3);
  auto stream = es->read_stream("orders-a", 1, Direction::forward, 100);
  REQUIRE(stream.is_ok());
  REQUIRE(stream->size() == 3);
  for (std::size_t i = 0; i < stream->size(); ++i) CHECK((*stream)[i].version() == i + 1);
  CHECK(es->last_position() == 4);
}

TEST_CASE("positions and versions stay dense after reopening the store") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    REQUIRE(es->append("s", ExpectedVersion::any(), {event("T"), event("T")}).is_ok());
  }
  auto es = open_store(dir.path());
  CHECK(es->last_position() == 2);
  auto r = es->append("s", ExpectedVersion::exact(2), {event("T")});
  REQUIRE(r.is_ok());
  CHECK(r->positions.front() == 3);
  CHECK(r->stream_version == 3);
  CHECK(es->verify().clean());
}

TEST_CASE("append with a stale expected version is rejected and writes nothing") {
  TempDir dir;
  auto es = open_store(dir.path());
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("T"), event("T")}).is_ok());
  auto r = es->append("s", ExpectedVersion::exact(1), {event("T")});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::conflict);
  CHECK(r.status().message().find("'s'") != std::string::npos);
  CHECK(r.status().message().find("expected 1") != std::string::npos);
  CHECK(r.status().message().find("actual 2") != std::string::npos);
  CHECK(es->last_position() == 2);
  CHECK(es->read_all(1, 100)->size() == 2);
}

TEST_CASE("expected version no_stream, exists and any") {
  TempDir dir;
  auto es = open_store(dir.path());
  CHECK(es->append("s", ExpectedVersion::exists(), {event("T")}).status().code() == Code::conflict);
  CHECK(es->append("s", ExpectedVersion::no_stream(), {event("T")}).is_ok());
  CHECK(es->append("s", ExpectedVersion::no_stream(), {event("T")}).status().code() == Code::conflict);
  CHECK(es->append("s", ExpectedVersion::exists(), {event("T")}).is_ok());
  CHECK(es->append("s", ExpectedVersion::any(), {event("T")}).is_ok());
  CHECK(es->last_position() == 3);
}

TEST_CASE("expected version parses from text and names what would be right") {
  CHECK(ExpectedVersion::parse("any")->kind == ExpectedVersion::Kind::any);
  CHECK(ExpectedVersion::parse("no_stream")->kind == ExpectedVersion::Kind::no_stream);
  CHECK(ExpectedVersion::parse("exists")->kind == ExpectedVersion::Kind::exists);
  CHECK(ExpectedVersion::parse("7")->version == 7);
  auto bad = ExpectedVersion::parse("seven");
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("any, no_stream, exists") != std::string::npos);
}

TEST_CASE("a retried append with the same event ids returns the original positions and writes nothing") {
  TempDir dir;
  auto es = open_store(dir.path());
  auto first = es->append("s", ExpectedVersion::no_stream(), {event("T", "id-1"), event("T", "id-2")});
  REQUIRE(first.is_ok());
  REQUIRE(es->append("other", ExpectedVersion::any(), {event("T")}).is_ok());
  // The retry carries the original expected version, which is stale by now: still fine.
  auto retry = es->append("s", ExpectedVersion::no_stream(), {event("T", "id-1"), event("T", "id-2")});
  REQUIRE(retry.is_ok());
  CHECK(retry->idempotent_retry);
  CHECK(retry->positions == first->positions);
  CHECK(es->last_position() == 3);
}

TEST_CASE("the same event id with different content is an error and writes nothing") {
  TempDir dir;
  auto es = open_store(dir.path());
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("T", "id-1", "one")}).is_ok());
  auto r = es->append("s", ExpectedVersion::any(), {event("T", "id-1", "two")});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::already_exists);
  CHECK(r.status().message().find("id-1") != std::string::npos);
  auto partial = es->append("s", ExpectedVersion::any(), {event("T", "id-1", "one"), event("T", "id-new")});
  CHECK(partial.status().code() == Code::already_exists);
  CHECK(es->last_position() == 1);
}

TEST_CASE("a multi-event append is atomic: an invalid event rejects the whole append") {
  TempDir dir;
  auto es = open_store(dir.path());
  auto r = es->append("s", ExpectedVersion::any(), {event("T", "a"), event("", "b"), event("T", "c")});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::invalid_argument);
  auto dup = es->append("s", ExpectedVersion::any(), {event("T", "a"), event("T", "a")});
  CHECK(dup.status().code() == Code::invalid_argument);
  CHECK(es->last_position() == 0);
  CHECK(es->stream_version("s").value() == 0);
  CHECK(es->find_event_id("a").value() == std::nullopt);
}

TEST_CASE("bad stream names are rejected with the rule they broke") {
  TempDir dir;
  auto es = open_store(dir.path());
  auto r = es->append("Deal A", ExpectedVersion::any(), {event("T")});
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("lowercase") != std::string::npos);
  CHECK(es->append("", ExpectedVersion::any(), {event("T")}).status().code() == Code::invalid_argument);
}

TEST_CASE("concurrent appenders are group-committed without losing or reordering anything") {
  TempDir dir;
  auto es = open_store(dir.path());
  constexpr int kThreads = 8, kAppends = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        // Half of the appenders share one stream with exact versions under contention.
        const std::string stream = "t-" + std::to_string(t % 4);
        for (;;) {
          auto v = es->stream_version(stream);
          auto r = es->append(stream, ExpectedVersion::exact(*v), {event("T")});
          if (r.is_ok()) break;
          if (r.status().code() != Code::conflict) {
            ++failures;
            break;
          }
        }
      }
    });
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(es->last_position() == kThreads * kAppends);
  for (int s = 0; s < 4; ++s) CHECK(es->stream_version("t-" + std::to_string(s)).value() == 2 * kAppends);
  CHECK(es->verify().clean());
}

TEST_CASE("a lone appender commits its own appends, appenders meeting a busy writer are grouped, and nothing is lost either way") {
  TempDir dir;
  {
    auto es = open_store(dir.path());
    // Alone: every append finds the writer idle and commits itself, one group each.
    for (int i = 0; i < 30; ++i) REQUIRE(es->append("alone", ExpectedVersion::exact(static_cast<std::uint64_t>(i)), {event("T")}).is_ok());
    auto stats = es->stats();
    CHECK(stats.groups == 30);
    CHECK(stats.own_groups == 30);
    // Together: callers that wait (append) and callers that do not (append_async, each with
    // a window of appends in flight) on shared streams with exact versions.
    constexpr int kWaiting = 4, kAsync = 4, kAppends = 150;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kWaiting; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kAppends; ++i)
          for (const std::string stream = "shared-" + std::to_string(t % 2);;) {
            auto r = es->append(stream, ExpectedVersion::exact(es->stream_version(stream).value()), {event("T"), event("T")});
            if (r.is_ok()) break;
            if (r.status().code() != Code::conflict) {
              ++failures;
              break;
            }
          }
      });
    for (int t = 0; t < kAsync; ++t)
      threads.emplace_back([&, t] {
        std::deque<std::future<Result<AppendResult>>> window;
        for (int i = 0; i < kAppends; ++i) {
          window.push_back(es->append_async("async-" + std::to_string(t), ExpectedVersion::any(), {event("T")}));
          if (window.size() > 8) {
            if (!window.front().get().is_ok()) ++failures;
            window.pop_front();
          }
        }
        for (auto& f : window)
          if (!f.get().is_ok()) ++failures;
      });
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    stats = es->stats();
    CHECK(stats.appends == 30 + (kWaiting + kAsync) * kAppends);
    CHECK(stats.own_groups <= stats.groups);
    CHECK(es->last_position() == 30 + kWaiting * kAppends * 2 + kAsync * kAppends);
    for (int s = 0; s < 2; ++s) CHECK(es->stream_version("shared-" + std::to_string(s)).value() == 2 * kAppends * kWaiting / 2);
    for (int t = 0; t < kAsync; ++t) CHECK(es->stream_version("async-" + std::to_string(t)).value() == kAppends);
    CHECK(es->verify().clean());
  }
  auto es = open_store(dir.path());  // and all of it on disk
  CHECK(es->last_position() == 30 + 4 * 150 * 2 + 4 * 150);
}

TEST_CASE("append_then answers every append once: refused at once on the caller's thread, written ones after their group, queued ones when the store closes") {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<AppendResult>> outcomes;
  std::vector<std::thread::id> threads;
  auto record = [&](Result<AppendResult> r) {
    std::lock_guard lock(mu);
    outcomes.push_back(std::move(r));
    threads.push_back(std::this_thread::get_id());
    cv.notify_all();
  };
  {
    auto es = open_store(dir.path());
    // Refused before the queue: answered before append_then returns, on this thread.
    es->append_then("Deal A", ExpectedVersion::any(), {event("T")}, record);
    {
      std::lock_guard lock(mu);
      REQUIRE(outcomes.size() == 1);
      CHECK(outcomes[0].status().message().find("lowercase") != std::string::npos);
      CHECK(threads[0] == std::this_thread::get_id());
    }
    // Written: answered by the writer once durable, positions in order.
    for (int i = 0; i < 50; ++i) es->append_then("notes", ExpectedVersion::any(), {event("T"), event("T")}, record);
    {
      std::unique_lock lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return outcomes.size() == 51; }));
      for (std::size_t i = 1; i < outcomes.size(); ++i) {
        REQUIRE(outcomes[i].is_ok());
        CHECK(outcomes[i]->positions.size() == 2);
        CHECK(threads[i] != std::this_thread::get_id());
      }
    }
    CHECK(es->last_position() == 100);
    // A conflict found by the writer is an answer too, and writes nothing.
    es->append_then("notes", ExpectedVersion::exact(3), {event("T")}, record);
    // Queued when the store closes: the writer finishes them before it stops.
    for (int i = 0; i < 20; ++i) es->append_then("later", ExpectedVersion::any(), {event("T")}, record);
  }
  std::lock_guard lock(mu);
  REQUIRE(outcomes.size() == 72);
  CHECK(outcomes[51].status().code() == Code::conflict);
  for (std::size_t i = 52; i < 72; ++i) CHECK(outcomes[i].is_ok());
  auto es = open_store(dir.path());
  CHECK(es->last_position() == 120);
  CHECK(es->stream_version("later").value() == 20);
}

TEST_CASE("append_then with Commit::here_when_idle commits a lone append on the caller's thread, before it returns") {
  TempDir dir;
  auto es = open_store(dir.path());
  std::vector<Result<AppendResult>> outcomes;
  std::vector<std::thread::id> threads;
  auto record = [&](Result<AppendResult> r) {
    outcomes.push_back(std::move(r));
    threads.push_back(std::this_thread::get_id());
  };
  for (int i = 0; i < 3; ++i) {
    es->append_then("notes", ExpectedVersion::any(), {event("T")}, record, EventStore::Commit::here_when_idle);
    // Nothing else appends: answered here, durable, before append_then returns.
    REQUIRE(outcomes.size() == static_cast<std::size_t>(i + 1));
    REQUIRE(outcomes.back().is_ok());
    CHECK(outcomes.back()->positions == std::vector<std::uint64_t>{static_cast<std::uint64_t>(i + 1)});
    CHECK(threads.back() == std::this_thread::get_id());
  }
  CHECK(es->stats().own_groups == 3);
  CHECK(es->stats().groups == 3);
  // A conflict found by the committing caller is its answer too, and writes nothing.
  es->append_then("notes", ExpectedVersion::exact(1), {event("T")}, record, EventStore::Commit::here_when_idle);
  REQUIRE(outcomes.size() == 4);
  CHECK(outcomes[3].status().code() == Code::conflict);
  CHECK(es->last_position() == 3);
}

TEST_CASE("the writer's memory of streams stays bounded, and a stream it forgot is checked from disk") {
  TempDir dir;
  StoreOptions o;
  o.stream_cache_entries = 50;
  auto opened = EventStore::open(dir.path(), o);
  REQUIRE(opened.is_ok());
  auto& es = **opened;
  for (int i = 0; i < 500; ++i) REQUIRE(es.append("s-" + std::to_string(i), ExpectedVersion::no_stream(), {event("T")}).is_ok());
  CHECK(es.stats().cached_streams <= 51);  // at most one group's streams past the bound
  // The first streams are long forgotten: their versions come from disk, and still decide.
  CHECK(es.append("s-0", ExpectedVersion::no_stream(), {event("T")}).status().code() == Code::conflict);
  CHECK(es.append("s-1", ExpectedVersion::exact(1), {event("T")}).is_ok());
  CHECK(es.append("s-1", ExpectedVersion::exact(1), {event("T")}).status().code() == Code::conflict);
  CHECK(es.stream_version("s-1").value() == 2);
  CHECK(es.last_position() == 501);
}

TEST_CASE("the whole log reads from a position and by recorded-time range") {
  TempDir dir;
  auto es = open_store(dir.path());
  for (int i = 0; i < 10; ++i) REQUIRE(es->append("s" + std::to_string(i % 3), ExpectedVersion::any(), {event("T")}).is_ok());
  auto tail = es->read_all(4, 3);
  REQUIRE(tail.is_ok());
  REQUIRE(tail->size() == 3);
  CHECK((*tail)[0].position() == 4);
  CHECK((*tail)[2].position() == 6);
  auto all = es->read_all(1, 100);
  const Micros t3 = from_timestamp((*all)[2].recorded_at());
  const Micros t7 = from_timestamp((*all)[6].recorded_at());
  auto range = es->read_recorded_between(t3, t7, 100);
  REQUIRE(range.is_ok());
  REQUIRE_FALSE(range->empty());
  CHECK(range->front().position() <= 3);
  CHECK(range->back().position() >= 7);
  for (const auto& e : *range) {
    CHECK(from_timestamp(e.recorded_at()) >= t3);
    CHECK(from_timestamp(e.recorded_at()) <= t7);
  }
}

TEST_CASE("a stream reads backwards from its newest version") {
  TempDir dir;
  auto es = open_store(dir.path());
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("A"), event("B"), event("C")}).is_ok());
  auto back = es->read_stream("s", 0, Direction::backward, 2);
  REQUIRE(back.is_ok());
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].type() == "C");
  CHECK((*back)[1].type() == "B");
  CHECK(es->read_stream("nothing", 1, Direction::forward, 10)->empty());
}

TEST_CASE("occurred_at defaults to recorded_at and keeps a business time when given") {
  TempDir dir;
  auto es = open_store(dir.path());
  Envelope e = event("T");
  to_timestamp(parse_time("2026-03-01").value(), e.mutable_occurred_at());
  REQUIRE(es->append("s", ExpectedVersion::any(), {e, event("T")}).is_ok());
  auto all = es->read_all(1, 10).value();
  CHECK(format_date(from_timestamp(all[0].occurred_at())) == "2026-03-01");
  CHECK(from_timestamp(all[1].occurred_at()) == from_timestamp(all[1].recorded_at()));
}

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
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &names).ok());
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.path(), cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (auto* h : handles) {
      if (h->GetName() == kLatePositionsCf) REQUIRE(db->DropColumnFamily(h).ok());
      REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    }
  }
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
  {  // Overwrite event 3 behind the store's back.
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(options, dir.path(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(options, dir.path(), cfs, &handles, &db).ok());
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == kEventsCf) REQUIRE(db->Put({}, handles[i], be64(3), "\xff\xff\xff garbage").ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
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

TEST_CASE("the pipelined scan yields exactly what the plain scan yields, and stops when asked") {
  TempDir dir;
  auto es = open_store(dir.path());
  for (int batch = 0; batch < 25; ++batch) {
    std::vector<Envelope> events;
    for (int i = 0; i < 1000; ++i) events.push_back(event(i % 3 ? "T" : "U", "", std::string(static_cast<std::size_t>(i % 50), 'b')));
    REQUIRE(es->append("s-" + std::to_string(batch % 4), ExpectedVersion::any(), std::move(events)).is_ok());
  }
  auto collect = [&](bool pipelined, std::uint64_t from, std::uint64_t to, std::size_t stop_after) {
    std::vector<std::string> got;
    auto fn = [&](const Envelope& e) {
      got.push_back(std::to_string(e.position()) + e.stream() + e.type() + e.event_id() + e.generic().blob());
      return got.size() < stop_after;
    };
    auto s = pipelined ? es->scan_pipelined(from, to, fn) : es->scan(from, to, fn);
    REQUIRE(s.is_ok());
    return got;
  };
  constexpr auto kAll = std::numeric_limits<std::size_t>::max();
  const auto whole = collect(false, 1, 25000, kAll);
  REQUIRE(whole.size() == 25000);
  CHECK(collect(true, 1, 25000, kAll) == whole);
  CHECK(collect(true, 777, 23456, kAll) == collect(false, 777, 23456, kAll));
  CHECK(collect(true, 1, 25000, 3001) == collect(false, 1, 25000, 3001));
  CHECK(collect(true, 24990, 99999, kAll).size() == 11);
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

TEST_CASE("snapshots are found at or before a position and checkpoints persist") {
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
}

namespace {

// Counts wakes; take() again after one to get what arrived.
struct CountingWaiter final : LiveFeed::Waiter {
  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;
  void wake() override {
    std::lock_guard lock(mu);
    ++wakes;
    cv.notify_all();
  }
  void wait_for_wake() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return wakes > 0; });
    wakes = 0;
  }
};

}  // namespace

TEST_CASE("the live feed reads nothing while nobody subscribes, and a subscriber who comes later reads the store up to the tail, then the feed") {
  TempDir dir;
  auto es = open_store(dir.path());
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("Old"), event("Old")}).is_ok());
  LiveFeed feed(*es);
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("Unread"), event("Unread"), event("Unread")}).is_ok());
  std::vector<LiveFeed::Event> got;
  // Asked without subscribing: the events appended meanwhile were never read into the window
  // (before, the feed read every commit and handed them out).
  LiveFeed::Took took;
  for (const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       (took = feed.take(3, 10, got)) == LiveFeed::Took::nothing && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::yield();
  CHECK(took == LiveFeed::Took::behind);
  CHECK(got.empty());
  // A subscriber: behind for what came before it, then the feed's from the tail on.
  CountingWaiter waiter;
  CHECK(feed.take(3, 10, got, &waiter) == LiveFeed::Took::behind);
  CHECK(feed.take(6, 10, got, &waiter) == LiveFeed::Took::nothing);
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("New")}).is_ok());
  for (;;) {
    waiter.wait_for_wake();
    got.clear();
    const auto t = feed.take(6, 10, got, &waiter);
    if (t == LiveFeed::Took::events) break;
    if (t == LiveFeed::Took::behind) {  // the feed started at the log's end after the append: the store has it
      auto page = es->read_all(6, 10);
      REQUIRE(page.is_ok());
      got.push_back(std::make_shared<const Envelope>(page->at(0)));
      break;
    }
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0]->type() == "New");
  feed.forget(&waiter);
}

TEST_CASE("the live feed hands out the tail once read, wakes its waiters, and says behind past its window") {
  TempDir dir;
  auto es = open_store(dir.path());
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("Old"), event("Old")}).is_ok());
  LiveFeed feed(*es, 4);
  CountingWaiter waiter;
  std::vector<LiveFeed::Event> got;
  CHECK(feed.take(1, 10, got, &waiter) == LiveFeed::Took::behind);  // from before the feed started
  CHECK(feed.take(3, 10, got, &waiter) == LiveFeed::Took::nothing);
  REQUIRE(es->append("s", ExpectedVersion::any(), {event("New"), event("New")}).is_ok());
  waiter.wait_for_wake();
  REQUIRE(feed.take(3, 10, got, &waiter) == LiveFeed::Took::events);
  REQUIRE(got.size() == 2);
  CHECK(got[0]->position() == 3);
  CHECK(got[1]->position() == 4);
  got.clear();
  REQUIRE(feed.take(4, 1, got) == LiveFeed::Took::events);
  CHECK(got.size() == 1);
  // Five more events: the window keeps the newest four, 6..9.
  for (int i = 0; i < 5; ++i) REQUIRE(es->append("s", ExpectedVersion::any(), {event("More")}).is_ok());
  for (;;) {  // the feed reads each commit; wait until it has read the last one
    got.clear();
    if (feed.take(9, 10, got, &waiter) == LiveFeed::Took::events) break;
    waiter.wait_for_wake();
  }
  got.clear();
  CHECK(feed.first() == 6);
  CHECK(feed.take(5, 10, got) == LiveFeed::Took::behind);
  REQUIRE(feed.take(6, 10, got) == LiveFeed::Took::events);
  CHECK(got.size() == 4);
  feed.take(10, 10, got, &waiter);
  feed.stop();
  waiter.wait_for_wake();  // stop wakes the waiters
  CHECK(feed.take(10, 10, got) == LiveFeed::Took::stopped);
}

// ---- what the store refuses to write (the hardening issue) ----------------------------------

namespace {

// The store refused `e` as invalid_argument with `says`, wrote nothing, and reads fine.
void refused(EventStore& es, Envelope e, const std::string& says) {
  const auto before = es.last_position();
  auto r = es.append("notes", ExpectedVersion::any(), {event("Fine"), std::move(e)});
  REQUIRE_FALSE(r.is_ok());
  INFO(r.status().to_string());
  CHECK(r.status().code() == Code::invalid_argument);
  CHECK(r.status().message().find(says) != std::string::npos);
  CHECK(es.last_position() == before);
  CHECK(es.read_all(1, 1000).is_ok());
  CHECK(es.verify().clean());
}

}  // namespace

TEST_CASE("the store refuses a string that is not UTF-8, naming the field, and the log stays readable") {
  TempDir dir;
  auto es = open_store(dir.path());
  REQUIRE(es->append("notes", ExpectedVersion::any(), {event("Before")}).is_ok());
  refused(*es, event("T\xff"), "field type is not valid UTF-8");
  Envelope lead;
  lead.mutable_lead_captured()->set_deal_id("d");
  lead.mutable_lead_captured()->set_company("Soci\xe9t\xe9");
  refused(*es, lead, "field lead_captured.company is not valid UTF-8");
  Envelope body = event("Note");
  (*body.mutable_generic()->mutable_body()->mutable_fields())["k"].set_string_value("\xc3\x28");
  refused(*es, body, "generic.body.fields{}.value.string_value");
  auto after = es->append("notes", ExpectedVersion::any(), {event("After")});
  REQUIRE(after.is_ok());
  CHECK(after->positions.front() == 2);
}

TEST_CASE("an envelope's type must name its payload, a domain payload fills in a missing type") {
  TempDir dir;
  auto es = open_store(dir.path());
  Envelope forged;
  forged.set_type("NoteTaken");
  forged.mutable_deal_closed()->set_deal_id("d");
  refused(*es, forged, "has type 'NoteTaken' but carries a DealClosed payload");
  refused(*es, event("DealClosed"), "has the domain type 'DealClosed' but no such payload");
  Envelope untyped;
  untyped.mutable_goal_target_met()->set_goal_id("g");
  auto r = es->append("goal-g", ExpectedVersion::any(), {untyped});
  REQUIRE(r.is_ok());
  CHECK(es->read_event(r->positions.front())->type() == "GoalTargetMet");
}

TEST_CASE("the store keeps generic events out of the streams the rules own, whoever appends them") {
  TempDir dir;
  auto es = open_store(dir.path());
  // documents and imports too: import's idempotency reads imports, so a Note there would be
  // taken for a commit already imported.
  for (std::string stream : {"documents", "imports", "files", "file-contents", "canvas", "workspace", "privacy", "deal-acme",
                             "goal-g", "campaign-2026-03-01-x", "segment-fintech"}) {
    CAPTURE(stream);
    auto r = es->append(stream, ExpectedVersion::any(), {event("Note")});
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == Code::failed_precondition);
    CHECK(r.status().message().find("stream '" + stream + "' belongs to the workflow's rules") != std::string::npos);
    CHECK(r.status().message().find("notes-1") != std::string::npos);
    Envelope empty;
    empty.set_type("Nothing");
    CHECK_FALSE(es->append(stream, ExpectedVersion::any(), {empty}).is_ok());
  }
  CHECK(es->last_position() == 0);
  CHECK(es->append("documents-of-mine", ExpectedVersion::any(), {event("Note")}).is_ok());  // a name that only begins alike
  CHECK(es->append("deals", ExpectedVersion::any(), {event("Note")}).is_ok());
}

TEST_CASE("the store refuses times outside 1970-2199, bad nanos, and business time after recording") {
  TempDir dir;
  auto es = open_store(dir.path());
  for (std::int64_t seconds : {std::int64_t{1} << 62, std::int64_t{-1'000'000'000'000}, std::int64_t{-1}}) {
    Envelope e = event("T");
    e.mutable_occurred_at()->set_seconds(seconds);
    refused(*es, e, "outside the ledger's time range");
  }
  Envelope nanos = event("T");
  nanos.mutable_occurred_at()->set_seconds(1'700'000'000);
  nanos.mutable_occurred_at()->set_nanos(-5);
  refused(*es, nanos, "nanos -5");
  Envelope future = event("T");
  to_timestamp(now_micros() + 3600 * kMicrosPerSecond, future.mutable_occurred_at());
  refused(*es, future, "after it is recorded");
  Envelope skewed = event("T");  // within the allowed clock skew
  to_timestamp(now_micros() + 60 * kMicrosPerSecond, skewed.mutable_occurred_at());
  CHECK(es->append("notes", ExpectedVersion::any(), {skewed}).is_ok());
}

TEST_CASE("the store refuses an event larger than kMaxEventBytes and accepts one at the limit") {
  TempDir dir;
  auto es = open_store(dir.path());
  refused(*es, event("Big", "", std::string(kMaxEventBytes, 'x')), "the most an event may hold is 1048576 bytes");
  Envelope fits = event("Big", "big-1", "");
  fits.mutable_generic()->set_blob(std::string(kMaxEventBytes - 200, 'x'));
  auto r = es->append("notes", ExpectedVersion::any(), {fits});
  REQUIRE_MESSAGE(r.is_ok(), (r.is_ok() ? "" : r.status().to_string()));
  CHECK(es->read_event(r->positions.front())->generic().blob().size() == kMaxEventBytes - 200);
}

TEST_CASE("a full disk stops writes with a clear error, reads go on, and writes resume once space returns") {
  TempDir dir;
  const std::string small = dir.sub("small");
  REQUIRE(::mkdir(small.c_str(), 0700) == 0);
  // RocksDB resumes only with 64 MB free (its reserved disk buffer): a 128 MB file system,
  // 96 MB of it taken by a file that is removed when space is to return.
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=128m") != 0) {
    // Needs CAP_SYS_ADMIN (root here and in CI). Without it the test cannot run at all:
    // say so loudly; any other failure to mount is a failure.
    const int err = errno;
    REQUIRE_MESSAGE(err == EPERM, "cannot mount a tmpfs: " << std::strerror(err));
    WARN_MESSAGE(false, "NOT RUN: mounting a tmpfs needs CAP_SYS_ADMIN, which this process lacks");
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{small};
  {
    std::ofstream filler(small + "/filler", std::ios::binary);
    filler << std::string(96 << 20, 'f');
  }
  std::vector<std::uint64_t> acknowledged;
  Status full;
  {
    auto es = open_store(small + "/data");
    for (int i = 0; i < 2000 && full.is_ok(); ++i) {
      std::vector<Envelope> batch;
      for (int k = 0; k < 8; ++k) batch.push_back(event("Fill", "", std::string(32 << 10, static_cast<char>('a' + k))));
      auto r = es->append("fill", ExpectedVersion::any(), std::move(batch));
      if (r) acknowledged.insert(acknowledged.end(), r->positions.begin(), r->positions.end());
      else full = r.status();
    }
    REQUIRE_FALSE(full.is_ok());
    INFO(full.to_string());
    CHECK(full.code() == Code::read_only);
    CHECK(full.message().find("takes no writes since writing a group of appends failed") != std::string::npos);
    auto again = es->append("fill", ExpectedVersion::any(), {event("After")});
    REQUIRE_FALSE(again.is_ok());
    CHECK(again.status().code() == Code::read_only);
    // What it takes to resume, and what there is: not "once there is room" with 4 MB freed.
    CHECK(again.status().message().find("they resume once 64 MiB are free there") != std::string::npos);
    CHECK(again.status().message().find("MiB are free now") != std::string::npos);
    auto all = es->read_all(1, SIZE_MAX);
    REQUIRE(all.is_ok());
    CHECK(all->size() == acknowledged.size());
    REQUIRE(std::remove((small + "/filler").c_str()) == 0);  // space returns
    // RocksDB's own recovery notices the space within seconds; until then a write is refused.
    Result<AppendResult> resumed = Status::io("not tried");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!(resumed = es->append("fill", ExpectedVersion::any(), {event("Resumed")})) &&
           std::chrono::steady_clock::now() < deadline) {
      CHECK(resumed.status().code() == Code::read_only);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO((resumed.is_ok() ? "" : resumed.status().to_string()));
    REQUIRE(resumed.is_ok());
    acknowledged.push_back(resumed->positions.front());
  }
  auto reopened = open_store(small + "/data");
  CHECK(reopened->verify().clean());
  for (auto p : acknowledged) CHECK(reopened->read_event(p).is_ok());
  CHECK(reopened->last_position() == acknowledged.back());
}

TEST_CASE("replicate copies a log as it was recorded, refuses what does not follow, and takes a copy twice as once") {
  TempDir a_dir, b_dir;
  auto a = open_store(a_dir.path());
  for (int i = 0; i < 30; ++i) {
    std::vector<Envelope> batch = {event("T"), event("T")};
    auto* c = batch[1].mutable_contact_added()->mutable_contact();  // personal: sealed in each store under its own key
    c->set_name("Person " + std::to_string(i % 7));
    c->set_email("p" + std::to_string(i % 7) + "@example.com");
    batch[1].clear_type();
    REQUIRE(a->append("s-" + std::to_string(i % 4), ExpectedVersion::any(), batch).is_ok());
  }
  auto all = a->read_all(1, 1000);
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 60);

  auto b = open_store(b_dir.path());
  // The first 20, then a gap, a wrong version, time going back: each refused, nothing written.
  REQUIRE(b->replicate({all->begin(), all->begin() + 20}).is_ok());
  auto gap = b->replicate({(*all)[21]});
  CHECK(gap.status().code() == Code::invalid_argument);
  CHECK(gap.status().message().find("would be position 21 here") != std::string::npos);
  Envelope wrong_version = (*all)[20];
  wrong_version.set_version(wrong_version.version() + 1);
  auto version = b->replicate({wrong_version});
  CHECK(version.status().code() == Code::invalid_argument);
  CHECK(version.status().message().find("expected version") != std::string::npos);
  Envelope earlier = (*all)[20];
  earlier.mutable_recorded_at()->set_seconds((*all)[19].recorded_at().seconds() - 1);
  auto back = b->replicate({earlier});
  CHECK(back.status().code() == Code::invalid_argument);
  CHECK(back.status().message().find("recorded times never go back") != std::string::npos);
  Envelope anonymous = (*all)[20];
  anonymous.clear_event_id();
  auto no_id = b->replicate({(*all)[20], anonymous});
  CHECK(no_id.status().code() == Code::invalid_argument);
  CHECK(b->last_position() == 20);  // the valid event before it was not written either

  // The rest, and then all of it again: positions given back, nothing added.
  REQUIRE(b->replicate({all->begin() + 20, all->end()}).is_ok());
  auto again = b->replicate(*all);
  REQUIRE(again.is_ok());
  CHECK(again->positions.size() == 60);
  CHECK(b->last_position() == 60);

  auto copied = b->read_all(1, 1000);
  REQUIRE(copied.is_ok());
  REQUIRE(copied->size() == all->size());
  for (std::size_t i = 0; i < all->size(); ++i) CHECK((*copied)[i].SerializeAsString() == (*all)[i].SerializeAsString());
  CHECK(b->verify().clean());
  // "What was recorded by then" is answered alike: the time index follows recorded_at.
  for (const auto& e : *all) {
    const auto t = from_timestamp(e.recorded_at());
    CHECK(*b->recorded_prefix(t) == *a->recorded_prefix(t));
    CHECK(*b->recorded_prefix(t - 1) == *a->recorded_prefix(t - 1));
  }
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
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &names).ok());
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.path(), cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (auto* h : handles) {
      if (h->GetName() == kLatePositionsCf) REQUIRE(db->DeleteRange(rocksdb::WriteOptions(), h, std::string(8, '\0'), std::string(8, '\xff')).ok());
      REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    }
  }
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
