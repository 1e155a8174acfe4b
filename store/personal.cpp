#include "store/personal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "leanos/v1/options.pb.h"
#include "store/keys.h"

namespace leanos::store {

namespace pb = google::protobuf;

// Random bytes for nonces, key ids and data keys: ChaCha20 keyed per thread from the OS's
// generator, rather than a getrandom system call for each of the four or five a sealed event
// needs. A forked child must not repeat its parent's stream: fork bumps a generation that
// every thread's state is keyed to (an atomic load, where getpid would be a system call).
namespace {
std::atomic<std::uint64_t> random_generation{1};
}  // namespace

void random_bytes(void* out, std::size_t n) {
  static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, [] { random_generation.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  thread_local struct {
    unsigned char key[crypto_stream_chacha20_ietf_KEYBYTES];
    std::uint64_t counter = 0;
    std::uint64_t generation = 0;
  } state;
  if (const auto g = random_generation.load(std::memory_order_relaxed); state.generation != g) {
    randombytes_buf(state.key, sizeof state.key);
    state.counter = 0;
    state.generation = g;
  }
  unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  std::memcpy(nonce, &state.counter, sizeof state.counter);
  ++state.counter;
  crypto_stream_chacha20_ietf(static_cast<unsigned char*>(out), n, nonce, state.key);
}

struct Vault::Found {
  pb::Message* message;
  const pb::FieldDescriptor* field;
  std::string path;
  bool subject;
  int index = -1;  // the element of a repeated field, else -1
};

namespace {

using Found = Vault::Found;
constexpr std::size_t kHashBytes = 16;
constexpr const char* kSaltRecord = "salt";
constexpr const char* kKeyPrefix = "subject/";
constexpr std::size_t kCacheEntries = 1 << 16;  // data keys kept opened (about 6 MB)

// Which fields of a message type hold personal data, directly or in a nested message.
struct Plan {
  struct Step {
    const pb::FieldDescriptor* field;
    bool personal;       // a personal string field
    bool subject;        // it names the data subject
    std::string number;  // the field's number as its path names it
  };
  std::vector<Step> steps;  // personal strings, and singular messages that hold some
  // Steps of fields in a oneof are not walked one by one (an envelope's payload is one of
  // dozens of event types): per oneof, the step of each of its fields, by field index.
  std::vector<std::size_t> plain;  // the steps of fields in no oneof
  struct Oneof {
    const pb::OneofDescriptor* oneof;
    std::vector<int> step_of;  // by the field's index in its message, -1 for none
  };
  std::vector<Oneof> oneofs;
  bool empty() const { return steps.empty(); }
};

// Every message type an event can hold is planned once, up front (lookups then take no
// lock: sealing and opening run on every appender and reader thread); any other type is
// planned on demand, under a lock, apart.
class Plans {
 public:
  Plans() { build(v1::Envelope::descriptor(), fixed_); }

  const Plan* of(const pb::Descriptor* d) {
    if (auto it = fixed_.find(d); it != fixed_.end()) return it->second.empty() ? nullptr : &it->second;
    std::lock_guard lock(mu_);
    return build(d, other_);
  }

 private:
  using Map = std::unordered_map<const pb::Descriptor*, Plan>;
  static const Plan* build(const pb::Descriptor* d, Map& plans) {
    if (auto it = plans.find(d); it != plans.end()) return it->second.empty() ? nullptr : &it->second;
    plans[d];  // a cycle (Struct, Value) holds nothing personal through itself
    Plan plan;
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      const auto& o = f->options();
      if (o.GetExtension(v1::personal) && (f->type() == pb::FieldDescriptor::TYPE_STRING || f->type() == pb::FieldDescriptor::TYPE_BYTES)) {
        // A list's texts are sealed element by element; only a single text names a subject.
        plan.steps.push_back({f, true, o.GetExtension(v1::data_subject) && !f->is_repeated(), std::to_string(f->number())});
      } else if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE && !f->is_repeated() && !f->is_map()) {
        if (build(f->message_type(), plans) != nullptr) plan.steps.push_back({f, false, false, std::to_string(f->number())});
      }
    }
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      const auto* f = plan.steps[i].field;
      const auto* oneof = f->real_containing_oneof();
      if (oneof == nullptr) {
        plan.plain.push_back(i);
        continue;
      }
      auto it = std::find_if(plan.oneofs.begin(), plan.oneofs.end(), [&](const Plan::Oneof& x) { return x.oneof == oneof; });
      if (it == plan.oneofs.end()) it = plan.oneofs.insert(plan.oneofs.end(), {oneof, std::vector<int>(static_cast<std::size_t>(d->field_count()), -1)});
      it->step_of[static_cast<std::size_t>(f->index())] = static_cast<int>(i);
    }
    auto& slot = plans[d];
    slot = std::move(plan);
    return slot.empty() ? nullptr : &slot;
  }
  Map fixed_;  // built in the constructor, read-only after
  std::mutex mu_;
  Map other_;
};

