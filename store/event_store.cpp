#include "store/event_store_impl.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

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
  if (e.has_sealed())
    return Status::invalid("event " + id + " carries sealed fields: the store seals personal fields itself; send them as "
                           "plain text in their own fields");
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


// ---- Open and the write path -----------------------------------------------------------

namespace {

// Where a record without the writer's fields (see Pending::bodies) takes recorded_at: after
// its leading event_id and type, the only fields numbered below it that the body holds.
std::size_t record_split(const std::string& body) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(body.data()), static_cast<int>(body.size()));
  for (;;) {
    const auto at = static_cast<std::size_t>(in.CurrentPosition());
    const auto tag = in.ReadTag();
    if (tag == 0 || google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag) > Envelope::kTypeFieldNumber ||
        !google::protobuf::internal::WireFormatLite::SkipField(&in, tag))
      return at;
  }
}

// The record of `e` as SerializeToString writes it (fields in number order), from its body:
// position, stream and version, then the body's event_id and type, recorded_at (and
// occurred_at when the writer filled it in), then the rest of the body.
void compose_record(const Envelope& e, const std::string& body, std::size_t split, bool occurred_given, std::string& out) {
  Envelope head, times;
  head.set_position(e.position());
  head.set_stream(e.stream());
  head.set_version(e.version());
  *times.mutable_recorded_at() = e.recorded_at();
  if (!occurred_given) *times.mutable_occurred_at() = e.occurred_at();
  out.clear();
  head.AppendToString(&out);
  out.append(body, 0, split);
  times.AppendToString(&out);
  out.append(body, split, std::string::npos);
}

}  // namespace

void EventStore::Impl::writer_loop() {
  std::vector<std::shared_ptr<Pending>> group;
  for (;;) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !committing && (stopping || !queue.empty()); });
      if (queue.empty()) return;  // stopping and drained
      // Commit siblings: the appenders of the last group come back one by one after
      // their acknowledgement. Give them a moment to join rather than paying an fsync
      // for the first alone. A lone appender (a last group of 1) never waits.
      if (last_group > 1 && queue.size() < last_group && options.group_wait_micros > 0) {
        wanted = last_group;
        cv.wait_for(lock, std::chrono::microseconds(options.group_wait_micros),
                    [&] { return stopping || queue.size() >= last_group; });
        wanted = 1;
      }
      const std::size_t n = std::min(queue.size(), options.max_group);
      for (std::size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      committing = true;
      last_group = group.size();
    }
    commit(group);
    group.clear();
    std::lock_guard lock(mu);
    committing = false;
  }
}

void EventStore::Impl::answer_loop() {
  std::vector<std::pair<EventStore::AppendDone, Result<AppendResult>>> batch;
  for (;;) {
    {
      std::unique_lock lock(answers_mu);
      answers_cv.wait(lock, [&] { return answers_stopping || !answers.empty(); });
      if (answers.empty()) return;  // stopping, and every answer given
      batch.swap(answers);
    }
    for (auto& [done, result] : batch) done(std::move(result));
    batch.clear();
  }
}

