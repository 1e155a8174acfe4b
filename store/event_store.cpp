#include "store/event_store.h"

#include <google/protobuf/arena.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "events/ids.h"
#include "events/text.h"
#include "store/keys.h"

namespace leanos::store {

// ---- ExpectedVersion ----------------------------------------------------------------------

Result<ExpectedVersion> ExpectedVersion::parse(std::string_view text) {
  if (text == "any") return any();
  if (text == "no_stream" || text == "no-stream") return no_stream();
  if (text == "exists") return exists();
  if (!text.empty() && text.size() <= 19 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return exact(std::stoull(std::string(text)));
  return Status::invalid("expected version '" + std::string(text) +
                         "' is not one of any, no_stream, exists or a version number");
}

std::string ExpectedVersion::to_string() const {
  switch (kind) {
    case Kind::any: return "any";
    case Kind::no_stream: return "no_stream";
    case Kind::exists: return "exists";
    case Kind::exact: return std::to_string(version);
  }
  return "?";
}

// ---- What may be stored ------------------------------------------------------------------

Status check_storable(Envelope& e) {
  const std::string id = e.event_id().empty() ? std::string("without id") : e.event_id();
  static const auto* payload = Envelope::descriptor()->FindOneofByName("payload");
  const auto* field = e.GetReflection()->GetOneofFieldDescriptor(e, payload);
  if (field != nullptr && field->number() != Envelope::kGeneric) {
    const std::string& name = field->message_type()->name();
    if (e.type().empty()) e.set_type(name);
    if (e.type() != name)
      return Status::invalid("event " + id + " has type '" + e.type() + "' but carries a " + name +
                             " payload; a domain event's type is its payload's name ('" + name + "')");
  } else {
    if (e.type().empty()) return Status::invalid("event " + id + " has no type; give one, e.g. NoteTaken");
    for (int i = 0; i < payload->field_count(); ++i)
      if (payload->field(i)->number() != Envelope::kGeneric && payload->field(i)->message_type()->name() == e.type())
        return Status::invalid("event " + id + " has the domain type '" + e.type() +
                               "' but no such payload; domain events are recorded through commands (leanos deal …, "
                               "the Command RPC), generic events need a type of their own");
  }
  if (e.has_occurred_at())
    if (auto s = check_timestamp("occurred_at of event " + id, e.occurred_at()); !s) return s;
  if (auto bad = invalid_utf8_field(e))
    return Status::invalid("event " + id + ": field " + *bad + " is not valid UTF-8; every text must be UTF-8");
  if (const auto size = e.ByteSizeLong(); size > kMaxEventBytes)
    return Status::invalid("event " + id + " is " + std::to_string(size) + " bytes; the most an event may hold is " +
                           std::to_string(kMaxEventBytes) + " bytes (1 MiB): store large documents elsewhere and "
                           "record a reference");
  return Status::success();
}

// ---- Impl ---------------------------------------------------------------------------------

namespace {

Status from_rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::success();
  if (s.IsCorruption()) return Status::corruption(what + ": " + s.ToString());
  return Status::io(what + ": " + s.ToString());
}

// RocksDB's diagnostics go to our log (stderr), not to a LOG file in the data folder: on a full
// disk RocksDB 7.8's file logger asserts on its next line after a failed write
// ('sync_without_flush_called_') and takes the process down, while the store would
// otherwise keep serving reads and resume writing once there is room.
class RocksLogger final : public rocksdb::Logger {
 public:
  explicit RocksLogger(rocksdb::InfoLogLevel level) : rocksdb::Logger(level) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    spdlog::log(level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? spdlog::level::err : spdlog::level::warn, "rocksdb: {}", line);
  }
};

// Stored content that decides whether a retried event is "the same event".
bool same_content(const Envelope& stored, const Envelope& retried) {
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
  std::promise<Result<AppendResult>> done;
};

}  // namespace

struct EventStore::Impl {
  std::string dir;
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

  std::atomic<std::uint64_t> last_position{0};
  std::atomic<std::uint64_t> stats_groups{0}, stats_appends{0};
  // Signalled after each group commit, for wait_beyond.
  mutable std::mutex committed_mu;
  mutable std::condition_variable committed_cv;
  Micros last_recorded = 0;  // writer thread only
  std::uint64_t max_occurred = 0;  // writer thread only: the running max of occurred_at

