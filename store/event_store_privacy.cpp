// Personal data in the store: which data subject a stream's events belong to, forgetting a
// subject (crypto-shredding), sealing what was stored before, the master key and the wrapped
// keys a replica takes (store/personal.h holds the vault).
#include "store/event_store_impl.h"

namespace leanos::store {

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
  std::lock_guard lock(snapshots_mu);
  snapshot_bases.clear();  // states with the opened fields, in memory
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

Result<std::vector<std::pair<std::string, Micros>>> EventStore::Impl::forgotten_again() {
  std::vector<std::pair<std::string, Micros>> out;
  if (vault->locked()) return out;
  auto list = read_forgotten(vault->key_file());
  if (!list) return list.status();
  for (const auto& [hash, at] : *list) {
    auto created = vault->key_created(hash);
    if (!created) return created.status();
    if (*created && **created <= at) out.emplace_back(hash, at);
  }
  return out;
}

Status EventStore::Impl::reapply_forgotten() {
  auto again = forgotten_again();
  if (!again) return again.status();
  rocksdb::WriteBatch batch;
  std::vector<std::string> erased;
  for (const auto& [hash, at] : *again) {
    spdlog::warn("store: subject {} was forgotten at {}: erasing it again (a backup from before the erasure?)", to_hex(hash), format_time(at));
    batch.Delete(keys, Vault::record_name(hash));
    erased.push_back(hash);
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
  if (auto s = record_forgotten(vault.key_file(), *hash, now_micros(), impl_->options.env); !s) return s;

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
