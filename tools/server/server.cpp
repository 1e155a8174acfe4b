// The gRPC server: Append, Command (the workflow's rules, through the actors), ReadStream,
// ReadAll, Subscribe (catch-up then live), Ack (named subscriptions) and Query (the query
// layer's typed views); `leanos serve`, and a LocalServer for benchmarks. The CLI's side of
// the wire is tools/server/client.cpp; errors as gRPC statuses status.cpp; Subscribe's
// reactors and catch-up readers subscription.cpp.
#include "tools/server/server.h"

#include <sys/resource.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

#include "actors/queries.h"
#include "actors/ledger.h"
#include "actors/runtime.h"
#include "events/ids.h"
#include "store/live_feed.h"
#include "store/nats.h"
#include "store/personal.h"
#include "tools/server/http.h"
#include "tools/server/secret.h"
#include "tools/server/acceptor.h"
#include "tools/server/status.h"
#include "tools/server/subscription.h"
#include "tools/server/client.h"
#include "leanos/v1/api.grpc.pb.h"

namespace leanos::cli {

namespace {

// An AppendStream call refused before it started (bad token, no such workspace): finishes at once.
class RefusedStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// One Append call: answered from the store's writer thread once its group is durable (no
// server thread waits for the fsync). It holds what the call needs kept open (a workspace's
// lease) until gRPC is done with it, so that is let go on a gRPC thread, never the writer's.
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

class LedgerService final : public LedgerBase {
 public:
  LedgerService(LocalLedger& ledger, std::string token) : store_(ledger.store()), ledger_(ledger), token_(std::move(token)) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* wire, grpc::ByteBuffer* out) override {
    return append(ctx, wire, out, nullptr);
  }
  // `keep` stays with the call until it is answered.
  grpc::ServerUnaryReactor* append(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* wire, grpc::ByteBuffer* out,
                                   std::shared_ptr<void> keep) {
    if (auto a = authorize(ctx); !a.ok()) return AppendCall::refused(a);
    auto* call = new AppendCall(std::move(keep));
    submit_append(*wire, [call, out](const grpc::Status& s, const v1::AppendResponse& response) {
      if (!s.ok()) return call->Finish(s);
      bool own = false;
      call->Finish(grpc::SerializationTraits<grpc::protobuf::MessageLite>::Serialize(response, out, &own));
    });
    return call;
  }

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AppendStream(grpc::CallbackServerContext* ctx) override {
    return append_stream(ctx, nullptr);
  }
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* append_stream(grpc::CallbackServerContext* ctx, std::shared_ptr<void> keep);

  // Reads one Append request off the wire, checks it and hands it to the store; `done` gets
  // the outcome: from the store's side once durable, or at once, on this thread, if refused.
  using Appended = std::function<void(const grpc::Status&, const v1::AppendResponse&)>;
  void submit_append(const grpc::ByteBuffer& wire, Appended done) {
    grpc::ByteBuffer bytes(wire);
    v1::AppendRequest req;
    if (auto s = grpc::SerializationTraits<grpc::protobuf::MessageLite>::Deserialize(&bytes, &req); !s.ok()) return done(s, {});
    auto expected = store::ExpectedVersion::parse(req.expected_version().empty() ? "any" : req.expected_version());
    if (!expected) return done(to_grpc(expected.status()), {});
    std::vector<store::Envelope> events(std::make_move_iterator(req.mutable_events()->begin()),
                                        std::make_move_iterator(req.mutable_events()->end()));
    for (auto& e : events) {
      if (e.event_id().empty()) e.set_event_id(new_event_id());
      if (auto s = check_raw_append(req.stream(), e); !s) return done(to_grpc(s), {});
    }
    store_.append_then(req.stream(), *expected, std::move(events), [done = std::move(done), stream = req.stream()](Result<store::AppendResult> r) {
      if (!r) return done(to_grpc(r.status()), {});
      v1::AppendResponse response;
      response.set_stream(stream);
      for (auto p : r->positions) response.add_positions(p);
      response.set_stream_version(r->stream_version);
      response.set_idempotent_retry(r->idempotent_retry);
      done(grpc::Status::OK, response);
    });
  }