  // Current version per stream, writer thread only (loaded lazily from the streams index).
  std::unordered_map<std::string, std::uint64_t> versions;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<Pending>> queue;
  bool stopping = false;
  // Queue length at which an appender wakes the writer (guarded by mu): 1 when the writer
  // sleeps for work, the expected group size while it gathers siblings.
  std::size_t wanted = 1;
  std::thread writer;

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (writer.joinable()) writer.join();
    if (db) {
      for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
      db->Close();
    }
  }

  // After a failed write (a full disk, an I/O error) the store takes no more writes: RocksDB
  // 7.8's WAL writer is in an unknown state then (writing again hit its assertion
  // 'sync_without_flush_called_' and aborted the server). Each later write first asks
  // RocksDB to Resume(); once the disk has room again that succeeds and writes go on.
  // Reads are never stopped. Like LevelDB's bg_error_.
  std::mutex error_mu;
  Status write_error;  // guarded by error_mu

  // Every write of the store goes through here (one at a time; RocksDB serializes writes
  // anyway). `what` names it in the error.
  Status write(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& batch, const std::string& what) {
    std::lock_guard lock(error_mu);
    if (!write_error.is_ok()) {
      if (auto r = db->Resume(); !r.ok()) {
        spdlog::debug("store: cannot resume writes yet: {}", r.ToString());
        return write_error;
      }
      spdlog::warn("store: writes resumed after: {}", write_error.message());
      write_error = Status::success();
    }
    auto s = db->Write(wo, &batch);
    if (s.ok()) return Status::success();
    write_error = Status(Code::read_only, "the store at " + dir + " takes no writes since " + what + " failed (" +
                                              s.ToString() + "); reads still work, and writes resume by themselves "
                                              "once the disk has room again (free space on its file system)");
    spdlog::error("store: {}", write_error.message());
    return write_error;
  }

  Result<std::uint64_t> stored_version(const std::string& stream) const {
    rocksdb::ReadOptions ro;
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

  Result<Envelope> load(std::uint64_t position, const rocksdb::ReadOptions& ro = {}) const {
    std::string value;
    auto s = db->Get(ro, events, be64(position), &value);
    if (s.IsNotFound()) return Status::not_found("no event at position " + std::to_string(position));
    if (!s.ok()) return from_rocks(s, "reading event " + std::to_string(position));
    Envelope e;
    if (!e.ParseFromString(value) || e.position() != position)
      return Status::corruption("event at position " + std::to_string(position) + " does not decode");
    return e;
  }

  void writer_loop() {
    std::vector<std::unique_ptr<Pending>> group;
    std::size_t previous_group = 1;
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping and drained
        // Commit siblings: the appenders of the last group come back one by one after
        // their acknowledgement. Give them a moment to join rather than paying an fsync
        // for the first alone. A lone appender (previous group of 1) never waits.
        if (previous_group > 1 && queue.size() < previous_group && options.group_wait_micros > 0) {
          wanted = previous_group;
          cv.wait_for(lock, std::chrono::microseconds(options.group_wait_micros),
                      [&] { return stopping || queue.size() >= previous_group; });
          wanted = 1;
        }
        const std::size_t n = std::min(queue.size(), options.max_group);
        for (std::size_t i = 0; i < n; ++i) {
          group.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      previous_group = group.size();
      commit(group);
      group.clear();
    }
  }

  // Validates every append of the group against the stored state plus the appends before
  // it in the group, writes the accepted ones in one WriteBatch, then answers each.
  void commit(std::vector<std::unique_ptr<Pending>>& group) {
    rocksdb::WriteBatch batch;
    std::unordered_map<std::string, std::uint64_t> tentative_versions;
    std::unordered_map<std::string, std::uint64_t> tentative_ids;
    std::vector<std::optional<Result<AppendResult>>> results(group.size());
    std::vector<bool> writes(group.size(), false);
    std::uint64_t position = last_position.load(std::memory_order_relaxed);
    std::uint64_t running_max = max_occurred;
    const Micros now = std::max(now_micros(), last_recorded);
    std::vector<std::string> records;
    Envelope check;

    for (std::size_t g = 0; g < group.size(); ++g) {
      Pending& p = *group[g];
      auto outcome = validate(p, tentative_versions, tentative_ids);
      if (!outcome.is_ok()) {
        results[g] = outcome.status();
        continue;
      }
      if (outcome->idempotent_retry) {
        results[g] = std::move(*outcome);
        continue;
      }
      // Every record is serialized and read back before any of this append enters the
      // batch: the store never writes what it could not read (the last line of defence
      // behind check_storable).
      std::uint64_t version = outcome->stream_version;
      std::uint64_t at = position;
      records.clear();
      Status unreadable;  // why this append is refused, if it is
      for (auto& e : p.events) {
        if (options.max_occurred_ahead_micros >= 0 && e.has_occurred_at() &&
            from_timestamp(e.occurred_at()) > now + options.max_occurred_ahead_micros) {
          unreadable = Status::invalid("event " + e.event_id() + " occurred at " + format_time(from_timestamp(e.occurred_at())) +
                                       ", after it is recorded (" + format_time(now) +
                                       "): nothing can be recorded before it happens; date it now or earlier");
          break;
        }
        e.set_position(++at);
        e.set_version(++version);
        e.set_stream(p.stream);
        to_timestamp(now, e.mutable_recorded_at());
        if (!e.has_occurred_at()) to_timestamp(now, e.mutable_occurred_at());
        records.emplace_back();
        e.SerializeToString(&records.back());
        if (!check.ParseFromString(records.back()) || check.position() != at) {
          unreadable = Status::invalid("event " + e.event_id() + " does not read back after encoding; nothing was written");
          break;
        }
      }
      if (!unreadable.is_ok()) {
        results[g] = unreadable;
        continue;
      }
      AppendResult r;
      for (std::size_t i = 0; i < p.events.size(); ++i) {
        const Envelope& e = p.events[i];
        ++position;
        const auto occ = static_cast<std::uint64_t>(std::max<Micros>(from_timestamp(e.occurred_at()), 0));
        if (occ > running_max || position == 1) {
          running_max = std::max(running_max, occ);
          batch.Put(occurred, time_key(occ, position), "");
        } else if (occ < running_max) {
          batch.Put(late, time_key(occ, position), "");
        }
        const std::string pos_key = be64(position);
        batch.Put(events, pos_key, records[i]);
        batch.Put(streams, named_key(p.stream, e.version()), pos_key);
        batch.Put(event_ids, e.event_id(), pos_key);
        tentative_ids[e.event_id()] = position;
        r.positions.push_back(position);
      }
      r.stream_version = version;
      tentative_versions[p.stream] = version;
      results[g] = std::move(r);
      writes[g] = true;
    }

    if (batch.Count() > 0) {
      // One time-index entry per group: every event of the group shares recorded_at.
      const std::uint64_t first = last_position.load(std::memory_order_relaxed) + 1;
      batch.Put(time, time_key(static_cast<std::uint64_t>(now), first), be64(position));
      rocksdb::WriteOptions wo;
      wo.sync = options.durability == Durability::sync;
      if (auto failed = write(wo, batch, "writing a group of appends"); !failed) {
        for (std::size_t g = 0; g < group.size(); ++g)
          if (writes[g]) results[g] = failed;
      } else {
        for (auto& [stream, v] : tentative_versions) versions[stream] = v;
        stats_groups.fetch_add(1, std::memory_order_relaxed);
        stats_appends.fetch_add(std::count(writes.begin(), writes.end(), true), std::memory_order_relaxed);
        last_recorded = now;
        max_occurred = running_max;
        {
          std::lock_guard lock(committed_mu);
          last_position.store(position, std::memory_order_release);
        }
        committed_cv.notify_all();
      }
    }
    for (std::size_t g = 0; g < group.size(); ++g) group[g]->done.set_value(std::move(*results[g]));
  }

  // Returns the stream's version before the append (in stream_version), an idempotent
  // result, or the reason the append is rejected.
  Result<AppendResult> validate(Pending& p, const std::unordered_map<std::string, std::uint64_t>& tentative_versions,
                                const std::unordered_map<std::string, std::uint64_t>& tentative_ids) {
    if (auto s = check_stream_name(p.stream); !s) return s;
    if (p.events.empty()) return Status::invalid("an append needs at least one event");
    std::unordered_set<std::string> ids;
    for (auto& e : p.events) {
      if (e.event_id().empty()) e.set_event_id(new_event_id());
      if (auto s = check_storable(e); !s) return s;
      if (!ids.insert(e.event_id()).second)
        return Status::invalid("event id " + e.event_id() + " appears twice in one append");
      if (!e.stream().empty() && e.stream() != p.stream)
        return Status::invalid("event " + e.event_id() + " names stream '" + e.stream() +
                               "' but is appended to '" + p.stream + "'");
    }

    // Idempotency: all ids known -> the original positions; some known -> error.
    std::vector<std::uint64_t> known;
    std::string first_known, first_new;
    for (const auto& e : p.events) {
      std::optional<std::uint64_t> pos;
      if (auto it = tentative_ids.find(e.event_id()); it != tentative_ids.end()) {
        pos = it->second;
      } else {
        auto found = position_of_id(e.event_id());
        if (!found) return found.status();
        pos = *found;
      }
      if (pos) {
        known.push_back(*pos);
        if (first_known.empty()) first_known = e.event_id();
      } else if (first_new.empty()) {
        first_new = e.event_id();
      }
    }
    if (!known.empty()) {
      if (known.size() != p.events.size())
        return Status::exists("event id " + first_known + " is already stored but " + first_new +
                              " is not: a retry must resend exactly the original events");
      AppendResult r;
      r.idempotent_retry = true;
      for (std::size_t i = 0; i < known.size(); ++i) {
        if (tentative_ids.count(p.events[i].event_id()))
          return Status::exists("event id " + p.events[i].event_id() + " is appended twice in one group");
        auto stored = load(known[i]);
        if (!stored) return stored.status();
        Envelope candidate = p.events[i];
        candidate.set_stream(p.stream);
        if (!same_content(*stored, candidate))
          return Status::exists("event id " + p.events[i].event_id() + " is already stored at position " +
                                std::to_string(known[i]) + " with different content; use a new event id");
        r.positions.push_back(known[i]);
        r.stream_version = std::max(r.stream_version, stored->version());
      }
      return r;
    }

    std::uint64_t current = 0;
    if (auto it = tentative_versions.find(p.stream); it != tentative_versions.end()) {
      current = it->second;
    } else if (auto it2 = versions.find(p.stream); it2 != versions.end()) {
      current = it2->second;
    } else {
      auto v = stored_version(p.stream);
      if (!v) return v.status();
      current = versions[p.stream] = *v;
    }

    const auto& ex = p.expected;
    const bool fits = ex.kind == ExpectedVersion::Kind::any ||
                      (ex.kind == ExpectedVersion::Kind::no_stream && current == 0) ||
                      (ex.kind == ExpectedVersion::Kind::exists && current > 0) ||
                      (ex.kind == ExpectedVersion::Kind::exact && current == ex.version);
    if (!fits) {
      const std::string actual = current == 0 ? "no_stream (the stream has no events)" : std::to_string(current);
      return Status::conflict("wrong expected version for stream '" + p.stream + "': expected " +
                              ex.to_string() + ", actual " + actual);
    }
    AppendResult r;
    r.stream_version = current;
    return r;
  }

  // A snapshot-consistent read of many events by position.
  // Stops before the event that would take the total past `max_bytes` (never before the first).
  Result<std::vector<Envelope>> load_many(const std::vector<std::uint64_t>& positions,
                                          const rocksdb::ReadOptions& ro, std::size_t max_bytes = SIZE_MAX) const {
    std::vector<Envelope> out;
    out.reserve(positions.size());
    std::size_t bytes = 0;
    for (auto pos : positions) {
      auto e = load(pos, ro);
      if (!e) return e.status();
      const std::size_t size = e->ByteSizeLong();
      if (!out.empty() && bytes + size > max_bytes) break;
      bytes += size;
      out.push_back(std::move(*e));
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

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventStore::~EventStore() = default;

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& dir, StoreOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  if (impl->options.max_group == 0) impl->options.max_group = 1;

  std::error_code ec;
  if (!options.create_if_missing && !std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec))
    return Status::not_found("no workspace at " + dir);
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io("cannot create data folder " + dir + ": " + ec.message());
  }

  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.IncreaseParallelism(2);
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Errors only: RocksDB's warnings (an SST without a unique id, …) are noise to a CLI user.
  db_options.info_log = std::make_shared<RocksLogger>(rocksdb::InfoLogLevel::ERROR_LEVEL);
  db_options.keep_log_file_num = 3;
  // A WAL file lives until every column family holding data in it has flushed. The rarely
  // written families (snapshots, checkpoints, default) would pin every WAL file forever
  // (a 10 M-event log grew past 38 GB): past this total RocksDB flushes them.
  db_options.max_total_wal_size = 256ull << 20;

  rocksdb::ColumnFamilyOptions lookup;  // point lookups by id: a bloom filter skips misses
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  lookup.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  lookup.memtable_prefix_bloom_size_ratio = 0.1;  // new ids miss the memtable cheaply, too
  lookup.memtable_whole_key_filtering = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kEventsCf, rocksdb::ColumnFamilyOptions()},
      {kStreamsCf, rocksdb::ColumnFamilyOptions()},
      {kEventIdsCf, lookup},
      {kTimeCf, rocksdb::ColumnFamilyOptions()},
      {kSnapshotsCf, rocksdb::ColumnFamilyOptions()},
      {kCheckpointsCf, rocksdb::ColumnFamilyOptions()},
      {kOccurredCf, rocksdb::ColumnFamilyOptions()},
      {kLateCf, rocksdb::ColumnFamilyOptions()},
  };
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, dir, cfs, &impl->handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
      return Status::unavailable("data folder " + dir +
                                 " is in use by another leanos process (" + s.ToString() +
                                 "); stop that process, or talk to it with --server");
    return from_rocks(s, "opening data folder " + dir);
  }
  impl->db.reset(raw);
  impl->events = impl->handles[1];
  impl->streams = impl->handles[2];
  impl->event_ids = impl->handles[3];
  impl->time = impl->handles[4];
  impl->snapshots = impl->handles[5];
  impl->checkpoints = impl->handles[6];
  impl->occurred = impl->handles[7];
  impl->late = impl->handles[8];

  {
    std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(rocksdb::ReadOptions(), impl->events));
    it->SeekToLast();
    if (it->Valid()) {
      auto pos = decode_be64(it->key().ToStringView());
      if (!pos) return Status::corruption("the newest key of the event log is not a position");
      impl->last_position = *pos;
    }
    std::unique_ptr<rocksdb::Iterator> t(impl->db->NewIterator(rocksdb::ReadOptions(), impl->time));
    t->SeekToLast();
    if (t->Valid() && t->key().size() == 16)
      impl->last_recorded = static_cast<Micros>(get_be64(t->key().ToStringView()));
    std::unique_ptr<rocksdb::Iterator> o(impl->db->NewIterator(rocksdb::ReadOptions(), impl->occurred));
    o->SeekToLast();
    if (o->Valid() && o->key().size() == 16) impl->max_occurred = get_be64(o->key().ToStringView());
  }
  spdlog::debug("store: opened {} at position {}", dir, impl->last_position.load());
  impl->writer = std::thread([p = impl.get()] { p->writer_loop(); });
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

