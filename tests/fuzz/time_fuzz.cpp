// ISO-8601 times typed by people (--at, --as-of, --due): a time that parses is in the
// ledger's range and prints back to the same instant.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "events/time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto edge : {leanos::DateEdge::start_of_day, leanos::DateEdge::end_of_day}) {
    auto t = leanos::parse_time(text, edge);
    if (!t) continue;
    if (!leanos::check_time_range("t", *t).is_ok()) std::abort();
    auto again = leanos::parse_time(leanos::format_time(*t));
    if (!again || *again != *t) std::abort();
  }
  return 0;
}
