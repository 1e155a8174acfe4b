// One Ledger interface, two places: the same calls through a LocalLedger (this process) and a
// RemoteLedger (a server in this process, over gRPC) give the same answers, rejections
// included, with the rule's id, parameters and hint in the domain's words; the CLI renders
// its own hint from the id and parameters.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "actors/ledger.h"
#include "events/ids.h"
#include "tests/builders.h"
#include "tests/support.h"
#include "tools/cli/hints.h"
#include "tools/server/client.h"
#include "tools/server/server.h"

using namespace leanos;

namespace {

Envelope lead(const std::string& deal) {
  Envelope c = test::command(test::lead_captured(deal), "2026-03-01", "lead-" + deal);
  c.set_actor("test");
  return c;
}

Envelope implication(const std::string& deal, std::int64_t low, std::int64_t high) {
  v1::ImplicationAssessed i;
  i.set_deal_id(deal);
  i.set_arr_low(low);
  i.set_arr_high(high);
  i.set_strategic(v1::LOW);
  i.set_priority(0.4);
  return test::command(i, "2026-03-02", "implication-" + deal + "-" + std::to_string(high));
}

std::unique_ptr<store::EventStore> open_store(const test::TempDir& dir) {
  store::StoreOptions relaxed;
  relaxed.durability = store::Durability::relaxed;
  auto s = store::EventStore::open(dir.path(), relaxed);
  REQUIRE(s.is_ok());
  return std::move(*s);
}

// A store served by a server in this process, and the RemoteLedger that talks to it.
struct Served {
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<cli::LocalServer> server;
  std::unique_ptr<Ledger> ledger;
  explicit Served(const test::TempDir& dir) : store(open_store(dir)) {
    auto started = cli::LocalServer::start(*store);
    REQUIRE(started.is_ok());
    server = std::move(*started);
    cli::GlobalOptions g;
    g.server = "127.0.0.1:" + std::to_string(server->port());
    auto connected = cli::connect(g);
    REQUIRE(connected.is_ok());
    ledger = std::move(*connected);
  }
  ~Served() { ledger.reset(); }  // the client before the server
};

// What one ledger answers to the same calls, as comparable text.
struct Answers {
  std::vector<std::string> recorded;  // type, stream, version of each event recorded
  std::string rejection;              // code, rule id, parameters
  std::string hint, cli_hint;         // the domain's words, and the CLI's for the same rejection
  std::string no_goal;                // a view of a goal that does not exist: rule, hint, the CLI's hint
  std::string deal_view, deals_view, pipeline_view;
  std::vector<std::string> read;      // the deal's stream, read back
  std::string appended, raw_refusal;
};

Answers drive(Ledger& ledger) {
  Answers a;
  auto note = [&](const Result<Handled>& h) {
    INFO(h.status().to_string());
    REQUIRE(h.is_ok());
    for (const auto& e : h->events)
      a.recorded.push_back(e.type() + " " + e.stream() + " v" + std::to_string(e.version()) + (h->idempotent_retry ? " (retry)" : ""));
  };
  note(ledger.submit({lead("acme")}));
  note(ledger.submit({lead("acme")}));  // a retry: the same events, recorded once
  auto refused = ledger.submit({implication("acme", 1000, 2000)});  // stage 3 before stage 2: the rule says which
  REQUIRE(!refused.is_ok());
  a.rejection = std::to_string(static_cast<int>(refused.status().code())) + " " + refused.status().rule_id();
  auto params = refused.status().params();
  std::sort(params.begin(), params.end());  // the wire carries them as a map
  for (const auto& [k, v] : params) a.rejection += " " + k + "=" + v;
  a.hint = refused.status().hint();
  a.cli_hint = cli::cli_hint(refused.status());
  note(ledger.submit({lead("beta")}));
  v1::QueryRequest goal;
  goal.mutable_goal()->set_goal_id("g-nope");
  auto no_goal = ledger.query(goal);
  REQUIRE(!no_goal.is_ok());
  a.no_goal = no_goal.status().rule_id() + " | " + no_goal.status().hint() + " | " + cli::cli_hint(no_goal.status());
  // A view as of 2026-03-05, as text: `set` names which.
  auto view = [&](const std::function<void(v1::QueryRequest&)>& set) {
    v1::QueryRequest q;
    q.set_as_of("2026-03-05");
    set(q);
    auto reply = ledger.query(q);
    REQUIRE(reply.is_ok());
    return reply->ShortDebugString();
  };
  a.deal_view = view([](v1::QueryRequest& q) { q.mutable_deal()->set_deal_id("acme"); });
  a.deals_view = view([](v1::QueryRequest& q) { q.mutable_deals(); });
  a.pipeline_view = view([](v1::QueryRequest& q) { q.mutable_pipeline(); });
  ReadRequest r;
  r.stream = "deal-acme";
  auto events = ledger.read(r);
  REQUIRE(events.is_ok());
  for (const auto& e : *events) a.read.push_back(e.event_id() + " " + e.type());
  Envelope note_event;
  note_event.set_type("NoteTaken");
  note_event.set_event_id("note-1");
  note_event.mutable_generic();
  auto appended = ledger.append("notes-1", "no_stream", {note_event});
  REQUIRE(appended.is_ok());
  a.appended = std::to_string(appended->stream_version);
  auto raw = ledger.append("deal-acme", "any", {note_event});  // the rules' stream takes no raw append
  REQUIRE(!raw.is_ok());
  a.raw_refusal = std::to_string(static_cast<int>(raw.status().code()));
  return a;
}

}  // namespace

