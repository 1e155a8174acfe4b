// Keeping the store: compaction, verify, backup, snapshots and subscriber checkpoints.
#include <algorithm>

#include "store/event_store_impl.h"
#include "store/zstd_frame.h"

namespace leanos::store {

Status EventStore::compact() {
  if (impl_->read_only) return impl_->opened_to_read("compaction");
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* h : impl_->handles)
    if (auto s = impl_->db->CompactRange(options, h, nullptr, nullptr); !s.ok()) return from_rocks(s, "compacting");
  impl_->witness();
  return Status::success();
}

Status EventStore::flush() {
  if (impl_->read_only) return impl_->opened_to_read("a flush");
  rocksdb::FlushOptions options;
  options.wait = true;
  if (auto s = impl_->db->Flush(options, impl_->handles); !s.ok()) return from_rocks(s, "flushing");
  impl_->witness();
  return Status::success();
}

Status EventStore::drop_snapshots_except(const std::vector<std::string>& keep) {
  if (impl_->read_only) return impl_->opened_to_read("dropping snapshots");
  rocksdb::WriteBatch batch;
  {
    // From one name to the next: each seek reads one snapshot, not every one of a name.
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->snapshots));
    for (it->SeekToFirst(); it->Valid();) {
      const auto key = it->key().ToStringView();
      const std::string name(key.substr(0, key.find('\0')));
      std::string next = name;
      next.push_back('\x01');
      if (std::find(keep.begin(), keep.end(), name) == keep.end()) {
        const std::string from = name_prefix(name);
        if (auto s = batch.DeleteRange(impl_->snapshots, from, next); !s.ok()) return from_rocks(s, "dropping snapshots");
      }
      it->Seek(next);
    }
    if (!it->status().ok()) return from_rocks(it->status(), "reading snapshots");
  }
  std::lock_guard lock(impl_->snapshots_mu);
  for (auto it = impl_->snapshot_bases.begin(); it != impl_->snapshot_bases.end();)
    it = std::find(keep.begin(), keep.end(), it->first) == keep.end() ? impl_->snapshot_bases.erase(it) : std::next(it);
  return impl_->write(rocksdb::WriteOptions(), batch, "dropping snapshots");
}

Status EventStore::compact_snapshots() {
  if (impl_->read_only) return impl_->opened_to_read("compacting the snapshots");
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  // The blob files of replaced and dropped snapshots go too (a replay rewrites them all).
  options.blob_garbage_collection_policy = rocksdb::BlobGarbageCollectionPolicy::kForce;
  options.blob_garbage_collection_age_cutoff = 1.0;
  if (auto s = impl_->db->CompactRange(options, impl_->snapshots, nullptr, nullptr); !s.ok()) return from_rocks(s, "compacting snapshots");
  return Status::success();
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
    if (e.has_sealed() && !impl_->vault->locked())
      if (auto opened = impl_->vault->unseal(e); !opened) problem(*pos, opened.message());
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
  // 4. The late index, by business time and by position: the same events.
  std::size_t late_count = 0, by_position_count = 0;
  std::unique_ptr<rocksdb::Iterator> late(db.NewIterator(view.options(), impl_->late));
  for (late->SeekToFirst(); late->Valid(); late->Next()) {
    ++late_count;
    const auto k = late->key().ToStringView();
    if (k.size() != 16) {
      problem(0, "a late index key is not 16 bytes");
      continue;
    }
    const auto pos = get_be64(k.substr(8));
    auto s = db.Get(view.options(), impl_->late_positions, std::string(k.substr(8)), &value);
    if (!s.ok() || value != k.substr(0, 8)) problem(pos, "the late index by position has no entry for this late event");
  }
  std::unique_ptr<rocksdb::Iterator> late_by_position(db.NewIterator(view.options(), impl_->late_positions));
  for (late_by_position->SeekToFirst(); late_by_position->Valid(); late_by_position->Next()) ++by_position_count;
  if (by_position_count != late_count)
    problem(0, "the late index holds " + std::to_string(late_count) + " events and its copy by position " +
                   std::to_string(by_position_count));
  // 5. The projection snapshots, each read whole: a large one lives in a blob file, whose
  // records RocksDB's block checksums above do not cover; reading checks each one's CRC.
  {
    rocksdb::ReadOptions whole = view.options();
    whole.verify_checksums = true;
    std::unique_ptr<rocksdb::Iterator> snap(db.NewIterator(whole, impl_->snapshots));
    for (snap->SeekToFirst(); snap->Valid(); snap->Next()) (void)snap->value();
    if (!snap->status().ok()) problem(0, "projection snapshots: " + snap->status().ToString());
  }
  std::sort(report.problems.begin(), report.problems.end(),
            [](const VerifyProblem& a, const VerifyProblem& b) { return a.position < b.position; });
  return report;
}

