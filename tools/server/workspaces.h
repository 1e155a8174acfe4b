// Many workspaces in one server (`leanos serve --workspaces DIR`): each opened on its first
// call with a LedgerService of its own, closed when idle, relayed into JetStream when asked;
// a router that sends each call to the workspace its metadata names.
#pragma once

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "store/nats.h"
#include "tools/cli/cli.h"
#include "tools/server/ledger_service.h"

namespace leanos::cli {

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

// DIR/NAME.token: workspace NAME's bearer token.
std::string workspace_token_file(const std::string& dir, const std::string& name);

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

}  // namespace leanos::cli
