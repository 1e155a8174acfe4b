// EventStore: the append-only log of LeanOS Ledger, on RocksDB.
//
// Contract:
// - append(stream, expected, events) is atomic: all events are stored, or none.
// - Positions are dense from 1 across the whole log; versions are dense from 1 per stream.
// - An append whose event ids are all stored already returns their original positions and
//   writes nothing (idempotent retry). The same id with other content is an error.
// - One writer thread owns the database and group-commits concurrent appends: one
//   WriteBatch and one WAL write (synced, by default) per group. append() returns only
//   after that write, so an acknowledged append survives kill -9.
// - Reads see whole appends only (each append is one WriteBatch; reads use a snapshot).
// - After a write fails (a full disk, an I/O error) every write fails with Code::read_only,
//   naming the cause, until RocksDB can resume (tried on each write: once the disk has room
//   again, writes go on). Reads are never stopped.
// - Never throws. Every fallible call returns a Status or a Result.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "events/result.h"
#include "events/time.h"
#include "leanos/v1/events.pb.h"

namespace rocksdb {
class Env;
}

namespace leanos::store {

using v1::Envelope;

struct ExpectedVersion {
  enum class Kind { any, no_stream, exists, exact };
  Kind kind = Kind::any;
  std::uint64_t version = 0;  // only for exact

