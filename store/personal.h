// Personal data in the log: sealed on append, opened on read, erased by forgetting a key.
//
// Fields marked [(leanos.v1.personal) = true] in the schema are stored encrypted
// (libsodium's XChaCha20-Poly1305; associated data: the event id and the field's path) under
// a data key of the event's data subject, and cleared in the stored record (Envelope.sealed
// holds them). The subject is the first [(data_subject) = true] field set in the event (an
// e-mail, or an explicit subject id; trimmed, lower-cased); an event naming nobody takes
// the subject of its stream's first event (a deal's LeadCaptured names its contact), or
// else the stream itself ("stream:deal-acme-corp").
//
// Data keys live in the `keys` column family, each wrapped (encrypted) under the workspace's
// master key, which lives outside the data folder in a key file (0600). A subject is named
// there by a keyed hash (BLAKE2b, keyed by a random salt that is itself wrapped under the
// master key), so the folder does not reveal whom it holds keys for. Forgetting a subject
// deletes their data key: every copy of their fields, in the log, in backups taken
// afterwards and in anything read from them, is ciphertext no one can open; readers get
// "[erased]".
//
// Without the master key (file missing or another one) the store is locked: personal
// fields read "[locked]", nothing is written (never plaintext instead), and projection
// snapshots (which hold opened fields) are neither read nor written.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "events/result.h"
#include "events/text.h"
#include "events/time.h"
#include "leanos/v1/events.pb.h"

namespace leanos::store {

// Where the master key of the workspace in `dir` lives when no file is named: the
// environment's LEANOS_MASTER_KEY_FILE, else beside the folder: "<dir>.master-key".
std::string default_master_key_file(const std::string& dir);

// The subject id as keys are derived from it: trimmed, lower-cased.
std::string normalize_subject(std::string_view subject);

// Whether any personal field of `e` holds text (sealing has work to do).
bool has_personal_data(const v1::Envelope& e);

// The paths of the personal fields of a message type, for tests and documentation.
std::vector<std::string> personal_field_names(const google::protobuf::Descriptor* d);

class Vault {
 public:
  using Key = std::array<unsigned char, 32>;

  Vault(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys, std::string key_file);

  // Reads the salt record; when there is one, loads the master key (locked when it cannot).
  Status open();
  bool locked() const { return !locked_reason_.empty(); }
  const std::string& locked_reason() const { return locked_reason_; }
  const std::string& key_file() const { return key_file_; }

  // A data key made but not yet known to be written: the append that uses it writes it.
  struct KeyPut {
    std::string hash, id, value;
  };
  struct Found;  // a personal field set in an event (personal.cpp)

  // Any thread (appenders seal their own events before the queue). Seals the personal
  // fields of `e` (its event id set) in place, under the subject it names or, naming nobody,
  // the one `stream_subject` gives (then stored in `assumed`, for the writer to check). Keys
  // not yet written go into `puts`.
  Status seal(v1::Envelope& e, const std::function<Result<std::string>()>& stream_subject, std::vector<KeyPut>& puts,
              std::string* assumed = nullptr);
  // Writer thread: seals `e` again under `hash` (its stream's subject turned out another).
  Status reseal(v1::Envelope& e, const std::string& hash, std::vector<KeyPut>& puts);
  // Writer thread: an accepted append's keys into the group's batch (not those of a subject
  // erased in the same group); after the write, committed() (or failed()).
  void write_keys(const std::vector<KeyPut>& puts, rocksdb::WriteBatch& batch);
  void committed(const std::vector<KeyPut>& puts);
  void failed();

  // Opens the sealed fields of `e` in place: the plaintext, "[erased]" when the subject's key
  // is gone, "[locked]" without the master key. Fails (corruption, naming the event's
  // position and the field) when a box does not authenticate: tampered or damaged.
  Status unseal(v1::Envelope& e) const;

  // The keyed hash naming `subject`'s key; not_found when no personal data was ever sealed.
  Result<std::string> subject_hash(std::string_view subject) const;
  // The subject hash an event without a subject of its own is sealed under, for its stream.
  Result<std::string> stream_hash(const std::string& stream);
  // When the subject's data key was made; none when they have no key (never recorded, or
  // forgotten).
  Result<std::optional<Micros>> key_created(const std::string& hash) const;
  // Writer thread: deletes the subject's key in `batch` (a key made for them earlier in the
  // same group too: the delete comes after it) and forgets it here; a later event of the
  // group that names them gets a new key.
  Status erase(const std::string& hash, rocksdb::WriteBatch& batch);
  // Writes a new master key to `new_key_file` (which must not exist; its forgotten list
  // copied beside it) and puts the salt and every data key, wrapped under it, into `batch`.
  // Only on a store nothing else uses (EventStore::rotate_master_key).
  Status rotate(const std::string& new_key_file, rocksdb::WriteBatch& batch);
  // The keys column family's key of a subject's data key.
  static std::string record_name(const std::string& hash);