  grpc::Status Command(grpc::ServerContext* ctx, const v1::CommandRequest* req, v1::AppendResponse* out) override {
    if (auto a = authorize(ctx); !a.ok()) return a;
    std::vector<Envelope> commands(req->batch().begin(), req->batch().end());
    if (commands.empty()) commands.push_back(req->command());
    auto h = ledger_.submit(std::move(commands));
    if (!h) return to_grpc(h.status());
    out->set_stream(h->stream);
    for (const auto& e : h->events) out->add_positions(e.position());
    out->set_idempotent_retry(h->idempotent_retry);
    return grpc::Status::OK;
  }

  grpc::Status ReadStream(grpc::ServerContext* ctx, const v1::ReadStreamRequest* req, v1::ReadResponse* out) override {
    if (auto a = authorize(ctx); !a.ok()) return a;
    ReadRequest page;
    page.stream = req->stream();
    page.from = req->backward() ? req->from_version() : std::max<std::uint64_t>(1, req->from_version());
    page.backward = req->backward();
    page.limit = req->limit() ? req->limit() : 1000;
    page.max_bytes = kMaxReplyEventBytes;
    auto events = ledger_.read(page);
    if (!events) return to_grpc(events.status());
    for (auto& e : *events) *out->add_events() = std::move(e);
    out->set_last_position(store_.last_position());
    return grpc::Status::OK;
  }

  grpc::Status ReadAll(grpc::ServerContext* ctx, const v1::ReadAllRequest* req, v1::ReadResponse* out) override {
    if (auto a = authorize(ctx); !a.ok()) return a;
    ReadRequest page;
    page.from = req->from_position();
    page.limit = req->limit() ? req->limit() : 1000;
    page.max_bytes = kMaxReplyEventBytes;
    auto events = ledger_.read(page);
    if (!events) return to_grpc(events.status());
    for (auto& e : *events) *out->add_events() = std::move(e);
    out->set_last_position(store_.last_position());
    return grpc::Status::OK;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* ctx,
                                                      const grpc::ByteBuffer* wire) override {
    return subscribe(ctx, wire, nullptr);
  }
  // `keep` stays with the subscription until it ends.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* subscribe(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* wire,
                                                      std::shared_ptr<void> keep) {
    if (auto a = authorize(ctx); !a.ok()) return refused_subscription(a);
    grpc::ByteBuffer bytes(*wire);
    v1::SubscribeRequest request;
    if (auto s = grpc::SerializationTraits<grpc::protobuf::MessageLite>::Deserialize(&bytes, &request); !s.ok())
      return refused_subscription(s);
    const v1::SubscribeRequest* req = &request;
    for (const auto& type : req->types())
      if (auto s = check_event_type_filter(type); !s) return refused_subscription(to_grpc(s));
    std::uint64_t next = 1;
    if (req->start_case() == v1::SubscribeRequest::kFromNow) next = store_.last_position() + 1;
    else if (req->start_case() == v1::SubscribeRequest::kFromPosition) next = std::max<std::uint64_t>(1, req->from_position());
    if (!req->name().empty()) {
      if (auto s = check_stream_name(req->name()); !s)
        return refused_subscription({grpc::StatusCode::INVALID_ARGUMENT, "subscription name: " + s.message()});
      auto checkpoint = store_.load_checkpoint(req->name());
      if (!checkpoint) return refused_subscription(to_grpc(checkpoint.status()));
      if (*checkpoint > 0) next = *checkpoint + 1;
    }
    return start_subscription(store_, feed_, readers_, *req, next, std::move(keep));
  }