  static ExpectedVersion any() { return {}; }
  static ExpectedVersion no_stream() { return {Kind::no_stream, 0}; }
  static ExpectedVersion exists() { return {Kind::exists, 0}; }
  static ExpectedVersion exact(std::uint64_t v) { return {Kind::exact, v}; }
  // "any", "no_stream" (or "no-stream"), "exists", or a number.
  static Result<ExpectedVersion> parse(std::string_view text);
  std::string to_string() const;
};

enum class Durability {
  // fsync the WAL once per group commit: an acknowledged append survives kill -9 and power loss.
  sync,
  // no fsync: survives kill -9 of the process (the OS holds the WAL), not a power loss.
  relaxed,
};

struct StoreOptions {
  Durability durability = Durability::sync;
  // The most appends one group commit takes from the queue. Larger groups amortise the
  // fsync over more appends; smaller ones bound the latency of the first in the group.
  std::size_t max_group = 512;
  // How long the writer waits for the appenders of the previous group to come back before
  // committing a smaller group (Postgres' commit_delay with commit_siblings). Trades up to
  // this much latency for fewer fsyncs under concurrency; a lone appender never waits.
  int group_wait_micros = 100;
  // Create the workspace when the folder holds none; otherwise opening one that does not
  // exist fails with not_found.
  bool create_if_missing = true;
  // How far past its recording an event's business time (occurred_at) may lie: nothing
  // occurs after it was recorded, but clocks of callers and store drift. Negative: no
  // limit (for synthetic logs such as the replay benchmark's, which span decades).
  Micros max_occurred_ahead_micros = 5 * 60 * kMicrosPerSecond;
  // The workspace's master key, which seals the data keys of personal fields (see
  // store/personal.h). Empty: $LEANOS_MASTER_KEY_FILE, else "<dir>.master-key" beside the
  // folder. Created (0600) when the first personal field is recorded.
  std::string master_key_file;
  // How many streams the writer remembers (each one's version, and whose subject its first
  // event named) between group commits. Past that it forgets them all and reads each from
  // disk again when it comes back: a store that sees millions of streams keeps its memory.
  std::size_t stream_cache_entries = 100'000;
  // The file system RocksDB writes through (none: the machine's). Tests give one that
  // simulates a power cut (store/power_cut.h); it must outlive the store.
  rocksdb::Env* env = nullptr;
  // Open an existing store for reading only (RocksDB's read-only mode): nothing is written to
  // the folder — a read-write open writes a MANIFEST, an OPTIONS and a log file each time, and
  // syncs them, which was half of a short command's time — and a folder on read-only media
  // opens. A shared lock on the folder's LOCK file keeps writers out while it is open (as
  // the exclusive one of a read-write open does) and lets other readers in. Appends, forget,
  // compaction, backup and checkpoints fail with Code::read_only; projection snapshots are
  // not kept (the folds go on without, as on a locked store). A folder that needs writing
  // when opened (a format to migrate, erasures to apply again) is opened for writing instead.
  bool read_only = false;
};

struct ForgetResult {
  std::string subject_hash;    // hex: the SubjectForgotten event's subject_hash
  std::uint64_t position = 0;  // of the SubjectForgotten event
};

struct AppendResult {
  std::vector<std::uint64_t> positions;  // one per event, in order
  std::vector<std::uint64_t> versions;   // each event's version in its stream, in order
  std::vector<Micros> recorded_at;       // when each was recorded (a retry: when it was first)
  std::uint64_t stream_version = 0;      // the stream's version after the append
  bool idempotent_retry = false;         // true when nothing was written (ids already stored)
};

struct StoreStats {
  std::uint64_t groups = 0;   // group commits written since open
  std::uint64_t appends = 0;  // appends they held
  std::uint64_t own_groups = 0;  // of the groups, those an appender committed itself, finding the writer idle
  std::uint64_t cached_streams = 0;  // streams the writer remembers (StoreOptions::stream_cache_entries)
};

enum class Direction { forward, backward };

// Whether a scan opens the personal fields of the events it hands over (store/personal.h),
// or leaves them sealed: cleared, held in Envelope.sealed. A fold that reads no personal
// field (the ledger's projections) skips the decryption; the projections' tests compare it
// with the fold of opened events.
enum class Personal { open, leave_sealed };

struct VerifyProblem {
  std::uint64_t position;  // 0 when the problem has no position
  std::string what;
};

struct VerifyReport {
  std::uint64_t events = 0;
  std::uint64_t streams = 0;
  std::uint64_t last_position = 0;
  std::vector<VerifyProblem> problems;
  bool clean() const { return problems.empty(); }
};

// The largest event the store accepts, serialized. Every reply (ReadAll, ReadStream, a
// subscription page) is bounded below a gRPC client's default 4 MiB message limit and
// carries at least one event, so any stored event can be received by any client.
inline constexpr std::size_t kMaxEventBytes = 1 << 20;

// What the store checks of each event before it accepts it (also usable at a boundary, to
// name a problem early): a type; a type that names its payload (a domain event's type is its
// payload's message name, filled in when empty; a generic event may not take a domain
// event's name); occurred_at within the ledger's time range; every string valid UTF-8
// (naming the field); no sealed fields (the store seals); at most kMaxEventBytes.
Status check_storable(Envelope& event);

class EventStore {
 public:
  // Opens (or creates) the store in `dir`. Fails with Code::unavailable when another
  // process has the folder open.
  static Result<std::unique_ptr<EventStore>> open(const std::string& dir, StoreOptions options = {});
  // Finishes every queued append, then closes the database.
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Appends `events` to `stream`. The store fills position, version, stream and
  // recorded_at; an event without event_id gets a fresh one; one without occurred_at gets
  // recorded_at. Blocks until the group holding it is durable.
  Result<AppendResult> append(const std::string& stream, ExpectedVersion expected,
                              std::vector<Envelope> events);
  std::future<Result<AppendResult>> append_async(const std::string& stream, ExpectedVersion expected,
                                                 std::vector<Envelope> events);
  // The same, with `done` called once with the outcome instead of a future: on the writer's
  // thread right after the group commit (so it must not block, nor call into this store), or
  // on this thread when the append is refused before it is queued. A server answers its call
  // from there, with no thread of its own waiting for the fsync.
  // Commit::here_when_idle: a lone append (nothing being committed or queued, the last group
  // one append) is committed on this thread, as EventStore::append does, and `done` called
  // here before append_then returns: two thread hand-offs fewer for a caller that may wait
  // for one fsync (a gRPC call's reactor).
  using AppendDone = std::function<void(Result<AppendResult>)>;
  enum class Commit { by_writer, here_when_idle };
  void append_then(const std::string& stream, ExpectedVersion expected, std::vector<Envelope> events, AppendDone done,
                   Commit commit = Commit::by_writer);

  // Appends a copy of a log recorded elsewhere (`leanos restore --from-nats`): every event
  // exactly as it was recorded there — event id, stream, stream version, position and
  // recorded_at kept. An event copied sealed (as the relay publishes them) is stored as it
  // is, to be opened with the keys install_keys() took; one copied opened (an older relay)
  // is sealed here. A SubjectForgotten copied forgets its subject here too (the key, if
  // installed and made before the erasure; the forgotten-subjects list). Each event's position must be the
  // next of this log, its version the next of its stream, its recorded_at no earlier than the
  // last recorded; otherwise nothing of the offending run is written and the error names the
  // event and what was expected. Events of consecutive positions in one stream are one append.
  Result<AppendResult> replicate(std::vector<Envelope> events);

