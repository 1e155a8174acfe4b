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
#include "events/result.h"
#include "projections/files.h"
#include "store/event_store.h"

namespace leanos {

// Lower-case hex of the SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// The FileContent commands that hold `bytes` (at least one, empty content too), each chunk
// compressed; their event ids follow from the content, so the same bytes are stored once.
std::vector<v1::Envelope> file_content_commands(std::string_view bytes, const std::string& sha256);
std::string file_content_event_id(const std::string& sha256, std::uint32_t chunk);

// The bytes of the content `sha256` as stored, checked against the digest: not_found when the
// store holds none, precondition when its data subject was forgotten or the store is locked.
Result<std::string> file_bytes(const store::EventStore& store, const std::string& sha256);

// Where the files of a git commit end: the position of its import (SourceImported). `commit`:
// the full id or a prefix of at least 7 hex digits. not_found naming the imported commits'
// count when no imported commit matches; invalid when a prefix matches several.
Result<std::uint64_t> commit_position(const store::EventStore& store, const std::string& commit);

// Every version of every file recorded by then: the `files` stream up to `at`'s position and
// knowledge time, each version that occurred by its business time, in recording order.
Result<projections::FilesState> files_at(const store::EventStore& store, const AsOf& at);

}  // namespace leanos
