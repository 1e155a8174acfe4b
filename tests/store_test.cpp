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
