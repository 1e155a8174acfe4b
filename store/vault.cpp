// The vault of data keys (store/personal.h): opening and rotating the master key, one data
// key per data subject, sealing and opening personal fields, erasing a subject's key, and
// the copies of keys a relay and a restore carry. The field plans and the boxes it uses are in
// personal.cpp (personal_detail.h).
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "store/keys.h"
#include "store/personal.h"
#include "store/personal_detail.h"

namespace leanos::store {

namespace pb = google::protobuf;
using namespace detail;

// ---- Vault ----------------------------------------------------------------------------------

Vault::Vault(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys, std::string key_file)
    : db_(db), keys_(keys), key_file_(std::move(key_file)) {}

std::string Vault::record_name(const std::string& hash) { return kKeyPrefix + hash; }

Status Vault::open() {
  if (!sodium_ready()) return Status::io("libsodium did not initialise");
  std::string salt;
  auto s = db_->Get(rocksdb::ReadOptions(), keys_, kSaltRecord, &salt);
  if (s.IsNotFound()) return Status::success();  // nothing sealed yet: the key is made on first use
  if (!s.ok()) return Status::io("reading the keys: " + s.ToString());
  auto master = read_master_key(key_file_);
  if (!master) {
    locked_reason_ = master.status().message();
    return Status::success();
  }
  auto opened = unbox(*master, salt, "leanos salt");
  if (!opened || opened->size() != 32) {
    locked_reason_ = "master key file " + key_file_ + " holds another key (another workspace's, or one rotated away): this one's personal fields were "
                     "sealed under a different master key; pass the right one with --master-key-file";
    return Status::success();
  }
  master_ = *master;
  salt_ = to_key(*opened);
  ready_.store(true, std::memory_order_release);
  return Status::success();
}

Status Vault::ensure_master() {
  if (locked()) return Status(Code::read_only, "the workspace is locked: " + locked_reason_);
  if (ready_.load(std::memory_order_acquire)) return Status::success();
  std::lock_guard making(make_mu_);
  if (ready_.load(std::memory_order_relaxed)) return Status::success();
  std::error_code ec;
  if (!std::filesystem::exists(key_file_, ec)) {
    Key k;
    crypto_aead_xchacha20poly1305_ietf_keygen(k.data());
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, k.data(), k.size());
    if (auto s = write_secret_file(key_file_, std::string(hex) + "\n", "master key file"); !s) return s;
  }
  auto master = read_master_key(key_file_);
  if (!master) return master.status();
  Key salt;
  randombytes_buf(salt.data(), salt.size());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto record = box(*master, std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()), "leanos salt");
  if (auto s = db_->Put(wo, keys_, kSaltRecord, record); !s.ok()) return Status::io("writing the keys: " + s.ToString());
  master_ = *master;
  salt_ = salt;
  ready_.store(true, std::memory_order_release);
  return Status::success();
}

Status Vault::rotate(const std::string& new_key_file, rocksdb::WriteBatch& batch) {
  if (locked()) return Status(Code::read_only, "the workspace is locked: " + locked_reason_);
  if (!ready_.load(std::memory_order_acquire))
    return Status::precondition("no personal data has been recorded in this workspace: nothing is wrapped under a master key yet");
  std::error_code ec;
  if (std::filesystem::exists(new_key_file, ec))
    return Status::exists("new master key file " + new_key_file + " exists already; name a file that does not");
  Key fresh;
  crypto_aead_xchacha20poly1305_ietf_keygen(fresh.data());
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, fresh.data(), fresh.size());
  // The list of forgotten subjects goes with the key, so that old backups still forget them.
  if (std::ifstream list(forgotten_list_file(key_file_), std::ios::binary); list) {
    std::ofstream copy(forgotten_list_file(new_key_file), std::ios::binary | std::ios::trunc);
    copy << list.rdbuf();
    copy.flush();
    if (!copy) return Status::io("cannot write " + forgotten_list_file(new_key_file));
    ::chmod(forgotten_list_file(new_key_file).c_str(), 0600);
  }
  if (auto s = write_secret_file(new_key_file, std::string(hex) + "\n", "master key file"); !s) return s;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string name = it->key().ToString(), value = it->value().ToString();
    if (name == kSaltRecord) {
      auto salt = unbox(*master_, value, "leanos salt");
      if (!salt) return Status::corruption("the salt does not open under the master key");
      batch.Put(keys_, name, box(fresh, *salt, "leanos salt"));
    } else if (name.starts_with(kKeyPrefix) && value.size() > 16) {
      const std::string ad = key_record_ad(std::string_view(name).substr(std::string_view(kKeyPrefix).size()), value.substr(0, 8));
      auto key = unbox(*master_, std::string_view(value).substr(16), ad);
      if (!key) return Status::corruption("the data key " + to_hex(name) + " does not open under the master key");
      batch.Put(keys_, name, value.substr(0, 16) + box(fresh, *key, ad));
    }
  }
  if (!it->status().ok()) return Status::io("reading the keys: " + it->status().ToString());
  return Status::success();
}