std::future<Result<AppendResult>> EventStore::append_async(const std::string& stream, ExpectedVersion expected,
                                                           std::vector<Envelope> events) {
  auto p = std::make_unique<Pending>();
  p->stream = stream;
  p->expected = expected;
  p->events = std::move(events);
  auto fut = p->done.get_future();
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) {
      p->done.set_value(Status::unavailable("the store is closing"));
      return fut;
    }
    impl_->queue.push_back(std::move(p));
    if (impl_->queue.size() != impl_->wanted) return fut;  // the writer is busy or still gathering
  }
  impl_->cv.notify_one();
  return fut;
}

Result<AppendResult> EventStore::append(const std::string& stream, ExpectedVersion expected,
                                        std::vector<Envelope> events) {
  return append_async(stream, expected, std::move(events)).get();
}

StoreStats EventStore::stats() const {
  return {impl_->stats_groups.load(std::memory_order_relaxed), impl_->stats_appends.load(std::memory_order_relaxed)};
}

std::uint64_t EventStore::wait_beyond(std::uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->committed_mu);
  impl_->committed_cv.wait_for(lock, timeout, [&] { return impl_->last_position.load() > position; });
  return impl_->last_position.load();
}

std::uint64_t EventStore::last_position() const { return impl_->last_position.load(std::memory_order_acquire); }