bool EventStore::Impl::commit(std::vector<std::shared_ptr<Pending>>& group) {
  // What the groups before this one wrote is on disk: the writer's memory of streams can go.
  if (versions.size() > options.stream_cache_entries) versions.clear();
  bool wrote = false;
  if (stream_subjects.size() > options.stream_cache_entries) stream_subjects.clear();
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
  // recorded_at of every event the group writes, in position order: the time index holds one
  // entry per run of positions recorded at one time (one per group unless replicas came).
  std::vector<std::pair<Micros, std::uint64_t>> recorded_runs;  // (recorded_at, first position)
  Micros recorded_floor = last_recorded;

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
    // Every record is read back before any of this append enters the batch: the store
    // never writes what it could not read (the last line of defence behind check_storable).
    // An append's bodies were read back by its appender (prepare); a replica's records, or
    // an event sealed anew here, are encoded and read back here.
    std::uint64_t version = outcome->stream_version;
    std::uint64_t at = position;
    records.clear();
    Status unreadable;  // why this append is refused, if it is
    Micros replica_floor = recorded_floor;
    for (auto& e : p.events) {
      bool occurred_given = true;
      if (p.replica) {
        if (auto s = check_replica(e, at, version, replica_floor); !s) {
          unreadable = s;
          break;
        }
        replica_floor = from_timestamp(e.recorded_at());
        ++at, ++version;
      } else if (options.max_occurred_ahead_micros >= 0 && e.has_occurred_at() &&
          from_timestamp(e.occurred_at()) > now + options.max_occurred_ahead_micros) {
        unreadable = Status::invalid("event " + e.event_id() + " occurred at " + format_time(from_timestamp(e.occurred_at())) +
                                     ", after it is recorded (" + format_time(now) +
                                     "): nothing can be recorded before it happens; date it now or earlier");
        break;
      }
      if (!p.replica) {
        e.set_position(++at);
        e.set_version(++version);
        e.set_stream(p.stream);
        to_timestamp(now, e.mutable_recorded_at());
        occurred_given = e.has_occurred_at();
        if (!occurred_given) to_timestamp(now, e.mutable_occurred_at());
      }
      // Sealed by its appender under the subject of the stream's first event as it saw it:
      // the stream's history decides now (two first appends may have raced).
      if (const auto& assumed = p.assumed[static_cast<std::size_t>(at - position - 1)]; !assumed.empty()) {
        auto actual = stream_subject(p.stream, e.version());
        if (!actual) {
          unreadable = actual.status();
          break;
        }
        if (*actual != assumed) {
          if (unreadable = vault->reseal(e, *actual, p.key_puts); !unreadable) break;
          if (const auto i = static_cast<std::size_t>(at - position - 1); i < p.bodies.size()) p.bodies[i].clear();  // encoded below
        }
      }
      if (e.version() == 1) stream_subjects[p.stream] = e.has_sealed() ? e.sealed().subject() : std::string();
      records.emplace_back();
      if (const auto i = static_cast<std::size_t>(at - position - 1); i < p.bodies.size() && !p.bodies[i].empty()) {
        compose_record(e, p.bodies[i], p.splits[i], occurred_given, records.back());
      } else {  // a replica, or resealed above
        e.SerializeToString(&records.back());
        if (!check.ParseFromString(records.back()) || check.position() != at) {
          unreadable = Status::invalid("event " + e.event_id() + " does not read back after encoding; nothing was written");
          break;
        }
      }
    }
    if (unreadable.is_ok() && !p.forget_hash.empty()) unreadable = vault->erase(p.forget_hash, batch);
    if (!unreadable.is_ok()) {
      results[g] = unreadable;
      continue;
    }
    vault->write_keys(p.key_puts, batch);
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
        batch.Put(late_positions, be64(position), be64(occ));
      }
      const Micros recorded = p.replica ? from_timestamp(e.recorded_at()) : now;
      if (recorded_runs.empty() || recorded_runs.back().first != recorded) recorded_runs.emplace_back(recorded, position);
      recorded_floor = std::max(recorded_floor, recorded);
      const std::string pos_key = be64(position);
      batch.Put(events, pos_key, records[i]);
      batch.Put(streams, named_key(p.stream, e.version()), pos_key);
      batch.Put(event_ids, e.event_id(), pos_key);
      tentative_ids[e.event_id()] = position;
      r.positions.push_back(position);
      r.versions.push_back(e.version());
      r.recorded_at.push_back(recorded);
    }
    r.stream_version = version;
    tentative_versions[p.stream] = version;
    results[g] = std::move(r);
    writes[g] = true;
  }

  if (batch.Count() > 0) {
    // One time-index entry per run of events recorded at one time: per group, as every event
    // of a group shares recorded_at, unless it holds replicas.
    for (std::size_t r = 0; r < recorded_runs.size(); ++r)
      batch.Put(time, time_key(static_cast<std::uint64_t>(recorded_runs[r].first), recorded_runs[r].second),
                be64(r + 1 < recorded_runs.size() ? recorded_runs[r + 1].second - 1 : position));
    rocksdb::WriteOptions wo;
    wo.sync = options.durability == Durability::sync;
    if (auto failed = write(wo, batch, "writing a group of appends"); !failed) {
      for (std::size_t g = 0; g < group.size(); ++g)
        if (writes[g]) results[g] = failed;
      vault->failed();
    } else {
      std::vector<Vault::KeyPut> written;
      for (std::size_t g = 0; g < group.size(); ++g)
        if (writes[g]) written.insert(written.end(), group[g]->key_puts.begin(), group[g]->key_puts.end());
      vault->committed(written);
      for (auto& [stream, v] : tentative_versions) versions[stream] = v;
      stats_groups.fetch_add(1, std::memory_order_relaxed);
      wrote = true;
      stats_appends.fetch_add(std::count(writes.begin(), writes.end(), true), std::memory_order_relaxed);
      stats_cached_streams.store(std::max(versions.size(), stream_subjects.size()), std::memory_order_relaxed);
      last_recorded = recorded_floor;  // now, unless the group held replicas only
      max_occurred = running_max;
      {
        std::lock_guard lock(committed_mu);
        last_position.store(position, std::memory_order_release);
      }
      committed_cv.notify_all();
    }
  }
  // Each answered, the writer lets go of it at once: its appender, woken by the answer, is
  // then the one that frees its events (EventStore::append holds a share). The functions of
  // append_then go to the answerer when other appends wait for the writer.
  bool busy;
  {
    std::lock_guard lock(mu);
    busy = !queue.empty();
  }
  std::vector<std::pair<EventStore::AppendDone, Result<AppendResult>>> handed;
  for (std::size_t g = 0; g < group.size(); ++g) {
    auto p = std::exchange(group[g], nullptr);
    if (busy && p->then) handed.emplace_back(std::move(p->then), std::move(*results[g]));
    else p->finish(std::move(*results[g]));
  }
  if (!handed.empty()) {
    {
      std::lock_guard lock(answers_mu);
      if (answers.empty()) answers = std::move(handed);
      else std::move(handed.begin(), handed.end(), std::back_inserter(answers));
    }
    answers_cv.notify_one();
  }
  return wrote;
}

