// Subscribe on gRPC's callback API: a reactor per subscriber (no thread of its own), fed from
// the live feed's shared window, or by a few catch-up reader threads when it is behind.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "leanos/v1/api.grpc.pb.h"
#include "store/event_store.h"
#include "store/live_feed.h"

namespace leanos::cli {

// Reads the store for subscriptions that are behind the live window, on threads of its own:
// a catch-up read never runs on one of gRPC's callback threads nor under a subscription's
// lock, and a thousand subscribers catching up share a few threads. Each read is one page,
// bounded in bytes, so a subscriber never holds more than two pages.
class CatchUpReaders {
 public:
  explicit CatchUpReaders(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  // Runs what was queued, then joins.
  ~CatchUpReaders() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  CatchUpReaders(const CatchUpReaders&) = delete;
  CatchUpReaders& operator=(const CatchUpReaders&) = delete;

  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Starts a subscription to `req` from position `next`; `keep`: what must stay open while it
// runs (its workspace, serving many). gRPC owns the reactor returned.
grpc::ServerWriteReactor<grpc::ByteBuffer>* start_subscription(const store::EventStore& store, store::LiveFeed& feed,
                                                               CatchUpReaders& readers, const v1::SubscribeRequest& req,
                                                               std::uint64_t next, std::shared_ptr<void> keep);
// A subscription refused before it started (bad token, bad name): finishes at once.
grpc::ServerWriteReactor<grpc::ByteBuffer>* refused_subscription(const grpc::Status& status);

}  // namespace leanos::cli
