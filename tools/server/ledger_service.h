// The gRPC service: each call routed to its workspace (one, or many: workspaces.h), then
// Append and AppendStream on the callback API, straight to the store (answered once durable); Command, Query, ReadStream, ReadAll and Forget through the
// workspace's Ledger (actors/ledger.h); Subscribe (subscription.h); Ack and ReadKeys.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "actors/ledger.h"
#include "events/domain.h"
#include "events/ids.h"
#include "leanos/v1/api.grpc.pb.h"
#include "store/live_feed.h"
#include "tools/server/secret.h"
#include "tools/server/status.h"
#include "tools/server/subscription.h"

namespace leanos::cli {

// An AppendStream call refused before it started (bad token, no such workspace): finishes at once.
class RefusedStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// One Append call: answered once its group is durable — from the store's writer thread when
// other appends are being committed or waiting (no server thread waits for their fsync), or
// by the reactor's own thread when it is alone (it commits it itself, as the writer would:
// two hand-offs fewer). It holds what the call needs kept open (a workspace's lease) until
// gRPC is done with it, so that is let go on a gRPC thread, never the writer's.
class AppendCall final : public grpc::ServerUnaryReactor {
 public:
  explicit AppendCall(std::shared_ptr<void> keep) : keep_(std::move(keep)) {}
  // A call refused before it reached the store (no token, no such workspace).
  static AppendCall* refused(const grpc::Status& status) {
    auto* call = new AppendCall(nullptr);
    call->Finish(status);
    return call;
  }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<void> keep_;
};

// Append and Subscribe are raw callback methods: the server parses the request itself,
// because gRPC 1.51's callback handler answers a request that does not parse with
// UNIMPLEMENTED and no message, whatever the serialization traits say.
using LedgerBase = v1::Ledger::WithRawCallbackMethod_AppendStream<
    v1::Ledger::WithRawCallbackMethod_Append<v1::Ledger::WithRawCallbackMethod_Subscribe<v1::Ledger::Service>>>;

// Where the Append and AppendStream reactors hand a request read off the wire: a served
// workspace's store, or the floor `leanos bench append --server` measures it against (the
// same reactors over a synced file, tools/bench/bench_floor.cpp).
class Appender {
 public:
  virtual ~Appender() = default;
  // Reads one Append request off the wire, checks it and hands it on; `done` gets the
  // outcome: from the writer's side once durable, or at once, on this thread, if refused.
  using Appended = std::function<void(const grpc::Status&, const v1::AppendResponse&)>;
  virtual void submit_append(const grpc::ByteBuffer& wire, Appended done) = 0;
};

// The reactors of one Append call and one AppendStream call over `appender`; `keep` is held
// until gRPC is done with the call.
grpc::ServerUnaryReactor* append_call(Appender& appender, std::shared_ptr<void> keep, const grpc::ByteBuffer& wire, grpc::ByteBuffer* out);
grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* append_stream_call(Appender& appender, std::shared_ptr<void> keep);

// One workspace as the server serves it: its Ledger (commands, views, reads, forget), the
// store its raw appends and subscriptions go to (their own reactors), the live feed its
// subscribers and the HTTP event streams share, its catch-up readers and its bearer token.
class ServedWorkspace final : public Appender {
 public:
  ServedWorkspace(LocalLedger& ledger, std::string token) : ledger(ledger), store(ledger.store()), token(std::move(token)) {}

  LocalLedger& ledger;
  store::EventStore& store;
  store::LiveFeed feed{store};
  CatchUpReaders readers{std::max(2u, std::thread::hardware_concurrency())};
  const std::string token;