Result<std::string> Vault::subject_hash(std::string_view subject) const {
  if (locked()) return Status(Code::read_only, "the workspace is locked: " + locked_reason_);
  if (!ready_.load(std::memory_order_acquire)) return Status::not_found("no personal data has been recorded in this workspace");
  // Most subjects come normalised already (an e-mail in lower case): hashed as they are.
  std::string_view id = trim_subject(subject);
  std::string lowered;
  if (std::any_of(id.begin(), id.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); })) id = lowered = normalize_subject(id);
  std::string out(kHashBytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), reinterpret_cast<const unsigned char*>(id.data()),
                     id.size(), salt_->data(), salt_->size());
  return out;
}

Result<std::string> Vault::stream_hash(const std::string& stream) {
  if (auto s = ensure_master(); !s) return s;
  return subject_hash("stream:" + stream);
}

Result<std::optional<Vault::Record>> Vault::record(const std::string& hash) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), keys_, record_name(hash), &value);
  if (s.IsNotFound()) return std::optional<Record>{};
  if (!s.ok()) return Status::io("reading the keys: " + s.ToString());
  std::optional<std::string> opened;
  if (value.size() > 16 && master_)
    opened = unbox(*master_, std::string_view(value).substr(16), key_record_ad(hash, value.substr(0, 8)));
  if (!opened || opened->size() != 32)
    return Status::corruption("the data key of subject " + to_hex(hash) + " does not open under the master key");
  return std::optional<Record>{Record{value.substr(0, 8), static_cast<Micros>(get_be64(std::string_view(value).substr(8, 8))), *to_key(*opened), {}}};
}

Result<std::optional<Micros>> Vault::key_created(const std::string& hash) const {
  auto r = record(hash);
  if (!r) return r.status();
  if (!*r) return std::optional<Micros>{};
  return std::optional<Micros>{(*r)->created};
}

Status Vault::erase(const std::string& hash, rocksdb::WriteBatch& batch) {
  batch.Delete(keys_, record_name(hash));  // after any key of this group for it: the delete wins
  std::unique_lock lock(mu_);
  cache_.erase(hash);
  erased_in_group_.insert(hash);
  return Status::success();
}

Result<std::optional<Vault::Key>> Vault::data_key(const std::string& hash, const std::string& id) const {
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(hash); it != cache_.end() && it->second.id == id) return std::optional<Key>{it->second.key};
  }
  auto r = record(hash);
  if (!r) return r.status();
  if (!*r || (*r)->id != id) return std::optional<Key>{};  // forgotten (and maybe recorded anew since)
  std::unique_lock lock(mu_);
  evict_if_full();
  cache_[hash] = **r;
  return std::optional<Key>{(*r)->key};
}

void Vault::evict_if_full() const {
  if (cache_.size() < std::max(evict_at_, kCacheEntries)) return;
  // A key not yet written stays: dropped, the next append of that person would make another
  // one, and whichever record was written last would leave the other's events unreadable.
  std::erase_if(cache_, [](const auto& entry) { return entry.second.unwritten.empty(); });
  evict_at_ = std::max(kCacheEntries, 2 * cache_.size());  // not again before it doubles
}

Status Vault::seal(v1::Envelope& e, const std::function<Result<std::string>()>& stream_subject, std::vector<KeyPut>& puts,
                   std::string* assumed) {
  thread_local std::vector<Found> found;  // reused: one event after another on each appender
  found.clear();
  collect(e, "", found);
  if (found.empty()) return Status::success();
  if (auto s = ensure_master(); !s) return s;
  std::string hash;
  for (const auto& f : found)
    if (f.subject) {
      auto h = subject_hash(f.message->GetReflection()->GetStringReference(*f.message, f.field, nullptr));
      if (!h) return h.status();
      hash = *h;
      break;
    }
  if (hash.empty()) {
    auto h = stream_subject();
    if (!h) return h.status();
    hash = *h;
    if (assumed != nullptr) *assumed = hash;
  }
  return seal_under(e, hash, found, puts);
}