  StoreStats stats() const;

  // Blocks until the log holds an event past `position`, or `timeout` passes. Returns the
  // last position then. Subscribers use it to go live without polling the database.
  std::uint64_t wait_beyond(std::uint64_t position, std::chrono::milliseconds timeout) const;

  // The position of the newest event, 0 for an empty log.
  std::uint64_t last_position() const;
  // The stream's current version, 0 when the stream has no events.
  Result<std::uint64_t> stream_version(const std::string& stream) const;
  // The names of the streams that begin with `prefix`, in order, at most `limit`.
  Result<std::vector<std::string>> stream_names(std::string_view prefix, std::size_t limit) const;

  // Events of a stream from `from_version` (inclusive; backward: 0 means the newest): at most
  // `limit` events and, past the first, at most `max_bytes` bytes of them (serialized), so a
  // reply built from them stays bounded whatever the events' sizes.
  Result<std::vector<Envelope>> read_stream(const std::string& stream, std::uint64_t from_version,
                                            Direction direction, std::size_t limit,
                                            std::size_t max_bytes = SIZE_MAX) const;
  // Events of the whole log from `from_position` (inclusive), bounded the same way.
  Result<std::vector<Envelope>> read_all(std::uint64_t from_position, std::size_t limit,
                                         std::size_t max_bytes = SIZE_MAX, Personal personal = Personal::open) const;
  // The same events as read_all, as their encoded Envelopes (what SerializeToString of
  // read_all's events gives), for a reader that sends them on: a record that holds no sealed
  // field (or any, with Personal::leave_sealed) is passed on as stored, checked but not
  // decoded; only one whose sealed fields must be opened is decoded and encoded again.
  // Each carries the fields a subscription filters on. Corruption, as read_all, for a record
  // that is not the event at its position or not a well-formed message at its top level.
  // (Every record was read back before it was written, and RocksDB checks each block's
  // checksum as it reads it; damage inside a payload under a valid checksum is what
  // `verify`, which decodes everything, reports.)
  struct Record {
    std::uint64_t position = 0;
    std::string stream, type;
    std::string bytes;
  };
  Result<std::vector<Record>> read_records(std::uint64_t from_position, std::size_t limit, std::size_t max_bytes,
                                           Personal personal) const;
  // Events recorded in [from, to] (microseconds), in position order.
  Result<std::vector<Envelope>> read_recorded_between(Micros from, Micros to, std::size_t limit) const;
  Result<Envelope> read_event(std::uint64_t position, Personal personal = Personal::open) const;
  // The events at `positions`, in that order, read in batches (RocksDB's MultiGet);
  // not_found naming the first position with no event.
  Result<std::vector<Envelope>> read_events(std::span<const std::uint64_t> positions, Personal personal = Personal::open) const;
  Result<std::optional<std::uint64_t>> find_event_id(const std::string& event_id) const;

  // Business-time travel. An event is "late" (backdated) when it occurred before an event
  // recorded earlier; every other event occurred no earlier than all before it, so in
  // position order they are in business-time order too. The longest prefix of the log whose
  // events all occurred at or before `t` ends at occurred_prefix(t); after it, only late
  // events can have occurred by `t`.
  Result<std::uint64_t> occurred_prefix(Micros t) const;
  // The late events at positions in (after, last] that occurred in (occurred_after,
  // occurred_until], as (occurred_at, position) in that order: business-time order.
  struct Late {
    Micros occurred_at;
    std::uint64_t position;
  };
  Result<std::vector<Late>> late_events(Micros occurred_after, Micros occurred_until, std::uint64_t after, std::uint64_t last) const;
  // The last position the store had recorded at or before `t` (system time).
  Result<std::uint64_t> recorded_prefix(Micros t) const;

  // Calls `fn` for each event in [from, to] in position order until it returns false.
  // The Envelope passed is reused between calls. A record that does not decode stops the
  // scan with Code::corruption naming its position.
  Status scan(std::uint64_t from, std::uint64_t to, const std::function<bool(const Envelope&)>& fn,
              Personal personal = Personal::open) const;
  // The same contract, for long scans such as a replay: a second thread reads and decodes
  // pages of events (into protobuf arenas, freed a page at a time) while `fn` runs on the
  // caller's thread, so decoding overlaps folding.
  Status scan_pipelined(std::uint64_t from, std::uint64_t to, const std::function<bool(const Envelope&)>& fn,
                        Personal personal = Personal::open) const;

