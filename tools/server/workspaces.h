// Many workspaces in one server (`leanos serve --workspaces DIR`): a map from name to the
// workspace served (its Ledger), each opened on its first call, closed when idle, relayed
// into JetStream when asked; the router that sends each call to the workspace its metadata
// names.
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
#include "tools/bridge/import_command.h"
#include "tools/server/ledger_service.h"

namespace leanos::cli {

// ---- Many workspaces in one server (serve --workspaces DIR) ----------------------------------
//
// DIR/NAME is a workspace's data folder, DIR/NAME.token its bearer token, DIR/NAME.master-key
// its master key. Every call names its workspace in the metadata `leanos-workspace`; the
// workspace is opened on its first call and served with its own Ledger, live feed and token. A name is one of check_workspace_name's (a-z, 0-9, '-', '_'),
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
    std::unique_ptr<ServedWorkspace> served;
    std::unique_ptr<RelayThread> relay;
    std::chrono::steady_clock::time_point used;  // last seen in use (guarded by Workspaces::mu_)
    ~Hosted() {  // the relay and the served state before the ledger (its runtime) before the store
      relay.reset();
      served.reset();
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
    hosted->ledger->set_importer(importer());
    hosted->served = std::make_unique<ServedWorkspace>(*hosted->ledger, *token);
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
    for (auto& [name, h] : open_) h->served->feed.stop();
  }

  // Routes each gRPC call to the workspace its metadata `leanos-workspace` names, opened on
  // first use and held until the call is answered. A token of another workspace is
  // PERMISSION_DENIED; no token where one is wanted, UNAUTHENTICATED.
  Router router() {
    return [this](grpc::ServerContextBase* ctx, Routed* routed) -> grpc::Status {
      const auto& md = ctx->client_metadata();
      auto it = md.find(kWorkspaceMetadata);
      if (it == md.end())
        return {grpc::StatusCode::INVALID_ARGUMENT,
                "this server hosts many workspaces: name one in the metadata 'leanos-workspace' (CLI: --workspace NAME)"};
      const std::string name(it->second.data(), it->second.size());
      auto opened = open(name);
      if (!opened) return to_grpc(opened.status());
      ServedWorkspace& ws = *(*opened)->served;
      if (auto checked = ws.authorize(ctx); !checked.ok())
        return md.count("authorization") ? grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "this token does not open workspace '" + name + "'")
                                         : checked;
      routed->workspace = &ws;
      routed->keep = std::move(*opened);
      return grpc::Status::OK;
    };
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

}  // namespace leanos::cli
