// The CSV reader (campaign prospects and contacts): UTF-8 in gives UTF-8 cells out, and every
// row's line lies within the file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "events/text.h"
#include "tools/cli/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto rows = leanos::cli::parse_csv(text);
  if (!rows) return 0;
  const bool utf8 = leanos::valid_utf8(text);
  const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const auto& row : *rows) {
    if (row.line < 1 || row.line > lines) std::abort();
    for (const auto& cell : row.cells)
      if (utf8 && !leanos::valid_utf8(cell)) std::abort();
  }
  return 0;
}
