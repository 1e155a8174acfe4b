// The files layer's reads and writes of the store: a file's bytes stored once per distinct
// content (SHA-256), in zstd-compressed chunks that are sealed like personal data; the
// versions in force at a point in time or at a git commit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/ledger_reader.h"
#include "events/ids.h"
#include "events/result.h"
#include "projections/files.h"
#include "store/event_store.h"

namespace leanos {

// A content as stored: its bytes, and how many deltas deep it is (0: stored whole).
struct StoredContent {
  std::string sha256, bytes;
  std::uint32_t depth = 0;
  // Its place in its skip-delta chain (FileContent.chain): 0 whole, or a delta as older
  // stores wrote them (depth > 0), which no new version takes as a base.
  std::uint32_t chain = 0;
  // The contents its chain passes through on the way to it, the whole one first (read with it
  // by stored_content): the next version's base is one of them or this one.
  struct Link {
    std::uint32_t chain = 0, depth = 0;
    std::string sha256, bytes;
  };
  std::vector<Link> links{};
};
// A path's chain of versions holds this many (the whole one and its deltas): then the next
// version is stored whole again. Reading one takes at most log2 of it hops (5).
inline constexpr std::uint32_t kDeltaChain = 32;
// Stores before skip-deltas chained each delta on the one before, this many deep at most: a
// longer chain is damage.
inline constexpr std::uint32_t kMaxDeltaDepth = 16;

// The FileContent commands that hold `bytes` (at least one, empty content too), each chunk
// compressed; their event ids follow from the content, so the same bytes are stored once.
// Dated `at`, the date of the first version that holds them: a content dated by the clock
// would lie ahead of a git history's dates, and every version imported after it would be
// recorded late (folds would start far back). Given the path's previous content `base` (as
// stored_content reads it, or as the last call left it: after_content), a content of one chunk
// is stored as a delta of the one its chain place names (FileContent.chain) when that is
// smaller and the chain is not full; otherwise whole.
std::vector<v1::Envelope> file_content_commands(std::string_view bytes, const std::string& sha256, Micros at,
                                                const StoredContent* base = nullptr);
// The content `bytes` as the commands just built for it (`first`, their first) leave it: the
// base of the path's next version, without reading it back. `base` as given to them.
StoredContent after_content(const StoredContent* base, const v1::FileContent& first, std::string bytes);
std::string file_content_event_id(const std::string& sha256, std::uint32_t chunk);
// The id of the SourceImported event that records git commit `commit` (40 hex digits) as
// imported: found by it again without a scan.
std::string git_import_event_id(const std::string& commit);

// The content `sha256` as stored (its bases read first), checked against the digest:
// not_found when the store holds none, precondition when its data subject was forgotten or
// the store is locked.
Result<StoredContent> stored_content(const store::EventStore& store, const std::string& sha256);
// Its bytes only.
Result<std::string> file_bytes(const store::EventStore& store, const std::string& sha256);
// Whether the store holds the content `sha256` (its first chunk), without reading it.
Result<bool> content_held(const store::EventStore& store, const std::string& sha256);
// A document version's text: its own, or the files layer's content it names (content_sha256).
Result<std::string> document_text(const store::EventStore& store, const v1::DocumentWritten& d);

// Where the files of a git commit end: the position of its import (SourceImported). `commit`:
// the full id or a prefix of at least 7 hex digits. not_found naming the imported commits'
// count when no imported commit matches; invalid when a prefix matches several.
Result<std::uint64_t> commit_position(const store::EventStore& store, const std::string& commit);

// Every version of every file recorded by then: the `files` stream up to `at`'s position and
// knowledge time, each version that occurred by its business time, in recording order.
Result<projections::FilesState> files_at(const store::EventStore& store, const AsOf& at);

// The last version of every path by then, without the versions before: the newest files
// snapshot at or before `at`'s position and the `files` stream after it (a business-time bound
// folds the whole stream, each version that occurred by then). What checkout and the files in
// force need, in a time that does not grow with the history.
Result<projections::FilesLatest> files_latest_at(const store::EventStore& store, const AsOf& at);
// Writes a files snapshot at the log's end when at least kFilesSnapshotEvery versions, and
// twice as many as there are paths, were recorded since the newest one (an import calls it
// after each commit's files): a snapshot holds an entry per path, so that the snapshots of a
// long history stay a fraction of its versions' own size.
inline constexpr std::uint64_t kFilesSnapshotEvery = 256;
Status keep_files_snapshot(store::EventStore& store);

}  // namespace leanos