Status EventStore::backup(const std::string& dest_dir) const {
  if (impl_->read_only) return impl_->opened_to_read("a backup (a checkpoint of the folder)");
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

// Snapshot values. A state is stored as its bytes (the blob files compress them with LZ4), or
// as a delta of the whole state stored before it under the same name:
//   0x00 0x01 be64(base key) be64(base size) zstd frame
// the frame compressed against the base's bytes (zstd's --patch-from) with its content's
// checksum. Consecutive core snapshots of a large history share most of their deals: at 1 M
// events one is 427 KB (137 KB in the blob file), a delta of the one four before it 36 KB.
// Deltas are one level deep: reading one reads its base, never a chain. A state's own bytes
// never start with 0x00 in practice (a serialized message starts with a field's tag); one that
// does is stored behind 0x00 0x00.
namespace {

constexpr char kFramed = '\0', kEscaped = '\0', kDelta = '\1';
constexpr std::size_t kDeltaHeader = 2 + 8 + 8;
// Deltas for states of these sizes: a small one is cheap to keep whole, and a larger one (a
// full snapshot of millions of events) would take a prefix of that size to compress or read.
constexpr std::size_t kDeltaMin = 16 << 10, kDeltaMax = 8 << 20;
// A delta is kept while it is at most this share of its state (whole, LZ4 makes about a
// third): past it, the state is stored whole and the next ones are deltas of it.
constexpr std::size_t kDeltaShare = 8;

// Read options bounded to one name's snapshots: unbounded, a seek could step into the next
// name's first block, which may hold a snapshot of tens of MB that RocksDB would read and
// decompress.
struct NameRange {
  const std::string lower, upper;
  const rocksdb::Slice lower_bound, upper_bound;
  rocksdb::ReadOptions options;
  NameRange(const std::string& name, const rocksdb::ReadOptions& base)
      : lower(name_prefix(name)), upper(name + '\x01'), lower_bound(lower), upper_bound(upper), options(base) {
    options.iterate_lower_bound = &lower_bound;
    options.iterate_upper_bound = &upper_bound;
  }
  NameRange(const NameRange&) = delete;
  NameRange& operator=(const NameRange&) = delete;
};

bool is_delta(std::string_view v) { return v.size() >= kDeltaHeader && v[0] == kFramed && v[1] == kDelta; }

struct DeltaHeader {
  std::uint64_t base_key = 0, base_size = 0;
  std::string_view frame;
};

DeltaHeader delta_header(std::string_view v) {
  return {get_be64(v.substr(2, 8)), get_be64(v.substr(10, 8)), v.substr(kDeltaHeader)};
}

// The state a stored value that is not a delta holds (a view into it); corruption for a
// framed value of a format this build does not know.
Result<std::string_view> whole_state(std::string_view v, const std::string& name) {
  if (v.empty() || v[0] != kFramed) return v;
  if (v.size() >= 2 && v[1] == kEscaped) return v.substr(2);
  return Status::corruption("snapshot " + name + " is stored in a format this build does not know (" +
                            std::to_string(v.size() >= 2 ? static_cast<int>(static_cast<unsigned char>(v[1])) : -1) +
                            "); `leanos replay` writes it again");
}

}  // namespace

Status EventStore::put_snapshot(const std::string& name, std::uint64_t position, const std::string& state) {
  // Locked, personal fields were folded as "[locked]": such a state is no snapshot of the
  // ledger. (A locked store writes nothing; the fold goes on without a snapshot.)
  // Nor does a store open for reading only.
  if (impl_->vault->locked() || impl_->read_only) return Status::success();
  std::lock_guard lock(impl_->snapshots_mu);
  auto& db = *impl_->db;
  std::string value;
  auto& cached = impl_->snapshot_bases[name];
  if (state.size() >= kDeltaMin && state.size() <= kDeltaMax && position > 0) {
    // The base: the whole state at or before the entry before this one.
    ReadView view(&db);
    const NameRange range(name, view.options());
    const std::string& prefix = range.lower;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(range.options, impl_->snapshots));
    it->SeekForPrev(named_key(name, position - 1));
    bool has_base = false;  // (a std::optional here: g++ 12 under TSan's flags warns it may be read unset)
    std::uint64_t base_key = 0;
    std::uint64_t base_size = 0;
    if (it->Valid() && it->key().size() == prefix.size() + 8) {
      const auto v = it->value().ToStringView();
      if (is_delta(v)) {
        const auto h = delta_header(v);
        has_base = true;
        base_key = h.base_key;
        base_size = h.base_size;
      } else {
        base_key = get_be64(it->key().ToStringView().substr(prefix.size()));
        auto whole = whole_state(v, name);
        if (whole) {
          has_base = true;
          base_size = whole->size();
          if (cached.first != base_key || cached.second.size() != base_size) cached = {base_key, std::string(*whole)};
        }
      }
    } else if (!it->status().ok()) {
      return from_rocks(it->status(), "reading snapshots");
    }
    if (has_base && (cached.first != base_key || cached.second.size() != base_size)) {
      std::string v;
      auto s = db.Get(view.options(), impl_->snapshots, named_key(name, base_key), &v);
      auto whole = s.ok() && !is_delta(v) ? whole_state(v, name) : Result<std::string_view>(Status::not_found("no base"));
      if (whole && whole->size() == base_size) cached = {base_key, std::string(*whole)};
      else has_base = false;  // gone, or rewritten since: this state is stored whole
    }
    if (has_base && !cached.second.empty() && cached.second.size() <= kDeltaMax) {
      std::string frame = zstd_frame(state, cached.second, 3, true);
      if (!frame.empty() && frame.size() <= state.size() / kDeltaShare) {
        value.reserve(kDeltaHeader + frame.size());
        value.push_back(kFramed);
        value.push_back(kDelta);
        put_be64(value, base_key);
        put_be64(value, cached.second.size());
        value.append(frame);
      }
    }
  }
  if (value.empty()) {
    // Stored whole: the next ones are deltas of it (a state too small or too large for one is
    // no base, nor is what the cache held at this key before).
    if (state.size() >= kDeltaMin && state.size() <= kDeltaMax) cached = {position, state};
    else if (cached.first == position) cached = {};
    if (!state.empty() && state[0] == kFramed) value.append({kFramed, kEscaped});
    value.append(state);
  }
  rocksdb::WriteOptions wo;  // a lost snapshot is rebuilt from the log: no sync needed
  rocksdb::WriteBatch batch;
  batch.Put(impl_->snapshots, named_key(name, position), value);
  return impl_->write(wo, batch, "writing snapshot " + name);
}

