// The actor runtime (CAF 0.17): every domain command goes through it.
//
//   router            one per runtime; owns a map stream -> actor (the actor registry is
//                     no key directory). Spawns an actor on a stream's first command, forgets
//                     it when it stops. Stream actors stop after `idle` without a message, and
//                     the router stops the least recently used one when more than `max_live`
//                     are alive, so 10 000 deals opened in a burst never mean 10 000 actors.
//   stream actors     one per deal / campaign / goal thread, the canvas, marketing and the
//                     workspace: the only writer of their stream. They apply the rules
//                     (events/rules.h) through CommandHandler and append with the stream's
//                     exact expected version.
//   bus               fans committed positions out to subscribers.
//   process managers  fold the log in position order and append what outcomes and learnings
//                     cause (actors/process_managers.h) through the canvas, goal and
//                     marketing actors, the owners of those streams.
//
// Each actor has a typed protocol (caf::typed_actor in runtime.cpp): a message it does not
// understand is a compile error.
//
// The store's group-committing writer thread (store/) sits underneath: a stream actor
// blocks on its append (one fsync, shared with the group), never on another actor.
#pragma once

#include <chrono>
#include <memory>

#include "actors/commands.h"

namespace leanos {

struct RuntimeOptions {
  // A stream actor with no message for this long stops (its state is in the log).
  std::chrono::milliseconds idle{30'000};
  // The most stream actors alive at once; beyond it the least recently used one stops.
  std::size_t max_live = 1024;
  // CAF scheduler threads (the machine has 2 cores).
  std::size_t threads = 2;
};

struct RuntimeStats {
  std::size_t live_actors = 0;   // stream actors alive now
  std::size_t spawned = 0;       // stream actors spawned since start
};

class Runtime {
 public:
  Runtime(store::EventStore& store, RuntimeOptions options = {});
  ~Runtime();  // stops every actor, then the actor system
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Routes the command to the actor that owns its stream; returns what it recorded, or why
  // not. Blocks the caller (not an actor) until the answer.
  Result<Handled> submit(const Envelope& command);
  // Commands of one campaign, decided by its actor and appended together (CommandHandler::
  // handle_batch): all or none.
  Result<Handled> submit_batch(std::vector<Envelope> commands);
  // Waits until the process managers have folded and acted on every event up to `position`.
  Status settle(std::uint64_t position);
  RuntimeStats stats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leanos
