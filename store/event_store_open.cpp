// Opening a store: RocksDB's options and column families, the vault, the writer threads;
// what the store says of itself (stats, last position, streams).
#include <rocksdb/cache.h>
#include <rocksdb/sst_file_reader.h>

#include "store/event_store_impl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>

namespace leanos::store {

namespace {

// RocksDB's diagnostics go to our log (stderr), not to a LOG file in the data folder: on a full
// disk RocksDB 7.8's file logger asserts on its next line after a failed write
// ('sync_without_flush_called_') and takes the process down, while the store would
// otherwise keep serving reads and resume writing once there is room.
class RocksLogger final : public rocksdb::Logger {
 public:
  // Prints from `level` on; keeps the last warning that names a damaged file (RocksDB names
  // it there, not in the status it returns), for the error an open gives.
  explicit RocksLogger(rocksdb::InfoLogLevel level) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), print_from_(level) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::WARN_LEVEL) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    if (std::strstr(line, "Corruption") != nullptr || std::strstr(line, "dropping") != nullptr) {
      std::lock_guard lock(mu_);
      damaged_ = line;
    }
    if (level < print_from_) return;
    spdlog::log(level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? spdlog::level::err : spdlog::level::warn, "rocksdb: {}", line);
  }
  std::string damaged() const {
    std::lock_guard lock(mu_);
    return damaged_;
  }

 private:
  rocksdb::InfoLogLevel print_from_;
  mutable std::mutex mu_;
  std::string damaged_;
};

constexpr const char* kWitnessFile = "LEANOS-DURABLE";

// A flush RocksDB makes by itself (a memtable full) rewrites the MANIFEST too: the witness
// follows it, so that a server that is never closed cleanly keeps it near its position.
class WitnessOnFlush final : public rocksdb::EventListener {
 public:
  explicit WitnessOnFlush(std::function<void()> witness) : witness_(std::move(witness)) {}
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override { witness_(); }

 private:
  std::function<void()> witness_;
};

std::optional<std::uint64_t> read_witness(const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / kWitnessFile);
  std::uint64_t position = 0;
  if (!(in >> position)) return std::nullopt;
  return position;
}

}  // namespace