  // The query layer (actors/queries.h) answers, as it does for the CLI.
  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* req, v1::QueryReply* out) override {
    if (auto a = authorize(ctx); !a.ok()) return a;
    auto reply = ledger_.query(*req);
    if (!reply) return to_grpc(reply.status());
    *out = std::move(*reply);
    return grpc::Status::OK;
  }

  // Ends every subscription with UNAVAILABLE; call before shutting the server down.
  void stop_subscriptions() { feed_.stop(); }
  // The log's tail, shared with the HTTP event streams.
  store::LiveFeed& feed() { return feed_; }
  const std::string& token() const { return token_; }

  grpc::Status Forget(grpc::ServerContext* ctx, const v1::ForgetRequest* req, v1::ForgetResponse* out) override {
    if (auto a = authorize(ctx); !a.ok()) return a;
    auto done = ledger_.forget(req->subject(), req->reason(), req->actor());
    if (!done) return to_grpc(done.status());
    out->set_subject_hash(done->subject_hash);
    out->set_position(done->position);
    return grpc::Status::OK;
  }

  grpc::Status ReadKeys(grpc::ServerContext* ctx, const v1::ReadKeysRequest* req, v1::ReadKeysResponse* out) override {
    if (auto a = authorize(ctx); !a.ok()) return a;
    constexpr int kMostSubjects = 10'000;  // a reply well below a client's 4 MiB limit
    if (req->subjects_size() > kMostSubjects)
      return {grpc::StatusCode::INVALID_ARGUMENT, "at most " + std::to_string(kMostSubjects) + " subjects per call, got " +
                                                      std::to_string(req->subjects_size())};
    auto keys = req->all() ? store_.wrapped_keys_page(req->after(), std::min<std::size_t>(req->limit() ? req->limit() : 1000, kMostSubjects))
                           : store_.wrapped_keys(std::vector<std::string>(req->subjects().begin(), req->subjects().end()));
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
    if (auto a = authorize(ctx); !a.ok()) return a;
    if (auto s = check_stream_name(req->name()); !s)
      return {grpc::StatusCode::INVALID_ARGUMENT, "subscription name: " + s.message()};
    if (req->position() > store_.last_position())
      return {grpc::StatusCode::INVALID_ARGUMENT, "position " + std::to_string(req->position()) + " is past the end of the log (" +
                                                      std::to_string(store_.last_position()) + ")"};
    return to_grpc(store_.save_checkpoint(req->name(), req->position()));
  }

  // The bearer token in the call's metadata against the workspace's (none wanted: OK).
  grpc::Status authorize(grpc::ServerContextBase* ctx) const {
    if (token_.empty()) return grpc::Status::OK;
    const auto& md = ctx->client_metadata();
    auto it = md.find("authorization");
    if (it == md.end()) return {grpc::StatusCode::UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata"};
    if (!same_secret(std::string_view(it->second.data(), it->second.size()), "Bearer " + token_))
      return {grpc::StatusCode::UNAUTHENTICATED, "wrong token"};
    return grpc::Status::OK;
  }

 private:

  store::EventStore& store_;
  store::LiveFeed feed_{store_};
  CatchUpReaders readers_{std::max(2u, std::thread::hardware_concurrency())};
  LocalLedger& ledger_;  // commands, views, reads and forget; appends and subscriptions go to the store directly (their own reactors)
  std::string token_;
};

// One AppendStream call: each request read is handed to the store at once (up to kWindow in
// flight), each answer written in the order the requests came, one write on the wire at a
// time. It finishes when the client has stopped sending and every append is answered, and
// is deleted only then (OnDone): no answer from the store can come after.
class AppendStreamCall final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  static constexpr std::uint64_t kWindow = 256;

  AppendStreamCall(LedgerService& service, std::shared_ptr<void> keep) : service_(service), keep_(std::move(keep)) {
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
    service_.submit_append(request, [this, sequence](const grpc::Status& s, const v1::AppendResponse& r) { answered(sequence, s, r); });
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

  LedgerService& service_;
  grpc::Status end_;  // OK unless an answer could not be sent
  std::shared_ptr<void> keep_;
  std::mutex mu_;
  grpc::ByteBuffer in_, out_;
  std::map<std::uint64_t, grpc::ByteBuffer> ready_;  // answers not yet written, by sequence
  std::uint64_t received_ = 0, written_ = 0, unanswered_ = 0;
  bool reading_ = true, paused_ = false, writing_ = false, broken_ = false, finished_ = false;
};

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* LedgerService::append_stream(grpc::CallbackServerContext* ctx,
                                                                                          std::shared_ptr<void> keep) {
  if (auto a = authorize(ctx); !a.ok()) return new RefusedStream(a);
  return new AppendStreamCall(*this, std::move(keep));
}

// ---- Many workspaces in one server (serve --workspaces DIR) ----------------------------------
//
// DIR/NAME is a workspace's data folder, DIR/NAME.token its bearer token, DIR/NAME.master-key
// its master key. Every call names its workspace in the metadata `leanos-workspace`; the
// workspace is opened on its first call and served by a LedgerService of its own, which
// checks that workspace's token. A name is one of check_workspace_name's (a-z, 0-9, '-', '_'),
// so no name reaches outside DIR.

constexpr const char* kWorkspaceMetadata = "leanos-workspace";

