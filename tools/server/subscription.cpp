#include "tools/server/subscription.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <set>

#include "tools/server/status.h"

namespace leanos::cli {

namespace {

// One subscription, on gRPC's callback API: no thread per subscriber. Each round takes the
// events from `next_` on: from the shared live window when `next_` is in it, else from the
// store, read by the catch-up readers. One message carries the round's matching events, so
// the per-message cost is paid per page, not per event. A page is built as its encoding:
// the store's records are passed on as stored (EventStore::read_records), not decoded and
// encoded again; live events are encoded once per subscriber. While a page is being written
// nothing else happens for this subscriber; at the end of the log it waits in the feed's
// waiter list. A slow subscriber therefore holds one page, never a backlog, and when it
// falls out of the window it reads the store: appends and other subscribers never wait for it.
class Subscription final : public grpc::ServerWriteReactor<grpc::ByteBuffer>, public store::LiveFeed::Waiter {
 public:
  // `keep`: what must stay open while the subscription runs (its workspace, serving many).
  Subscription(const store::EventStore& store, store::LiveFeed& feed, CatchUpReaders& readers,
               const v1::SubscribeRequest& req, std::uint64_t next, std::shared_ptr<void> keep)
      : keep_(std::move(keep)), store_(store), feed_(feed), readers_(readers), req_(req), types_(req.types().begin(), req.types().end()),
        next_(next), reported_(next - 1) {
    step([] {});
  }

  void wake() override { step([] {}); }

  void OnWriteDone(bool ok) override {
    step([&] {
      writing_ = false;
      if (!ok) cancelled_ = true;
    });
  }

  void OnCancel() override {
    step([&] { cancelled_ = true; });
  }

  void OnDone() override {
    feed_.forget(this);
    delete this;
  }

 private:
  static constexpr std::size_t kPageEvents = 1024;
  static constexpr std::size_t kPageBytes = kMaxReplyEventBytes;
  static constexpr std::uint64_t kCheckpointEvery = 4096;  // positions passed over before an empty page

  bool wanted(const std::string& stream, const std::string& type) const {
    if (!req_.stream().empty() && stream != req_.stream()) return false;
    if (!req_.stream_prefix().empty() && stream.rfind(req_.stream_prefix(), 0) != 0) return false;
    return types_.empty() || types_.count(type) > 0;
  }

  // Appends one event's encoding to a page's (SubscribePage.events: field 1, length-delimited).
  static void add_encoded(std::string& page, std::string_view event) {
    using google::protobuf::internal::WireFormatLite;
    using google::protobuf::io::CodedOutputStream;
    std::uint8_t head[16];
    auto* end = CodedOutputStream::WriteTagToArray(
        WireFormatLite::MakeTag(v1::SubscribePage::kEventsFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED), head);
    end = CodedOutputStream::WriteVarint32ToArray(static_cast<std::uint32_t>(event.size()), end);
    page.append(reinterpret_cast<const char*>(head), static_cast<std::size_t>(end - head));
    page.append(event);
  }

  enum class Fill { ready, waiting, reading, done };

  // Fills `spare` with the next page's encoding: from the live window, or from what a
  // catch-up reader read. `waiting`: the subscriber is at the end of the log and the feed
  // will wake it; `reading`: a catch-up reader is reading the store and carries on when it has.
  Fill fill(std::string& spare) {
    for (;;) {
      spare.clear();
      held_.clear();
      std::uint64_t through = next_ - 1;
      std::size_t bytes = 0, events = 0;
      // One event, or false when the page is full: the next page starts with it.
      auto add = [&](std::uint64_t position, std::string_view encoded) {
        if (events > 0 && bytes + encoded.size() > kPageBytes) return false;
        bytes += encoded.size();
        ++events;
        through = position;
        add_encoded(spare, encoded);
        return true;
      };
      bool live = false;
      if (read_) {
        auto records = std::move(*read_);
        read_.reset();
        for (const auto& r : records) {
          if (!wanted(r.stream, r.type)) through = r.position;
          else if (!add(r.position, r.bytes)) break;
        }
      } else {
        const auto took = feed_.take(next_, kPageEvents, held_, this);
        if (took == store::LiveFeed::Took::nothing) return Fill::waiting;
        if (took == store::LiveFeed::Took::stopped) {
          end_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down; resubscribe from your last position");
          return Fill::done;
        }
        // Sealed, the store is read for every page: the live window holds events opened.
        if (took == store::LiveFeed::Took::behind || (took == store::LiveFeed::Took::events && req_.sealed())) {
          reading_ = true;
          readers_.post([this, from = next_] { catch_up(from); });
          return Fill::reading;
        }
        for (const auto& e : held_) {
          if (!wanted(e->stream(), e->type())) {
            through = e->position();
            continue;
          }
          encoded_.clear();
          e->AppendToString(&encoded_);
          if (!add(e->position(), encoded_)) break;
        }
        live = true;
      }
      next_ = through + 1;
      if (events == 0 && through - reported_ < kCheckpointEvery) continue;
      v1::SubscribePage tail;  // numbered after the events: the page's encoding in field order
      tail.set_checkpoint(through);
      tail.set_live(live);
      tail.AppendToString(&spare);
      reported_ = through;
      return Fill::ready;
    }
  }

