// The event store's internals, shared by its implementation files (event_store.cpp: open and
// the write path; event_store_read.cpp: reads and scans; event_store_maintenance.cpp: verify,
// backup, compaction, snapshots and checkpoints). Not part of the store's interface.
#pragma once

#include "store/event_store.h"

#include <google/protobuf/arena.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "events/ids.h"
#include "events/text.h"
#include "store/keys.h"
#include "store/personal.h"


namespace leanos::store {

// ---- Impl ---------------------------------------------------------------------------------


inline Status from_rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::success();
  if (s.IsCorruption()) return Status::corruption(what + ": " + s.ToString());
  return Status::io(what + ": " + s.ToString());
}

// Stored content that decides whether a retried event is "the same event".
inline bool same_content(const Envelope& stored, const Envelope& retried) {
  if (stored.stream() != retried.stream() || stored.type() != retried.type()) return false;
  if (stored.payload_case() != retried.payload_case()) return false;
  Envelope a, b;  // compare payloads only: positions, times and versions are the store's
  a.CopyFrom(stored);
  b.CopyFrom(retried);
  for (Envelope* e : {&a, &b}) {
    e->clear_position();
    e->clear_version();
    e->clear_recorded_at();
    e->clear_occurred_at();
    e->clear_stream();
  }
  return a.SerializeAsString() == b.SerializeAsString();
}

struct Pending {
  std::string stream;
  ExpectedVersion expected;
  std::vector<Envelope> events;
  std::string forget_hash;  // a forget: the data key deleted in the same write
  // A copy of events recorded elsewhere (EventStore::replicate): positions, versions and
  // recorded_at are kept as given, and must be the next ones here.
  bool replica = false;
  // Set by prepare() on the appender's thread: ids given, events checked, personal fields
  // sealed; the data keys made for them and not yet written; per event, the stream subject
  // it was sealed under when it names nobody ("" otherwise).
  bool prepared = false;
  // Per event, from prepare(): its id was made here (none was given), so it cannot be stored
  // already and validate() does not look it up.
  std::vector<bool> fresh_ids;
  // The caller blocks until the append is answered (EventStore::append), or lets it be
  // committed on its thread (append_then with Commit::here_when_idle): finding nothing being
  // committed or queued after a lone append, it commits the append itself (submit).
  bool caller_waits = false;
  std::vector<Vault::KeyPut> key_puts;
  std::vector<std::string> assumed;
  // Per event of an append (not a replica), also from prepare(): its record without what the
  // writer fills in (position, stream, version, recorded_at; occurred_at when not given),
  // already read back; and where in it recorded_at goes (after event_id and type). The writer
  // puts the two together (compose_record) rather than encoding and decoding every event of
  // a group on its own thread.
  std::vector<std::string> bodies;
  std::vector<std::size_t> splits;
  std::promise<Result<AppendResult>> done;
  EventStore::AppendDone then;  // set: called with the outcome instead of `done`
  void finish(Result<AppendResult> r) {
    if (then) then(std::move(r));
    else done.set_value(std::move(r));
  }
};

// Decodes the record stored at `position` and, asked to, opens its sealed fields; corruption
// when it is not that event or a sealed field does not authenticate. Every read of the log
// decodes through here.
inline Status undecodable(std::uint64_t position) {
  return Status::corruption("event at position " + std::to_string(position) + " does not decode; run `leanos verify` for a full report");
}
inline Status decode_event(const Vault& vault, const char* data, std::size_t size, std::uint64_t position, Envelope& e,
                           Personal personal = Personal::open) {
  if (!e.ParseFromArray(data, static_cast<int>(size)) || e.position() != position) return undecodable(position);
  return personal == Personal::open ? vault.unseal(e) : Status::success();
}

struct EventStore::Impl {
  std::string dir;
  bool read_only = false;  // opened for reading only: see StoreOptions::read_only
  int shared_lock = -1;    // then, the LOCK file held with a shared lock (closed after the database)
  std::uint64_t resume_reserve_bytes = 0;  // free space RocksDB wants before writes resume
  StoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* streams = nullptr;
  rocksdb::ColumnFamilyHandle* event_ids = nullptr;
  rocksdb::ColumnFamilyHandle* time = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints = nullptr;
  rocksdb::ColumnFamilyHandle* occurred = nullptr;
  rocksdb::ColumnFamilyHandle* late = nullptr;
  rocksdb::ColumnFamilyHandle* late_positions = nullptr;
  rocksdb::ColumnFamilyHandle* keys = nullptr;
  std::unique_ptr<Vault> vault;
  // put_snapshot, one at a time: the whole state its deltas were last made against, per
  // snapshot name (its key and bytes), so that a fold writing snapshot after snapshot does not
  // read the same base back each time.
  std::mutex snapshots_mu;
  std::unordered_map<std::string, std::pair<std::uint64_t, std::string>> snapshot_bases;
  // The subject hash each stream's first event was sealed under ("" for none: the stream's
  // own), for the events of the stream that name nobody. Writer thread only.
  std::unordered_map<std::string, std::string> stream_subjects;
  // The same, for appenders, of streams whose first event is stored (a fact that stays).
  std::mutex first_subjects_mu;
  std::unordered_map<std::string, std::string> first_subjects;

