// Time in the ledger: microseconds since the Unix epoch, UTC.
//
// Business time (occurred_at) is typed by people as ISO-8601; the store's own time
// (recorded_at) comes from the clock of the store's writer. Projections never read the
// clock: "now" is always a parameter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/result.h"

namespace google::protobuf { class Timestamp; }

namespace leanos {

using Micros = std::int64_t;
inline constexpr Micros kMicrosPerSecond = 1'000'000;
inline constexpr Micros kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Where a bare date (no time of day) lands.
enum class DateEdge { start_of_day, end_of_day };

// Parses "2026-03-01", "2026-03-01T10:30", "2026-03-01T10:30:00Z", "2026-03-01 10:30:00.250+02:00".
// A date alone means 00:00:00 UTC (start_of_day) or 23:59:59.999999 UTC (end_of_day).
Result<Micros> parse_time(std::string_view text, DateEdge edge = DateEdge::start_of_day);

// "2026-03-01T10:30:00Z" (fraction only when non-zero).
std::string format_time(Micros t);
// "2026-03-01"
std::string format_date(Micros t);

// Days since 1970-01-01 for a civil date (proleptic Gregorian).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);

Micros now_micros();

Micros from_timestamp(const google::protobuf::Timestamp& ts);
void to_timestamp(Micros t, google::protobuf::Timestamp* ts);

}  // namespace leanos