// A relay inside serve (--relay-nats): follows one workspace's log into JetStream, retrying
// while NATS is away, until the server stops. Its checkpoint is the subscription relay-nats.
class RelayThread {
 public:
  RelayThread(store::EventStore& es, store::JetStreamOptions nats) {
    thread_ = std::thread([this, &es, nats] {
      store::StoreSource source(es, "relay-nats", true, &stop_);
      store::RelayOptions o;
      o.nats = nats;
      o.stop = &stop_;
      o.log = [ws = nats.workspace](const std::string& line) { spdlog::info("workspace {}: {}", ws, line); };
      o.warn = [ws = nats.workspace](const std::string& line) { spdlog::warn("workspace {}: {}", ws, line); };
      if (auto r = store::relay(source, o); !r)
        spdlog::error("serve: the relay of workspace {} stopped: {}", nats.workspace, r.status().message());
    });
  }
  ~RelayThread() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string workspace_token_file(const std::string& dir, const std::string& name) { return dir + "/" + name + ".token"; }

class Workspaces {
 public:
  // What serves one open workspace; a call, an HTTP request or a subscription holds it (a
  // Lease) while it runs, and an idle workspace is closed only when nothing holds it.
  struct Hosted {
    StoreRef store;
    std::unique_ptr<LocalLedger> ledger;
    std::unique_ptr<LedgerService> service;
    std::unique_ptr<RelayThread> relay;
    std::chrono::steady_clock::time_point used;  // last seen in use (guarded by Workspaces::mu_)
    ~Hosted() {  // the relay and the service before the ledger (its runtime) before the store
      relay.reset();
      service.reset();
      ledger.reset();
    }
  };
  using Lease = std::shared_ptr<Hosted>;

  // `relay`: each workspace opened is relayed into JetStream (url set) under its own name,
  // and stays open. `idle`: a workspace nothing used for that long is closed (0: never).
  Workspaces(std::string dir, store::JetStreamOptions relay, std::chrono::milliseconds idle)
      : dir_(std::move(dir)), relay_(std::move(relay)), idle_(idle) {
    if (idle_.count() > 0) janitor_ = std::thread([this] { close_idle(); });
  }
  ~Workspaces() {
    stop_subscriptions();
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (janitor_.joinable()) janitor_.join();
  }

  // Workspace `name`, opened on first use.
  Result<Lease> open(const std::string& name) {
    if (auto s = store::check_workspace_name(name); !s) return s;
    std::unique_lock lock(mu_);
    wake_.wait(lock, [&] { return !closing_.count(name); });  // its store lets go of the folder first
    if (auto it = open_.find(name); it != open_.end()) {
      it->second->used = std::chrono::steady_clock::now();
      return it->second;
    }
    GlobalOptions g;
    g.data = dir_ + "/" + name;
    std::error_code ec;
    if (!std::filesystem::is_directory(g.data, ec))
      return Status::not_found("no workspace '" + name + "' on this server; create it with `leanos workspace create " + name +
                               " --workspaces DIR` where the server runs");
    auto token = read_token(workspace_token_file(dir_, name));
    if (!token) return Status::unavailable("workspace '" + name + "' has no token file: " + token.status().message());
    auto store = open_store(g, Access::read);
    if (!store) return store.status();
    auto hosted = std::make_shared<Hosted>();
    hosted->store = std::move(*store);
    hosted->ledger = std::make_unique<LocalLedger>(*hosted->store, LocalLedger::Start::now);
    hosted->service = std::make_unique<LedgerService>(*hosted->ledger, *token);
    if (!relay_.url.empty()) {
      auto nats = relay_;
      nats.workspace = name;
      hosted->relay = std::make_unique<RelayThread>(*hosted->store, nats);
    }
    hosted->used = std::chrono::steady_clock::now();
    open_[name] = hosted;
    spdlog::info("serve: workspace {} opened", name);
    return hosted;
  }
  void stop_subscriptions() {
    std::lock_guard lock(mu_);
    for (auto& [name, h] : open_) h->service->stop_subscriptions();
  }