  // Copies of the log kept elsewhere (the relay's key stream, `restore --from-nats`).
  // The records as stored, wrapped under the master key: the salt's ("" when nothing was
  // sealed yet), a subject's (none when they have no key), and every subject's after
  // `after` in hash order, at most `limit`.
  Result<std::string> wrapped_salt() const;
  Result<std::optional<std::string>> wrapped_key(const std::string& hash) const;
  Result<std::vector<std::pair<std::string, std::string>>> wrapped_keys_after(const std::string& after, std::size_t limit) const;
  // A copy's records into `batch`, each checked to open under the master key in the key
  // file (the workspace's own); a salt already here must be the same salt. Then, written,
  // open() again. On a store nothing else uses yet.
  Status adopt(const std::string& salt, const std::vector<std::pair<std::string, std::string>>& subjects,
               rocksdb::WriteBatch& batch);
  // An event of a copy that comes sealed: a well-formed seal, no personal field in clear,
  // every sealed field at a text field and, when its key is here, authentic.
  Status check_sealed(const v1::Envelope& e) const;
  // Drops what the cache holds of a subject whose key record was deleted apart from erase().
  void uncache(const std::string& hash);

 private:
  Status ensure_master();  // creates the master key and salt on first use
  Status seal_under(v1::Envelope& e, const std::string& hash, const std::vector<Found>& found, std::vector<KeyPut>& puts);
  // A data key: which one of a subject's (id), its creation time, and the key.
  struct Record {
    std::string id;
    Micros created = 0;
    Key key{};
    std::string unwritten;  // the record's value while it may not be written yet
  };
  void evict_if_full() const;  // under mu_: bounds the cache, keeping keys not yet written
  Result<std::optional<Record>> record(const std::string& hash) const;
  // The key an event was sealed with; none once forgotten.
  Result<std::optional<Key>> data_key(const std::string& hash, const std::string& id) const;

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* keys_;
  std::string key_file_;
  std::string locked_reason_;
  std::optional<Key> master_;
  std::optional<Key> salt_;
  std::atomic<bool> ready_{false};  // master_ and salt_ are set
  std::mutex make_mu_;               // making the master key, or a data key
  mutable std::shared_mutex mu_;
  mutable std::unordered_map<std::string, Record> cache_;  // subject hash -> its current key
  mutable std::size_t evict_at_ = 0;  // the size that triggers the next eviction (at least the bound)
  std::unordered_set<std::string> erased_in_group_;        // writer: subjects erased in this group
};

// The forgotten-subjects list beside the master key ("<key file>.forgotten"): one line per
// erasure, "<hex hash> <forgotten at, microseconds>". Re-applied when a store opens, so a
// backup restored from before an erasure does not bring the person back.
// Written through `env` (none: the machine's), as the store's own files are, so a power cut
// simulated beneath the store (store/power_cut.h) reaches it too: the line synced, and the
// folder synced after the list is made. A last line a power cut tore (its sync never
// returned, so its erasure was never acknowledged) is cut off by the next record and
// skipped, with a warning, when read.
std::string forgotten_list_file(const std::string& key_file);
Status record_forgotten(const std::string& key_file, const std::string& hash, Micros at, rocksdb::Env* env = nullptr);
Result<std::vector<std::pair<std::string, Micros>>> read_forgotten(const std::string& key_file);

std::string to_hex(std::string_view bytes);
// A subject hash from its hex (as SubjectForgotten.subject_hash holds it); none when it is not one.
std::optional<std::string> subject_hash_from_hex(std::string_view hex);

// `n` random bytes for nonces, key ids and data keys: a per-thread ChaCha20 stream keyed from
// the OS's generator, rekeyed in a forked child (which must never repeat its parent's nonces).
void random_bytes(void* out, std::size_t n);
// Creates `path` (which must not exist) readable by its owner only (0600), writes `content`
// and syncs it and its folder. `what` names the file in errors ("master key file").
Status write_secret_file(const std::string& path, const std::string& content, const std::string& what);

}  // namespace leanos::store
