// The relay (store/nats.h): a log, read from a RelaySource, into its JetStream copy with the
// keys of its sealed events, retrying what a network can cure. The JetStream client itself
// is nats.cpp; a restore from the copy, restore.cpp.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>

#include "events/time.h"
#include "store/nats.h"
#include "store/personal.h"

namespace leanos::store {

Result<std::string> StoreSource::event_id_at(std::uint64_t position) {
  if (position > store_.last_position()) return Status::not_found("position " + std::to_string(position));
  auto e = store_.read_event(position, Personal::leave_sealed);
  if (!e) return e.status();
  return e->event_id();
}

Status StoreSource::start(std::uint64_t position) {
  next_ = position;
  return Status::success();
}

Result<std::optional<std::vector<v1::Envelope>>> StoreSource::next() {
  auto page = store_.read_all(next_, 4096, 16 << 20, Personal::leave_sealed);
  while (page && page->empty() && following_ && !(stop_ && stop_->load())) {
    store_.wait_beyond(next_ - 1, std::chrono::milliseconds(200));
    page = store_.read_all(next_, 4096, 16 << 20, Personal::leave_sealed);
  }
  if (!page) return page.status();
  if (page->empty()) return std::optional<std::vector<v1::Envelope>>();
  next_ = page->back().position() + 1;
  return std::optional(std::move(*page));
}

Status StoreSource::acknowledge(std::uint64_t position) { return store_.save_checkpoint(name_, position); }

namespace {

bool curable(const Status& s) { return s.code() == Code::network || s.code() == Code::io_error || s.code() == Code::unavailable; }

// What the key stream holds, as far as this relay knows: the salt's record and each
// subject's (raw hash -> record). Read from the stream at each session's start (heal_keys).
struct KeysHeld {
  std::string salt;
  std::unordered_map<std::string, std::string> subjects;
};

// At a session's start: the salt. When the key stream held none, or another wrapping of it
// (the master key was rotated: every data key is re-wrapped too), every data key is
// published as well, so that none stays there wrapped under a key that no longer opens it.
Status relay_salt(JetStreamLog& log, RelaySource& source, KeysHeld& held) {
  auto keys = source.keys({});
  if (!keys) return keys.status();
  if (keys->salt.empty() || keys->salt == held.salt) return Status::success();
  auto published = log.publish_keys(*keys);
  if (!published) return published.status();
  held.salt = keys->salt;
  if (*published == 0) return Status::success();
  held.subjects.clear();
  for (std::string after;;) {
    auto page = source.keys_page(after, 1024);
    if (!page) return page.status();
    if (page->subjects.empty()) return Status::success();
    page->salt.clear();
    if (auto s = log.publish_keys(*page); !s) return s.status();
    after = page->subjects.back().first;
    for (auto& [hash, value] : page->subjects) held.subjects[hash] = std::move(value);
  }
}

// At a session's start: what the key stream holds is read whole, never taken from what an
// earlier session published — JetStream 2.9 acknowledges before it syncs, so a power cut of
// the NATS machine can take back keys it acknowledged — and every key of the log's it lacks
// (or holds wrapped otherwise) is published again, before any event. A copy whose key
// stream lost keys heals at the relay's next session instead of failing its restore.
Status heal_keys(JetStreamLog& log, RelaySource& source, KeysHeld& held) {
  auto stored = log.read_keys();
  if (!stored) return stored.status();
  held.salt = std::move(stored->salt);
  held.subjects.clear();
  for (auto& [hash, record] : stored->subjects) held.subjects[hash] = std::move(record);
  if (auto s = relay_salt(log, source, held); !s) return s;
  for (std::string after;;) {
    auto page = source.keys_page(after, 1024);
    if (!page) return page.status();
    if (page->subjects.empty()) return Status::success();
    after = page->subjects.back().first;
    page->salt.clear();
    std::erase_if(page->subjects, [&](const auto& k) {
      auto it = held.subjects.find(k.first);
      return it != held.subjects.end() && it->second == k.second;
    });
    if (page->subjects.empty()) continue;
    if (auto s = log.publish_keys(*page); !s) return s.status();
    for (auto& [hash, value] : page->subjects) held.subjects[hash] = std::move(value);
  }
}

// Before `events` are published: the keys they are sealed under, unless the stream holds them.
Status relay_keys(JetStreamLog& log, RelaySource& source, std::span<const v1::Envelope> events, KeysHeld& held) {
  std::vector<std::string> wanted;
  std::unordered_set<std::string> asked;
  for (const auto& e : events) {
    if (!e.has_sealed()) continue;
    const auto& hash = e.sealed().subject();
    auto it = held.subjects.find(hash);
    if (it != held.subjects.end() && it->second.compare(0, 8, e.sealed().key()) == 0) continue;
    if (asked.insert(hash).second) wanted.push_back(hash);
  }
  if (wanted.empty()) return Status::success();
  auto keys = source.keys(wanted);  // a subject forgotten since has none: its events stay sealed for good
  if (!keys) return keys.status();
  keys->salt.clear();
  std::erase_if(keys->subjects, [&](const auto& k) {
    auto it = held.subjects.find(k.first);
    return it != held.subjects.end() && it->second == k.second;
  });
  if (keys->subjects.empty()) return Status::success();
  if (auto s = log.publish_keys(*keys); !s) return s.status();
  for (auto& [hash, value] : keys->subjects) held.subjects[hash] = std::move(value);
  return Status::success();
}

// Connects, finds where JetStream's copy ends, checks it is a copy of this log, and relays
// until the source ends or something fails.
Status relay_session(RelaySource& source, const RelayOptions& o, bool& progressed, RelayReport& report, KeysHeld& held) {
  auto log = JetStreamLog::connect(o.nats);
  if (!log) return log.status();
  if (auto s = (*log)->ensure_stream(); !s) return s;
  auto t = (*log)->tail();
  if (!t) return t.status();
  if (t->position > 0) {
    auto id = source.event_id_at(t->position);
    if (!id && id.status().code() == Code::not_found)
      return Status::conflict("JetStream stream " + jetstream_stream_name(o.nats.workspace) + " holds " + std::to_string(t->position) +
                              " events, more than this log: it copies another log; relay under another workspace name");
    if (!id) return id.status();
    if (*id != t->event_id)
      return Status::conflict("JetStream stream " + jetstream_stream_name(o.nats.workspace) + " holds event " + t->event_id +
                              " at position " + std::to_string(t->position) + " where this log has " + *id +
                              ": it copies another log; relay under another workspace name");
  }
  if (o.log && !o.once)
    o.log("relay: JetStream stream " + jetstream_stream_name(o.nats.workspace) + " holds up to position " + std::to_string(t->position));
  report.held = t->position;
  if (auto s = heal_keys(**log, source, held); !s) return s;
  if (auto s = source.start(t->position + 1); !s) return s;
  for (;;) {
    auto page = source.next();
    if (!page) return page.status();
    if (!*page) return Status::success();
    // In slices, each acknowledged before the next: a large catch-up page neither fills the
    // client's window of unacknowledged publishes nor waits for one acknowledgement at its end.
    // A slice ends before a SubjectForgotten; one that starts with it first erases the key.
    constexpr std::size_t kSlice = 4096;
    const auto& events = **page;
    for (std::size_t i = 0, end = 0; i < events.size(); i = end) {
      if (events[i].has_subject_forgotten()) {
        auto hash = subject_hash_from_hex(events[i].subject_forgotten().subject_hash());
        if (!hash)
          return Status::corruption("event " + events[i].event_id() + " forgets '" + events[i].subject_forgotten().subject_hash() +
                                    "', which is no subject hash");
        if (auto s = (*log)->erase_key(*hash); !s) return s;
        held.subjects.erase(*hash);
      }
      end = i + 1;
      while (end < events.size() && end - i < kSlice && !events[end].has_subject_forgotten()) ++end;
      const auto slice = std::span(events).subspan(i, end - i);
      if (auto s = relay_keys(**log, source, slice, held); !s) return s;
      if (auto s = (*log)->publish(slice); !s) return s;
      if (auto s = source.acknowledge(slice.back().position()); !s) return s;
      report.relayed += slice.size();
      progressed = true;
    }
  }
}

}  // namespace

Result<RelayReport> relay(RelaySource& source, const RelayOptions& o) {
  auto backoff = std::chrono::milliseconds(100);
  RelayReport total;
  KeysHeld held;
  for (int attempt = 1;; ++attempt) {
    bool progressed = false;
    RelayReport session;
    auto s = relay_session(source, o, progressed, session, held);
    total.relayed += session.relayed;
    total.held = session.held + session.relayed;
    if (s.is_ok()) return total;
    // A second copy refused by the expected sequence is cured by reading the tail again.
    // Once, a few attempts ride out what is over in seconds (a stream electing its leader
    // answers "no responders"), then the error is the answer.
    if (!(curable(s) || (s.code() == Code::conflict && progressed))) return s;
    if (o.once && attempt >= o.once_attempts) return s;
    if (progressed) backoff = std::chrono::milliseconds(100);
    if (o.warn) o.warn("relay: " + s.message() + "; retrying in " + std::to_string(backoff.count()) + " ms");
    for (auto slept = std::chrono::milliseconds(0); slept < backoff; slept += std::chrono::milliseconds(50)) {
      if (o.stop && o.stop->load()) return total;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff = std::min(backoff * 2, o.max_backoff);
  }
}

}  // namespace leanos::store
