// The values LeanOS's files write in prose (../shared/docs/leanos-files.md §0): dates, date
// ranges, percents with their before → after, money with K/M suffixes and ranges, scores.
// Each reader takes the first value of its kind in the text and says nullopt when there is
// none; the importer names what it could not read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "events/time.h"

namespace leanos::bridge {

// The first YYYY-MM-DD that is a real date, as the start of that day (UTC).
std::optional<Micros> first_date(std::string_view text);
// The earliest date the text states, in any of the forms first_date reads.
std::optional<Micros> earliest_date(std::string_view text);
// "3 days (2025-11-16 - 2025-11-18)": the first two dates; one date is a range of one day.
std::optional<std::pair<Micros, Micros>> date_range(std::string_view text);

// A confidence as written: "80%", "60% → 95%" (before → now), "95% (previously: 60%)",
// "85% (N=1, need more data)", or a fraction "0.60". Whole percent, 0..100 not checked here.
struct Confidence {
  int now = 0;
  std::optional<int> before;
};
std::optional<Confidence> confidence(std::string_view text);

// "$1.1M", "$500K", "$1,100,000", "$1M-$1.5M", "$400K-$600K/year": whole dollars, low and
// high (equal for one amount).
std::optional<std::pair<std::int64_t, std::int64_t>> money(std::string_view text);

// A score written as a number, "0.85", or the result of a formula, "0.3*0.9 + … = **0.76**"
// (the number after the last '=').
std::optional<double> score(std::string_view text);

// The first word of upper-case letters and underscores ("INTERESTED (pilot requested)" ->
// "INTERESTED"), upper-cased from any case; "" for none.
std::string code_word(std::string_view text);

}  // namespace leanos::bridge