 private:
  // Every so often: closes each workspace nothing holds and nothing used for `idle_`. One
  // found in use counts as used now. Taken out of the map under mu_, no call can take it
  // between the check and the close; the close itself (a flush) runs outside the lock, and
  // a call for that workspace waits for it to end.
  void close_idle() {
    const auto period = std::clamp<std::chrono::milliseconds>(idle_ / 4, std::chrono::milliseconds(50), std::chrono::seconds(10));
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, period, [&] { return stopping_; })) {
      const auto now = std::chrono::steady_clock::now();
      std::vector<std::pair<std::string, Lease>> idle;
      for (auto it = open_.begin(); it != open_.end();) {
        Hosted& h = *it->second;
        if (it->second.use_count() > 1 || h.relay) h.used = now;
        if (now - h.used < idle_) {
          ++it;
          continue;
        }
        closing_.insert(it->first);
        idle.emplace_back(it->first, std::move(it->second));
        it = open_.erase(it);
      }
      if (idle.empty()) continue;
      lock.unlock();
      for (auto& [name, hosted] : idle) {
        hosted.reset();  // the store closes here: its folder is free for other processes
        spdlog::info("serve: workspace {} closed: unused for {} ms", name, idle_.count());
      }
      lock.lock();
      for (const auto& [name, hosted] : idle) closing_.erase(name);
      wake_.notify_all();
    }
  }

  std::string dir_;
  store::JetStreamOptions relay_;
  const std::chrono::milliseconds idle_;
  std::mutex mu_;
  std::condition_variable wake_;  // the janitor's stop, and the end of a close
  bool stopping_ = false;
  std::map<std::string, Lease> open_;
  std::set<std::string> closing_;  // taken out of open_, their stores not closed yet
  std::thread janitor_;
};

// Hands each call to its workspace's service. A token of another workspace is
// PERMISSION_DENIED; no token where one is wanted, UNAUTHENTICATED.
class WorkspaceRouter final : public LedgerBase {
 public:
  explicit WorkspaceRouter(Workspaces& workspaces) : workspaces_(workspaces) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* wire, grpc::ByteBuffer* out) override {
    Workspaces::Lease lease;
    if (auto routed = route(ctx, &lease); !routed.ok()) return AppendCall::refused(routed);
    auto* service = lease->service.get();
    return service->append(ctx, wire, out, std::move(lease));
  }
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AppendStream(grpc::CallbackServerContext* ctx) override {
    Workspaces::Lease lease;
    if (auto routed = route(ctx, &lease); !routed.ok()) return new RefusedStream(routed);
    auto* service = lease->service.get();
    return service->append_stream(ctx, std::move(lease));
  }
  grpc::Status Command(grpc::ServerContext* ctx, const v1::CommandRequest* req, v1::AppendResponse* out) override {
    return call(ctx, [&](LedgerService& s) { return s.Command(ctx, req, out); });
  }
  grpc::Status ReadStream(grpc::ServerContext* ctx, const v1::ReadStreamRequest* req, v1::ReadResponse* out) override {
    return call(ctx, [&](LedgerService& s) { return s.ReadStream(ctx, req, out); });
  }
  grpc::Status ReadAll(grpc::ServerContext* ctx, const v1::ReadAllRequest* req, v1::ReadResponse* out) override {
    return call(ctx, [&](LedgerService& s) { return s.ReadAll(ctx, req, out); });
  }
  grpc::Status Ack(grpc::ServerContext* ctx, const v1::AckRequest* req, v1::AckResponse* out) override {
    return call(ctx, [&](LedgerService& s) { return s.Ack(ctx, req, out); });
  }
  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* req, v1::QueryReply* out) override {
    return call(ctx, [&](LedgerService& s) { return s.Query(ctx, req, out); });
  }
  grpc::Status Forget(grpc::ServerContext* ctx, const v1::ForgetRequest* req, v1::ForgetResponse* out) override {
    return call(ctx, [&](LedgerService& s) { return s.Forget(ctx, req, out); });
  }
  grpc::Status ReadKeys(grpc::ServerContext* ctx, const v1::ReadKeysRequest* req, v1::ReadKeysResponse* out) override {
    return call(ctx, [&](LedgerService& s) { return s.ReadKeys(ctx, req, out); });
  }
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* wire) override {
    Workspaces::Lease lease;
    if (auto routed = route(ctx, &lease); !routed.ok()) return refused_subscription(routed);
    auto* service = lease->service.get();
    return service->subscribe(ctx, wire, std::move(lease));
  }

 private:
  template <class F>
  grpc::Status call(grpc::ServerContextBase* ctx, F&& f) {
    Workspaces::Lease lease;  // held until the call is answered
    if (auto routed = route(ctx, &lease); !routed.ok()) return routed;
    return f(*lease->service);
  }
  // Finds the call's workspace; checks the token against it.
  grpc::Status route(grpc::ServerContextBase* ctx, Workspaces::Lease* lease) {
    const auto& md = ctx->client_metadata();
    auto it = md.find(kWorkspaceMetadata);
    if (it == md.end())
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "this server hosts many workspaces: name one in the metadata 'leanos-workspace' (CLI: --workspace NAME)"};
    const std::string name(it->second.data(), it->second.size());
    auto opened = workspaces_.open(name);
    if (!opened) return to_grpc(opened.status());
    if (auto auth = md.find("authorization"); auth != md.end()) {
      auto checked = (*opened)->service->authorize(ctx);
      if (!checked.ok())
        return {grpc::StatusCode::PERMISSION_DENIED, "this token does not open workspace '" + name + "'"};
    }
    *lease = std::move(*opened);
    return grpc::Status::OK;
  }
  Workspaces& workspaces_;
};

