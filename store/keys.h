// The on-disk layout of the event store: column family names and key encodings, in one place.
//
// Integers in keys are big-endian so that byte order is numeric order.
//
//   events       be64(position)                      -> Envelope bytes
//   streams      stream 0x00 be64(version)           -> be64(position)
//   event_ids    event_id                            -> be64(position)
//   time         be64(recorded_at micros) be64(first) -> be64(last): one entry per group commit
//   occurred     be64(max occurred_at) be64(pos)     -> "": an event that raised the running max
//   late         be64(occurred_at) be64(pos)         -> "": an event dated before the running max
//   late_positions be64(pos)                         -> be64(occurred_at): the same events by position
//   snapshots    name 0x00 be64(position)            -> projection state bytes
//   checkpoints  subscriber name                     -> be64(position)
//   keys         "salt"                              -> the subject-hash salt, wrapped under the master key
//                "subject/" hash(16)                 -> be64(created micros) + the subject's data key, wrapped
//   default      "sealed"                            -> "1": every personal field in the log is sealed
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace leanos::store {

inline constexpr const char* kEventsCf = "events";
inline constexpr const char* kStreamsCf = "streams";
inline constexpr const char* kEventIdsCf = "event_ids";
inline constexpr const char* kTimeCf = "time";
inline constexpr const char* kSnapshotsCf = "snapshots";
inline constexpr const char* kOccurredCf = "occurred";
inline constexpr const char* kLateCf = "late";
inline constexpr const char* kLatePositionsCf = "late_positions";
inline constexpr const char* kCheckpointsCf = "checkpoints";
inline constexpr const char* kKeysCf = "keys";
inline constexpr const char* kSealedMarker = "sealed";

inline void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline std::string be64(std::uint64_t v) {
  std::string s;
  s.reserve(8);
  put_be64(s, v);
  return s;
}

// REQUIRES: bytes.size() >= 8
inline std::uint64_t get_be64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

// Exactly 8 bytes, or nothing.
inline std::optional<std::uint64_t> decode_be64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  return get_be64(bytes);
}

// name 0x00 be64(n): the key shape of streams and snapshots.
inline std::string named_key(std::string_view name, std::uint64_t n) {
  std::string k;
  k.reserve(name.size() + 9);
  k.append(name);
  k.push_back('\0');
  put_be64(k, n);
  return k;
}

inline std::string name_prefix(std::string_view name) {
  std::string k(name);
  k.push_back('\0');
  return k;
}

inline std::string time_key(std::uint64_t recorded_at, std::uint64_t position) {
  std::string k;
  k.reserve(16);
  put_be64(k, recorded_at);
  put_be64(k, position);
  return k;
}

}  // namespace leanos::store