TEST_CASE("the same calls through a local ledger and through a server's give the same answers, rejections included") {
  test::TempDir local_dir, remote_dir;
  auto local_store = open_store(local_dir);
  LocalLedger local(*local_store);
  const Answers here = drive(local);

  Served remote(remote_dir);
  const Answers there = drive(*remote.ledger);

  REQUIRE(here.recorded.size() == there.recorded.size());
  for (std::size_t i = 0; i < std::min(here.recorded.size(), there.recorded.size()); ++i) CHECK(here.recorded[i] == there.recorded[i]);
  CHECK(here.recorded == there.recorded);
  CHECK(here.recorded == std::vector<std::string>{"LeadCaptured deal-acme v1", "LeadCaptured deal-acme v1 (retry)", "LeadCaptured deal-beta v1"});
  CHECK(here.rejection == there.rejection);
  CHECK(!here.rejection.empty());
  // The rule speaks the domain (the command to record), whoever asks; the CLI renders its own.
  CHECK(here.hint == there.hint);
  CHECK(here.hint.find("HypothesisStated") != std::string::npos);
  CHECK(here.hint.find("leanos") == std::string::npos);
  CHECK(here.cli_hint == there.cli_hint);
  CHECK(here.cli_hint.find("`leanos deal hypothesis acme") != std::string::npos);
  CHECK(here.no_goal == there.no_goal);
  CHECK(here.no_goal == "UNKNOWN_GOAL | define it first (GoalDefined g-nope) | define it first with `leanos goal define g-nope ...`");
  CHECK(here.deal_view == there.deal_view);
  CHECK(here.deals_view == there.deals_view);
  CHECK(here.pipeline_view == there.pipeline_view);
  CHECK(here.read == there.read);
  CHECK(here.appended == there.appended);
  CHECK(here.raw_refusal == there.raw_refusal);
}

namespace {

// The positions a subscription delivered, waited for without sleeping.
struct Delivered {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::uint64_t> positions;
  Ledger::OnPage on_page() {
    return [this](const std::vector<Envelope>& page) {
      std::lock_guard lock(mu);
      for (const auto& e : page) positions.push_back(e.position());
      cv.notify_all();
    };
  }
  // The first `n` positions delivered, or fewer when 30 s pass without them.
  std::vector<std::uint64_t> first(std::size_t n) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return positions.size() >= n; });
    return {positions.begin(), positions.begin() + static_cast<std::ptrdiff_t>(std::min(n, positions.size()))};
  }
};

// follow(0) sees what is recorded after it; follow(1) what the log held, then the same.
void follows(Ledger& ledger) {
  REQUIRE(ledger.submit({lead("one")}).is_ok());  // position 1
  Delivered live, whole;
  auto ended = [](const Status& s) { FAIL_CHECK("the feed ended: " << s.to_string()); };
  auto from_now = ledger.follow(0, live.on_page(), ended);
  auto from_start = ledger.follow(1, whole.on_page(), ended);
  REQUIRE(from_now.is_ok());
  REQUIRE(from_start.is_ok());
  REQUIRE(ledger.submit({lead("two")}).is_ok());    // position 2
  REQUIRE(ledger.submit({lead("three")}).is_ok());  // position 3
  CHECK(live.first(2) == std::vector<std::uint64_t>{2, 3});
  CHECK(whole.first(3) == std::vector<std::uint64_t>{1, 2, 3});
}

}  // namespace

TEST_CASE("a local ledger and a server's deliver the log as it grows, from now or from a position") {
  test::TempDir local_dir, remote_dir;
  auto local_store = open_store(local_dir);
  LocalLedger local(*local_store);
  follows(local);

  Served remote(remote_dir);
  follows(*remote.ledger);
}
