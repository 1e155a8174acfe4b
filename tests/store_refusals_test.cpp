// What the event store refuses to write (the hardening issue), a full disk, and replication.
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
