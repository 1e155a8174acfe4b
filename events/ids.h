// Event ids and stream names.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "events/result.h"

namespace leanos {

// A fresh id (UUID v7 text: time-ordered, 62 random bits). Commands get one each; a client
// that retries reuses it.
std::string new_event_id();

// A deterministic id for a derived event: the same cause and rule always give the same id,
// so running a process manager twice over the same history appends nothing new.
std::string derived_event_id(std::string_view cause_event_id, std::string_view rule);

// Lower-case hex of the SHA-256 of `bytes` (a file's content, as the files layer addresses it).
std::string sha256_hex(std::string_view bytes);

// Stream names are lowercase ASCII letters, digits and '-', '_', '.', ':' (1..200 chars):
// they are stored in keys followed by a 0x00 separator, and they appear in paths and URLs.
Status check_stream_name(std::string_view stream);

// The stream the store itself records erasures in (SubjectForgotten): no caller writes it.
inline constexpr const char* kPrivacyStream = "privacy";

// Stream names (see docs: one stream per thread, goal, segment; one canvas per workspace).
std::string deal_stream(std::string_view deal_id);          // deal-{id}
std::string campaign_stream(std::string_view campaign_id);  // campaign-{id}
std::string goal_stream(std::string_view goal_id);          // goal-{id}
std::string segment_stream(std::string_view segment);       // segment-{slug}
inline constexpr const char* kCanvasStream = "canvas";
inline constexpr const char* kMarketingStream = "marketing";
inline constexpr const char* kWorkspaceStream = "workspace";
inline constexpr const char* kDocumentsStream = "documents";
inline constexpr const char* kImportsStream = "imports";
// A document is one event: well under the store's 1 MiB per event.
inline constexpr std::size_t kMaxDocumentBytes = 512 << 10;
inline constexpr const char* kAnalysisStream = "analysis";
// Saved what-if scenarios (ScenarioSaved): definitions, never their effects.
inline constexpr const char* kScenariosStream = "scenarios";
// The files layer: every version of every workspace file (FileVersion), and their contents
// (FileContent), once per distinct content, in chunks that fit an event with room to spare.
inline constexpr const char* kFilesStream = "files";
inline constexpr const char* kFileContentsStream = "file-contents";
inline constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;
inline constexpr std::size_t kFileChunkBytes = std::size_t{768} << 10;

// Whether the rules own `stream` (deal-, campaign-, goal-, segment- and the canvas, marketing,
// workspace, analysis, privacy, documents, imports, files and scenarios streams): only commands,
// through the rules, write them, and the store holds only domain events in them (a generic
// event appended to one is refused by the store itself, whoever appends it).
bool is_domain_stream(std::string_view stream);

// "Acme Corp." -> "acme-corp"
std::string slugify(std::string_view text);

}  // namespace leanos