  // On a catch-up reader: one page from the store, outside the lock; then the subscription goes on.
  void catch_up(std::uint64_t from) {
    auto records = store_.read_records(from, kPageEvents, kPageBytes, req_.sealed() ? store::Personal::leave_sealed : store::Personal::open);
    step([&] {
      reading_ = false;
      if (!records) {
        if (!end_) end_ = to_grpc(records.status());
      } else if (records->empty()) {
        // The feed said `from` is older than its window, so it exists; an empty read is a
        // store that lost it.
        if (!end_) end_ = grpc::Status(grpc::StatusCode::DATA_LOSS, "position " + std::to_string(from) + " cannot be read; run leanos verify");
      } else {
        read_ = std::move(*records);
      }
    });
  }

  // Every callback: its change under the lock, then advance() in the same locked section;
  // the one callback that ends the call calls Finish, outside the lock and as its last use
  // of this (OnDone may follow at once on another thread).
  template <class Change>
  void step(Change change) {
    bool finish;
    {
      std::lock_guard lock(mu_);
      change();
      finish = advance();
    }
    if (finish) Finish(*end_);
  }

  // Under mu_: keeps one page on the wire and the next one ready behind it, so that reading
  // the store overlaps sending; waits in the feed at the end of the log. True once no write
  // or read is outstanding and the call is to end: the caller then calls Finish, outside the
  // lock and as its last use of this (OnDone may follow at once). Decided in the same locked
  // section as the change that led to it, so that no other callback can finish and delete
  // the call between the change and the decision.
  bool advance() {
    if (finished_) return false;
    if (cancelled_ && !end_) end_ = grpc::Status::CANCELLED;
    while (!end_) {
      if (!prepared_) {
        if (reading_) return false;  // the reader carries on when it is done
        const auto f = fill(pages_[1 - sending_]);
        if (f == Fill::waiting || f == Fill::reading) return false;
        if (f == Fill::done) break;
        prepared_ = true;
      }
      if (writing_) return false;  // OnWriteDone sends the prepared page
      sending_ = 1 - sending_;
      prepared_ = false;
      writing_ = true;
      grpc::Slice slice(pages_[sending_]);
      wire_ = grpc::ByteBuffer(&slice, 1);  // the last page's bytes: gRPC is done with them (OnWriteDone came)
      StartWrite(&wire_);
    }
    if (writing_ || reading_) return false;  // finish after the write or read in flight
    finished_ = true;
    return true;
  }

  std::shared_ptr<void> keep_;
  const store::EventStore& store_;
  store::LiveFeed& feed_;
  CatchUpReaders& readers_;
  const v1::SubscribeRequest req_;
  const std::set<std::string> types_;
  std::mutex mu_;
  std::uint64_t next_;
  std::uint64_t reported_;
  bool writing_ = false, prepared_ = false, reading_ = false, cancelled_ = false, finished_ = false;
  std::optional<grpc::Status> end_;  // how the call will finish, once decided
  std::optional<std::vector<store::EventStore::Record>> read_;  // what the catch-up reader read, not yet paged
  std::vector<store::LiveFeed::Event> held_;
  std::string encoded_;      // a live event's encoding, reused
  std::string pages_[2];     // the encodings of the page on the wire and of the one prepared behind it
  grpc::ByteBuffer wire_;    // the page on the wire (Subscribe is a raw method)
  int sending_ = 0;
};

// A subscription refused before it started (bad token, bad name): finishes at once.
class Refused final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit Refused(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* start_subscription(const store::EventStore& store, store::LiveFeed& feed,
                                                               CatchUpReaders& readers, const v1::SubscribeRequest& req,
                                                               std::uint64_t next, std::shared_ptr<void> keep) {
  return new Subscription(store, feed, readers, req, next, std::move(keep));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* refused_subscription(const grpc::Status& status) { return new Refused(status); }

}  // namespace leanos::cli