Result<std::uint64_t> EventStore::stream_version(const std::string& stream) const {
  return impl_->stored_version(stream);
}

Result<std::vector<Envelope>> EventStore::read_stream(const std::string& stream, std::uint64_t from_version,
                                                      Direction direction, std::size_t limit, std::size_t max_bytes) const {
  if (auto s = check_stream_name(stream); !s) return s;
  ReadView view(impl_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.options(), impl_->streams));
  const std::string prefix = name_prefix(stream);
  std::vector<std::uint64_t> positions;
  auto in_stream = [&] {
    if (!it->Valid()) return false;
    auto k = it->key().ToStringView();
    return k.size() == prefix.size() + 8 && k.substr(0, prefix.size()) == prefix;
  };
  if (direction == Direction::forward) {
    for (it->Seek(named_key(stream, from_version)); in_stream() && positions.size() < limit; it->Next()) {
      auto pos = decode_be64(it->value().ToStringView());
      if (!pos) return Status::corruption("stream index entry of '" + stream + "' is not a position");
      positions.push_back(*pos);
    }
  } else {
    const std::uint64_t from = from_version == 0 ? std::numeric_limits<std::uint64_t>::max() : from_version;
    for (it->SeekForPrev(named_key(stream, from)); in_stream() && positions.size() < limit; it->Prev()) {
      auto pos = decode_be64(it->value().ToStringView());
      if (!pos) return Status::corruption("stream index entry of '" + stream + "' is not a position");
      positions.push_back(*pos);
    }
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading stream " + stream);
  return impl_->load_many(positions, view.options(), max_bytes);
}

