#include "actors/runtime.h"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <list>
#include <unordered_map>

#include "actors/ledger_reader.h"
#include "events/ids.h"
#include "actors/process_managers.h"

namespace leanos {

// Local-only messages: they never cross a process boundary.
struct CommandMsg {
  std::vector<Envelope> commands;  // of one stream; usually one
};
struct ReplyMsg {
  std::shared_ptr<Result<Handled>> result;
};
struct DerivedMsg {
  std::vector<Derived> derived;
};

}  // namespace leanos

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(leanos::CommandMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(leanos::ReplyMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(leanos::DerivedMsg)

namespace leanos {

namespace {

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using derived_atom = caf::atom_constant<caf::atom("derived")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using settle_atom = caf::atom_constant<caf::atom("settle")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using route_atom = caf::atom_constant<caf::atom("route")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;

// The actors' protocols: a message an actor does not understand is a compile error.

// One per stream: decides and appends its commands, appends what the process managers derived
// for it (replying with the last position), stops when the router evicts it or it idles.
using stream_actor_type = caf::typed_actor<caf::replies_to<submit_atom, CommandMsg>::with<ReplyMsg>,
                                           caf::replies_to<derived_atom, DerivedMsg>::with<std::uint64_t>,
                                           caf::reacts_to<stop_atom>>;
// The process managers: told of every commit, asked to settle up to a position.
using manager_actor_type = caf::typed_actor<caf::reacts_to<publish_atom, std::uint64_t>,
                                            caf::replies_to<settle_atom, std::uint64_t>::with<std::uint64_t>>;
// Fans committed positions out to the process managers.
using bus_actor_type = caf::typed_actor<caf::reacts_to<join_atom, manager_actor_type>,
                                        caf::reacts_to<publish_atom, std::uint64_t>>;
// Routes a command, or a stream's derived events, to the stream's actor.
using router_actor_type = caf::typed_actor<caf::replies_to<submit_atom, CommandMsg>::with<ReplyMsg>,
                                           caf::replies_to<route_atom, std::string, DerivedMsg>::with<std::uint64_t>,
                                           caf::replies_to<stats_atom>::with<std::size_t, std::size_t>>;

// ---- stream actor ------------------------------------------------------------------------

struct StreamState {
  std::unique_ptr<CommandHandler> handler;
  bus_actor_type bus;
};

stream_actor_type::behavior_type stream_actor(stream_actor_type::stateful_pointer<StreamState> self, store::EventStore* store,
                                              bus_actor_type bus, std::chrono::milliseconds idle,
                                              std::shared_ptr<FactsCache> facts) {
  self->state.handler = std::make_unique<CommandHandler>(*store, std::move(facts));
  self->state.bus = bus;
  return {
      [=](submit_atom, const CommandMsg& msg) {
        auto r = std::make_shared<Result<Handled>>(self->state.handler->handle_batch(msg.commands));
        if (r->is_ok() && !(*r)->idempotent_retry)
          self->send(self->state.bus, publish_atom::value, (*r)->events.back().position());
        return ReplyMsg{r};
      },
      // Derived events the process managers computed for this actor's stream.
      [=](derived_atom, const DerivedMsg& msg) {
        std::uint64_t last = 0;
        for (const auto& d : msg.derived) {
          auto r = store->append(d.stream, store::ExpectedVersion::any(), {d.event});
          if (!r) {
            spdlog::error("actor {}: derived event {} not appended: {}", d.stream, d.event.event_id(),
                          r.status().to_string());
            return last;
          }
          last = std::max(last, r->positions.back());
        }
        return last;
      },
      [=](stop_atom) { self->quit(); },  // evicted by the router: a normal exit
      caf::after(idle) >> [=] { self->quit(); },
  };
}

// ---- bus -----------------------------------------------------------------------------------

struct BusState {
  std::vector<manager_actor_type> subscribers;
};

bus_actor_type::behavior_type bus_actor(bus_actor_type::stateful_pointer<BusState> self) {
  return {
      [=](join_atom, manager_actor_type who) { self->state.subscribers.push_back(who); },
      [=](publish_atom, std::uint64_t position) {
        for (auto& s : self->state.subscribers) self->send(s, publish_atom::value, position);
      },
  };
}

// ---- router -----------------------------------------------------------------------------------

struct RouterState {
  std::unordered_map<std::string, std::pair<stream_actor_type, std::list<std::string>::iterator>> live;
  std::unordered_map<caf::actor_addr, std::string> names;
  std::list<std::string> lru;  // most recent first
  std::size_t spawned = 0;
};

router_actor_type::behavior_type router_actor(router_actor_type::stateful_pointer<RouterState> self, store::EventStore* store,
                                              bus_actor_type bus, RuntimeOptions options) {
  auto facts = std::make_shared<FactsCache>();  // one for every stream actor of this runtime
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.names.find(dm.source);
    if (it == st.names.end()) return;
    auto live = st.live.find(it->second);
    if (live != st.live.end() && live->second.first.address() == dm.source) {
      st.lru.erase(live->second.second);
      st.live.erase(live);
    }
    st.names.erase(it);
  });
  auto actor_for = [=](const std::string& stream) -> stream_actor_type {
    auto& st = self->state;
    if (auto it = st.live.find(stream); it != st.live.end()) {
      st.lru.splice(st.lru.begin(), st.lru, it->second.second);
      return it->second.first;
    }
    // Linked: when the router shuts down, so do its stream actors. Their normal exits (idle,
    // eviction) do not take the router down; the monitor tells it to forget them.
    auto a = self->spawn<caf::linked>(stream_actor, store, bus, options.idle, facts);
    self->monitor(a);
    st.lru.push_front(stream);
    st.live.emplace(stream, std::make_pair(a, st.lru.begin()));
    st.names.emplace(a.address(), stream);
    ++st.spawned;
    while (st.live.size() > options.max_live) {  // stop the least recently used
      const std::string victim = st.lru.back();
      auto v = st.live.find(victim);
      self->send(v->second.first, stop_atom::value);
      st.lru.pop_back();
      st.live.erase(v);
    }
    return a;
  };
  return {
      // REQUIRES: the command names a valid stream (Runtime::submit checks).
      [=](submit_atom, const CommandMsg& msg) {
        return self->delegate(actor_for(stream_of_command(msg.commands.front())), submit_atom::value, msg);
      },
      [=](route_atom, const std::string& stream, const DerivedMsg& msg) {
        return self->delegate(actor_for(stream), derived_atom::value, msg);
      },
      [=](stats_atom) { return std::make_tuple(self->state.live.size(), self->state.spawned); },
  };
}

// ---- process managers ---------------------------------------------------------------------------

// A blocking actor on a thread of our own (a server's, a command's). CAF 0.17's scoped_actor
// leaves its thread holding the actor system's logger (a thread-local), and ~actor_system
// waits until no thread holds it: a server thread that ever asked a runtime would keep that
// runtime — a workspace a server closes when idle — from ever shutting down. This lets go
// of it once the actor is gone.
struct CallerActor {
  explicit CallerActor(caf::actor_system& sys) : self(sys) {}
  struct Release {
    ~Release() { caf::logger::set_current_actor_system(nullptr); }
  } release;  // destroyed after `self`
  caf::scoped_actor self;
};

struct ManagerState {
  v1::LedgerView view;
  bool loaded = false;
};

// Follows the log from where it stands (follow_log: in business-time order, a backdated fact
// derived at its own date) and has every derived event appended by the owner of its stream
// before it folds on. Deterministic whatever the interleaving: a derivation reads only the
// facts recorded up to its cause.
//
// `start` is the log's end when the runtime started: what came before was handled when it
// happened (`leanos replay --process-managers` repairs a log written by a crashed run);
// everything after it is this runtime's to handle.
manager_actor_type::behavior_type process_manager_actor(manager_actor_type::stateful_pointer<ManagerState> self,
                                                       store::EventStore* store, router_actor_type router, std::uint64_t start) {
  auto catch_up = [=]() -> Status {
    auto& st = self->state;
    if (!st.loaded) {
      auto r = read_ledger(*store, AsOf{.position = start});
      if (!r) return r.status();
      st.view = std::move(r->view);
      st.loaded = true;
    }
    auto owner_appends = [&](const std::string& stream, std::vector<Derived> derived) -> Status {
      // The owner appends; we wait for it so the next cause sees a settled log.
      CallerActor blocking{self->system()};
      Status failed;
      blocking.self->request(router, caf::infinite, route_atom::value, stream, DerivedMsg{std::move(derived)})
          .receive([](std::uint64_t) {}, [&](caf::error& err) { failed = Status::io(self->system().render(err)); });
      return failed;
    };
    auto r = follow_log(*store, st.view, owner_appends);
    return r ? Status::success() : r.status();
  };
  return {
      [=](publish_atom, std::uint64_t) {
        if (auto s = catch_up(); !s) spdlog::error("process managers: {}", s.to_string());
      },
      [=](settle_atom, std::uint64_t) -> std::uint64_t {
        if (auto s = catch_up(); !s) spdlog::error("process managers: {}", s.to_string());
        return self->state.view.position();
      },
  };
}

}  // namespace

struct Runtime::Impl {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  bus_actor_type bus;
  router_actor_type router;
  manager_actor_type managers;
  store::EventStore& store;
  explicit Impl(store::EventStore& s) : store(s) {}
};

Runtime::Runtime(store::EventStore& store, RuntimeOptions options) : impl_(std::make_unique<Impl>(store)) {
  impl_->config.set("scheduler.policy", caf::atom("sharing"));
  impl_->config.set("scheduler.max-threads", options.threads);
  impl_->config.set("logger.console", caf::atom("none"));
  impl_->system = std::make_unique<caf::actor_system>(impl_->config);
  auto& sys = *impl_->system;
  impl_->bus = sys.spawn(bus_actor);
  impl_->router = sys.spawn(router_actor, &store, impl_->bus, options);
  impl_->managers = sys.spawn<caf::detached>(process_manager_actor, &store, impl_->router, store.last_position());
  caf::anon_send(impl_->bus, join_atom::value, impl_->managers);
  caf::anon_send(impl_->managers, settle_atom::value, std::uint64_t{0});  // load the ledger
  caf::logger::set_current_actor_system(nullptr);  // the system set it on this thread: see CallerActor
}

Runtime::~Runtime() {
  caf::anon_send_exit(impl_->managers, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->router, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->bus, caf::exit_reason::user_shutdown);
  impl_->system->await_all_actors_done();
}

Result<Handled> Runtime::submit(const Envelope& command) { return submit_batch({command}); }

Result<Handled> Runtime::submit_batch(std::vector<Envelope> commands) {
  if (commands.empty()) return Status::invalid("an empty batch records nothing; give at least one command");
  const std::string stream = stream_of_command(commands.front());
  if (stream.empty()) return Status::invalid("'" + commands.front().type() + "' is not a command");
  if (auto s = check_stream_name(stream); !s) return s;
  CallerActor caller{*impl_->system};
  std::shared_ptr<Result<Handled>> out;
  Status failed;
  caller.self->request(impl_->router, caf::infinite, submit_atom::value, CommandMsg{std::move(commands)})
      .receive([&](const ReplyMsg& r) { out = r.result; },
               [&](caf::error& err) { failed = Status::unavailable("actor runtime: " + impl_->system->render(err)); });
  if (!failed) return failed;
  return *out;
}

Status Runtime::settle(std::uint64_t position) {
  CallerActor caller{*impl_->system};
  Status failed;
  std::uint64_t reached = 0;
  caller.self->request(impl_->managers, caf::infinite, settle_atom::value, position)
      .receive([&](std::uint64_t p) { reached = p; },
               [&](caf::error& err) { failed = Status::unavailable("process managers: " + impl_->system->render(err)); });
  if (!failed) return failed;
  if (reached < position)
    return Status::io("process managers stopped at position " + std::to_string(reached) + " before " + std::to_string(position));
  return Status::success();
}

RuntimeStats Runtime::stats() {
  CallerActor caller{*impl_->system};
  RuntimeStats out;
  caller.self->request(impl_->router, caf::infinite, stats_atom::value)
      .receive([&](std::size_t live, std::size_t spawned) { out = {live, spawned}; },
               [&](caf::error&) {});
  return out;
}

}  // namespace leanos
