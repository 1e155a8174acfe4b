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
#include <rocksdb/env.h>
#include <spdlog/spdlog.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "leanos/v1/options.pb.h"
#include "store/keys.h"
#include "store/personal_detail.h"

namespace leanos::store {

namespace pb = google::protobuf;
using namespace detail;

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

namespace detail {


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

}  // namespace detail

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

namespace detail {
std::string_view trim_subject(std::string_view subject) {
  while (!subject.empty() && std::isspace(static_cast<unsigned char>(subject.front()))) subject.remove_prefix(1);
  while (!subject.empty() && std::isspace(static_cast<unsigned char>(subject.back()))) subject.remove_suffix(1);
  return subject;
}
}  // namespace detail

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

Status record_forgotten(const std::string& key_file, const std::string& hash, Micros at, rocksdb::Env* env) {
  const std::string path = forgotten_list_file(key_file);
  if (env == nullptr) env = rocksdb::Env::Default();
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  if (existed) {  // a line a power cut tore is cut off first: this record starts a line of its own
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!text.empty() && text.back() != '\n') {
      const auto keep = text.rfind('\n');
      spdlog::warn("store: the forgotten-subjects list {} ends in part of a line ('{}'), an erasure a power cut interrupted before "
                   "it was acknowledged: cut off",
                   path, text.substr(keep == std::string::npos ? 0 : keep + 1));
      if (::truncate(path.c_str(), static_cast<off_t>(keep == std::string::npos ? 0 : keep + 1)) != 0)
        return Status::io("cannot cut the torn line off the forgotten-subjects list " + path + ": " + std::strerror(errno));
    }
  }
  std::unique_ptr<rocksdb::WritableFile> file;
  auto s = env->ReopenWritableFile(path, &file, rocksdb::EnvOptions());
  if (!s.ok()) return Status::io("cannot open the forgotten-subjects list " + path + ": " + s.ToString());
  if (!existed && ::chmod(path.c_str(), 0600) != 0)
    return Status::io("cannot make the forgotten-subjects list " + path + " its owner's only: " + std::strerror(errno));
  const std::string line = to_hex(hash) + " " + std::to_string(at) + "\n";
  s = file->Append(line);
  if (s.ok()) s = file->Fsync();
  if (const auto closed = file->Close(); s.ok()) s = closed;
  if (!s.ok()) return Status::io("cannot write the forgotten-subjects list " + path + ": " + s.ToString());
  if (!existed) {  // the list's name is durable once its folder is synced
    const auto parent = std::filesystem::path(path).parent_path();
    std::unique_ptr<rocksdb::Directory> folder;
    s = env->NewDirectory(parent.empty() ? "." : parent.string(), &folder);
    if (s.ok()) s = folder->Fsync();
    if (!s.ok()) return Status::io("cannot sync the folder of the forgotten-subjects list " + path + ": " + s.ToString());
  }
  return Status::success();
}

Result<std::vector<std::pair<std::string, Micros>>> read_forgotten(const std::string& key_file) {
  std::vector<std::pair<std::string, Micros>> out;
  const std::string path = forgotten_list_file(key_file);
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  int n = 0;
  while (at < text.size()) {
    ++n;
    const auto end = text.find('\n', at);
    if (end == std::string::npos) {  // torn by a power cut: never acknowledged
      spdlog::warn("store: line {} of the forgotten-subjects list {} is part of a line ('{}'), an erasure a power cut "
                   "interrupted before it was acknowledged: skipped",
                   n, path, text.substr(at));
      break;
    }
    std::istringstream fields(text.substr(at, end - at));
    at = end + 1;
    std::string hex;
    long long when = 0;
    std::optional<std::string> hash;
    if (!(fields >> hex >> when) || !(hash = subject_hash_from_hex(hex)))
      return Status::corruption("line " + std::to_string(n) + " of the forgotten-subjects list " + path +
                                " is not '<32 hex digits> <microseconds>'");
    out.emplace_back(std::move(*hash), when);
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

}  // namespace leanos::store