// Decodes the record stored at `position`; false when it is not that event.
static bool decodes(const char* data, std::size_t size, std::uint64_t position, Envelope& e) {
  return e.ParseFromArray(data, static_cast<int>(size)) && e.position() == position;
}

static Status undecodable(std::uint64_t position) {
  return Status::corruption("event at position " + std::to_string(position) +
                            " does not decode; run `leanos verify` for a full report");
}

Status EventStore::scan(std::uint64_t from, std::uint64_t to,
                        const std::function<bool(const Envelope&)>& fn) const {
  ReadView view(impl_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.options(), impl_->events));
  Envelope e;
  for (it->Seek(be64(std::max<std::uint64_t>(from, 1))); it->Valid(); it->Next()) {
    auto pos = decode_be64(it->key().ToStringView());
    if (!pos) return Status::corruption("a key of the event log is not a position");
    if (*pos > to) break;
    const auto value = it->value();
    if (!decodes(value.data(), value.size(), *pos, e)) return undecodable(*pos);
    if (!fn(e)) break;
  }
  return from_rocks(it->status(), "reading the event log");
}

Status EventStore::scan_pipelined(std::uint64_t from, std::uint64_t to,
                                  const std::function<bool(const Envelope&)>& fn) const {
  constexpr std::size_t kPage = 512, kPages = 4;
  // A page of events, decoded into its own arena (whose first block is the page's, so that
  // a reset frees nothing but long strings) by the reader, or handed over as raw records
  // for the caller's thread to decode: the reader decodes only while the caller has pages
  // waiting, so the decoding work flows to whichever thread has time for it.
  struct Page {
    std::vector<char> block = std::vector<char>(1 << 20);
    google::protobuf::Arena arena{[this] {
      google::protobuf::ArenaOptions o;
      o.initial_block = block.data();
      o.initial_block_size = block.size();
      return o;
    }()};
    std::vector<Envelope*> events;
    bool raw = false;
    std::string bytes;                                       // raw: the records, back to back
    std::vector<std::pair<std::uint64_t, std::size_t>> ends;  // raw: (position, end offset)

    Envelope* decode(const char* data, std::size_t size, std::uint64_t position) {
      auto* e = google::protobuf::Arena::CreateMessage<Envelope>(&arena);
      if (!decodes(data, size, position, *e)) return nullptr;
      events.push_back(e);
      return e;
    }
    void clear() {
      events.clear();
      bytes.clear();
      ends.clear();
      arena.Reset();
    }
  };
  std::vector<std::unique_ptr<Page>> pages;
  for (std::size_t i = 0; i < kPages; ++i) pages.push_back(std::make_unique<Page>());
  std::mutex mu;
  std::condition_variable changed;
  std::deque<Page*> free_pages, full_pages;
  for (auto& p : pages) free_pages.push_back(p.get());
  bool reader_done = false, consumer_done = false;
  Status read_status;

  std::thread reader([&] {
    ReadView view(impl_->db.get());
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.long_scan(), impl_->events));
    Page* page = nullptr;
    auto hand_over = [&] {
      std::lock_guard lock(mu);
      full_pages.push_back(page);
      page = nullptr;
      changed.notify_all();
    };
    for (it->Seek(be64(std::max<std::uint64_t>(from, 1))); it->Valid(); it->Next()) {
      auto pos = decode_be64(it->key().ToStringView());
      if (!pos) {
        read_status = Status::corruption("a key of the event log is not a position");
        break;
      }
      if (*pos > to) break;
      if (page == nullptr) {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] { return consumer_done || !free_pages.empty(); });
        if (consumer_done) break;
        page = free_pages.front();
        free_pages.pop_front();
        const bool caller_busy = full_pages.size() > 1;  // beyond the page just handed over
        lock.unlock();
        page->clear();  // every allocation and free of the arena's strings on this thread
        page->raw = !caller_busy;
      }
      const auto value = it->value();
      if (page->raw) {
        page->bytes.append(value.data(), value.size());
        page->ends.emplace_back(*pos, page->bytes.size());
        if (page->ends.size() == kPage) hand_over();
        continue;
      }
      if (page->decode(value.data(), value.size(), *pos) == nullptr) {
        read_status = undecodable(*pos);
        break;
      }
      if (page->events.size() == kPage) hand_over();
    }
    if (read_status.is_ok()) read_status = from_rocks(it->status(), "reading the event log");
    if (page != nullptr) hand_over();
    std::lock_guard lock(mu);
    reader_done = true;
    changed.notify_all();
  });

  bool stopped = false;
  Status decode_status;
  for (;;) {
    Page* page = nullptr;
    {
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return reader_done || !full_pages.empty(); });
      if (full_pages.empty()) break;
      page = full_pages.front();
      full_pages.pop_front();
    }
    if (page->raw) {
      std::size_t begin = 0;
      for (const auto& [position, end] : page->ends) {
        const Envelope* e = page->decode(page->bytes.data() + begin, end - begin, position);
        begin = end;
        if (e == nullptr) {
          decode_status = undecodable(position);
          stopped = true;
          break;
        }
        if (!fn(*e)) {
          stopped = true;
          break;
        }
      }
    } else {
      for (const auto* e : page->events)
        if (!fn(*e)) {
          stopped = true;
          break;
        }
    }
    std::lock_guard lock(mu);
    free_pages.push_back(page);
    if (stopped) consumer_done = true;
    changed.notify_all();
    if (stopped) break;
  }
  reader.join();
  // A corrupt record stops the scan there: the events before it were folded, as with scan().
  if (!decode_status.is_ok()) return decode_status;
  return read_status;
}