  // Walks the log and every index; never crashes on corrupted values.
  VerifyReport verify() const;

  // A consistent online copy in `dest_dir` (must not exist), with RocksDB's Checkpoint.
  Status backup(const std::string& dest_dir) const;

  // Flushes and fully compacts every column family (RocksDB's CompactRange), then returns:
  // the store is quiet. After a bulk load, before measuring reads.
  Status compact();
  // Writes every column family's memtable to its files, so that no WAL file is needed any
  // more: the next open replays nothing. After a bulk write (an import of a git history left
  // 140 MB of WAL that every later command read back on open).
  Status flush();
  // Compacts the snapshots only. Snapshot values are large (a core snapshot is about 1 MB
  // at a million events); written in bulk they land in many overlapping files, and every
  // lookup then reads and decompresses a value in each: at 1 M events an as-of query took
  // 50 ms instead of 11. Run after writing many (a replay).
  Status compact_snapshots();

  // Drops the snapshots of every name not in `keep` (those of an earlier build's projections,
  // which nothing reads again): a range deletion per name.
  Status drop_snapshots_except(const std::vector<std::string>& keep);

  // Projection snapshots: state bytes of projection `name` folded up to `position`.
  Status put_snapshot(const std::string& name, std::uint64_t position, const std::string& state);
  // The newest snapshot of `name` at or before `position`, if any.
  Result<std::optional<std::pair<std::uint64_t, std::string>>> snapshot_at_or_before(
      const std::string& name, std::uint64_t position) const;

  // Subscriber checkpoints: the last position a named subscriber acknowledged.
  Status save_checkpoint(const std::string& subscriber, std::uint64_t position);
  Result<std::uint64_t> load_checkpoint(const std::string& subscriber) const;

  const std::string& dir() const;
  // Opened for reading only (StoreOptions::read_only, and it needed no writing).
  bool read_only() const;

  // Personal data. Forgets a data subject (an e-mail or subject id): records a
  // SubjectForgotten event in the privacy stream and destroys the subject's data key in the
  // same write, adds them to the forgotten-subjects list beside the master key, then drops
  // every projection snapshot (they hold opened fields) and has RocksDB rewrite the key and
  // snapshot files and drop the WAL that held them. From then on their fields read
  // "[erased]". not_found, and nothing recorded, for a subject with no key.
  Result<ForgetResult> forget(const std::string& subject, const std::string& reason, const std::string& actor);
  // Re-wraps the workspace's salt and data keys under a new master key written to
  // `new_key_file` (must not exist), in one write, then compacts the old wrapping out of the
  // key files. The store in `dir` must not be open elsewhere (nothing else may be writing).
  // From then on the store opens with the new file only; the old one can be destroyed.
  static Status rotate_master_key(const std::string& dir, StoreOptions options, const std::string& new_key_file);
  // Why personal fields read "[locked]" and nothing can be written (no or a wrong master
  // key); empty when the store is not locked.
  std::string locked_reason() const;
  const std::string& master_key_file() const;

  // The keys as stored, each wrapped (encrypted) under the master key, for a copy of the
  // log kept elsewhere (the relay's key stream): the salt record, and the current data key
  // of each subject asked for (a keyed hash, as Sealed.subject); a subject with no key (never
  // sealed, or forgotten) is left out. Readable on a locked store: nothing here opens
  // without the master key.
  struct WrappedKeys {
    std::string salt;                                          // empty when nothing was sealed yet
    std::vector<std::pair<std::string, std::string>> subjects;  // (subject hash, wrapped record)
  };
  Result<WrappedKeys> wrapped_keys(std::span<const std::string> subjects) const;
  // Every subject's key after subject `after` in hash order (from the first: ""), at most
  // `limit`: the whole set a page at a time.
  Result<WrappedKeys> wrapped_keys_page(const std::string& after, std::size_t limit) const;
  // Takes the keys of a copy of this workspace (`restore --from-nats`), before its sealed
  // events are replicated: each must open under this store's master key file (the
  // workspace's own, which the copy was sealed under), and a salt already here must be the
  // same salt. Nothing is written when one does not open; the error names the key file.
  Status install_keys(const WrappedKeys& keys);

 private:
  struct Impl;
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace leanos::store
