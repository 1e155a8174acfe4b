// What personal.cpp (field plans, boxes, the master key file) shares with vault.cpp (the
// Vault's methods); nothing outside the store's personal-data code includes it.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/personal.h"

namespace leanos::store {

struct Vault::Found {
  google::protobuf::Message* message;
  const google::protobuf::FieldDescriptor* field;
  std::string path;
  bool subject;
  int index = -1;  // the element of a repeated field, else -1
};

namespace detail {

using Found = Vault::Found;
inline constexpr std::size_t kHashBytes = 16;
inline constexpr const char* kSaltRecord = "salt";
inline constexpr const char* kKeyPrefix = "subject/";
inline constexpr std::size_t kCacheEntries = 1 << 16;  // data keys kept opened (about 6 MB)
inline constexpr const char* kAllFields = "*";        // the compact format's one box (no path is "*")

// A text field's place: the message, the field, and the element of a repeated one (else -1).
struct Place {
  google::protobuf::Message* message;
  const google::protobuf::FieldDescriptor* field;
  int index;
  void set(std::string text) const {
    const auto* r = message->GetReflection();
    if (index < 0) r->SetString(message, field, std::move(text));
    else r->SetRepeatedString(message, field, index, std::move(text));
  }
};

// The personal string fields set in `m`, in field order, with their paths.
void collect(google::protobuf::Message& m, const std::string& prefix, std::vector<Found>& out);
// The string field at `path` (field numbers from the envelope down, the last one "N#i" for
// element i of a repeated field), created on the way.
std::optional<Place> at_path(google::protobuf::Message& root, const std::string& path);
// What a box of one field (or kAllFields) of an event is bound to.
std::string additional_data(const std::string& event_id, const std::string& path);
// Encrypts `plain` into `out` (replacing what it held): nonce, then ciphertext and tag.
void box_into(const Vault::Key& key, std::string_view plain, std::string_view ad, std::string& out);
std::string box(const Vault::Key& key, std::string_view plain, const std::string& ad);
// The associated data of a data key's record (the subject hash and the key's id).
std::string key_record_ad(std::string_view hash, std::string_view id);
std::optional<std::string> unbox(const Vault::Key& key, std::string_view sealed, const std::string& ad);
std::optional<Vault::Key> to_key(std::string_view bytes);
bool sodium_ready();
Result<Vault::Key> read_master_key(const std::string& path);
std::string_view trim_subject(std::string_view subject);

}  // namespace detail
}  // namespace leanos::store