Plans& plans() {
  static Plans p;
  return p;
}


// The personal string fields set in `m`, in field order, with their paths.
void collect(pb::Message& m, const std::string& prefix, std::vector<Found>& out) {
  const Plan* plan = plans().of(m.GetDescriptor());
  if (plan == nullptr) return;
  const auto* r = m.GetReflection();
  auto visit = [&](const Plan::Step& s) {
    std::string path = prefix;
    if (!path.empty()) path += '.';
    path += s.number;
    if (s.personal && s.field->is_repeated()) {
      for (int j = 0; j < r->FieldSize(m, s.field); ++j)
        if (!r->GetRepeatedStringReference(m, s.field, j, nullptr).empty()) out.push_back({&m, s.field, path + '#' + std::to_string(j), false, j});
    } else if (s.personal) {
      if (!r->GetStringReference(m, s.field, nullptr).empty()) out.push_back({&m, s.field, std::move(path), s.subject});
    } else {
      collect(*r->MutableMessage(&m, s.field), path, out);
    }
  };
  // In field order: the oneofs' set fields merged with the plain ones.
  std::array<const Plan::Step*, 4> few;  // a message has few oneofs
  std::vector<const Plan::Step*> many;
  const Plan::Step** set = few.data();
  if (plan->oneofs.size() > few.size()) set = (many.resize(plan->oneofs.size()), many.data());
  std::size_t n_set = 0;
  for (const auto& o : plan->oneofs)
    if (const auto* f = r->GetOneofFieldDescriptor(m, o.oneof); f != nullptr)
      if (const int i = o.step_of[static_cast<std::size_t>(f->index())]; i >= 0) set[n_set++] = &plan->steps[static_cast<std::size_t>(i)];
  std::sort(set, set + n_set, [](const Plan::Step* a, const Plan::Step* b) { return a->field->index() < b->field->index(); });
  std::size_t next = 0;
  for (const std::size_t i : plan->plain) {
    const auto& s = plan->steps[i];
    for (; next < n_set && set[next]->field->index() < s.field->index(); ++next) visit(*set[next]);
    if (s.field->is_repeated() ? r->FieldSize(m, s.field) > 0 : r->HasField(m, s.field)) visit(s);
  }
  for (; next < n_set; ++next) visit(*set[next]);
}

// A text field's place: the message, the field, and the element of a repeated one (else -1).
struct Place {
  pb::Message* message;
  const pb::FieldDescriptor* field;
  int index;
  void set(std::string text) const {
    const auto* r = message->GetReflection();
    if (index < 0) r->SetString(message, field, std::move(text));
    else r->SetRepeatedString(message, field, index, std::move(text));
  }
};

// The string field at `path` (field numbers from the envelope down, the last one "N#i" for
// element i of a repeated field), created on the way.
std::optional<Place> at_path(pb::Message& root, const std::string& path) {
  pb::Message* m = &root;
  std::size_t start = 0;
  auto number = [](const std::string& part) -> std::optional<int> {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoi(part);
  };
  for (;;) {
    const auto dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::optional<int> element;
    if (const auto hash = part.find('#'); hash != std::string::npos && dot == std::string::npos) {
      element = number(part.substr(hash + 1));
      if (!element) return std::nullopt;
      part.resize(hash);
    }
    const auto n = number(part);
    if (!n) return std::nullopt;
    const auto* f = m->GetDescriptor()->FindFieldByNumber(*n);
    if (f == nullptr || f->is_repeated() != element.has_value()) return std::nullopt;
    if (dot == std::string::npos) {
      if (f->type() != pb::FieldDescriptor::TYPE_STRING && f->type() != pb::FieldDescriptor::TYPE_BYTES) return std::nullopt;
      // A sealed element was kept in its place (emptied): the list is as long as it was.
      if (element && *element >= m->GetReflection()->FieldSize(*m, f)) return std::nullopt;
      return Place{m, f, element.value_or(-1)};
    }
    if (f->type() != pb::FieldDescriptor::TYPE_MESSAGE) return std::nullopt;
    m = m->GetReflection()->MutableMessage(m, f);
    start = dot + 1;
  }
}

std::string additional_data(const std::string& event_id, const std::string& path) { return event_id + '\0' + path; }
constexpr const char* kAllFields = "*";  // the compact format's one box (no path is "*")

// Encrypts `plain` into `out` (replacing what it held): nonce, then ciphertext and tag.
void box_into(const Vault::Key& key, std::string_view plain, std::string_view ad, std::string& out) {
  out.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  random_bytes(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &len,
                                             reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                                             reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce,
                                             key.data());
}

