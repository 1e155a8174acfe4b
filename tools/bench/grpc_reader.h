// A benchmark subscriber over gRPC, shared by `bench subscribe` and `bench http`.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "leanos/v1/api.grpc.pb.h"

namespace leanos::cli {

// One benchmark subscriber on gRPC's callback API, so that 100 of them need no 100 threads
// on the same two cores as the server: records each event's position and time of receipt.
class BenchReader final : public grpc::ClientReadReactor<v1::SubscribePage> {
 public:
  using Clock = std::chrono::steady_clock;
  // Reads from `start` + 1 until `total` events of `stream` ("" = all) have arrived.
  BenchReader(v1::Ledger::Stub& stub, std::uint64_t start, std::uint64_t total, const std::string& stream)
      : start_(start), total_(total) {
    req_.set_from_position(start + 1);
    req_.set_stream(stream);
    received_.reserve(total);
    stub.async()->Subscribe(&ctx_, &req_, this);
    StartRead(&page_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    const auto at = Clock::now();
    for (const auto& e : page_.events()) received_.emplace_back(e.position() - start_, at);
    if (received_.size() >= total_) ctx_.TryCancel();
    else StartRead(&page_);
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  // The (position - start, received at) pairs, once the call is over.
  const std::vector<std::pair<std::uint64_t, Clock::time_point>>& wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return received_;
  }

 private:
  const std::uint64_t start_, total_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest req_;
  v1::SubscribePage page_;
  std::vector<std::pair<std::uint64_t, Clock::time_point>> received_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace leanos::cli
