// The log carried past one machine by NATS JetStream (Debian's nats-server and its C client,
// libnats-dev): a workspace's events relayed into a JetStream stream, exactly once and in
// position order, and read back from it to rebuild a lost node.
//
// One JetStream stream per workspace, "LEANOS_<workspace>", holding the subjects
// "leanos.<workspace>.>". Each event is one message on
// "leanos.<workspace>.<stream-type>.<stream-id>" (a stream name's part before its first '-',
// then the rest; "_" when there is none; a '.' in a name is written "%2E" so it stays one
// token) whose data is the envelope's protobuf bytes as the store holds it: personal fields
// sealed (Envelope.sealed), never in clear. With headers:
//   Nats-Msg-Id                  the event id (JetStream's de-duplication)
//   Nats-Expected-Last-Sequence  position - 1 (from position 2): JetStream stores position p
//                                only right after p - 1, so the stream is always a dense
//                                prefix of the log and its sequence numbers are positions
//   Leanos-Position, Leanos-Stream, Leanos-Type, Leanos-Occurred-At, Leanos-Recorded-At
// Exactly once across crashes does not depend on the de-duplication window: a relay that
// starts reads the stream's last message and goes on after it; a message published twice
// (a retry inside the window) is dropped by its id, and one published again after the
// window is refused by the expected sequence.
//
// The keys that open the sealed fields go to a second stream, "LEANOS_<workspace>_KEYS"
// (subjects "leanos-keys.<workspace>.>", one message kept per subject), as the store holds
// them — wrapped under the workspace's master key, which never leaves its machine: the salt
// on "leanos-keys.<workspace>.salt", each subject's data key on
// "leanos-keys.<workspace>.s.<hex subject hash>", published before the first event sealed
// under it. When the relay passes a SubjectForgotten it first erases that subject's key
// from the stream (JetStream's secure erase: the stored message is overwritten), so every
// copy of the person in JetStream is ciphertext no key opens, as in the data folder.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "events/result.h"
#include "leanos/v1/events.pb.h"
#include "store/event_store.h"

namespace leanos::store {

// A workspace's name: 1 to 64 of a-z, 0-9, '-' and '_' (one NATS subject token, one folder
// name). The error names the offending character and what is allowed.
Status check_workspace_name(std::string_view name);
// "leanos.<workspace>.<stream-type>.<stream-id>" for an event of `stream`.
std::string nats_subject(std::string_view workspace, std::string_view stream);
// "LEANOS_<workspace>": the JetStream stream holding the workspace's log.
std::string jetstream_stream_name(std::string_view workspace);
// "LEANOS_<workspace>_KEYS": the one holding the keys of its sealed fields (workspace names
// are lower-case: no workspace's log stream has this name).
std::string jetstream_key_stream_name(std::string_view workspace);

struct JetStreamOptions {
  std::string url;        // nats://host:port; several, comma-separated, for a cluster
  std::string workspace;  // checked with check_workspace_name
  int replicas = 1;       // of a stream the relay creates (1 to 5)
  // JetStream's de-duplication window for a stream the relay creates: retries inside it are
  // dropped by event id; after it the expected sequence still refuses a second copy.
  std::chrono::seconds dedup_window{120};
  std::chrono::milliseconds timeout{5000};  // connecting, each API call, acknowledgements
};

// What the stream holds of the log: its last event's position (0: none) and id.
struct JetStreamTail {
  std::uint64_t position = 0;
  std::string event_id;
};

// One connection to JetStream for one workspace's stream.
class JetStreamLog {
 public:
  // Code::network when no server answers at the URL (the message names it).
  static Result<std::unique_ptr<JetStreamLog>> connect(const JetStreamOptions& options);
  ~JetStreamLog();
  JetStreamLog(const JetStreamLog&) = delete;
  JetStreamLog& operator=(const JetStreamLog&) = delete;

  // Creates the stream and the key stream when missing (file storage, the replicas and window
  // asked for, kept for ever); uses existing ones as they are. Refuses one that does not take
  // the workspace's subjects.
  Status ensure_stream();
  // The last event the stream holds. Refuses (Code::corruption, naming the sequence and
  // subject) a stream that is not a dense copy of a log from position 1: a foreign message,
  // a purged or truncated stream. Code::not_found when the stream does not exist.
  Result<JetStreamTail> tail();
  // Publishes `events`, which must follow the tail (or the last publish) in position order,
  // and returns once JetStream acknowledged every one. On an error some may be stored; the
  // caller reads tail() again before publishing more.
  Status publish(std::span<const v1::Envelope> events);
  // The id of the event the stream holds at `position` (= its sequence); corruption for a
  // message no relay wrote there.
  Result<std::string> event_id_at(std::uint64_t position);
  // Hands every event of the stream from position `from` to its last message (as of the
  // call; or to position `through`, waiting for those not there yet) to `f`, in order, as a
  // JetStream consumer receives them. Refuses a message that is not an event of a ledger at
  // the position its sequence says, or an event id seen before.
  Status read(std::uint64_t from, const std::function<Status(v1::Envelope&&)>& f, std::uint64_t through = 0);

