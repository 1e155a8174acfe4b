#include "actors/files.h"

#include <sodium.h>
#include <zstd.h>

#include <limits>

#include "events/domain.h"
#include "events/ids.h"
#include "events/text.h"

namespace leanos {

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

std::string file_content_event_id(const std::string& sha256, std::uint32_t chunk) {
  return derived_event_id("leanos-file-content:" + sha256, std::to_string(chunk));
}

std::vector<v1::Envelope> file_content_commands(std::string_view bytes, const std::string& sha256) {
  const std::size_t chunks = bytes.empty() ? 1 : (bytes.size() + kFileChunkBytes - 1) / kFileChunkBytes;
  std::vector<v1::Envelope> out;
  for (std::size_t i = 0; i < chunks; ++i) {
    const auto part = bytes.substr(std::min(bytes.size(), i * kFileChunkBytes), kFileChunkBytes);
    std::string frame(ZSTD_compressBound(part.size()), '\0');
    const std::size_t n = ZSTD_compress(frame.data(), frame.size(), part.data(), part.size(), 3);
    frame.resize(ZSTD_isError(n) ? 0 : n);  // never an error with a buffer of the bound's size
    v1::FileContent c;
    c.set_sha256(sha256);
    c.set_chunk(static_cast<std::uint32_t>(i));
    c.set_chunks(static_cast<std::uint32_t>(chunks));
    c.set_size(bytes.size());
    c.set_data(std::move(frame));
    v1::Envelope e = make_event(c, now_micros());
    e.set_event_id(file_content_event_id(sha256, static_cast<std::uint32_t>(i)));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> file_bytes(const store::EventStore& store, const std::string& sha256) {
  std::string out;
  std::uint32_t chunks = 1;
  for (std::uint32_t i = 0; i < chunks; ++i) {
    auto at = store.find_event_id(file_content_event_id(sha256, i));
    if (!at) return at.status();
    if (!at->has_value())
      return Status::not_found("the content " + sha256.substr(0, 12) + " (chunk " + std::to_string(i + 1) + ") is not in the store");
    auto e = store.read_event(**at);
    if (!e) return e.status();
    const auto& c = e->file_content();
    if (!e->has_file_content() || c.sha256() != sha256 || c.chunk() != i)
      return Status::corruption("event at position " + std::to_string(**at) + " is not chunk " + std::to_string(i) + " of content " + sha256);
    if (withheld(c.data()))
      return Status::precondition("the content " + sha256.substr(0, 12) + " reads " + c.data() +
                                  (c.data() == kErased ? ": it was sealed under a data subject since forgotten" : ": the store is locked (no master key)"));
    chunks = c.chunks();
    const unsigned long long size = ZSTD_getFrameContentSize(c.data().data(), c.data().size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kFileChunkBytes)
      return Status::corruption("chunk " + std::to_string(i) + " of content " + sha256 + " is not a zstd frame of a chunk");
    const std::size_t from = out.size();
    out.resize(from + size);
    const std::size_t n = ZSTD_decompress(out.data() + from, size, c.data().data(), c.data().size());
    if (ZSTD_isError(n) || n != size)
      return Status::corruption("chunk " + std::to_string(i) + " of content " + sha256 + " does not decompress: " +
                                (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  if (sha256_hex(out) != sha256) return Status::corruption("the content stored as " + sha256 + " has another SHA-256: damaged");
  return out;
}

Result<std::uint64_t> commit_position(const store::EventStore& store, const std::string& commit) {
  const std::string want = lower(commit);
  if (want.size() < 7 || want.size() > 40 || want.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Status::invalid("--commit '" + commit + "' is not a commit id: give 7 to 40 hexadecimal digits");
  auto imports = store.read_stream(kImportsStream, 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
  if (!imports) return imports.status();
  std::optional<std::uint64_t> found;
  std::size_t imported = 0, matches = 0;
  for (const auto& e : *imports) {
    if (!e.has_source_imported() || e.source_imported().source() != "git") continue;
    ++imported;
    if (e.source_imported().revision().rfind(want, 0) == 0) {
      ++matches;
      found = e.position();
    }
  }
  if (matches > 1) return Status::invalid("--commit " + commit + " matches " + std::to_string(matches) + " imported commits: give more digits");
  if (!found)
    return Status::not_found("no imported commit " + commit + " (" + std::to_string(imported) +
                             " commits imported; `leanos import --git DIR` imports a repository's history)");
  return *found;
}

Result<projections::FilesState> files_at(const store::EventStore& store, const AsOf& at) {
  auto last = last_position_of(store, at);
  if (!last) return last.status();
  auto events = store.read_stream(kFilesStream, 1, store::Direction::forward, std::numeric_limits<std::size_t>::max());
  if (!events) return events.status();
  projections::FilesState s;
  for (const auto& e : *events)
    if (e.position() <= *last && (!at.occurred || from_timestamp(e.occurred_at()) <= *at.occurred)) projections::apply(s, e);
  return s;
}

}  // namespace leanos
