// The independent client's kind of load, bounded: appenders on their own streams and on one
// contended stream (optimistic concurrency: conflicts expected), subscribers from the start,
// and the server killed with SIGKILL in the middle of it, round after round. Nothing
// acknowledged is lost; every subscriber sees the log without a gap or a duplicate.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/server_support.h"
#include "tests/support.h"

using namespace leanos;
using namespace leanos::test;

namespace {

constexpr int kRounds = 4;
constexpr int kKillAfter = 400;  // acknowledged events per round before the SIGKILL

struct Acknowledged {
  std::mutex mu;
  std::map<std::uint64_t, std::string> by_position;  // position -> event id
  int this_round = 0;
  int appenders_done = 0;  // this round's appenders that stopped
  std::string last_error;
  void add(const v1::AppendResponse& out, const std::vector<std::string>& ids) {
    std::lock_guard lock(mu);
    for (int i = 0; i < out.positions_size(); ++i) {
      const auto [it, fresh] = by_position.emplace(out.positions(i), ids[static_cast<std::size_t>(i)]);
      CHECK_MESSAGE(fresh, "position " << out.positions(i) << " acknowledged twice");
      (void)it;
    }
    this_round += out.positions_size();
  }
};

std::unique_ptr<v1::Ledger::Stub> client(const std::string& address) {
  return v1::Ledger::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

void with_deadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

// Appends batches of 1-3 events to `stream` until the server goes away. `contended`: the
// expected version is read first, so concurrent writers conflict (FAILED_PRECONDITION).
void appender(const std::string& address, const std::string& stream, bool contended, int round, int t,
              Acknowledged& acked, std::atomic<int>& conflicts) {
  auto stub = client(address);
  for (int i = 0;; ++i) {
    std::string expected = "any";
    if (contended) {
      grpc::ClientContext ctx;
      with_deadline(ctx);
      v1::ReadStreamRequest req;
      req.set_stream(stream);
      req.set_backward(true);
      req.set_limit(1);
      v1::ReadResponse last;
      if (auto s = stub->ReadStream(&ctx, req, &last); !s.ok()) {
        std::lock_guard lock(acked.mu);
        ++acked.appenders_done;
        acked.last_error = s.error_message();
        return;
      }
      expected = last.events().empty() ? "no_stream" : std::to_string(last.events(0).version());
    }
    std::vector<Envelope> batch;
    std::vector<std::string> ids;
    for (int k = 0; k <= i % 3; ++k) {
      batch.push_back(note("Soak"));
      ids.push_back("r" + std::to_string(round) + "-t" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(k));
      batch.back().set_event_id(ids.back());
    }
    grpc::ClientContext ctx;
    with_deadline(ctx);
    v1::AppendRequest req;
    req.set_stream(stream);
    req.set_expected_version(expected);
    for (auto& e : batch) *req.add_events() = e;
    v1::AppendResponse out;
    const auto s = stub->Append(&ctx, req, &out);
    if (s.ok()) acked.add(out, ids);
    else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) ++conflicts;
    else {  // the server is gone (or refused something it should not have)
      std::lock_guard lock(acked.mu);
      ++acked.appenders_done;
      acked.last_error = s.error_message();
      return;
    }
  }
}

// Reads from position 1 until the server goes away; every page must continue the last one.
void subscriber(const std::string& address, std::uint64_t& received, bool& gap) {
  auto stub = client(address);
  grpc::ClientContext ctx;
  v1::SubscribeRequest req;
  req.set_from_position(1);
  auto reader = stub->Subscribe(&ctx, req);
  v1::SubscribePage page;
  std::uint64_t next = 1;
  while (reader->Read(&page)) {
    for (const auto& e : page.events()) {
      if (e.position() != next) gap = true;
      next = e.position() + 1;
    }
  }
  reader->Finish();
  received = next - 1;
}

}  // namespace

TEST_CASE("under appends, conflicts, subscribers and repeated SIGKILLs nothing acknowledged is lost and no subscriber sees a gap") {
  TempDir dir;
  Acknowledged acked;
  std::atomic<int> conflicts{0};
  for (int round = 0; round < kRounds; ++round) {
    Server server(dir.path());
    const std::uint64_t before = acked.by_position.empty() ? 0 : acked.by_position.rbegin()->first;
    acked.this_round = 0;
    acked.appenders_done = 0;
    std::uint64_t received[2] = {0, 0};
    bool gap[2] = {false, false};
    std::vector<std::thread> threads;
    for (int s = 0; s < 2; ++s) threads.emplace_back(subscriber, server.address(), std::ref(received[s]), std::ref(gap[s]));
    for (int t = 0; t < 6; ++t)
      threads.emplace_back(appender, server.address(), t < 4 ? "soak-" + std::to_string(t) : std::string("soak-shared"), t >= 4,
                           round, t, std::ref(acked), std::ref(conflicts));
    // The kill comes after a count of acknowledged events, not after a time (or when every
    // appender has given up, which fails the round).
    for (;;) {
      {
        std::lock_guard lock(acked.mu);
        if (acked.this_round >= kKillAfter || acked.appenders_done == 6) break;
      }
      std::this_thread::yield();
    }
    {
      std::lock_guard lock(acked.mu);
      REQUIRE_MESSAGE(acked.this_round >= kKillAfter, "every appender stopped before the kill: " << acked.last_error);
    }
    CHECK(server.stop(SIGKILL) == 128 + SIGKILL);
    for (auto& t : threads) t.join();
    for (int s = 0; s < 2; ++s) {
      CHECK_FALSE(gap[s]);
      CHECK(received[s] <= before + static_cast<std::uint64_t>(acked.this_round) + 64);  // nothing invented
    }
  }
  Server server(dir.path());
  std::map<std::uint64_t, std::string> stored;
  std::uint64_t next = 1;
  for (;;) {
    grpc::ClientContext ctx;
    v1::ReadAllRequest req;
    req.set_from_position(next);
    v1::ReadResponse page;
    REQUIRE(server.stub().ReadAll(&ctx, req, &page).ok());
    if (page.events().empty()) break;
    for (const auto& e : page.events()) {
      CHECK(e.position() == next);
      stored[e.position()] = e.event_id();
      next = e.position() + 1;
    }
  }
  std::lock_guard lock(acked.mu);
  CHECK(acked.by_position.size() >= static_cast<std::size_t>(kRounds * kKillAfter));
  int lost = 0;
  for (const auto& [position, id] : acked.by_position) {
    auto it = stored.find(position);
    if (it == stored.end() || it->second != id) ++lost;
  }
  CHECK(lost == 0);
  MESSAGE(acked.by_position.size() << " events acknowledged over " << kRounds << " SIGKILLs, " << conflicts.load()
                                   << " optimistic-concurrency conflicts, " << stored.size() << " events stored");
}