  // The key stream. Publishes each record that is not what the stream holds for its subject
  // (a record it replaces — re-wrapped under a rotated master key — is erased first), and
  // returns once JetStream acknowledged them: how many it published. `keys.salt` empty: none.
  Result<std::size_t> publish_keys(const EventStore::WrappedKeys& keys);
  // Erases a subject's data key (its hash, raw) from the key stream; success when it holds none.
  Status erase_key(const std::string& hash);
  // Every record the key stream holds (none when there is no key stream: a copy relayed
  // before the relay published keys, whose events hold their personal fields opened).
  Result<EventStore::WrappedKeys> read_keys();
  // Makes sure `store` holds the data key of every subject in `needed` (hashes, raw; the
  // subjects of the sealed events a restore copied, less those forgotten): what it lacks is
  // read from the key stream again, a few times with a growing pause — a replica just elected
  // the stream's leader may answer before it holds every key — then it fails naming how many
  // are missing, rather than leave those people's fields unreadable in the restored folder.
  Status install_missing_keys(EventStore& store, const std::vector<std::string>& needed);

 private:
  struct Impl;
  explicit JetStreamLog(std::unique_ptr<Impl> impl);
  Result<EventStore::WrappedKeys> read_keys_once();
  // The record the key stream holds on `subject` (none: nothing), and erasing it.
  struct KeyRecord {
    std::string data;
    std::uint64_t seq;
  };
  Result<std::optional<KeyRecord>> last_key_record(const std::string& subject);
  Status erase_key_record(const std::string& subject, std::uint64_t seq);
  // One ordered consumer from `expected` to `last`; `expected` advances past each event handed on.
  Status read_some(std::uint64_t& expected, std::uint64_t last, std::unordered_set<std::string>& ids,
                   const std::function<Status(v1::Envelope&&)>& f);
  std::unique_ptr<Impl> impl_;
};

// Where a relay reads the log: a running server's subscription, or the data folder.
class RelaySource {
 public:
  virtual ~RelaySource() = default;
  // The id of the event at `position` (1 ≤ position ≤ the log's end); not_found past the end.
  virtual Result<std::string> event_id_at(std::uint64_t position) = 0;
  // Delivers events from `position` on, in position order, with no gap.
  virtual Status start(std::uint64_t position) = 0;
  // The next page of events (possibly none); std::nullopt once the source will deliver no
  // more (the end of the log when the relay runs once).
  virtual Result<std::optional<std::vector<v1::Envelope>>> next() = 0;
  // Records that every event up to `position` is in JetStream (the relay's checkpoint).
  virtual Status acknowledge(std::uint64_t position) = 0;
  // The keys of its sealed events, wrapped under the master key (EventStore::wrapped_keys):
  // those of `subjects` (raw hashes, as Sealed.subject), or every one after `after`.
  virtual Result<EventStore::WrappedKeys> keys(std::span<const std::string> subjects) = 0;
  virtual Result<EventStore::WrappedKeys> keys_page(const std::string& after, std::size_t limit) = 0;
};

// The log of a store opened in this process, its events sealed as stored: up to its end (then next() gives nullopt), or,
// `following`, every event appended after too, until `*stop` (checked at least every 200 ms).
// acknowledge() saves the checkpoint `name`.
class StoreSource final : public RelaySource {
 public:
  StoreSource(EventStore& store, std::string name, bool following = false, const std::atomic<bool>* stop = nullptr)
      : store_(store), name_(std::move(name)), following_(following), stop_(stop) {}
  Result<std::string> event_id_at(std::uint64_t position) override;
  Status start(std::uint64_t position) override;
  Result<std::optional<std::vector<v1::Envelope>>> next() override;
  Status acknowledge(std::uint64_t position) override;
  Result<EventStore::WrappedKeys> keys(std::span<const std::string> subjects) override { return store_.wrapped_keys(subjects); }
  Result<EventStore::WrappedKeys> keys_page(const std::string& after, std::size_t limit) override {
    return store_.wrapped_keys_page(after, limit);
  }

 private:
  EventStore& store_;
  std::string name_;
  bool following_;
  const std::atomic<bool>* stop_;
  std::uint64_t next_ = 1;
};

struct RelayOptions {
  JetStreamOptions nats;
  bool once = false;  // stop at the source's end, and after `once_attempts` failed attempts
  int once_attempts = 6;
  std::chrono::milliseconds max_backoff{5000};
  std::function<void(const std::string&)> log;   // progress, a line each
  std::function<void(const std::string&)> warn;  // retries, a line each
  const std::atomic<bool>* stop = nullptr;        // set: no more retries (a relay inside serve stopping)
};

// Relays the log into the workspace's JetStream stream until the source ends (once) or
// forever, reconnecting after network errors with a growing back-off (100 ms doubling to
// max_backoff; once, for a few attempts). Acknowledges a position to the source only after JetStream acknowledged
// every event up to it. Returns the first error that retrying cannot cure: a stream holding
// another log or a foreign message, a workspace name JetStream cannot take.
struct RelayReport {
  std::uint64_t relayed = 0;  // events published (and acknowledged) by this run
  std::uint64_t held = 0;     // the last position JetStream holds at the end
};
Result<RelayReport> relay(RelaySource& source, const RelayOptions& options);

// Restores a workspace's log from its JetStream copy into `store`: an empty store, or one
// opened from a backup of the same log (JetStream must hold the backup's last event at its
// position: conflict naming both ids otherwise, invalid when the backup is ahead). The keys
// come first (they open only under the store's master key), then every event from the
// store's end to the stream's tail — the tail asked again until it stays, since a replica
// just elected leader may answer before it applied every message — then every sealed
// event's key not forgotten; the store is verified at the end (corruption naming each
// problem). Returns the position the store started from (0, or the backup's end).
struct RestoreReport {
  std::uint64_t from = 0;      // the store's end before: 0, or where the backup ended
  std::uint64_t restored = 0;  // events copied
};
Result<RestoreReport> restore(JetStreamLog& log, EventStore& store);

}  // namespace leanos::store