struct ServeArgs {
  std::string workspaces;  // DIR of many workspaces; "" serves the data folder
  std::string relay_nats;  // relay every workspace into JetStream at this URL; "" for none
  int relay_replicas = 1;
  double close_idle = 600;  // seconds: a workspace unused that long is closed (0: never)
  std::string listen = "127.0.0.1:7700";
  std::string http;  // ADDRESS:PORT of the dashboard and JSON API; "" for none
  std::string tls_cert, tls_key;
};

int serve(const GlobalOptions& g, const ServeArgs& a) {
  // Signals are taken by sigwait on this thread; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string token;
  if (!g.token_file.empty()) {
    auto t = read_token(g.token_file);
    if (!t) return fail(t.status());
    token = *t;
  }
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  const bool tls = !a.tls_cert.empty() || !a.tls_key.empty();
  if (tls) {
    if (a.tls_cert.empty() || a.tls_key.empty()) return fail(Status::invalid("--tls-cert and --tls-key go together"));
    auto key = read_text_file(a.tls_key);
    if (!key) return fail(key.status());
    auto cert = read_text_file(a.tls_cert);
    if (!cert) return fail(cert.status());
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  // One workspace (the data folder), or every workspace under --workspaces DIR.
  StoreRef store;
  std::unique_ptr<LocalLedger> ledger;
  std::unique_ptr<LedgerService> single;
  std::unique_ptr<Workspaces> many;
  std::unique_ptr<WorkspaceRouter> router;
  std::unique_ptr<RelayThread> relay;
  grpc::Service* service = nullptr;
  store::JetStreamOptions nats;
  nats.url = a.relay_nats;
  nats.replicas = a.relay_replicas;
  if (a.workspaces.empty()) {
    auto opened = open_store(g, Access::record);
    if (!opened) return fail(opened.status());
    store = std::move(*opened);
    ledger = std::make_unique<LocalLedger>(*store, LocalLedger::Start::now);
    single = std::make_unique<LedgerService>(*ledger, token);
    service = single.get();
    if (!nats.url.empty()) {
      auto name = workspace_of(g);
      if (!name) return fail(name.status());
      nats.workspace = *name;
      relay = std::make_unique<RelayThread>(*store, nats);
    }
  } else {
    if (!g.token_file.empty())
      return fail(Status::invalid("with --workspaces each workspace has its own token (DIR/NAME.token): drop --token-file"));
    std::error_code ec;
    if (!std::filesystem::is_directory(a.workspaces, ec))
      return fail(Status::not_found("no folder " + a.workspaces + ": create a workspace in it first (leanos workspace create NAME --workspaces " +
                                    a.workspaces + ")"));
    many = std::make_unique<Workspaces>(a.workspaces, nats, std::chrono::milliseconds(std::llround(a.close_idle * 1000)));
    router = std::make_unique<WorkspaceRouter>(*many);
    service = router.get();
    if (!nats.url.empty())  // every workspace is relayed from the start, not from its first call
      for (const auto& entry : std::filesystem::directory_iterator(a.workspaces, ec))
        if (entry.is_directory() && store::check_workspace_name(entry.path().filename().string()).is_ok())
          if (auto opened = many->open(entry.path().filename().string()); !opened) return fail(opened.status());
  }
  auto stop_subscriptions = [&] {
    if (single) single->stop_subscriptions();
    if (many) many->stop_subscriptions();
  };
  // Plaintext: our own listener, which survives running out of file descriptors (see
  // tools/server/acceptor.h). TLS: gRPC's, which needs the handshake it runs itself.
  std::unique_ptr<Acceptor> acceptor;
  if (!tls) {
    auto listening = Acceptor::listen(a.listen);
    if (!listening) return fail(listening.status());
    acceptor = std::move(*listening);
  }
  // Idle connections cost a descriptor each: use them all, and close what is idle or dead.
  if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int port = 0;
    if (tls) builder.AddListeningPort(a.listen, creds, &port);
    builder.RegisterService(service);
    builder.SetMaxReceiveMessageSize(4 * 1024 * 1024);
    // gRPC sets SO_REUSEPORT by default: a second server on the same port would "listen"
    // too, and clients would alternate between two workspaces. One port, one server.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 256);            // per connection
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 5 * 60 * 1000);  // no call for 5 min: closed
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 2 * 60 * 1000);       // a half-open peer is found
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);        // within 2 min 20 s
    auto server = builder.BuildAndStart();
    if (acceptor && server) {
      acceptor->start(*server);
      port = acceptor->port();
    }
    if (!server || port == 0)
      return fail(Status::unavailable("cannot listen on " + a.listen +
                                      ": the port is in use (is another `leanos serve` running?) or that is not an "
                                      "ADDRESS:PORT; pick another with --listen or LEANOS_PORT"));
    const std::string host = a.listen.substr(0, a.listen.rfind(':'));
    std::unique_ptr<HttpApi> http;
    if (!a.http.empty()) {
      HttpWorkspaces workspaces;
      if (many)
        workspaces = [&many](const std::string& name) -> Result<HttpWorkspace> {
          auto lease = many->open(name);
          if (!lease) return lease.status();
          auto& service = *(*lease)->service;
          return HttpWorkspace{(*lease)->store.get(), (*lease)->ledger.get(), &service.feed(), service.token(), std::move(*lease)};
        };
      else
        workspaces = [&store, &ledger, &single, &token](const std::string&) -> Result<HttpWorkspace> {
          return HttpWorkspace{store.get(), ledger.get(), &single->feed(), token, nullptr};
        };
      auto started = HttpApi::start(std::move(workspaces), many != nullptr, a.http);
      if (!started) {
        stop_subscriptions();
        server->Shutdown(std::chrono::system_clock::now());
        return fail(started.status());
      }
      http = std::move(*started);
    }
    if (many)
      std::printf("listening on %s:%d (workspaces in %s, a token each)\n", host.c_str(), port, a.workspaces.c_str());
    else
      std::printf("listening on %s:%d (data %s, %s)\n", host.c_str(), port, g.data.c_str(), token.empty() ? "no token" : "token required");
    if (http) {
      std::string http_host = a.http.substr(0, a.http.rfind(':'));
      std::printf("dashboard on http://%s:%d/%s\n", http_host.c_str(), http->port(), many ? "w/NAME/" : "");
    }
    std::fflush(stdout);
    spdlog::info("serve: listening on {}:{}", host, port);
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("serve: signal {}, shutting down", sig);
    acceptor.reset();      // no new connections
    stop_subscriptions();  // subscriptions and event streams end; in-flight unary calls finish
    http.reset();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server->Wait();
  }
  if (store) std::printf("stopped at position %llu\n", static_cast<unsigned long long>(store->last_position()));
  else std::printf("stopped\n");
  return 0;
}

