// The dashboard's HTTP server hardened against its clients: cpp-httplib's server with a
// bound on each client's connections and on how long a request may take to arrive, and the
// counts of what is open by client and workspace (tools/server/http.cpp serves on it).
#pragma once

#include <httplib.h>

#include <map>
#include <mutex>
#include <string>

namespace leanos::cli {

// A client holds at most this many connections at once (idle keep-alives and half-sent
// requests included): past it a connection is answered 429 and closed at once, so that slow
// or idle connections from one address (slowloris) cannot hold the pool. Reads and idle
// keep-alives time out after a few seconds.
inline constexpr int kMaxConnectionsPerClient = 24;
inline constexpr int kReadTimeoutSeconds = 3;
inline constexpr int kKeepAliveSeconds = 3;

// Counts of what is open, by client address and workspace: connections and event streams.
class Occupancy {
 public:
  // Takes a place for `key` under `limit` (and the total under `total`, when given); false
  // when full.
  bool take(const std::string& key, int limit, int total = 0) {
    std::lock_guard lock(mu_);
    if (total > 0 && all_ >= total) return false;
    int& n = by_key_[key];
    if (n >= limit) return false;
    ++n;
    ++all_;
    return true;
  }
  void give_back(const std::string& key) {
    std::lock_guard lock(mu_);
    if (auto it = by_key_.find(key); it != by_key_.end() && --it->second <= 0) by_key_.erase(it);
    --all_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> by_key_;
  int all_ = 0;
};

// The place an open stream holds, given back when it ends.
struct Held {
  Occupancy* occupancy;
  std::string key;
  ~Held() { occupancy->give_back(key); }
};

// cpp-httplib's server with a bound on each client's connections (an address may hold
// kMaxConnectionsPerClient; the next is answered 429 and closed at once) and on how long a
// request may take to arrive. Each connection is processed by cpp-httplib's own request
// handling (process_request) over a bounded stream, keep-alive as cpp-httplib does it.
class GuardedServer final : public httplib::Server {
 public:
  Occupancy connections;

 private:
  static constexpr int kKeepAliveRequests = 100;
  bool process_and_close_socket(socket_t sock) override;
};

}  // namespace leanos::cli
