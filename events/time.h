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
inline constexpr Micros kMicrosPerHour = 3'600 * kMicrosPerSecond;
inline constexpr Micros kMicrosPerDay = 24 * kMicrosPerHour;
inline constexpr Micros days(int n) { return n * kMicrosPerDay; }

// The ledger's time range: 1970-01-01T00:00:00Z up to (not including) 2200-01-01. Anything
// outside is a typo or an attack, and protobuf's JSON mapping cannot print all of it.
inline constexpr Micros kMinTime = 0;
inline constexpr Micros kEndOfTime = 7'258'118'400LL * kMicrosPerSecond;  // 2200-01-01
// invalid_argument naming `what` unless kMinTime <= t < kEndOfTime.
Status check_time_range(std::string_view what, Micros t);
// The same for a protobuf Timestamp, whose nanos must also be 0..999 999 999.
Status check_timestamp(std::string_view what, const google::protobuf::Timestamp& ts);

// Where a bare date (no time of day) lands.
enum class DateEdge { start_of_day, end_of_day };

// Parses "2026-03-01", "2026-03-01T10:30", "2026-03-01T10:30:00Z", "2026-03-01 10:30:00.250+02:00".
// A date alone means 00:00:00 UTC (start_of_day) or 23:59:59.999999 UTC (end_of_day).
// Years 1970-2199 only; no leap second (:60): the ledger's clock has none.
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