Status EventStore::compact() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* h : impl_->handles)
    if (auto s = impl_->db->CompactRange(options, h, nullptr, nullptr); !s.ok()) return from_rocks(s, "compacting");
  return Status::success();
}

Status EventStore::compact_snapshots() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  if (auto s = impl_->db->CompactRange(options, impl_->snapshots, nullptr, nullptr); !s.ok()) return from_rocks(s, "compacting snapshots");
  return Status::success();
}

Result<std::vector<Envelope>> EventStore::read_all(std::uint64_t from_position, std::size_t limit,
                                                   std::size_t max_bytes) const {
  std::vector<Envelope> out;
  if (limit == 0) return out;
  std::size_t bytes = 0;
  auto s = scan(from_position, std::numeric_limits<std::uint64_t>::max(), [&](const Envelope& e) {
    const std::size_t size = e.ByteSizeLong();
    if (!out.empty() && bytes + size > max_bytes) return false;
    bytes += size;
    out.push_back(e);
    return out.size() < limit;
  });
  if (!s) return s;
  return out;
}

Result<std::vector<Envelope>> EventStore::read_recorded_between(Micros from, Micros to, std::size_t limit) const {
  ReadView view(impl_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(view.options(), impl_->time));
  std::vector<std::uint64_t> positions;
  for (it->Seek(time_key(static_cast<std::uint64_t>(std::max<Micros>(from, 0)), 0));
       it->Valid() && positions.size() < limit; it->Next()) {
    auto k = it->key().ToStringView();
    auto last = decode_be64(it->value().ToStringView());
    if (k.size() != 16 || !last) return Status::corruption("a time index entry is malformed");
    if (static_cast<Micros>(get_be64(k)) > to) break;
    for (std::uint64_t p = get_be64(k.substr(8)); p <= *last && positions.size() < limit; ++p) positions.push_back(p);
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the time index");
  return impl_->load_many(positions, view.options());
}

Result<std::uint64_t> EventStore::occurred_prefix(Micros t) const {
  // The first event that raised the running max past t ends the prefix.
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->occurred));
  const auto bound = static_cast<std::uint64_t>(std::max<Micros>(t, -1) + 1);
  it->Seek(time_key(bound, 0));
  if (!it->status().ok()) return from_rocks(it->status(), "reading the occurred index");
  if (!it->Valid()) return last_position();
  if (it->key().size() != 16) return Status::corruption("an occurred index key is not 16 bytes");
  return get_be64(it->key().ToStringView().substr(8)) - 1;
}