Status Vault::seal_under(v1::Envelope& e, const std::string& hash, const std::vector<Found>& found, std::vector<KeyPut>& puts) {
  // The subject's key: cached, stored, or new. Made under a lock, so that two appenders of a
  // new person share one; until it is written, every append that uses it writes it too.
  std::optional<Record> key;
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(hash); it != cache_.end()) key = it->second;
  }
  if (!key) {
    std::lock_guard making(make_mu_);
    {
      std::shared_lock lock(mu_);
      if (auto it = cache_.find(hash); it != cache_.end()) key = it->second;
    }
    if (!key) {
      auto r = record(hash);
      if (!r) return r.status();
      key = *r;
    }
    if (!key) {
      Record fresh{std::string(8, '\0'), now_micros(), {}, {}};
      random_bytes(fresh.key.data(), fresh.key.size());
      random_bytes(fresh.id.data(), fresh.id.size());
      fresh.unwritten = fresh.id + be64(static_cast<std::uint64_t>(fresh.created));
      fresh.unwritten += box(*master_, std::string_view(reinterpret_cast<const char*>(fresh.key.data()), fresh.key.size()),
                             key_record_ad(hash, fresh.id));
      key = fresh;
    }
    std::unique_lock lock(mu_);
    evict_if_full();
    cache_[hash] = *key;
  }
  if (!key->unwritten.empty()) puts.push_back({hash, key->id, key->unwritten});
  // One box for every field: a nonce, a tag and a path's framing per event, not per field.
  auto* sealed = e.mutable_sealed();
  sealed->set_subject(hash);
  sealed->set_key(key->id);
  // The texts as a SealedTexts message, encoded by protobuf's wire format straight from
  // the fields (not copied into a message first), into a buffer each thread reuses.
  thread_local std::string texts;
  texts.clear();
  {
    pb::io::StringOutputStream raw(&texts);
    pb::io::CodedOutputStream out(&raw);
    for (const auto& f : found) {
      const auto* r = f.message->GetReflection();
      sealed->add_paths(f.path);
      if (f.index < 0) {
        pb::internal::WireFormatLite::WriteBytes(v1::SealedTexts::kTextsFieldNumber, r->GetStringReference(*f.message, f.field, nullptr), &out);
        r->ClearField(f.message, f.field);
      } else {  // an element of a list: emptied in its place, so the others keep theirs
        pb::internal::WireFormatLite::WriteBytes(v1::SealedTexts::kTextsFieldNumber,
                                                 r->GetRepeatedStringReference(*f.message, f.field, f.index, nullptr), &out);
        r->SetRepeatedString(f.message, f.field, f.index, std::string());
      }
    }
  }
  box_into(key->key, texts, additional_data(e.event_id(), kAllFields), *sealed->mutable_box());
  sodium_memzero(texts.data(), texts.size());  // no plaintext left behind in the buffer
  return Status::success();
}

Status Vault::reseal(v1::Envelope& e, const std::string& hash, std::vector<KeyPut>& puts) {
  if (auto s = unseal(e); !s) return s;
  std::vector<Found> found;
  collect(e, "", found);
  return seal_under(e, hash, found, puts);
}

void Vault::write_keys(const std::vector<KeyPut>& puts, rocksdb::WriteBatch& batch) {
  for (const auto& k : puts)
    if (!erased_in_group_.count(k.hash)) batch.Put(keys_, record_name(k.hash), k.value);
}
void Vault::committed(const std::vector<KeyPut>& puts) {
  std::unique_lock lock(mu_);
  for (const auto& k : puts)
    if (auto it = cache_.find(k.hash); it != cache_.end() && it->second.id == k.id) it->second.unwritten.clear();
  // A subject erased in this group: what an appender cached of them meanwhile is gone.
  for (const auto& hash : erased_in_group_) cache_.erase(hash);
  erased_in_group_.clear();
}

void Vault::failed() { erased_in_group_.clear(); }

Status Vault::unseal(v1::Envelope& e) const {
  if (!e.has_sealed()) return Status::success();
  const v1::Sealed sealed = std::move(*e.mutable_sealed());
  e.clear_sealed();
  std::optional<Key> key;
  const char* placeholder = kLocked;
  if (!locked()) {
    auto k = data_key(sealed.subject(), sealed.key());
    if (!k) return Status::corruption("event at position " + std::to_string(e.position()) + ": " + k.status().message());
    if (*k) key = **k;
    else placeholder = kErased;
  }
  auto corrupt = [&](const std::string& what) { return Status::corruption("event at position " + std::to_string(e.position()) + what); };
  if (!sealed.paths().empty()) {
    v1::SealedTexts texts;
    if (key) {
      auto plain = unbox(*key, sealed.box(), additional_data(e.event_id(), kAllFields));
      if (!plain || !texts.ParseFromString(*plain) || texts.texts_size() != sealed.paths_size())
        return corrupt(": the box of its sealed fields does not authenticate (tampered or damaged)");
    }
    for (int i = 0; i < sealed.paths_size(); ++i) {
      auto target = at_path(e, sealed.paths(i));
      if (!target) return corrupt(" has a sealed field at '" + sealed.paths(i) + "', which is no text field of an event");
      target->set(key ? std::move(*texts.mutable_texts(i)) : std::string(placeholder));
    }
  }
  for (const auto& f : sealed.fields()) {
    auto target = at_path(e, f.path());
    if (!target) return corrupt(" has a sealed field at '" + f.path() + "', which is no text field of an event");
    if (!key) {
      target->set(placeholder);
      continue;
    }
    auto plain = unbox(*key, f.box(), additional_data(e.event_id(), f.path()));
    if (!plain)
      return Status::corruption("event at position " + std::to_string(e.position()) + ": the sealed field " +
                                target->field->full_name() + " does not authenticate (tampered or damaged)");
    target->set(std::move(*plain));
  }
  return Status::success();
}