Result<std::optional<std::pair<std::uint64_t, std::string>>> EventStore::snapshot_at_or_before(
    const std::string& name, std::uint64_t position) const {
  using Found = std::optional<std::pair<std::uint64_t, std::string>>;
  // Snapshots hold opened personal fields: without the master key they are not read.
  if (impl_->vault->locked()) return Found{};
  // One RocksDB snapshot for the value and its base.
  auto& db = *impl_->db;
  ReadView view(&db);
  const NameRange range(name, view.options());
  const std::string& prefix = range.lower;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(range.options, impl_->snapshots));
  for (it->SeekForPrev(named_key(name, position)); it->Valid(); it->Prev()) {
    auto k = it->key().ToStringView();
    if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix) return Found{};
    const std::uint64_t at = get_be64(k.substr(prefix.size()));
    const auto v = it->value().ToStringView();
    if (!is_delta(v)) {
      auto whole = whole_state(v, name);
      if (!whole) return whole.status();
      return Found{std::make_pair(at, std::string(*whole))};
    }
    // A delta: of its base as it was when the delta was made. A base written again since (a
    // time snapshot rewritten by a later fold that knows more) leaves the delta unusable until
    // it is written again too; the snapshot before it serves meanwhile.
    const auto h = delta_header(v);
    rocksdb::PinnableSlice pinned;  // the base's bytes where RocksDB holds them: not copied
    auto s = db.Get(view.options(), impl_->snapshots, named_key(name, h.base_key), &pinned);
    if (!s.ok() && !s.IsNotFound()) return from_rocks(s, "reading snapshot " + name);
    if (s.ok() && !is_delta(pinned.ToStringView())) {
      auto base = whole_state(pinned.ToStringView(), name);
      if (!base) return base.status();
      std::string out;
      if (base->size() == h.base_size && zstd_append(out, h.frame, *base, std::size_t{1} << 31))
        return Found{std::make_pair(at, std::move(out))};
    }
    spdlog::debug("store: snapshot {} at {} is a delta of the one at {}, written again since; reading an older one", name, at,
                  h.base_key);
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading snapshots");
  return Found{};
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


}  // namespace leanos::store
