#include "tools/server/ledger_service.h"

#include <deque>
#include <map>
#include <mutex>

#include "tools/bridge/upload.h"

namespace leanos::cli {

namespace {

// One AppendStream call: each request read is handed to the store at once (up to kWindow in
// flight), each answer written in the order the requests came, one write on the wire at a
// time. It finishes when the client has stopped sending and every append is answered, and
// is deleted only then (OnDone): no answer from the store can come after.
class AppendStreamCall final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  static constexpr std::uint64_t kWindow = 256;

  AppendStreamCall(Appender& appender, std::shared_ptr<void> keep) : appender_(appender), keep_(std::move(keep)) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return step([&] { reading_ = false; });  // the client is done sending, or gone
    std::uint64_t sequence;
    {
      std::lock_guard lock(mu_);
      sequence = ++received_;
      ++unanswered_;
    }
    grpc::ByteBuffer request(in_);
    in_.Clear();
    appender_.submit_append(request, [this, sequence](const grpc::Status& s, const v1::AppendResponse& r) { answered(sequence, s, r); });
    std::lock_guard lock(mu_);
    if (unanswered_ < kWindow) StartRead(&in_);
    else paused_ = true;  // answered() reads on
  }

  void OnWriteDone(bool ok) override {
    step([&] {
      writing_ = false;
      if (!ok) {  // the client is gone: the answers still to come are dropped
        broken_ = true;
        ready_.clear();
      }
      write_next();
    });
  }

  void OnDone() override { delete this; }

 private:
  void answered(std::uint64_t sequence, const grpc::Status& s, const v1::AppendResponse& r) {
    v1::AppendStreamReply reply;
    reply.set_sequence(sequence);
    if (s.ok()) {
      *reply.mutable_appended() = r;
    } else {
      reply.set_code(static_cast<std::uint32_t>(s.error_code()));
      reply.set_message(s.error_message());
    }
    grpc::ByteBuffer wire;
    bool own = false;
    const bool serialized = grpc::SerializationTraits<grpc::protobuf::MessageLite>::Serialize(reply, &wire, &own).ok();
    step([&] {
      --unanswered_;
      if (serialized && !broken_) {
        ready_.emplace(sequence, std::move(wire));
      } else if (!serialized) {  // the answers from here on cannot be given in order: the call ends
        broken_ = true;
        end_ = grpc::Status(grpc::StatusCode::INTERNAL, "the answer to append " + std::to_string(sequence) + " could not be encoded");
      }
      if (paused_ && unanswered_ < kWindow) {
        paused_ = false;
        StartRead(&in_);
      }
      write_next();
    });
  }

  // Under mu_: the next answer in order onto the wire, if the wire is free.
  void write_next() {
    if (writing_ || broken_) return;
    auto it = ready_.find(written_ + 1);
    if (it == ready_.end()) return;
    out_ = std::move(it->second);
    ready_.erase(it);
    ++written_;
    writing_ = true;
    StartWrite(&out_);
  }

  // Every callback that may end the call: its change under the lock, and in the same locked
  // section whether the call is over (nothing read, answered or written any more) — deciding
  // in a section of its own let two callbacks race, one finishing while the other still
  // came. The one that ends it calls Finish, outside the lock and as its last use of this
  // call, since OnDone (which deletes it) may follow at once on another thread.
  template <class Change>
  void step(Change change) {
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      change();
      if (!finished_ && !reading_ && !paused_ && unanswered_ == 0 && !writing_ && (broken_ || ready_.empty())) finish = finished_ = true;
    }
    if (finish) Finish(end_);
  }

  Appender& appender_;
  grpc::Status end_;  // OK unless an answer could not be sent
  std::shared_ptr<void> keep_;
  std::mutex mu_;
  grpc::ByteBuffer in_, out_;
  std::map<std::uint64_t, grpc::ByteBuffer> ready_;  // answers not yet written, by sequence
  std::uint64_t received_ = 0, written_ = 0, unanswered_ = 0;
  bool reading_ = true, paused_ = false, writing_ = false, broken_ = false, finished_ = false;
};

}  // namespace

grpc::ServerUnaryReactor* append_call(Appender& appender, std::shared_ptr<void> keep, const grpc::ByteBuffer& wire, grpc::ByteBuffer* out) {
  auto* call = new AppendCall(std::move(keep));
  appender.submit_append(wire, [call, out](const grpc::Status& s, const v1::AppendResponse& response) {
    if (!s.ok()) return call->Finish(s);
    bool own = false;
    call->Finish(grpc::SerializationTraits<grpc::protobuf::MessageLite>::Serialize(response, out, &own));
  });
  return call;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* append_stream_call(Appender& appender, std::shared_ptr<void> keep) {
  return new AppendStreamCall(appender, std::move(keep));
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* LedgerService::AppendStream(grpc::CallbackServerContext* ctx) {
  Routed r;
  if (auto a = route_(ctx, &r); !a.ok()) return new RefusedStream(a);
  return append_stream_call(*r.workspace, std::move(r.keep));
}

grpc::Status LedgerService::Import(grpc::ServerContext* ctx, grpc::ServerReader<v1::ImportPart>* reader, v1::ImportReport* out) {
  Routed r;
  if (auto a = route_(ctx, &r); !a.ok()) return a;
  auto upload = bridge::FolderUpload::make();
  if (!upload) return to_grpc(upload.status());
  v1::ImportPart part;
  while (reader->Read(&part))
    if (auto s = upload->add(part); !s) return to_grpc(s);
  auto options = upload->finish();
  if (!options) return to_grpc(options.status());
  auto report = r.workspace->ledger.import_folder({upload->dir(), std::move(*options), nullptr});
  if (!report) return to_grpc(report.status());
  *out = std::move(*report);
  return grpc::Status::OK;
}

}  // namespace leanos::cli
