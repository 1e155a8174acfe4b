#include "actors/files.h"

#include <spdlog/spdlog.h>

#include <limits>
#include <memory>

#include "events/domain.h"
#include "events/ids.h"
#include "events/text.h"
#include "store/zstd_frame.h"

namespace leanos {

std::string file_content_event_id(const std::string& sha256, std::uint32_t chunk) {
  return derived_event_id("leanos-file-content:" + sha256, std::to_string(chunk));
}

std::string git_import_event_id(const std::string& commit) { return derived_event_id("leanos-import:git", commit); }

namespace {

// What a next version of `prev`'s path is a delta of: the content at its chain place with the
// lowest bit cleared, read with prev (prev itself for an odd place). None after an older
// store's linear delta, or when the chain is full: the next version starts a chain, whole.
const StoredContent::Link* delta_base(const StoredContent& prev, StoredContent::Link& self) {
  if (prev.depth > 0 && prev.chain == 0) return nullptr;
  const std::uint32_t place = prev.chain + 1;
  if (place >= kDeltaChain) return nullptr;
  const std::uint32_t want = place & (place - 1);
  if (want == prev.chain) {
    self = {prev.chain, prev.depth, prev.sha256, {}};
    return &self;  // its bytes are prev's own, not copied: the caller takes them from prev
  }
  for (const auto& link : prev.links)
    if (link.chain == want) return &link;
  return nullptr;
}

}  // namespace

std::vector<v1::Envelope> file_content_commands(std::string_view bytes, const std::string& sha256, Micros at, const StoredContent* base) {
  const std::size_t chunks = bytes.empty() ? 1 : (bytes.size() + kFileChunkBytes - 1) / kFileChunkBytes;
  StoredContent::Link self;
  const StoredContent::Link* from = base && chunks == 1 ? delta_base(*base, self) : nullptr;
  const std::string* from_bytes = from == &self ? &base->bytes : from ? &from->bytes : nullptr;
  const bool delta = from && !from_bytes->empty() && from_bytes->size() <= kFileChunkBytes && from->sha256 != sha256;
  std::vector<v1::Envelope> out;
  for (std::size_t i = 0; i < chunks; ++i) {
    const auto part = bytes.substr(std::min(bytes.size(), i * kFileChunkBytes), kFileChunkBytes);
    std::string frame = store::zstd_frame(part);  // never an error with a buffer of the bound's size
    v1::FileContent c;
    if (delta)
      if (std::string d = store::zstd_frame(part, *from_bytes); !d.empty() && d.size() < frame.size()) {
        frame = std::move(d);
        c.set_base_sha256(from->sha256);
        c.set_depth(from->depth + 1);
        c.set_chain(base->chain + 1);
      }
    c.set_sha256(sha256);
    c.set_chunk(static_cast<std::uint32_t>(i));
    c.set_chunks(static_cast<std::uint32_t>(chunks));
    c.set_size(bytes.size());
    c.set_data(std::move(frame));
    v1::Envelope e = make_event(c, at);
    e.set_event_id(file_content_event_id(sha256, static_cast<std::uint32_t>(i)));
    out.push_back(std::move(e));
  }
  return out;
}

StoredContent after_content(const StoredContent* base, const v1::FileContent& first, std::string bytes) {
  StoredContent out;
  out.sha256 = first.sha256();
  out.bytes = std::move(bytes);
  if (first.base_sha256().empty() || !base) return out;  // whole
  out.depth = first.depth();
  out.chain = first.chain();
  // Its chain on the way: the base's, then the base (its place has the lowest bit cleared).
  const std::uint32_t want = out.chain & (out.chain - 1);
  for (const auto& link : base->links)
    if (link.chain <= want) out.links.push_back(link);
  if (base->chain == want) out.links.push_back({base->chain, base->depth, base->sha256, base->bytes});
  return out;
}

namespace {

// `hops`: the deltas followed to get here; a chain longer than any written is damage.
// `links`: keep the chain's contents read on the way (StoredContent::links).
Result<StoredContent> read_content(const store::EventStore& store, const std::string& sha256, std::uint32_t hops, bool links) {
  StoredContent out;
  out.sha256 = sha256;
  std::string& bytes = out.bytes;
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
    std::optional<StoredContent> base;
    if (!c.base_sha256().empty()) {
      if (chunks != 1 || hops >= kMaxDeltaDepth)
        return Status::corruption("content " + sha256 + " is a delta of " + c.base_sha256() + " that cannot be one (" +
                                  (chunks != 1 ? "several chunks" : "a chain deeper than " + std::to_string(kMaxDeltaDepth)) + ")");
      auto b = read_content(store, c.base_sha256(), hops + 1, links);
      if (!b)
        return b.status().code() == Code::not_found
                   ? Status::corruption("content " + sha256 + " is a delta of " + c.base_sha256() + ", which the store does not hold")
                   : b.status();
      base = std::move(*b);
      out.depth = base->depth + 1;
      out.chain = c.chain();
    }
    if (auto z = store::zstd_append(bytes, c.data(), base ? std::string_view(base->bytes) : std::string_view(), kFileChunkBytes); !z)
      return Status::corruption("chunk " + std::to_string(i) + " of content " + sha256 + ": " + z.message());
    if (links && base) {
      out.links = std::move(base->links);
      out.links.push_back({base->chain, base->depth, std::move(base->sha256), std::move(base->bytes)});
    }
  }
  // The content asked for is checked whole; a base read on the way to it is not: a wrong
  // base makes a wrong content, which this check then names (hashing every base of a chain
  // was a sixth of a checkout).
  if (hops == 0 && sha256_hex(bytes) != sha256)
    return Status::corruption("the content stored as " + sha256 + " has another SHA-256: damaged");
  return out;
}

}  // namespace

