// Keeping the store: compaction, verify, backup, snapshots and subscriber checkpoints.
#include "store/event_store_impl.h"

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

Status EventStore::compact_snapshots() {
  if (impl_->read_only) return impl_->opened_to_read("compacting the snapshots");
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
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

Status EventStore::put_snapshot(const std::string& name, std::uint64_t position, const std::string& state) {
  // Locked, personal fields were folded as "[locked]": such a state is no snapshot of the
  // ledger. (A locked store writes nothing; the fold goes on without a snapshot.)
  // Nor does a store open for reading only.
  if (impl_->vault->locked() || impl_->read_only) return Status::success();
  rocksdb::WriteOptions wo;  // a lost snapshot is rebuilt from the log: no sync needed
  rocksdb::WriteBatch batch;
  batch.Put(impl_->snapshots, named_key(name, position), state);
  return impl_->write(wo, batch, "writing snapshot " + name);
}

Result<std::optional<std::pair<std::uint64_t, std::string>>> EventStore::snapshot_at_or_before(
    const std::string& name, std::uint64_t position) const {
  using Found = std::optional<std::pair<std::uint64_t, std::string>>;
  // Snapshots hold opened personal fields: without the master key they are not read.
  if (impl_->vault->locked()) return Found{};
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


}  // namespace leanos::store