Result<std::vector<EventStore::Late>> EventStore::late_events(Micros occurred_after, Micros occurred_until, std::uint64_t after,
                                                             std::uint64_t last) const {
  std::vector<Late> out;
  if (occurred_until < 0 || occurred_until <= occurred_after || last <= after) return out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->late));
  it->Seek(time_key(static_cast<std::uint64_t>(std::max<Micros>(occurred_after, -1) + 1), 0));
  for (; it->Valid(); it->Next()) {
    auto k = it->key().ToStringView();
    if (k.size() != 16) return Status::corruption("a late index key is not 16 bytes");
    const auto occurred = static_cast<Micros>(get_be64(k));
    if (occurred > occurred_until) break;
    if (const auto pos = get_be64(k.substr(8)); pos > after && pos <= last) out.push_back({occurred, pos});
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the late index");
  return out;  // keys sort by (occurred_at, position)
}

Result<std::uint64_t> EventStore::recorded_prefix(Micros t) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->time));
  it->Seek(time_key(static_cast<std::uint64_t>(std::max<Micros>(t, -1) + 1), 0));
  if (!it->status().ok()) return from_rocks(it->status(), "reading the time index");
  if (!it->Valid()) return last_position();
  if (it->key().size() != 16) return Status::corruption("a time index key is not 16 bytes");
  return get_be64(it->key().ToStringView().substr(8)) - 1;
}

Result<Envelope> EventStore::read_event(std::uint64_t position) const { return impl_->load(position); }

Result<std::optional<std::uint64_t>> EventStore::find_event_id(const std::string& event_id) const {
  return impl_->position_of_id(event_id);
}

VerifyReport EventStore::verify() const {
  VerifyReport report;
  auto& db = *impl_->db;
  ReadView view(&db);
  auto problem = [&](std::uint64_t pos, std::string what) { report.problems.push_back({pos, std::move(what)}); };

  if (auto s = db.VerifyChecksum(); !s.ok()) problem(0, "RocksDB block checksums: " + s.ToString());

  // 1. The log: dense positions, every record decodes and is indexed.
  std::uint64_t expected = 1;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(view.options(), impl_->events));
  Envelope e;
  std::string value;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto pos = decode_be64(it->key().ToStringView());
    if (!pos) {
      problem(0, "a key of the event log is " + std::to_string(it->key().size()) + " bytes, not a position");
      continue;
    }
    if (*pos != expected)
      problem(expected, "gap in the log: positions " + std::to_string(expected) + ".." + std::to_string(*pos - 1) + " are missing");
    expected = *pos + 1;
    ++report.events;
    report.last_position = *pos;
    const auto v = it->value();
    if (!e.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      problem(*pos, "record does not decode as an event (" + std::to_string(v.size()) + " bytes)");
      continue;
    }
    if (e.position() != *pos || e.version() == 0 || !check_stream_name(e.stream()).is_ok()) {
      if (e.position() != *pos)
        problem(*pos, "record claims position " + std::to_string(e.position()));
      else if (e.version() == 0)
        problem(*pos, "record has no stream version");
      else
        problem(*pos, "record has an invalid stream name");
      continue;
    }
    auto s = db.Get(view.options(), impl_->streams, named_key(e.stream(), e.version()), &value);
    if (!s.ok() || decode_be64(value) != *pos)
      problem(*pos, "stream index has no entry " + e.stream() + "@" + std::to_string(e.version()) + " for it");
    s = db.Get(view.options(), impl_->event_ids, e.event_id(), &value);
    if (!s.ok() || decode_be64(value) != *pos)
      problem(*pos, "event id index has no entry for its id " + e.event_id());
  }
  if (!it->status().ok()) problem(0, "reading the log: " + it->status().ToString());

  // 2. The stream index: every entry points at the event it names, versions dense.
  std::unique_ptr<rocksdb::Iterator> st(db.NewIterator(view.options(), impl_->streams));
  std::string current;
  std::uint64_t next_version = 1;
  for (st->SeekToFirst(); st->Valid(); st->Next()) {
    auto k = st->key().ToStringView();
    if (k.size() < 10 || k[k.size() - 9] != '\0') {
      problem(0, "malformed stream index key");
      continue;
    }
    std::string stream(k.substr(0, k.size() - 9));
    const auto version = get_be64(k.substr(k.size() - 8));
    if (stream != current) {
      current = stream;
      next_version = 1;
      ++report.streams;
    }
    auto pos = decode_be64(st->value().ToStringView());
    if (version != next_version)
      problem(pos.value_or(0), "stream " + stream + " jumps from version " + std::to_string(next_version - 1) +
                                   " to " + std::to_string(version));
    next_version = version + 1;
    if (!pos) {
      problem(0, "stream index entry " + stream + "@" + std::to_string(version) + " is not a position");
      continue;
    }
    auto ev = impl_->load(*pos, view.options());
    if (!ev) {
      if (ev.status().code() == Code::not_found)
        problem(*pos, "stream index entry " + stream + "@" + std::to_string(version) + " points nowhere");
      continue;  // undecodable records are reported by the log walk
    }
    if (ev->stream() != stream || ev->version() != version)
      problem(*pos, "stream index entry " + stream + "@" + std::to_string(version) + " points at " +
                        ev->stream() + "@" + std::to_string(ev->version()));
  }

  // 3. The id index: every entry points at an event with that id.
  std::unique_ptr<rocksdb::Iterator> ids(db.NewIterator(view.options(), impl_->event_ids));
  for (ids->SeekToFirst(); ids->Valid(); ids->Next()) {
    const std::string id = ids->key().ToString();
    auto pos = decode_be64(ids->value().ToStringView());
    if (!pos) {
      problem(0, "event id index entry " + id + " is not a position");
      continue;
    }
    auto ev = impl_->load(*pos, view.options());
    if (!ev) {
      if (ev.status().code() == Code::not_found) problem(*pos, "event id index entry " + id + " points nowhere");
      continue;
    }
    if (ev->event_id() != id) problem(*pos, "event id index entry " + id + " points at event " + ev->event_id());
  }
  std::sort(report.problems.begin(), report.problems.end(),
            [](const VerifyProblem& a, const VerifyProblem& b) { return a.position < b.position; });
  return report;
}