  std::atomic<std::uint64_t> last_position{0};
  std::atomic<std::uint64_t> stats_groups{0}, stats_appends{0}, stats_cached_streams{0}, stats_own_groups{0};
  // Signalled after each group commit, for wait_beyond.
  mutable std::mutex committed_mu;
  mutable std::condition_variable committed_cv;
  Micros last_recorded = 0;  // writer thread only
  std::uint64_t max_occurred = 0;  // writer thread only: the running max of occurred_at

  // Current version per stream, writer thread only (loaded lazily from the streams index).
  std::unordered_map<std::string, std::uint64_t> versions;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Pending>> queue;
  bool stopping = false;
  // Someone is committing a group: the writer, or an appender that found the writer idle and
  // the queue empty and commits its own append on its thread (guarded by mu). The state the
  // comments call the writer's (versions, stream_subjects, …) is only touched by whoever has
  // set this, one at a time.
  bool committing = false;
  std::size_t last_group = 1;  // appends in the last group committed (guarded by mu)
  // Queue length at which an appender wakes the writer (guarded by mu): 1 when the writer
  // sleeps for work, the expected group size while it gathers siblings.
  std::size_t wanted = 1;
  std::thread writer;

  // Answers of append_then, handed over by the writer when more appends wait for it (it
  // answers itself when none does): a caller's function (a server sending its response)
  // must not hold up the next group commit.
  std::mutex answers_mu;
  std::condition_variable answers_cv;
  std::vector<std::pair<EventStore::AppendDone, Result<AppendResult>>> answers;
  bool answers_stopping = false;
  std::thread answerer;
  void answer_loop();

