// The log's tail, read once for every live subscriber.
//
// After each group commit one reader thread reads the new events and keeps the newest of
// them in memory, shared: at most `capacity` events and `capacity_bytes` of them. N subscribers at the tail then cost one store read
// per commit instead of N. A subscriber older than the window is told so (`behind`) and
// reads the store itself until it catches up: a slow subscriber costs only its own reads,
// never the appenders' time or the other subscribers'. With no subscriber (no waiter given
// to take() and not forgotten) it neither reads nor wakes at a commit; the first to come
// starts it again at the log's end.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "store/event_store.h"

namespace leanos::store {

class LiveFeed {
 public:
  using Event = std::shared_ptr<const Envelope>;
  enum class Took { events, behind, nothing, stopped };

  // Something to wake when the events it waits for arrive (a subscription). wake() runs on
  // the feed's thread and must not block.
  class Waiter {
   public:
    virtual void wake() = 0;

   protected:
    ~Waiter() = default;
  };

  // Starts at the end of the log as it is now.
  explicit LiveFeed(const EventStore& store, std::size_t capacity = 65536, std::size_t capacity_bytes = 32 << 20);
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // Appends to `out` the held events from position `next` on, at most `max`; never blocks.
  // A `waiter` given is a subscriber until forget(waiter): the feed reads while it has one.
  // `behind`: `next` is older than the window (read the store). `nothing`: no event from
  // `next` yet, and `waiter`, if given, will be woken once when there is (or at stop()).
  Took take(std::uint64_t next, std::size_t max, std::vector<Event>& out, Waiter* waiter = nullptr);
  // After it returns, `waiter` is not being woken and will not be.
  void forget(Waiter* waiter);

  // The first position the window holds (the end of the log + 1 while it is empty).
  std::uint64_t first() const;

  // Ends the reader thread; every later take() says `stopped`, and the waiters are woken.
  void stop();

 private:
  void run();
  void wake_waiters();

  const EventStore& store_;
  const std::size_t capacity_;
  const std::size_t capacity_bytes_;
  std::size_t bytes_ = 0;  // the window's events, encoded
  std::mutex wake_mu_;  // held while waking: forget() waits for a wake in progress
  mutable std::mutex mu_;
  std::vector<Waiter*> waiters_;
  std::vector<Waiter*> subscribers_;  // every waiter given to take() and not yet forgotten
  std::condition_variable idle_cv_;   // the reader, with no subscriber, waits here for the first
  std::deque<std::pair<Event, std::size_t>> window_;  // positions first_ .. end_, dense; with sizes
  std::uint64_t first_;
  std::uint64_t end_;
  bool stopping_ = false;
  std::thread reader_;
};

}  // namespace leanos::store