Result<AppendResult> EventStore::Impl::validate(Pending& p, const std::unordered_map<std::string, std::uint64_t>& tentative_versions,
                                const std::unordered_map<std::string, std::uint64_t>& tentative_ids) {
  if (auto s = check_stream_name(p.stream); !s) return s;
  if (p.events.empty()) return Status::invalid("an append needs at least one event");
  if (vault->locked())
    return Status(Code::read_only, "the workspace is locked, nothing can be recorded: " + vault->locked_reason());
  if (!p.prepared) return Status::invalid("an append that was not prepared");  // every path calls prepare()
  std::unordered_set<std::string> ids;
  for (auto& e : p.events) {
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
      if (auto opened = vault->unseal(candidate); !opened) return opened;
      if (!same_content(*stored, candidate))
        return Status::exists("event id " + p.events[i].event_id() + " is already stored at position " +
                              std::to_string(known[i]) + " with different content; use a new event id");
      r.positions.push_back(known[i]);
      r.versions.push_back(stored->version());
      r.recorded_at.push_back(from_timestamp(stored->recorded_at()));
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

namespace {

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

}  // namespace

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
  // Every table file is opened at open; RocksDB's default starts 16 threads for it, which cost
  // a CLI command more than the opening itself (36 of 70 ms for a store of ten files).
  db_options.max_file_opening_threads = 1;
  // A WAL file lives until every column family holding data in it has flushed. The rarely
  // written families (snapshots, checkpoints, default) would pin every WAL file forever
  // (a 10 M-event log grew past 38 GB): past this total RocksDB flushes them.
  db_options.max_total_wal_size = 256ull << 20;

  rocksdb::ColumnFamilyOptions lookup;  // point lookups by id: a bloom filter skips misses
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  lookup.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // New ids miss the memtable cheaply, too. The filter is allocated and zeroed whole when a
  // memtable is made, at every open: 1.5 % of the 64 MB write buffer is ~10 bits per id of a
  // full memtable (under 1 % false positives); 10 % took 13 MB of memset, a third of a
  // read-only command's time to open the store.
  lookup.memtable_prefix_bloom_size_ratio = 0.015;
  lookup.memtable_whole_key_filtering = true;

  // Snapshots are large values (a core snapshot of a 1 M-event history is ~450 KB, a full one
  // tens of MB) found by SeekForPrev. Stored inline, every level's candidate block, the one
  // after the key included, was read and decompressed on each lookup: most of an as-of
  // query's time. In blob files (RocksDB's integrated BlobDB) the LSM holds small references,
  // and only the snapshot found is read; garbage collection reclaims replaced ones.
  rocksdb::ColumnFamilyOptions snapshots;
  snapshots.enable_blob_files = true;
  snapshots.min_blob_size = 4096;
  snapshots.blob_compression_type = rocksdb::kLZ4Compression;
  snapshots.enable_blob_garbage_collection = true;

  // Data keys, wrapped: looked up by subject (a bloom filter skips a new subject's miss), and
  // uncompressed, so that a byte scan of the folder can prove one gone.
  rocksdb::ColumnFamilyOptions keys = lookup;
  keys.compression = rocksdb::kNoCompression;
  keys.bottommost_compression = rocksdb::kNoCompression;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kEventsCf, rocksdb::ColumnFamilyOptions()},
      {kStreamsCf, lookup},  // scanned by range, and asked whether a stream exists
      {kEventIdsCf, lookup},
      {kTimeCf, rocksdb::ColumnFamilyOptions()},
      {kSnapshotsCf, snapshots},
      {kCheckpointsCf, rocksdb::ColumnFamilyOptions()},
      {kOccurredCf, rocksdb::ColumnFamilyOptions()},
      {kLateCf, rocksdb::ColumnFamilyOptions()},
      {kLatePositionsCf, rocksdb::ColumnFamilyOptions()},
      {kKeysCf, keys},
  };
  // After a failed write RocksDB resumes only once the disk has room to flush a memtable
  // (it reserves the largest write buffer): what the error tells a user to free.
  for (const auto& cf : cfs) impl->resume_reserve_bytes = std::max<std::uint64_t>(impl->resume_reserve_bytes, cf.options.write_buffer_size);
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
  impl->late_positions = impl->handles[9];
  impl->keys = impl->handles[10];
  if (auto s = impl->index_late_positions(); !s) return s;
  const std::string key_file =
      options.master_key_file.empty() ? default_master_key_file(dir) : options.master_key_file;
  impl->vault = std::make_unique<Vault>(impl->db.get(), impl->keys, key_file);
  if (auto s = impl->vault->open(); !s) return s;
  if (impl->vault->locked()) spdlog::warn("store: {} is locked: {}", dir, impl->vault->locked_reason());
  if (auto s = impl->reapply_forgotten(); !s) return s;
  if (auto s = impl->seal_legacy(); !s) return s;

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
  impl->answerer = std::thread([p = impl.get()] { p->answer_loop(); });
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