  // The position the folder held durably when the store last flushed or closed, kept beside
  // RocksDB in LEANOS-DURABLE (store/event_store_open.cpp): RocksDB reads a damaged MANIFEST
  // as if it ended there and opens without the tables it no longer lists — an empty or shorter
  // log, without a word. A log that ends before the witness is refused at open instead.
  std::atomic<std::uint64_t> witnessed{0};
  std::mutex witness_mu;  // one writer of the file at a time (a flush's thread, a close)
  void witness();  // writes the last position when it moved (durable stores only)
  // Set once the store is open: RocksDB's flushes write the witness from then on (a flush
  // during recovery, before the log's end is known, does not).
  std::atomic<Impl*> witness_target{nullptr};

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (writer.joinable()) writer.join();
    {
      std::lock_guard lock(answers_mu);
      answers_stopping = true;
    }
    answers_cv.notify_all();
    if (answerer.joinable()) answerer.join();
    if (db) {
      witness_target = nullptr;
      for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
      db->Close();
      witness();
      db.reset();
    }
    if (shared_lock >= 0) ::close(shared_lock);
  }

  // Why a store opened for reading only does not do `what`.
  Status opened_to_read(const std::string& what) const {
    return Status(Code::read_only, "the store at " + dir + " is open for reading only (a command that only reads opened it), so " + what +
                                       " is refused: nothing is written to the folder");
  }
  // Whether opening the store for writing would write: a format to migrate or erasures to
  // apply again (what open does before it serves).
  Result<bool> needs_writing_at_open();
  // The subjects forgotten (and when) whose keys are back (a backup from before the
  // erasure): erased again at open.
  Result<std::vector<std::pair<std::string, Micros>>> forgotten_again();

  // After a failed write (a full disk, an I/O error) the store takes no more writes: RocksDB
  // 7.8's WAL writer is in an unknown state then (writing again hit its assertion
  // 'sync_without_flush_called_' and aborted the server). Each later write first asks
  // RocksDB to Resume(); once the disk has room again that succeeds and writes go on.
  // Reads are never stopped. Like LevelDB's bg_error_.
  std::mutex error_mu;
  Status write_error;      // guarded by error_mu
  bool resumable = false;  // guarded by error_mu: the error was a full disk, waited out

  // Every write of the store goes through here (one at a time; RocksDB serializes writes
  // anyway). `what` names it in the error.
  Status write(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch, const std::string& what) {
    if (read_only) return opened_to_read(what);
    std::lock_guard lock(error_mu);
    if (!write_error.is_ok()) {
      if (!resumable) return write_error;  // a disk that failed a write or a sync is not written again
      if (auto r = db->Resume(); !r.ok()) {
        spdlog::debug("store: cannot resume writes yet: {}", r.ToString());
        // Say what is needed, and what there is: RocksDB wants room to flush before it resumes.
        std::error_code ec;
        const auto space = std::filesystem::space(dir, ec);
        const auto mib = [](std::uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20); };
        return Status(Code::read_only, write_error.message() + "; they resume once " + mib(resume_reserve_bytes) +
                                           " MiB are free there (RocksDB keeps room to flush its memory before it writes again)" +
                                           (ec ? std::string() : ", " + std::to_string(space.available >> 20) + " MiB are free now"));
      }
      spdlog::warn("store: writes resumed after: {}", write_error.message());
      write_error = Status::success();
    }
    auto s = db->Write(wo, &batch);
    if (s.ok()) return Status::success();
    // A full disk is waited out. Any other failure (EIO from a write or an fsync) is not:
    // retrying a sync that failed can report success for data the disk lost (PostgreSQL's
    // "fsyncgate"), so the store writes no more until it is opened again, from its log.
    resumable = s.IsNoSpace();
    write_error = Status(Code::read_only, "the store at " + dir + " takes no writes since " + what + " failed (" + s.ToString() + "); " +
                                              (resumable ? "reads still work, and writes resume by themselves once the disk has room "
                                                           "again (free space on its file system)"
                                                         : "reads still work; the disk reported an error, so nothing more is written "
                                                           "until the store is opened again: check the disk (dmesg, SMART), then "
                                                           "restart — every acknowledged event is in the log"));
    spdlog::error("store: {}", write_error.message());
    return write_error;
  }

  Result<std::uint64_t> stored_version(const std::string& stream) const {
    rocksdb::ReadOptions ro;
    // A new stream (every new deal) has no first event: the bloom filters say so for the
    // price of a lookup, where a seek would read a block of every level.
    std::string first;
    if (auto s = db->Get(ro, streams, named_key(stream, 1), &first); s.IsNotFound()) return std::uint64_t{0};
    else if (!s.ok()) return from_rocks(s, "reading stream index");
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, streams));
    it->SeekForPrev(named_key(stream, std::numeric_limits<std::uint64_t>::max()));
    if (!it->Valid()) return it->status().ok() ? Result<std::uint64_t>(0) : from_rocks(it->status(), "reading stream index");
    const std::string prefix = name_prefix(stream);
    const auto key = it->key().ToStringView();
    if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) return std::uint64_t{0};
    return get_be64(key.substr(prefix.size()));
  }

  Result<std::optional<std::uint64_t>> position_of_id(const std::string& id) const {
    std::string value;
    auto s = db->Get(rocksdb::ReadOptions(), event_ids, id, &value);
    if (s.IsNotFound()) return std::optional<std::uint64_t>{};
    if (!s.ok()) return from_rocks(s, "reading event id index");
    auto pos = decode_be64(value);
    if (!pos) return Status::corruption("event id index entry for '" + id + "' is not a position");
    return std::optional<std::uint64_t>{*pos};
  }

  // A store written before the late index by position had it: built once, from the late index.
  Status index_late_positions() {
    std::unique_ptr<rocksdb::Iterator> done(db->NewIterator({}, late_positions));
    done->SeekToFirst();
    if (done->Valid()) return Status::success();
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, late));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const auto k = it->key().ToStringView();
      if (k.size() != 16) return Status::corruption("a late index key is not 16 bytes");
      batch.Put(late_positions, std::string(k.substr(8)), std::string(k.substr(0, 8)));
    }
    if (!it->status().ok()) return from_rocks(it->status(), "reading the late index");
    if (batch.Count() == 0) return Status::success();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return write(wo, batch, "indexing late events by position");
  }

  Result<Envelope> load(std::uint64_t position, const rocksdb::ReadOptions& ro = {}, Personal personal = Personal::open) const {
    rocksdb::PinnableSlice value;
    auto s = db->Get(ro, events, be64(position), &value);
    if (s.IsNotFound()) return Status::not_found("no event at position " + std::to_string(position));
    if (!s.ok()) return from_rocks(s, "reading event " + std::to_string(position));
    Envelope e;
    if (auto d = decode_event(*vault, value.data(), value.size(), position, e, personal); !d) return d;
    return e;
  }

  // The subject hash an event of `stream` at `version` that names nobody is sealed under
  // (writer thread); and as its appender sees it before the queue (first_subject).
  Result<std::string> stream_subject(const std::string& stream, std::uint64_t version);
  // Why replica `e` cannot follow position `at`, its stream at `version`, recorded at `floor`.
  Status check_replica(const Envelope& e, std::uint64_t at, std::uint64_t version, Micros floor) const;
  Result<std::string> first_subject(const Pending& p, std::size_t i);
  // On the appender's thread, before the queue: event ids, check_storable, sealing.
  Status prepare(Pending& p);
  // After an erasure: drop the snapshots (they hold opened fields), flush every column
  // family so no WAL file holds a deleted key, and compact the keys and snapshots away.
  Status purge_erased();
  // Erases again the subjects of the forgotten-subjects list whose keys this folder still
  // holds (a backup restored from before their erasure).
  Status reapply_forgotten();
  // A store written before personal fields were sealed: seals them in place, once (same
  // positions, ids and content once opened), then rewrites the files that held them.
  Status seal_legacy();

  void writer_loop();

  // Validates every append of the group against the stored state plus the appends before
  // it in the group, writes the accepted ones in one WriteBatch, then answers each. Whether
  // it wrote a group (some append was accepted and written).
  bool commit(std::vector<std::shared_ptr<Pending>>& group);
  // Prepares an append on the caller's thread and queues it for the writer, which finishes it.
  void submit(std::shared_ptr<Pending> p);

  // Returns the stream's version before the append (in stream_version), an idempotent
  // result, or the reason the append is rejected.
  Result<AppendResult> validate(Pending& p, const std::unordered_map<std::string, std::uint64_t>& tentative_versions,
                                const std::unordered_map<std::string, std::uint64_t>& tentative_ids);

  // A snapshot-consistent read of the events at `positions`, in that order, with RocksDB's
  // MultiGet a batch at a time (one lookup per block for neighbours, not per event). Stops
  // before the event that would take the total past `max_bytes` (never before the first).
  Result<std::vector<Envelope>> load_many(std::span<const std::uint64_t> positions, const rocksdb::ReadOptions& ro,
                                          std::size_t max_bytes = SIZE_MAX, Personal personal = Personal::open) const {
    constexpr std::size_t kBatch = 512;
    std::vector<Envelope> out;
    out.reserve(positions.size());
    std::size_t bytes = 0;
    std::vector<std::string> keys;
    std::vector<rocksdb::Slice> slices;
    std::vector<rocksdb::PinnableSlice> values(kBatch);
    std::vector<rocksdb::Status> statuses(kBatch);
    for (std::size_t at = 0; at < positions.size(); at += kBatch) {
      const std::size_t n = std::min(kBatch, positions.size() - at);
      keys.clear();
      slices.clear();
      for (std::size_t i = 0; i < n; ++i) keys.push_back(be64(positions[at + i]));
      for (const auto& k : keys) slices.emplace_back(k);
      for (std::size_t i = 0; i < n; ++i) values[i].Reset();
      db->MultiGet(ro, events, n, slices.data(), values.data(), statuses.data());
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t position = positions[at + i];
        if (statuses[i].IsNotFound()) return Status::not_found("no event at position " + std::to_string(position));
        if (!statuses[i].ok()) return from_rocks(statuses[i], "reading event " + std::to_string(position));
        Envelope e;
        if (auto d = decode_event(*vault, values[i].data(), values[i].size(), position, e, personal); !d) return d;
        const std::size_t size = values[i].size();
        if (!out.empty() && bytes + size > max_bytes) return out;
        bytes += size;
        out.push_back(std::move(e));
      }
    }
    return out;
  }
};

// A RocksDB snapshot for the life of one read, so that several index lookups agree.
class ReadView {
 public:
  explicit ReadView(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) { ro_.snapshot = snap_; }
  ~ReadView() { db_->ReleaseSnapshot(snap_); }
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;
  const rocksdb::ReadOptions& options() const { return ro_; }
  // For a scan of a long range: read ahead, and leave the block cache to point reads.
  const rocksdb::ReadOptions& long_scan() {
    ro_.fill_cache = false;
    ro_.readahead_size = 2 << 20;
    return ro_;
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions ro_;
};

}  // namespace leanos::store
