// Event ids and stream names.
#pragma once

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

// Stream names are lowercase ASCII letters, digits and '-', '_', '.', ':' (1..200 chars):
// they are stored in keys followed by a 0x00 separator, and they appear in paths and URLs.
Status check_stream_name(std::string_view stream);

// The stream the store itself records erasures in (SubjectForgotten): no caller writes it.
inline constexpr const char* kPrivacyStream = "privacy";

// "Acme Corp." -> "acme-corp"
std::string slugify(std::string_view text);

}  // namespace leanos