void EventStore::Impl::submit(std::shared_ptr<Pending> p) {
  if (auto s = prepare(*p); !s) return p->finish(s);
  {
    std::unique_lock lock(mu);
    if (stopping) return p->finish(Status::unavailable("the store is closing"));
    if (p->caller_waits && !committing && queue.empty() && last_group <= 1) {
      // Nothing to group it with, nobody committing, and the last group was one append
      // alone: the caller commits its append itself (as RocksDB's write-group leader does)
      // instead of waking the writer and being woken by it — two hand-offs of a lone
      // append. Whoever appends meanwhile is queued for the writer, woken when this commit
      // is done. After a larger group the writer gathers its appenders again instead.
      committing = true;
      lock.unlock();
      std::vector<std::shared_ptr<Pending>> group{std::move(p)};
      if (commit(group)) stats_own_groups.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      committing = false;
      if (queue.empty() && !stopping) return;  // the writer has nothing to do
    } else {
      queue.push_back(std::move(p));
      // Whoever is committing wakes the writer when done (the writer itself simply goes on);
      // otherwise the writer is woken when the group it gathers is complete.
      if (committing || queue.size() != wanted) return;
    }
  }
  cv.notify_one();
}

namespace {
std::shared_ptr<Pending> new_append(const std::string& stream, ExpectedVersion expected, std::vector<Envelope> events) {
  auto p = std::make_shared<Pending>();
  p->stream = stream;
  p->expected = expected;
  p->events = std::move(events);
  return p;
}
}  // namespace

std::future<Result<AppendResult>> EventStore::append_async(const std::string& stream, ExpectedVersion expected,
                                                           std::vector<Envelope> events) {
  auto p = new_append(stream, expected, std::move(events));
  auto fut = p->done.get_future();
  impl_->submit(std::move(p));
  return fut;
}

void EventStore::append_then(const std::string& stream, ExpectedVersion expected, std::vector<Envelope> events,
                             AppendDone done) {
  auto p = new_append(stream, expected, std::move(events));
  p->then = std::move(done);
  impl_->submit(std::move(p));
}

