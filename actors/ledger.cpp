#include "actors/ledger.h"

#include "actors/files.h"
#include "actors/whatif.h"

#include <thread>

#include "actors/queries.h"
#include "actors/runtime.h"
#include "events/domain.h"
#include "events/ids.h"

namespace leanos {

LocalLedger::LocalLedger(store::EventStore& store, Start start, Clock clock) : store_(store), clock_(std::move(clock)) {
  if (start == Start::now) runtime();
}

LocalLedger::LocalLedger(std::unique_ptr<store::EventStore> store, Start start, Clock clock)
    : owned_(std::move(store)), store_(*owned_), clock_(std::move(clock)) {
  if (start == Start::now) runtime();
}

LocalLedger::~LocalLedger() { runtime_.reset(); }  // before an owned store closes

Runtime& LocalLedger::runtime() {
  if (!runtime_) runtime_ = std::make_unique<Runtime>(store_);
  return *runtime_;
}

Result<Handled> LocalLedger::submit(std::vector<Envelope> commands) {
  for (auto& c : commands) {  // what a caller may leave out: an id, the time, the type's name
    if (c.event_id().empty()) c.set_event_id(new_event_id());
    if (!c.has_occurred_at()) to_timestamp(clock_(), c.mutable_occurred_at());
    if (const auto* p = payload_of(c)) c.set_type(p->GetDescriptor()->name());
  }
  auto h = runtime().submit_batch(std::move(commands));
  if (!h) return h;
  // Outcomes and learnings cause canvas, goal and marketing events: the answer waits for them.
  if (auto s = runtime().settle(h->events.back().position()); !s) return s;
  return h;
}

Result<v1::QueryReply> LocalLedger::query(const v1::QueryRequest& request) { return answer_query(store_, request, clock_()); }

Result<store::AppendResult> LocalLedger::append(const std::string& stream, const std::string& expected_version,
                                                std::vector<Envelope> events) {
  auto expected = store::ExpectedVersion::parse(expected_version.empty() ? "any" : expected_version);
  if (!expected) return expected.status();
  if (auto s = check_stream_name(stream); !s) return s;
  for (auto& e : events) {
    if (e.event_id().empty()) e.set_event_id(new_event_id());
    if (auto s = check_raw_append(stream, e); !s) return s;
  }
  return store_.append(stream, *expected, std::move(events));
}

Result<std::vector<Envelope>> LocalLedger::read(const ReadRequest& r) {
  if (r.recorded_from || r.recorded_to)
    return store_.read_recorded_between(r.recorded_from.value_or(0), r.recorded_to.value_or(std::numeric_limits<Micros>::max()), r.limit);
  if (r.stream.empty()) return store_.read_all(r.from, r.limit, r.max_bytes);
  return store_.read_stream(r.stream, r.from, r.backward ? store::Direction::backward : store::Direction::forward, r.limit, r.max_bytes);
}

Result<store::ForgetResult> LocalLedger::forget(const std::string& subject, const std::string& reason, const std::string& actor) {
  return store_.forget(subject, reason, actor);
}

namespace {

// Pages from the store, then a wait for the next commit (the store wakes it; the timeout only
// bounds how long a stop waits).
class LocalFollowing final : public Following {
 public:
  LocalFollowing(const store::EventStore& store, std::uint64_t from, Ledger::OnPage on_page, Ledger::OnEnd on_end)
      : thread_([this, &store, from, on_page = std::move(on_page), on_end = std::move(on_end)] {
          std::uint64_t next = from;
          while (!stop_) {
            auto page = store.read_all(next, 1000, 4 << 20);
            if (!page) {
              on_end(page.status());
              return;
            }
            if (page->empty()) {
              store.wait_beyond(next - 1, std::chrono::milliseconds(100));
              continue;
            }
            next = page->back().position() + 1;
            on_page(*page);
          }
        }) {}
  ~LocalFollowing() override {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: it starts once stop_ is
};

}  // namespace

Result<std::unique_ptr<Following>> LocalLedger::follow(std::uint64_t from, OnPage on_page, OnEnd on_end) {
  if (from == 0) from = store_.last_position() + 1;
  return std::unique_ptr<Following>(std::make_unique<LocalFollowing>(store_, from, std::move(on_page), std::move(on_end)));
}

Result<v1::WhatIfReply> LocalLedger::what_if(const v1::WhatIfRequest& request) {
  CommandHandler handler(store_);
  auto reply = leanos::what_if(store_, handler, request, clock_());
  if (!reply || request.save().empty()) return reply;
  // Saved once it reads: the definition through the rules (a name, no personal data), the
  // saved scenario's changes it ran first.
  const v1::WhatIfRequest merged = request.scenario().empty() ? request : with_saved(request, reply->scenario());
  if (auto h = submit({save_command(merged, clock_())}); !h) return h.status();
  auto saved = saved_scenario(store_, request.save());
  if (!saved) return saved.status();
  *reply->mutable_saved() = std::move(*saved);
  return reply;
}

Result<std::string> LocalLedger::read_file(const std::string& sha256) { return file_bytes(store_, sha256); }

Result<v1::ImportReport> LocalLedger::import_folder(const ImportFolder& request) {
  if (!importer_) return Status::unavailable("this ledger reads no workspace folders (it was opened without the workspace reader)");
  return importer_(*this, request);
}

}  // namespace leanos