// ---- Copies elsewhere ------------------------------------------------------------------------

Result<std::string> Vault::wrapped_salt() const {
  std::string salt;
  auto s = db_->Get(rocksdb::ReadOptions(), keys_, kSaltRecord, &salt);
  if (s.IsNotFound()) return std::string();
  if (!s.ok()) return Status::io("reading the keys: " + s.ToString());
  return salt;
}

Result<std::optional<std::string>> Vault::wrapped_key(const std::string& hash) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), keys_, record_name(hash), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Status::io("reading the keys: " + s.ToString());
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::pair<std::string, std::string>>> Vault::wrapped_keys_after(const std::string& after, std::size_t limit) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  const std::string from = record_name(after);
  for (it->Seek(from); it->Valid() && out.size() < limit; it->Next()) {
    const auto name = it->key().ToStringView();
    if (!name.starts_with(kKeyPrefix)) break;
    if (name == from) continue;  // after it
    out.emplace_back(std::string(name.substr(std::string_view(kKeyPrefix).size())), it->value().ToString());
  }
  if (!it->status().ok()) return Status::io("reading the keys: " + it->status().ToString());
  return out;
}

Status Vault::adopt(const std::string& salt, const std::vector<std::pair<std::string, std::string>>& subjects,
                    rocksdb::WriteBatch& batch) {
  if (salt.empty()) {
    if (!subjects.empty()) return Status::corruption("the copy holds " + std::to_string(subjects.size()) + " data keys but no salt");
    return Status::success();
  }
  if (locked()) return Status(Code::read_only, "the folder is locked: " + locked_reason_);
  auto master = read_master_key(key_file_);
  if (!master) return master.status();
  auto opened = unbox(*master, salt, "leanos salt");
  if (!opened || opened->size() != 32)
    return Status::invalid("master key file " + key_file_ + " is not the key this workspace's personal fields were sealed under (another "
                           "workspace's, or one rotated away): pass the workspace's own with --master-key-file");
  auto here = wrapped_salt();
  if (!here) return here.status();
  if (here->empty()) {
    batch.Put(keys_, kSaltRecord, salt);
  } else if (unbox(*master, *here, "leanos salt") != opened) {
    return Status::conflict("the folder holds another salt than the copy: they are not copies of one workspace");
  }
  for (const auto& [hash, value] : subjects) {
    const bool opens = hash.size() == kHashBytes && value.size() > 16 &&
                       unbox(*master, std::string_view(value).substr(16), key_record_ad(hash, value.substr(0, 8))).value_or("").size() == 32;
    if (!opens)
      return Status::corruption("the data key of subject " + to_hex(hash) + " in the copy does not open under master key file " + key_file_ +
                                " (damaged, or wrapped under another key)");
    batch.Put(keys_, record_name(hash), value);
  }
  return Status::success();
}

Status Vault::check_sealed(const v1::Envelope& e) const {
  const std::string which = "event " + e.event_id() + " (position " + std::to_string(e.position()) + ")";
  const auto& seal = e.sealed();
  if (seal.subject().size() != kHashBytes || seal.key().size() != 8 || (seal.fields().empty() && seal.paths().empty()) ||
      seal.paths().empty() != seal.box().empty())
    return Status::invalid(which + " has a malformed seal: a 16-byte subject, an 8-byte key id and at least one field (with a box) are expected");
  if (has_personal_data(e)) return Status::invalid(which + " is sealed but holds personal fields in clear too");
  v1::Envelope copy = e;
  if (auto s = unseal(copy); !s) return Status::invalid(which + ": " + s.message());
  return Status::success();
}

void Vault::uncache(const std::string& hash) {
  std::unique_lock lock(mu_);
  cache_.erase(hash);
}

}  // namespace leanos::store