Result<AppendResult> EventStore::append(const std::string& stream, ExpectedVersion expected,
                                        std::vector<Envelope> events) {
  // The appender keeps its share of the append: the events are freed on this thread once the
  // writer lets go, not by the writer between two group commits.
  auto p = new_append(stream, expected, std::move(events));
  p->caller_waits = true;
  auto fut = p->done.get_future();
  impl_->submit(p);
  return fut.get();
}

Status EventStore::Impl::check_replica(const Envelope& e, std::uint64_t at, std::uint64_t version, Micros floor) const {
  const std::string which = "event " + e.event_id() + " (position " + std::to_string(e.position()) + " of the copy)";
  if (e.position() != at + 1)
    return Status::invalid(which + " would be position " + std::to_string(at + 1) +
                           " here: a copy is replicated whole, in position order, into a log that ends where it starts");
  if (e.version() != version + 1)
    return Status::invalid(which + " is version " + std::to_string(e.version()) + " of stream '" + e.stream() +
                           "', which holds " + std::to_string(version) + " events here; expected version " +
                           std::to_string(version + 1));
  if (!e.has_recorded_at() || !e.has_occurred_at())
    return Status::invalid(which + " has no recorded_at or occurred_at: a copy keeps both");
  if (from_timestamp(e.recorded_at()) < floor)
    return Status::invalid(which + " was recorded at " + format_time(from_timestamp(e.recorded_at())) +
                           ", before the event ahead of it (" + format_time(floor) + "): recorded times never go back");
  return Status::success();
}

Result<AppendResult> EventStore::replicate(std::vector<Envelope> events) {
  std::vector<std::pair<std::string, Micros>> forgotten;  // (subject hash, when)
  for (const auto& e : events) {  // before any run is queued: nothing of a refused copy is written
    if (e.event_id().empty()) return Status::invalid("a replicated event has no event id (position " + std::to_string(e.position()) + ")");
    if (e.has_subject_forgotten()) {
      auto hash = subject_hash_from_hex(e.subject_forgotten().subject_hash());
      if (!hash)
        return Status::invalid("event " + e.event_id() + " (position " + std::to_string(e.position()) +
                               ") forgets subject '" + e.subject_forgotten().subject_hash() + "', which is no subject hash (32 hex digits)");
      forgotten.emplace_back(std::move(*hash), from_timestamp(e.recorded_at()));
    }
  }
  // Forgotten here too, listed first: a crash before the erasure below re-applies it at open.
  if (!impl_->vault->locked())
    for (const auto& [hash, at] : forgotten)
      if (auto s = record_forgotten(impl_->vault->key_file(), hash, at); !s) return s;
  std::vector<std::future<Result<AppendResult>>> runs;
  for (std::size_t i = 0; i < events.size();) {
    std::size_t j = i + 1;
    while (j < events.size() && events[j].stream() == events[i].stream() && events[j].position() == events[j - 1].position() + 1)
      ++j;
    auto p = std::make_shared<Pending>();
    p->stream = events[i].stream();
    p->replica = true;
    p->expected = ExpectedVersion::any();  // check_replica checks positions, then versions
    p->events.assign(std::make_move_iterator(events.begin() + static_cast<std::ptrdiff_t>(i)),
                     std::make_move_iterator(events.begin() + static_cast<std::ptrdiff_t>(j)));
    runs.push_back(p->done.get_future());
    impl_->submit(std::move(p));
    i = j;
  }
  AppendResult all;
  Status first_error;  // success until a run fails; the runs after it fail too (wrong position)
  for (auto& f : runs) {
    auto r = f.get();
    if (!r.is_ok() && first_error.is_ok()) first_error = r.status();
    if (r.is_ok() && first_error.is_ok()) all.positions.insert(all.positions.end(), r->positions.begin(), r->positions.end());
  }
  if (!first_error.is_ok()) return first_error;
  if (!forgotten.empty())
    if (auto s = impl_->reapply_forgotten(); !s) return s;
  return all;
}