void EventStore::Impl::witness() {
  // Relaxed durability acknowledges before the log is synced: a cut may take back what the
  // witness would say was held.
  if (options.durability != Durability::sync || vault == nullptr || read_only) return;
  std::lock_guard lock(witness_mu);
  const std::uint64_t position = last_position.load();
  if (position == 0 || position <= witnessed.load()) return;
  const auto folder = std::filesystem::path(dir);
  const auto temp = folder / (std::string(kWitnessFile) + ".tmp");
  const std::string text = std::to_string(position) + "\n";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;  // a folder it cannot write (a read-only copy): no witness, no check
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (!written) {
    std::filesystem::remove(temp, ec);
    return;
  }
  std::filesystem::rename(temp, folder / kWitnessFile, ec);
  if (ec) return;
  if (const int d = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  witnessed = position;
}

namespace {

// RocksDB 7.8 makes a new write-ahead log file at each open and keeps the earlier ones until
// a memtable flushes, empty ones too (facebook/rocksdb#11313, fixed in 8.3 by #11409): every
// command on a quiet workspace left one file more, for as long as nothing was written. Once
// the store holds the folder's lock, an earlier log file that is empty holds nothing to
// recover and is removed (RocksDB's maintainers' workaround for 7.x; safe because WALs are
// not tracked in the MANIFEST, track_and_verify_wals_in_manifest = false). Best effort: a
// file left is only a file.
void remove_empty_logs(rocksdb::DB& db, rocksdb::Env* env, const std::string& dir) {
  std::unique_ptr<rocksdb::LogFile> current;
  std::vector<std::string> names;
  if (!db.GetCurrentWalFile(&current).ok() || !current || !env->GetChildren(dir, &names).ok()) return;
  for (const auto& name : names) {
    std::uint64_t number = 0, size = 1;
    const auto digits = name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0 ? name.size() - 4 : 0;
    if (digits == 0 || name.find_first_not_of("0123456789") != digits) continue;
    if (std::from_chars(name.data(), name.data() + digits, number).ec != std::errc() || number >= current->LogNumber()) continue;
    const std::string path = dir + "/" + name;
    if (!env->GetFileSize(path, &size).ok() || size != 0) continue;
    if (auto s = env->DeleteFile(path); !s.ok()) spdlog::debug("store: {} left: {}", path, s.ToString());
  }
}

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
  if (options.env) db_options.env = options.env;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  // A power cut tears at most the log's last record, which recovery leaves out (it was never
  // acknowledged: its group's sync did not return). Anything wrong before it is the disk
  // corrupting acknowledged appends: RocksDB's default (point in time) would take it for the
  // log's end and drop every record after it without a word; this refuses to open, naming
  // the file, so that a restore (the JetStream copy, a backup) is the way out, not a loss.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.IncreaseParallelism(2);
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Errors only: RocksDB's warnings (an SST without a unique id, …) are noise to a CLI user.
  auto logger = std::make_shared<RocksLogger>(rocksdb::InfoLogLevel::ERROR_LEVEL);
  db_options.info_log = logger;
  db_options.listeners.push_back(std::make_shared<WitnessOnFlush>([target = &impl->witness_target] {
    if (auto* p = target->load()) p->witness();
  }));
  db_options.keep_log_file_num = 3;
  // Every table file is opened at open; RocksDB's default starts 16 threads for it, which cost
  // a CLI command more than the opening itself (36 of 70 ms for a store of ten files).
  db_options.max_file_opening_threads = 1;
  // A WAL file lives until every column family holding data in it has flushed. The rarely
  // written families (snapshots, checkpoints, default) would pin every WAL file forever
  // (a 10 M-event log grew past 38 GB): past this total RocksDB flushes them.
  db_options.max_total_wal_size = 256ull << 20;

  // The column families' options; `reading_only` for a read-only open, which never writes a
  // memtable and may read none of a table's filter or index before it needs them.
  auto families = [](bool reading_only) {
    // Every table is zstd (level 1) compressed. Most of what an event holds is hex (ids,
    // SHA-256 digests, commits) and text that Snappy, RocksDB's default, only matches and
    // cannot entropy-code: an imported git history of 1 000 commits took 5.2 MB of log with
    // Snappy and takes 3.7 with zstd, a 1 M-event log 61.8 MB and 38.1. Replaying the 1 M
    // events took the same CPU either way (user 2.24–2.54 s, five rounds interleaved): a
    // replay's time is its parse and folds, not the blocks' decoding. Compression runs in
    // flushes and compactions, never in an append.
    // Every table file is opened at open (max_open_files = -1); by default RocksDB then reads
    // and pins each one's filter and index, 19 % of `log --limit 1` on a 1 M-event store (the
    // id and stream filters: 1.2 MB each). A command that only reads loads them into the block
    // cache when a read needs them instead, one cache for every family, large enough for the
    // filters of a 10 M-event store (per-family caches of RocksDB's default 8 MB would evict
    // a large one between lookups); a writer (a server, an import) keeps them pinned.
    std::shared_ptr<rocksdb::Cache> cache = reading_only ? rocksdb::NewLRUCache(64 << 20) : nullptr;
    auto family = [reading_only, cache](rocksdb::BlockBasedTableOptions table = {}) {
      rocksdb::ColumnFamilyOptions o;
      o.compression = rocksdb::kZSTD;
      o.compression_opts.level = 1;
      table.cache_index_and_filter_blocks = reading_only;
      if (cache) table.block_cache = cache;
      o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
      return o;
    };
    rocksdb::BlockBasedTableOptions filtered;  // point lookups by id: a bloom filter skips misses
    filtered.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    rocksdb::ColumnFamilyOptions lookup = family(filtered);
    // New ids miss the memtable cheaply, too. The filter is allocated and zeroed whole when a
    // memtable is made, at every open: 1.5 % of the 64 MB write buffer is ~10 bits per id of a
    // full memtable (under 1 % false positives); 10 % took 13 MB of memset, a third of a
    // read-only command's time to open the store. A read-only open's memtables stay empty:
    // none.
    lookup.memtable_prefix_bloom_size_ratio = reading_only ? 0 : 0.015;
    lookup.memtable_whole_key_filtering = true;

    // The log is read in order (replay, a stream's tail): blocks of 16 KiB instead of 4 give
    // zstd more to match in (5.2 → 4.3 MB at 4 KiB, 3.7 at 16, for the history above); a
    // single event's read decodes one block, ~10 µs.
    rocksdb::BlockBasedTableOptions large_blocks;
    large_blocks.block_size = 16 << 10;
    rocksdb::ColumnFamilyOptions events = family(large_blocks);

    // Snapshots are large values (a core snapshot of a 1 M-event history is ~450 KB, a full one
    // tens of MB) found by SeekForPrev. Stored inline, every level's candidate block, the one
    // after the key included, was read and decompressed on each lookup: most of an as-of
    // query's time. In blob files (RocksDB's integrated BlobDB) the LSM holds small references,
    // and only the snapshot found is read; garbage collection reclaims replaced ones. The
    // references are zstd like every table; the blobs themselves LZ4, faster to decode.
    rocksdb::ColumnFamilyOptions snapshots = family();
    snapshots.enable_blob_files = true;
    snapshots.min_blob_size = 4096;
    snapshots.blob_compression_type = rocksdb::kLZ4Compression;
    snapshots.enable_blob_garbage_collection = true;

    // Data keys, wrapped: looked up by subject (a bloom filter skips a new subject's miss), and
    // uncompressed, so that a byte scan of the folder can prove one gone.
    rocksdb::ColumnFamilyOptions keys = lookup;
    keys.compression = rocksdb::kNoCompression;
    keys.bottommost_compression = rocksdb::kNoCompression;

    return std::vector<rocksdb::ColumnFamilyDescriptor>{
        {rocksdb::kDefaultColumnFamilyName, family()},
        {kEventsCf, events},
        {kStreamsCf, lookup},  // scanned by range, and asked whether a stream exists
        {kEventIdsCf, lookup},
        {kTimeCf, family()},
        {kSnapshotsCf, snapshots},
        {kCheckpointsCf, family()},
        {kOccurredCf, family()},
        {kLateCf, family()},
        {kLatePositionsCf, family()},
        {kKeysCf, keys},
    };
  };
  const auto cfs = families(false);
  // After a failed write RocksDB resumes only once the disk has room to flush a memtable
  // (it reserves the largest write buffer): what the error tells a user to free.
  for (const auto& cf : cfs) impl->resume_reserve_bytes = std::max<std::uint64_t>(impl->resume_reserve_bytes, cf.options.write_buffer_size);
  auto in_use = [&dir](const std::string& why) {
    return Status::unavailable("data folder " + dir + " is in use by another leanos process (" + why +
                               "); stop that process, or talk to it with --server");
  };
  if (options.read_only) {
    // A shared lock on the file a read-write open locks exclusively: no writer opens the
    // folder while it is read, and readers share it. The lock of an open file description
    // (Linux's OFD locks), so that it conflicts with a read-write open in this process too,
    // and closing it drops no other lock of the process.
    // No LOCK file (a folder never opened for writing) or a disk that fails it: the read-write
    // open below makes one, or names the failure.
    const int fd = ::open((std::filesystem::path(dir) / "LOCK").c_str(), O_RDONLY | O_CLOEXEC);
    struct flock shared {};
    shared.l_type = F_RDLCK;
    shared.l_whence = SEEK_SET;
    if (fd >= 0 && ::fcntl(fd, F_OFD_SETLK, &shared) != 0) {
      const int why = errno;
      if (why == EAGAIN || why == EACCES) {
        ::close(fd);
        return in_use(std::string("its LOCK file is locked: ") + std::strerror(why));
      }
      ::close(fd);  // a failing disk: the read-write open below names it
      spdlog::debug("store: {}/LOCK cannot be locked ({}); opening the folder for writing", dir, std::strerror(why));
    } else if (fd >= 0) {
      rocksdb::DB* reader = nullptr;
      if (auto opened = rocksdb::DB::OpenForReadOnly(db_options, dir, families(true), &impl->handles, &reader); opened.ok()) {
        impl->db.reset(reader);
        impl->read_only = true;
        impl->shared_lock = fd;
      } else {  // a family missing (an older store), damage: the read-write open says what, or mends it
        spdlog::debug("store: {} does not open for reading only ({}); opening it for writing", dir, opened.ToString());
        impl->handles.clear();
        ::close(fd);
      }
    }
  }
  rocksdb::DB* raw = impl->db.get();
  auto s = impl->db ? rocksdb::Status::OK() : rocksdb::DB::Open(db_options, dir, cfs, &impl->handles, &raw);
  if (!s.ok()) {
    // Held by another process (fcntl: EAGAIN), or by this one; any other failure on the LOCK
    // file (EIO from a failing disk) is the disk's, not another process's.
    const std::string why = s.ToString();
    if (s.IsIOError() && (why.find("While lock file") != std::string::npos || why.find("lock hold by current process") != std::string::npos))
      return in_use(why);
    if (s.IsIOError() && why.find("for lock") != std::string::npos)
      return Status::io("data folder " + dir + ": its LOCK file cannot be opened (" + why +
                        "): the disk failed or is gone; check it (dmesg), then open the folder again — if it stays "
                        "unreadable, restore it (`leanos restore`)");
    if (s.IsCorruption()) {  // which file, and the way out
      std::string where = logger->damaged();
      // RocksDB does not say which file of a log it refused: if the folder opens (read-only)
      // when a damaged log is taken for its end, the damage is in the write-ahead log.
      rocksdb::Options probe = db_options;
      probe.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
      std::vector<rocksdb::ColumnFamilyHandle*> probe_handles;
      rocksdb::DB* read_only = nullptr;
      // Nor which table when it reads one's properties at open (7.8 names the MANIFEST then):
      // each table file checked on its own names the damaged ones.
      std::string tables;
      for (const auto& f : std::filesystem::directory_iterator(dir, ec))
        if (f.path().extension() == ".sst") {
          rocksdb::SstFileReader table{rocksdb::Options()};
          if (!table.Open(f.path().string()).ok() || !table.VerifyChecksum().ok())
            tables += (tables.empty() ? "" : ", ") + f.path().filename().string();
        }
      if (!tables.empty()) where = "in table file(s) " + tables + ": a block does not match its checksum";
      if (tables.empty() && rocksdb::DB::OpenForReadOnly(probe, dir, cfs, &probe_handles, &read_only).ok()) {
        for (auto* h : probe_handles) read_only->DestroyColumnFamilyHandle(h);
        delete read_only;
        std::string logs;
        for (const auto& f : std::filesystem::directory_iterator(dir, ec))
          if (f.path().extension() == ".log") logs += (logs.empty() ? "" : ", ") + f.path().filename().string();
        where = "in the write-ahead log" + (logs.empty() ? std::string() : " (" + logs + ")") +
                ": a record before its end does not match its checksum, so the appends after it cannot be read";
      }
      return Status::corruption("opening data folder " + dir + ": " + s.ToString() + (where.empty() ? "" : " (" + where + ")") +
                                "; a file of the store is damaged (the disk changed what it had written): restore the folder "
                                "from a backup or the JetStream copy (leanos restore), and check the disk");
    }
    return from_rocks(s, "opening data folder " + dir);
  }
  if (!impl->read_only) {
    impl->db.reset(raw);
    remove_empty_logs(*raw, db_options.env, dir);
  }
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
  if (!impl->read_only)
    if (auto s = impl->index_late_positions(); !s) return s;
  const std::string key_file =
      options.master_key_file.empty() ? default_master_key_file(dir) : options.master_key_file;
  impl->vault = std::make_unique<Vault>(impl->db.get(), impl->keys, key_file);
  if (auto s = impl->vault->open(); !s) return s;
  if (impl->read_only) {
    auto needs = impl->needs_writing_at_open();
    if (!needs) return needs.status();
    if (*needs) {  // what a read-write open mends first: that open, then
      spdlog::debug("store: {} needs writing when opened; opening it for writing", dir);
      impl.reset();
      options.read_only = false;
      options.create_if_missing = false;
      return open(dir, std::move(options));
    }
  }
  if (impl->vault->locked()) spdlog::warn("store: {} is locked: {}", dir, impl->vault->locked_reason());
  if (!impl->read_only) {
    if (auto s = impl->reapply_forgotten(); !s) return s;
    if (auto s = impl->seal_legacy(); !s) return s;
  }

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
    // A damaged block under any of them leaves the iterator invalid, which would read as an
    // empty log (or no time yet): refused, naming the table file RocksDB found damaged.
    for (const auto* i : {it.get(), t.get(), o.get()})
      if (!i->status().ok()) return Status::corruption("opening data folder " + dir + ": " + i->status().ToString());
  }
  // A log that ends before the position it durably held when last flushed or closed lost
  // tables (a damaged MANIFEST is read as if it ended early): refused, never served short.
  if (auto w = read_witness(dir); w && *w > impl->last_position.load()) {
    impl->witnessed = *w;  // closing writes no shorter witness: the damage stays as found
    return Status::corruption("opening data folder " + dir + ": its event log ends at position " + std::to_string(impl->last_position.load()) +
                              ", but it held position " + std::to_string(*w) + " durably when the store last flushed or closed (" +
                              kWitnessFile + "): a table file, or the MANIFEST that lists them, is damaged or gone; restore the folder "
                              "from a backup or the JetStream copy (leanos restore), and check the disk");
  }
  impl->witnessed = read_witness(dir).value_or(0);
  impl->witness_target = impl.get();  // from now on a flush may write the witness
  spdlog::debug("store: opened {} at position {}", dir, impl->last_position.load());
  if (!impl->read_only) {
    impl->writer = std::thread([p = impl.get()] { p->writer_loop(); });
    impl->answerer = std::thread([p = impl.get()] { p->answer_loop(); });
  }
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

Result<bool> EventStore::Impl::needs_writing_at_open() {
  // index_late_positions: the late index without its twin by position.
  std::unique_ptr<rocksdb::Iterator> by_position(db->NewIterator({}, late_positions)), by_time(db->NewIterator({}, late));
  by_position->SeekToFirst();
  by_time->SeekToFirst();
  for (auto* it : {by_position.get(), by_time.get()})
    if (!it->status().ok()) return from_rocks(it->status(), "reading the late index");
  if (!by_position->Valid() && by_time->Valid()) return true;
  // seal_legacy: a store whose older events were never sealed (sealed when the key is there).
  if (!vault->locked()) {
    std::string done;
    auto got = db->Get(rocksdb::ReadOptions(), handles[0], kSealedMarker, &done);
    if (got.IsNotFound()) return true;
    if (!got.ok()) return from_rocks(got, "reading the store's format");
  }
  // reapply_forgotten.
  auto again = forgotten_again();
  if (!again) return again.status();
  return !again->empty();
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

bool EventStore::read_only() const { return impl_->read_only; }

}  // namespace leanos::store