int create_workspace(const GlobalOptions& g, const std::string& dir, const std::string& name) {
  if (!g.server.empty()) return fail(Status::invalid("workspace create works on the server's folder, on its machine: drop --server"));
  if (auto s = store::check_workspace_name(name); !s) return fail(s);
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string data = dir + "/" + name;
  if (fs::exists(data, ec)) return fail(Status::exists("workspace '" + name + "' exists already in " + dir));
  fs::create_directories(dir, ec);
  if (ec) return fail(Status::io("cannot create " + dir + ": " + ec.message()));
  // The token: 32 random bytes, hex, readable by its owner only.
  std::ifstream random("/dev/urandom", std::ios::binary);
  unsigned char bytes[32];
  if (!random.read(reinterpret_cast<char*>(bytes), sizeof bytes)) return fail(Status::io("cannot read /dev/urandom"));
  const std::string token_file = workspace_token_file(dir, name);
  const std::string token = store::to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  if (auto s = store::write_secret_file(token_file, token + "\n", "token file"); !s) return fail(s);
  GlobalOptions target = g;
  target.data = data;
  target.master_key_file.clear();  // its own, beside its folder
  auto store = open_store(target, Access::build);
  if (!store) return fail(store.status());
  std::printf("created workspace %s in %s; its token is in %s (clients: --workspace %s --token-file %s)\n", name.c_str(), data.c_str(),
              token_file.c_str(), name.c_str(), token_file.c_str());
  return 0;
}