StoreStats EventStore::stats() const {
  StoreStats s;
  s.groups = impl_->stats_groups.load(std::memory_order_relaxed);
  s.appends = impl_->stats_appends.load(std::memory_order_relaxed);
  s.own_groups = impl_->stats_own_groups.load(std::memory_order_relaxed);
  s.cached_streams = impl_->stats_cached_streams.load(std::memory_order_relaxed);
  return s;
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

Result<std::vector<std::string>> EventStore::stream_names(std::string_view prefix, std::size_t limit) const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->streams));
  // Keys are name 0x00 be64(version): one seek per stream, past its versions.
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid() && out.size() < limit;) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    const auto end = key.find('\0');
    if (end == std::string_view::npos) break;
    out.emplace_back(key.substr(0, end));
    std::string next(key.substr(0, end));
    next.push_back('\1');
    it->Seek(next);
  }
  if (!it->status().ok()) return from_rocks(it->status(), "listing streams");
  return out;
}

const std::string& EventStore::dir() const { return impl_->dir; }

// ---- Personal data ------------------------------------------------------------------------

Result<std::string> EventStore::Impl::stream_subject(const std::string& stream, std::uint64_t version) {
  std::string hash;
  if (auto it = stream_subjects.find(stream); it != stream_subjects.end()) {
    hash = it->second;
  } else if (version > 1) {
    std::string pos, value;
    auto s = db->Get(rocksdb::ReadOptions(), streams, named_key(stream, 1), &pos);
    if (s.ok()) s = db->Get(rocksdb::ReadOptions(), events, pos, &value);
    if (!s.ok()) return from_rocks(s, "reading the first event of " + stream);
    Envelope first;
    if (!first.ParseFromString(value)) return Status::corruption("the first event of " + stream + " does not decode");
    hash = stream_subjects[stream] = first.has_sealed() ? first.sealed().subject() : std::string();
  }
  if (!hash.empty()) return hash;
  return vault->stream_hash(stream);
}

Status EventStore::Impl::prepare(Pending& p) {
  if (auto s = check_stream_name(p.stream); !s) return s;
  for (auto& e : p.events) {
    if (e.event_id().empty()) e.set_event_id(new_event_id());
    if (p.replica && e.has_sealed()) {  // a copy sealed where it was recorded: stored as it is
      v1::Sealed seal = std::move(*e.mutable_sealed());
      e.clear_sealed();
      auto s = check_storable(e);
      *e.mutable_sealed() = std::move(seal);
      if (!s) return s;
      if (auto c = vault->check_sealed(e); !c) return c;
    } else if (auto s = check_storable(e); !s) {
      return s;
    }
  }
  p.assumed.assign(p.events.size(), std::string());
  if (!vault->locked())  // locked, validate() refuses the append whole
    for (std::size_t i = 0; i < p.events.size(); ++i)
      if (!p.events[i].has_sealed())
        if (auto s = vault->seal(p.events[i], [&] { return first_subject(p, i); }, p.key_puts, &p.assumed[i]); !s) return s;
  if (!p.replica) {
    p.bodies.resize(p.events.size());
    p.splits.resize(p.events.size());
    Envelope check;
    for (std::size_t i = 0; i < p.events.size(); ++i) {
      auto& e = p.events[i];
      if (!e.stream().empty() && e.stream() != p.stream)
        return Status::invalid("event " + e.event_id() + " names stream '" + e.stream() + "' but is appended to '" + p.stream + "'");
      // The writer's to fill in; whatever a caller put there is not kept.
      e.clear_position();
      e.clear_stream();
      e.clear_version();
      e.clear_recorded_at();
      e.SerializeToString(&p.bodies[i]);
      if (!check.ParseFromString(p.bodies[i]))
        return Status::invalid("event " + e.event_id() + " does not read back after encoding; nothing was written");
      p.splits[i] = record_split(p.bodies[i]);
    }
  }
  p.prepared = true;
  return Status::success();
}

Result<std::string> EventStore::Impl::first_subject(const Pending& p, std::size_t i) {
  std::string hash;
  bool known = false;
  {
    std::lock_guard lock(first_subjects_mu);
    if (auto it = first_subjects.find(p.stream); it != first_subjects.end()) hash = it->second, known = true;
  }
  if (!known) {
    std::string pos, value;
    auto s = db->Get(rocksdb::ReadOptions(), streams, named_key(p.stream, 1), &pos);
    if (s.ok()) {
      if (s = db->Get(rocksdb::ReadOptions(), events, pos, &value); !s.ok()) return from_rocks(s, "reading the first event of " + p.stream);
      Envelope first;
      if (!first.ParseFromString(value)) return Status::corruption("the first event of " + p.stream + " does not decode");
      hash = first.has_sealed() ? first.sealed().subject() : std::string();
      std::lock_guard lock(first_subjects_mu);
      if (first_subjects.size() > options.stream_cache_entries) first_subjects.clear();
      first_subjects[p.stream] = hash;
    } else if (!s.IsNotFound()) {
      return from_rocks(s, "reading stream index");
    } else if (i > 0 && p.events[0].has_sealed() && p.assumed[0].empty()) {
      hash = p.events[0].sealed().subject();  // a new stream: this append's first event names its subject
    }
  }
  if (!hash.empty()) return hash;
  return vault->stream_hash(p.stream);
}

