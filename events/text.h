// Text that enters the ledger: every string stored must be valid UTF-8.
//
// Protobuf refuses to parse a `string` field that is not UTF-8, so one invalid byte written
// into the log would make every read from that position fail. Every boundary (CLI
// arguments, files, CSV, JSON, YAML, gRPC) checks with these functions and names what was
// wrong; the store checks again before it commits (store/event_store.cpp).
//
// Hand-written on purpose: the validator is 30 lines, and a library answer (protobuf's
// internal IsStructurallyValidUTF8) is not public API and cannot say where the bad byte is.
// Transcoding uses glibc's iconv.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "events/result.h"

namespace leanos {

// The byte offset of the first byte that does not start or continue a well-formed UTF-8
// sequence (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), or nullopt.
std::optional<std::size_t> invalid_utf8_at(std::string_view text);
inline bool valid_utf8(std::string_view text) { return !invalid_utf8_at(text); }

// What a personal field reads once its data subject is forgotten, and without the master
// key (store/personal.h). Rules treat both as unknown: they match no one.
inline constexpr const char* kErased = "[erased]";
inline constexpr const char* kLocked = "[locked]";
inline bool withheld(std::string_view text) { return text == kErased || text == kLocked; }

// invalid_argument naming `what` and the offending byte, or success.
Status check_utf8(std::string_view what, std::string_view text);

// The same for the contents of a file: names the line and column (1-based, in bytes) and
// says how to fix it (`--encoding`).
Status check_utf8_file(std::string_view path, std::string_view text);

// Transcodes `text` from `encoding` (any name iconv knows: latin1, windows-1252, utf-16…)
// to UTF-8. "utf-8"/"utf8" checks instead. Strips a UTF-8 byte order mark either way.
Result<std::string> to_utf8(std::string_view path, std::string text, std::string_view encoding);

// `text` fit to quote in a message: valid UTF-8 kept, any other byte and control characters
// written as \xNN.
std::string printable(std::string_view text);

// Levenshtein distance in bytes: how far a typed word is from a known one ("did you mean").
std::size_t edit_distance(std::string_view a, std::string_view b);

// The path of the first string field (recursively, maps and repeated fields included) that is
// not valid UTF-8, e.g. "lead_captured.company", or nullopt when every string is valid.
std::optional<std::string> invalid_utf8_field(const google::protobuf::Message& message);

}  // namespace leanos