Result<StoredContent> stored_content(const store::EventStore& store, const std::string& sha256) { return read_content(store, sha256, 0, true); }

Result<std::string> file_bytes(const store::EventStore& store, const std::string& sha256) {
  auto c = read_content(store, sha256, 0, false);
  if (!c) return c.status();
  return std::move(c->bytes);
}

Result<bool> content_held(const store::EventStore& store, const std::string& sha256) {
  auto known = store.find_event_id(file_content_event_id(sha256, 0));
  if (!known) return known.status();
  return known->has_value();
}

Result<std::string> document_text(const store::EventStore& store, const v1::DocumentWritten& d) {
  if (d.content_sha256().empty()) return d.content();
  auto bytes = file_bytes(store, d.content_sha256());
  if (!bytes) return Status(bytes.status().code(), "document " + d.path() + ": " + bytes.status().message());
  return bytes;
}

Result<std::uint64_t> commit_position(const store::EventStore& store, const std::string& commit) {
  const std::string want = lower(commit);
  if (want.size() < 7 || want.size() > 40 || want.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Status::invalid("--commit '" + commit + "' is not a commit id: give 7 to 40 hexadecimal digits");
  if (want.size() == 40) {  // a whole commit id: its SourceImported by id, no scan
    auto at = store.find_event_id(git_import_event_id(want));
    if (!at) return at.status();
    if (at->has_value()) return **at;
  }
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

namespace {

// The files stream from version `from` on, up to position `last`, each version that occurred
// by `occurred` (if given) folded into `s` (FilesState or FilesLatest); how many were read.
template <typename State>
Result<std::uint64_t> fold_files(const store::EventStore& store, std::uint64_t from, std::uint64_t last,
                                 const std::optional<Micros>& occurred, State& s) {
  constexpr std::size_t kPage = 1024;
  std::uint64_t read = 0;
  for (std::uint64_t version = from;; version += kPage) {
    auto events = store.read_stream(kFilesStream, version, store::Direction::forward, kPage);
    if (!events) return events.status();
    for (const auto& e : *events) {
      if (e.position() > last) return read;  // positions grow with the stream's versions
      ++read;
      if (!occurred || from_timestamp(e.occurred_at()) <= *occurred) projections::apply(s, e);
      s.version = e.version();  // read, in force by then or not
    }
    if (events->size() < kPage) return read;
  }
}

struct LatestRead {
  projections::FilesLatest state;
  std::uint64_t since_snapshot = 0;  // versions folded past the snapshot it started from
};

Result<LatestRead> read_latest(const store::EventStore& store, const AsOf& at) {
  auto last = last_position_of(store, at);
  if (!last) return last.status();
  LatestRead out;
  if (!at.occurred) {  // a snapshot holds every version recorded by its position, whatever its date
    auto snap = store.snapshot_at_or_before(projections::kFilesSnapshotName, *last);
    if (!snap && !damaged_snapshot(snap.status())) return snap.status();
    if (snap && *snap && !projections::parse((*snap)->second, &out.state)) {
      spdlog::warn("files: the files snapshot at position {} does not parse; folding from the log instead", (*snap)->first);
      out.state = {};
    }
  }
  auto folded = fold_files(store, out.state.version + 1, *last, at.occurred, out.state);
  if (!folded) return folded.status();
  out.since_snapshot = *folded;
  return out;
}

}  // namespace

Result<projections::FilesState> files_at(const store::EventStore& store, const AsOf& at) {
  auto last = last_position_of(store, at);
  if (!last) return last.status();
  projections::FilesState s;
  if (auto read = fold_files(store, 1, *last, at.occurred, s); !read) return read.status();
  return s;
}

Result<projections::FilesLatest> files_latest_at(const store::EventStore& store, const AsOf& at) {
  auto r = read_latest(store, at);
  if (!r) return r.status();
  return std::move(r->state);
}

Status keep_files_snapshot(store::EventStore& store) {
  auto r = read_latest(store, AsOf{});
  if (!r) return r.status();
  if (r->since_snapshot < std::max<std::uint64_t>(kFilesSnapshotEvery, 2 * r->state.paths.size())) return Status::success();
  std::uint64_t at = 0;  // keyed by the last version folded: what is recorded after it is the tail
  for (const auto& [path, x] : r->state.paths) at = std::max<std::uint64_t>(at, x.position());
  return store.put_snapshot(projections::kFilesSnapshotName, at, projections::serialize(r->state));
}

}  // namespace leanos