Status EventStore::Impl::purge_erased() {
  rocksdb::WriteBatch batch;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), snapshots));
    for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Delete(snapshots, it->key());
    if (!it->status().ok()) return from_rocks(it->status(), "reading snapshots");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = write(wo, batch, "dropping snapshots"); !s) return s;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto s = db->Flush(fo, handles); !s.ok()) return from_rocks(s, "flushing after an erasure");
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  co.blob_garbage_collection_policy = rocksdb::BlobGarbageCollectionPolicy::kForce;
  co.blob_garbage_collection_age_cutoff = 1.0;
  for (auto* h : {keys, snapshots})
    if (auto s = db->CompactRange(co, h, nullptr, nullptr); !s.ok()) return from_rocks(s, "compacting after an erasure");
  return Status::success();
}

Status EventStore::Impl::seal_legacy() {
  std::string done;
  auto got = db->Get(rocksdb::ReadOptions(), handles[0], kSealedMarker, &done);
  if (got.ok()) return Status::success();
  if (!got.IsNotFound()) return from_rocks(got, "reading the store's format");
  if (vault->locked()) return Status::success();  // sealed when opened with the key
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::uint64_t sealed = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
    rocksdb::WriteBatch batch;
    std::vector<Vault::KeyPut> puts;
    auto flush = [&]() -> Status {
      if (batch.Count() == 0) return Status::success();
      vault->write_keys(puts, batch);  // one atomic write: the keys with the events sealed under them
      if (auto s = write(wo, batch, "sealing the personal fields of older events"); !s) return s;
      vault->committed(puts);
      puts.clear();
      batch.Clear();
      return Status::success();
    };
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      Envelope e;
      if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) || e.has_sealed() || !has_personal_data(e))
        continue;  // verify reports what does not decode
      std::string assumed;
      auto own = vault->seal(e, [&] { return stream_subject(e.stream(), e.version()); }, puts, &assumed);
      if (!own) return own;
      if (e.version() == 1) stream_subjects[e.stream()] = e.sealed().subject();
      batch.Put(events, it->key(), e.SerializeAsString());
      if (++sealed % 10'000 == 0)
        if (auto s = flush(); !s) return s;
    }
    if (!it->status().ok()) return from_rocks(it->status(), "reading the event log");
    if (auto s = flush(); !s) return s;
  }
  if (sealed > 0) {
    spdlog::warn("store: sealed the personal fields of {} events recorded before the store sealed them", sealed);
    // The older values held the fields in clear: rewrite every file that held them.
    if (auto s = purge_erased(); !s) return s;
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    if (auto s = db->CompactRange(co, events, nullptr, nullptr); !s.ok()) return from_rocks(s, "compacting the sealed log");
  }
  rocksdb::WriteBatch marker;
  marker.Put(handles[0], kSealedMarker, "1");
  return write(wo, marker, "marking the store sealed");
}

Status EventStore::Impl::reapply_forgotten() {
  if (vault->locked()) return Status::success();
  auto list = read_forgotten(vault->key_file());
  if (!list) return list.status();
  rocksdb::WriteBatch batch;
  std::vector<std::string> erased;
  for (const auto& [hash, at] : *list) {
    auto created = vault->key_created(hash);
    if (!created) return created.status();
    if (*created && **created <= at) {
      spdlog::warn("store: subject {} was forgotten at {}: erasing it again (a backup from before the erasure?)",
                   to_hex(hash), format_time(at));
      batch.Delete(keys, Vault::record_name(hash));
      erased.push_back(hash);
    }
  }
  if (batch.Count() == 0) return Status::success();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = write(wo, batch, "re-applying erasures"); !s) return s;
  for (const auto& hash : erased) vault->uncache(hash);
  return purge_erased();
}