Status EventStore::backup(const std::string& dest_dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  auto s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return from_rocks(s, "preparing a backup");
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  std::error_code ec;
  const auto abs = std::filesystem::absolute(dest_dir, ec).string();
  if (std::filesystem::exists(abs, ec))
    return Status::invalid("backup folder " + abs + " already exists; name a folder that does not");
  return from_rocks(cp->CreateCheckpoint(abs), "creating backup in " + abs);
}

Status EventStore::put_snapshot(const std::string& name, std::uint64_t position, const std::string& state) {
  rocksdb::WriteOptions wo;  // a lost snapshot is rebuilt from the log: no sync needed
  rocksdb::WriteBatch batch;
  batch.Put(impl_->snapshots, named_key(name, position), state);
  return impl_->write(wo, batch, "writing snapshot " + name);
}

Result<std::optional<std::pair<std::uint64_t, std::string>>> EventStore::snapshot_at_or_before(
    const std::string& name, std::uint64_t position) const {
  using Found = std::optional<std::pair<std::uint64_t, std::string>>;
  // Bounded to this name's keys: unbounded, the seek could step into the next name's first
  // block, which may hold a snapshot of tens of MB that RocksDB would read and decompress.
  const std::string prefix = name_prefix(name);
  std::string upper(name);
  upper.push_back('\x01');
  rocksdb::Slice lower_bound(prefix), upper_bound(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_bound;
  ro.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->snapshots));
  it->SeekForPrev(named_key(name, position));
  if (!it->Valid()) {
    if (!it->status().ok()) return from_rocks(it->status(), "reading snapshots");
    return Found{};
  }
  auto k = it->key().ToStringView();
  if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix) return Found{};
  return Found{std::make_pair(get_be64(k.substr(prefix.size())), it->value().ToString())};
}

Status EventStore::save_checkpoint(const std::string& subscriber, std::uint64_t position) {
  rocksdb::WriteOptions wo;
  wo.sync = impl_->options.durability == Durability::sync;
  rocksdb::WriteBatch batch;
  batch.Put(impl_->checkpoints, subscriber, be64(position));
  return impl_->write(wo, batch, "saving checkpoint " + subscriber);
}

Result<std::uint64_t> EventStore::load_checkpoint(const std::string& subscriber) const {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->checkpoints, subscriber, &value);
  if (s.IsNotFound()) return std::uint64_t{0};
  if (!s.ok()) return from_rocks(s, "reading checkpoint " + subscriber);
  auto pos = decode_be64(value);
  if (!pos) return Status::corruption("checkpoint of " + subscriber + " is not a position");
  return *pos;
}

const std::string& EventStore::dir() const { return impl_->dir; }

}  // namespace leanos::store