  // The bearer token in the call's metadata against the workspace's (none wanted: OK).
  grpc::Status authorize(grpc::ServerContextBase* ctx) const {
    if (token.empty()) return grpc::Status::OK;
    const auto& md = ctx->client_metadata();
    auto it = md.find("authorization");
    if (it == md.end()) return {grpc::StatusCode::UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata"};
    if (!same_secret(std::string_view(it->second.data(), it->second.size()), "Bearer " + token))
      return {grpc::StatusCode::UNAUTHENTICATED, "wrong token"};
    return grpc::Status::OK;
  }

  // The request to the store.
  void submit_append(const grpc::ByteBuffer& wire, Appended done) override {
    grpc::ByteBuffer bytes(wire);
    v1::AppendRequest req;
    if (auto s = grpc::SerializationTraits<grpc::protobuf::MessageLite>::Deserialize(&bytes, &req); !s.ok()) return done(s, {});
    auto expected = store::ExpectedVersion::parse(req.expected_version().empty() ? "any" : req.expected_version());
    if (!expected) return done(to_grpc(expected.status()), {});
    std::vector<store::Envelope> events(std::make_move_iterator(req.mutable_events()->begin()),
                                        std::make_move_iterator(req.mutable_events()->end()));
    // An event without an id gets one from the store, which then knows it is new (no lookup).
    for (auto& e : events)
      if (auto s = check_raw_append(req.stream(), e); !s) return done(to_grpc(s), {});
    store.append_then(req.stream(), *expected, std::move(events), [done = std::move(done), stream = req.stream()](Result<store::AppendResult> r) {
      if (!r) return done(to_grpc(r.status()), {});
      v1::AppendResponse response;
      response.set_stream(stream);
      for (auto p : r->positions) response.add_positions(p);
      response.set_stream_version(r->stream_version);
      response.set_idempotent_retry(r->idempotent_retry);
      done(grpc::Status::OK, response);
    }, store::EventStore::Commit::here_when_idle);
  }
};

// The workspace a call is for, found and authorized by a Router, and what keeps it open (a
// lease of --workspaces) until the call is answered.
struct Routed {
  ServedWorkspace* workspace = nullptr;
  std::shared_ptr<void> keep;
};
using Router = std::function<grpc::Status(grpc::ServerContextBase*, Routed*)>;

// The one workspace of `leanos serve` (or a test's server): every call is for it.
inline Router only(ServedWorkspace& workspace) {
  return [&workspace](grpc::ServerContextBase* ctx, Routed* routed) {
    if (auto a = workspace.authorize(ctx); !a.ok()) return a;
    routed->workspace = &workspace;
    return grpc::Status::OK;
  };
}

// The gRPC service: each call goes to the workspace its router names (one server, one
// workspace or many), and from there to that workspace's Ledger or store. A new RPC is a
// method here and one on Ledger; the router needs nothing.
class LedgerService final : public LedgerBase {
 public:
  explicit LedgerService(Router route) : route_(std::move(route)) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* wire, grpc::ByteBuffer* out) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return AppendCall::refused(a);
    return append_call(*r.workspace, std::move(r.keep), *wire, out);
  }

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AppendStream(grpc::CallbackServerContext* ctx) override;
  // The folder's files into a scratch folder of the server's, imported from there by the
  // workspace's Ledger.
  grpc::Status Import(grpc::ServerContext* ctx, grpc::ServerReader<v1::ImportPart>* reader, v1::ImportReport* out) override;
  grpc::Status WhatIf(grpc::ServerContext* ctx, const v1::WhatIfRequest* req, v1::WhatIfReply* out) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    auto reply = r.workspace->ledger.what_if(*req);
    if (!reply) return to_grpc(reply.status());
    *out = std::move(*reply);
    return grpc::Status::OK;
  }
  grpc::Status ReadFile(grpc::ServerContext* ctx, const v1::ReadFileRequest* req, grpc::ServerWriter<v1::FileBytes>* writer) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    auto bytes = r.workspace->ledger.read_file(req->sha256());
    if (!bytes) return to_grpc(bytes.status());
    constexpr std::size_t kPart = std::size_t{1} << 20;
    std::size_t at = 0;
    do {  // an empty file is one empty part
      v1::FileBytes part;
      part.set_data(bytes->substr(at, kPart));
      at += part.data().size();
      if (!writer->Write(part)) return {grpc::StatusCode::CANCELLED, "the client went away"};
    } while (at < bytes->size());
    return grpc::Status::OK;
  }

  grpc::Status Command(grpc::ServerContext* ctx, const v1::CommandRequest* req, v1::AppendResponse* out) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    std::vector<Envelope> commands(req->batch().begin(), req->batch().end());
    if (commands.empty()) commands.push_back(req->command());
    auto h = r.workspace->ledger.submit(std::move(commands));
    if (!h) return to_grpc(h.status());
    out->set_stream(h->stream);
    for (const auto& e : h->events) out->add_positions(e.position());
    out->set_idempotent_retry(h->idempotent_retry);
    return grpc::Status::OK;
  }

  grpc::Status ReadStream(grpc::ServerContext* ctx, const v1::ReadStreamRequest* req, v1::ReadResponse* out) override {
    ReadRequest page;
    page.stream = req->stream();
    page.from = req->backward() ? req->from_version() : std::max<std::uint64_t>(1, req->from_version());
    page.backward = req->backward();
    page.limit = req->limit() ? req->limit() : 1000;
    page.max_bytes = kMaxReplyEventBytes;
    return read_page(ctx, page, out);
  }

  grpc::Status ReadAll(grpc::ServerContext* ctx, const v1::ReadAllRequest* req, v1::ReadResponse* out) override {
    ReadRequest page;
    page.from = req->from_position();
    page.limit = req->limit() ? req->limit() : 1000;
    page.max_bytes = kMaxReplyEventBytes;
    return read_page(ctx, page, out);
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* wire) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return refused_subscription(a);
    ServedWorkspace& ws = *r.workspace;
    grpc::ByteBuffer bytes(*wire);
    v1::SubscribeRequest request;
    if (auto s = grpc::SerializationTraits<grpc::protobuf::MessageLite>::Deserialize(&bytes, &request); !s.ok())
      return refused_subscription(s);
    const v1::SubscribeRequest* req = &request;
    for (const auto& type : req->types())
      if (auto s = check_event_type_filter(type); !s) return refused_subscription(to_grpc(s));
    std::uint64_t next = 1;
    if (req->start_case() == v1::SubscribeRequest::kFromNow) next = ws.store.last_position() + 1;
    else if (req->start_case() == v1::SubscribeRequest::kFromPosition) next = std::max<std::uint64_t>(1, req->from_position());
    if (!req->name().empty()) {
      if (auto s = check_stream_name(req->name()); !s)
        return refused_subscription({grpc::StatusCode::INVALID_ARGUMENT, "subscription name: " + s.message()});
      auto checkpoint = ws.store.load_checkpoint(req->name());
      if (!checkpoint) return refused_subscription(to_grpc(checkpoint.status()));
      if (*checkpoint > 0) next = *checkpoint + 1;
    }
    return start_subscription(ws.store, ws.feed, ws.readers, *req, next, std::move(r.keep));
  }

  // The query layer (actors/queries.h) answers, as it does for the CLI.
  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* req, v1::QueryReply* out) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    auto reply = r.workspace->ledger.query(*req);
    if (!reply) return to_grpc(reply.status());
    *out = std::move(*reply);
    return grpc::Status::OK;
  }

  grpc::Status Forget(grpc::ServerContext* ctx, const v1::ForgetRequest* req, v1::ForgetResponse* out) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    auto done = r.workspace->ledger.forget(req->subject(), req->reason(), req->actor());
    if (!done) return to_grpc(done.status());
    out->set_subject_hash(done->subject_hash);
    out->set_position(done->position);
    return grpc::Status::OK;
  }

  grpc::Status ReadKeys(grpc::ServerContext* ctx, const v1::ReadKeysRequest* req, v1::ReadKeysResponse* out) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    store::EventStore& store = r.workspace->store;
    constexpr int kMostSubjects = 10'000;  // a reply well below a client's 4 MiB limit
    if (req->subjects_size() > kMostSubjects)
      return {grpc::StatusCode::INVALID_ARGUMENT, "at most " + std::to_string(kMostSubjects) + " subjects per call, got " +
                                                      std::to_string(req->subjects_size())};
    auto keys = req->all() ? store.wrapped_keys_page(req->after(), std::min<std::size_t>(req->limit() ? req->limit() : 1000, kMostSubjects))
                           : store.wrapped_keys(std::vector<std::string>(req->subjects().begin(), req->subjects().end()));
    if (!keys) return to_grpc(keys.status());
    out->set_salt(std::move(keys->salt));
    for (auto& [subject, record] : keys->subjects) {
      auto* k = out->add_keys();
      k->set_subject(subject);
      k->set_record(std::move(record));
    }
    return grpc::Status::OK;
  }

  grpc::Status Ack(grpc::ServerContext* ctx, const v1::AckRequest* req, v1::AckResponse*) override {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    store::EventStore& store = r.workspace->store;
    if (auto s = check_stream_name(req->name()); !s)
      return {grpc::StatusCode::INVALID_ARGUMENT, "subscription name: " + s.message()};
    if (req->position() > store.last_position())
      return {grpc::StatusCode::INVALID_ARGUMENT, "position " + std::to_string(req->position()) + " is past the end of the log (" +
                                                      std::to_string(store.last_position()) + ")"};
    return to_grpc(store.save_checkpoint(req->name(), req->position()));
  }

 private:
  // One reply of ReadStream or ReadAll: the page read, and where the log ends now.
  grpc::Status read_page(grpc::ServerContextBase* ctx, const ReadRequest& page, v1::ReadResponse* out) {
    Routed r;
    if (auto a = route_(ctx, &r); !a.ok()) return a;
    auto events = r.workspace->ledger.read(page);
    if (!events) return to_grpc(events.status());
    for (auto& e : *events) *out->add_events() = std::move(e);
    out->set_last_position(r.workspace->store.last_position());
    return grpc::Status::OK;
  }

  Router route_;
};

}  // namespace leanos::cli