Result<ForgetResult> EventStore::forget(const std::string& subject, const std::string& reason, const std::string& actor) {
  if (normalize_subject(subject).empty())
    return Status::invalid("forget needs the subject: the person's e-mail, or the subject id their contact was recorded with");
  if (reason.empty())
    return Status::invalid("forget needs a reason, e.g. --reason 'erasure request of 2026-11-26' (it is recorded; name no one in it)");
  auto& vault = *impl_->vault;
  if (vault.locked()) return Status(Code::read_only, "the workspace is locked, nothing can be forgotten: " + vault.locked_reason());
  auto hash = vault.subject_hash(subject);
  if (!hash && hash.status().code() == Code::not_found)
    return Status::not_found("no data subject '" + subject + "' in this ledger: no personal data has been recorded; nothing was recorded");
  if (!hash) return hash.status();
  auto created = vault.key_created(*hash);
  if (!created) return created.status();
  if (!*created)
    return Status::not_found("no data subject '" + subject +
                             "' in this ledger: nothing is sealed under that e-mail or subject id (never recorded, or "
                             "forgotten already); nothing was recorded");
  if (auto s = record_forgotten(vault.key_file(), *hash, now_micros()); !s) return s;

  Envelope e;
  e.set_type("SubjectForgotten");
  e.set_actor(actor);
  e.mutable_subject_forgotten()->set_subject_hash(to_hex(*hash));
  e.mutable_subject_forgotten()->set_reason(reason);
  auto p = std::make_shared<Pending>();
  p->stream = kPrivacyStream;
  p->events.push_back(std::move(e));
  p->forget_hash = *hash;
  auto fut = p->done.get_future();
  impl_->submit(std::move(p));
  auto appended = fut.get();
  if (!appended) return appended.status();
  if (auto s = impl_->purge_erased(); !s) return s;
  return ForgetResult{to_hex(*hash), appended->positions.front()};
}

Status EventStore::rotate_master_key(const std::string& dir, StoreOptions options, const std::string& new_key_file) {
  options.create_if_missing = false;
  auto opened = open(dir, options);
  if (!opened) return opened.status();
  auto& impl = *(*opened)->impl_;
  rocksdb::WriteBatch batch;
  if (auto s = impl.vault->rotate(new_key_file, batch); !s) return s;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = impl.write(wo, batch, "re-wrapping the keys"); !s) return s;
  // The keys wrapped under the old master key are still in the WAL and the key files.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto s = impl.db->Flush(fo, impl.handles); !s.ok()) return from_rocks(s, "flushing after re-wrapping the keys");
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (auto s = impl.db->CompactRange(co, impl.keys, nullptr, nullptr); !s.ok()) return from_rocks(s, "compacting the keys");
  return Status::success();
}

Result<EventStore::WrappedKeys> EventStore::wrapped_keys(std::span<const std::string> subjects) const {
  WrappedKeys out;
  auto salt = impl_->vault->wrapped_salt();
  if (!salt) return salt.status();
  out.salt = std::move(*salt);
  for (const auto& hash : subjects) {
    auto key = impl_->vault->wrapped_key(hash);
    if (!key) return key.status();
    if (*key) out.subjects.emplace_back(hash, std::move(**key));
  }
  return out;
}

Result<EventStore::WrappedKeys> EventStore::wrapped_keys_page(const std::string& after, std::size_t limit) const {
  WrappedKeys out;
  auto salt = impl_->vault->wrapped_salt();
  if (!salt) return salt.status();
  out.salt = std::move(*salt);
  auto page = impl_->vault->wrapped_keys_after(after, limit);
  if (!page) return page.status();
  out.subjects = std::move(*page);
  return out;
}

Status EventStore::install_keys(const WrappedKeys& keys) {
  rocksdb::WriteBatch batch;
  if (auto s = impl_->vault->adopt(keys.salt, keys.subjects, batch); !s) return s;
  if (batch.Count() == 0) return Status::success();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = impl_->write(wo, batch, "installing the copy's keys"); !s) return s;
  return impl_->vault->open();
}

std::string EventStore::locked_reason() const { return impl_->vault->locked_reason(); }
const std::string& EventStore::master_key_file() const { return impl_->vault->key_file(); }

}  // namespace leanos::store