std::string box(const Vault::Key& key, std::string_view plain, const std::string& ad) {
  std::string out;
  box_into(key, plain, ad, out);
  return out;
}

// A data key's record in the keys column family: id (8 bytes), be64(created), then the key
// boxed under the master key with this associated data (the subject hash and the id).
std::string key_record_ad(std::string_view hash, std::string_view id) {
  return "leanos key " + std::string(hash) + std::string(id);
}

std::optional<std::string> unbox(const Vault::Key& key, std::string_view sealed, const std::string& ad) {
  constexpr std::size_t overhead = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < overhead) return std::nullopt;
  std::string out(sealed.size() - overhead, '\0');
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &len, nullptr,
                                                 nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce,
                                                 key.data()) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

std::optional<Vault::Key> to_key(std::string_view bytes) {
  if (bytes.size() != 32) return std::nullopt;
  Vault::Key k;
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

Result<Vault::Key> read_master_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Status::not_found("master key file " + path + " is missing (" + std::strerror(errno) +
                             "); the workspace's personal fields are sealed under the key it held: pass --master-key-file "
                             "or set LEANOS_MASTER_KEY_FILE");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::precondition("master key file " + path + " may be read by others (mode " + mode +
                                "); it must be readable by its owner only: chmod 600 " + path);
  }
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  Vault::Key k;
  std::size_t len = 0;
  if (text.size() != 64 || sodium_hex2bin(k.data(), k.size(), text.data(), text.size(), nullptr, &len, nullptr) != 0 || len != 32)
    return Status::invalid("master key file " + path + " does not hold a master key (64 hexadecimal digits on one line)");
  return k;
}

}  // namespace

Status write_secret_file(const std::string& path, const std::string& content, const std::string& what) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io("cannot create " + what + " " + path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::io("cannot write " + what + " " + path + ": " + std::strerror(errno));
  const auto parent = std::filesystem::path(path).parent_path();
  if (const int dfd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::success();
}

std::string to_hex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.pop_back();
  return out;
}

std::string default_master_key_file(const std::string& dir) {
  if (const char* env = std::getenv("LEANOS_MASTER_KEY_FILE"); env != nullptr && *env != '\0') return env;
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d + ".master-key";
}

namespace {
std::string_view trim_subject(std::string_view subject) {
  while (!subject.empty() && std::isspace(static_cast<unsigned char>(subject.front()))) subject.remove_prefix(1);
  while (!subject.empty() && std::isspace(static_cast<unsigned char>(subject.back()))) subject.remove_suffix(1);
  return subject;
}
}  // namespace

std::string normalize_subject(std::string_view subject) {
  std::string out(trim_subject(subject));
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has_personal_data(const v1::Envelope& e) {
  std::vector<Found> found;
  collect(const_cast<v1::Envelope&>(e), "", found);  // collect reads only; MutableMessage of a set field changes nothing
  return !found.empty();
}

std::vector<std::string> personal_field_names(const pb::Descriptor* d) {
  std::vector<std::string> out;
  const Plan* plan = plans().of(d);
  if (plan == nullptr) return out;
  for (const auto& s : plan->steps)
    if (s.personal) out.push_back(s.field->full_name());
  return out;
}

std::string forgotten_list_file(const std::string& key_file) { return key_file + ".forgotten"; }

Status record_forgotten(const std::string& key_file, const std::string& hash, Micros at) {
  const std::string path = forgotten_list_file(key_file);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io("cannot open the forgotten-subjects list " + path + ": " + std::strerror(errno));
  const std::string line = to_hex(hash) + " " + std::to_string(at) + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::io("cannot write the forgotten-subjects list " + path + ": " + std::strerror(errno));
  return Status::success();
}

Result<std::vector<std::pair<std::string, Micros>>> read_forgotten(const std::string& key_file) {
  std::vector<std::pair<std::string, Micros>> out;
  const std::string path = forgotten_list_file(key_file);
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream fields(line);
    std::string hex;
    long long at = 0;
    std::optional<std::string> hash;
    if (!(fields >> hex >> at) || !(hash = subject_hash_from_hex(hex)))
      return Status::corruption("line " + std::to_string(n) + " of the forgotten-subjects list " + path +
                                " is not '<32 hex digits> <microseconds>'");
    out.emplace_back(std::move(*hash), at);
  }
  return out;
}

std::optional<std::string> subject_hash_from_hex(std::string_view hex) {
  std::string hash(kHashBytes, '\0');
  std::size_t len = 0;
  if (hex.size() != 2 * kHashBytes ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(hash.data()), hash.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != kHashBytes)
    return std::nullopt;
  return hash;
}

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
