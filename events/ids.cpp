#include "events/ids.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>

#include <sodium.h>

namespace leanos {

namespace {

std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string uuid_text(std::uint64_t hi, std::uint64_t lo) {
  // 8-4-4-4-12 lower-case hex digits (formatted by hand: snprintf was a visible share of an
  // append of many events that the store names).
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  auto put = [&out](std::size_t at, std::uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i, v >>= 4) out[at + static_cast<std::size_t>(i)] = kHex[v & 0xf];
  };
  put(0, hi >> 32, 8);
  put(9, (hi >> 16) & 0xffff, 4);
  put(14, hi & 0xffff, 4);
  put(19, lo >> 48, 4);
  put(24, lo & 0xffffffffffffULL, 12);
  return out;
}

}  // namespace

std::string new_event_id() {
  // RFC 9562 version 7: the Unix time in milliseconds, then the sub-millisecond fraction in
  // rand_a (method 3), then 62 random bits. Ids made close in time sort close together, so
  // the event_ids index takes them near its last insert instead of at a random place in the
  // memtable's skip list (a random insert per event was the append path's largest cost).
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  const auto us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  const std::uint64_t ms = us / 1000, frac = (us % 1000) * 4096 / 1000;
  const std::uint64_t hi = ((ms & 0xffffffffffffULL) << 16) | 0x7000ULL | (frac & 0xfff);
  const std::uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC variant
  return uuid_text(hi, lo);
}

std::string derived_event_id(std::string_view cause_event_id, std::string_view rule) {
  // Two FNV-1a passes with different offsets: stable across compilers and platforms,
  // unlike std::hash. Not cryptographic; ids are not secrets, only names.
  std::uint64_t a = fnv1a(rule, fnv1a("\x1f", fnv1a(cause_event_id, 0xcbf29ce484222325ULL)));
  std::uint64_t b = fnv1a(cause_event_id, fnv1a("\x1f", fnv1a(rule, 0x84222325cbf29ce4ULL)));
  return "d-" + uuid_text(a, b);
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char c : digest) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

Status check_stream_name(std::string_view stream) {
  if (stream.empty() || stream.size() > 200)
    return Status::invalid("stream name must be 1 to 200 characters, got " + std::to_string(stream.size()));
  for (char c : stream) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == ':';
    if (!ok)
      return Status::invalid("stream name '" + std::string(stream) +
                             "' has the character '" + std::string(1, c) +
                             "'; use lowercase letters, digits and - _ . : (e.g. deal-acme-corp)");
  }
  return Status::success();
}

std::string slugify(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string deal_stream(std::string_view id) { return "deal-" + std::string(id); }
std::string campaign_stream(std::string_view id) { return "campaign-" + std::string(id); }
std::string goal_stream(std::string_view id) { return "goal-" + std::string(id); }
std::string segment_stream(std::string_view segment) { return "segment-" + std::string(segment); }

bool is_domain_stream(std::string_view stream) {
  for (std::string_view prefix : {"deal-", "campaign-", "goal-", "segment-"})
    if (stream.substr(0, prefix.size()) == prefix) return true;
  for (std::string_view name : {kCanvasStream, kMarketingStream, kWorkspaceStream, kAnalysisStream, kPrivacyStream, kDocumentsStream,
                                kImportsStream, kFilesStream, kFileContentsStream, kScenariosStream})
    if (stream == name) return true;
  return false;
}

}  // namespace leanos
