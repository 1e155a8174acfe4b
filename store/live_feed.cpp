#include "store/live_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace leanos::store {

LiveFeed::LiveFeed(const EventStore& store, std::size_t capacity, std::size_t capacity_bytes)
    : store_(store), capacity_(std::max<std::size_t>(capacity, 1)), capacity_bytes_(capacity_bytes), first_(store.last_position() + 1), end_(first_ - 1) {
  reader_ = std::thread([this] { run(); });
}

LiveFeed::~LiveFeed() { stop(); }

void LiveFeed::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  idle_cv_.notify_one();
  if (reader_.joinable()) reader_.join();
  wake_waiters();
}

void LiveFeed::wake_waiters() {
  std::lock_guard waking(wake_mu_);
  std::vector<Waiter*> waiters;
  {
    std::lock_guard lock(mu_);
    waiters.swap(waiters_);
  }
  for (auto* w : waiters) w->wake();
}

void LiveFeed::forget(Waiter* waiter) {
  std::lock_guard waking(wake_mu_);
  std::lock_guard lock(mu_);
  std::erase(waiters_, waiter);
  std::erase(subscribers_, waiter);
}

std::uint64_t LiveFeed::first() const {
  std::lock_guard lock(mu_);
  return first_;
}

void LiveFeed::run() {
  std::uint64_t end = end_;  // only this thread moves end_
  for (;;) {
    bool resumed = false;
    {
      std::unique_lock lock(mu_);
      if (subscribers_.empty() && !stopping_) {
        // No subscriber: the feed neither reads nor wakes at each commit (a server nobody
        // subscribes to pays nothing per append). The window is let go — an erasure it would
        // not see may come meanwhile — and the first subscriber to come starts it again at
        // the log's end then; older positions are `behind`, read from the store.
        window_.clear();
        bytes_ = 0;
        first_ = end_ + 1;
        idle_cv_.wait(lock, [&] { return stopping_ || !subscribers_.empty(); });
        resumed = store_.last_position() > end_;
        end = end_ = store_.last_position();
        first_ = end + 1;
      }
      if (stopping_) return;
    }
    if (resumed) wake_waiters();  // who found nothing before the jump reads the store up to it
    const std::uint64_t last = store_.wait_beyond(end, std::chrono::milliseconds(100));
    while (end < last) {
      auto page = store_.read_all(end + 1, std::min<std::uint64_t>(last - end, 4096));
      if (!page || page->empty() || page->front().position() != end + 1) {
        // The store said the events exist: a failed read is the store's problem to report;
        // subscribers fall back to reading it themselves.
        spdlog::error("live feed: cannot read from position {}: {}", end + 1,
                      page ? "a gap in positions" : page.status().to_string());
        break;
      }
      std::vector<std::pair<Event, std::size_t>> events;
      events.reserve(page->size());
      for (auto& e : *page) {
        const std::size_t size = e.ByteSizeLong();
        events.emplace_back(std::make_shared<const Envelope>(std::move(e)), size);
      }
      {
        std::lock_guard lock(mu_);
        for (auto& e : events) {
          // The events before an erasure may hold the forgotten subject's fields as they
          // were read: subscribers behind it read them again from the store, erased.
          if (e.first->payload_case() == Envelope::kSubjectForgotten) {
            window_.clear();
            bytes_ = 0;
            first_ = e.first->position();
          }
          bytes_ += e.second;
          window_.push_back(std::move(e));
        }
        end = end_ = window_.back().first->position();
        while (window_.size() > 1 && (window_.size() > capacity_ || bytes_ > capacity_bytes_)) {
          bytes_ -= window_.front().second;
          window_.pop_front();
          ++first_;
        }
      }
      wake_waiters();
    }
    if (end < last) {  // the read failed: drop the window so that everyone reads the store
      std::lock_guard lock(mu_);
      window_.clear();
      bytes_ = 0;
      first_ = end_ = end = last;
      ++first_;
    }
  }
}

LiveFeed::Took LiveFeed::take(std::uint64_t next, std::size_t max, std::vector<Event>& out, Waiter* waiter) {
  std::lock_guard lock(mu_);
  if (stopping_) return Took::stopped;
  const bool idle = subscribers_.empty();  // the reader sleeps: end_ may be behind the log
  if (waiter != nullptr && std::find(subscribers_.begin(), subscribers_.end(), waiter) == subscribers_.end()) {
    subscribers_.push_back(waiter);
    if (subscribers_.size() == 1) idle_cv_.notify_one();
  }
  if (next < first_) return Took::behind;
  if (next > end_) {
    if (idle && store_.last_position() >= next) return Took::behind;
    if (waiter != nullptr && std::find(waiters_.begin(), waiters_.end(), waiter) == waiters_.end()) waiters_.push_back(waiter);
    return Took::nothing;
  }
  const std::uint64_t last = std::min<std::uint64_t>(end_, next + max - 1);
  for (auto p = next; p <= last; ++p) out.push_back(window_[p - first_].first);
  return Took::events;
}

}  // namespace leanos::store