int list_workspaces(const GlobalOptions& g, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory() && store::check_workspace_name(entry.path().filename().string()).is_ok())
      names.push_back(entry.path().filename().string());
  if (ec) return fail(Status::not_found("no folder of workspaces at " + dir + ": " + ec.message()));
  std::sort(names.begin(), names.end());
  if (g.json) {
    std::printf("[");
    for (std::size_t i = 0; i < names.size(); ++i) std::printf("%s\"%s\"", i ? "," : "", names[i].c_str());
    std::printf("]\n");
  } else {
    for (const auto& n : names) std::printf("%s\n", n.c_str());
  }
  return 0;
}

}  // namespace

LocalServer::LocalServer(store::EventStore& store) : ledger_(std::make_unique<LocalLedger>(store, LocalLedger::Start::now)) {
  auto service = std::make_unique<LedgerService>(*ledger_, "");
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service.get());
  server_ = builder.BuildAndStart();
  service_ = std::move(service);
}

LocalServer::~LocalServer() {
  if (server_) {
    static_cast<LedgerService*>(service_.get())->stop_subscriptions();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
}

Result<std::unique_ptr<LocalServer>> LocalServer::start(store::EventStore& store) {
  std::unique_ptr<LocalServer> s(new LocalServer(store));
  if (!s->server_ || s->port_ == 0) return Status::unavailable("cannot start a server on 127.0.0.1");
  return s;
}

void add_server_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  {
    auto a = std::make_shared<ServeArgs>();
    auto* s = app.add_subcommand("serve", "run the gRPC server on the data folder");
    s->add_option("--listen", a->listen, "address:port (default 127.0.0.1:7700; port 0 picks a free one)");
    s->add_option("--tls-cert", a->tls_cert, "PEM certificate (with --tls-key): serve TLS");
    s->add_option("--tls-key", a->tls_key, "PEM private key");
    s->add_option("--http", a->http, "also serve the dashboard and the JSON API over HTTP on address:port (e.g. 127.0.0.1:7701)");
    s->add_option("--relay-nats", a->relay_nats,
                  "also relay the log (every workspace's) into NATS JetStream at URL[,URL…] while serving (see `leanos relay`)");
    s->add_option("--relay-replicas", a->relay_replicas, "replicas of a JetStream stream the relay creates (default 1)")
        ->check(CLI::Range(1, 5));
    s->add_option("--workspaces", a->workspaces,
                  "serve every workspace under DIR (made with `leanos workspace create`); calls name theirs (--workspace)");
    s->add_option("--close-idle", a->close_idle,
                  "with --workspaces: close a workspace no call, subscription or event stream used for this many seconds "
                  "(default 600; 0: never)")
        ->check(CLI::NonNegativeNumber);
    s->callback([&, a] { action = [&g, a] { return serve(g, *a); }; });
  }
  {
    auto* w = app.add_subcommand("workspace", "workspaces of a server that hosts many (serve --workspaces DIR)");
    w->require_subcommand(1);
    auto dir = std::make_shared<std::string>("workspaces");
    auto name = std::make_shared<std::string>();
    auto* create = w->add_subcommand("create", "a new workspace DIR/NAME with its own token file DIR/NAME.token (mode 0600)");
    create->add_option("name", *name, "1-64 of a-z, 0-9, '-', '_'")->required();
    create->add_option("--workspaces", *dir, "the server's folder of workspaces (default ./workspaces)");
    create->callback([&, dir, name] { action = [&g, dir, name] { return create_workspace(g, *dir, *name); }; });
    auto* list = w->add_subcommand("list", "the workspaces under DIR");
    list->add_option("--workspaces", *dir, "the server's folder of workspaces (default ./workspaces)");
    list->callback([&, dir] { action = [&g, dir] { return list_workspaces(g, *dir); }; });
  }
}

}  // namespace leanos::cli
