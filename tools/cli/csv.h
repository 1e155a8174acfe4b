// A small RFC 4180 CSV reader that names the line and column of what it cannot read.
//
// Written here rather than taken from libcsv: the skills' files are tiny, and every error
// must name line and column for the person who made the file; libcsv's callback API reports
// neither without the same bookkeeping.
#pragma once

#include <string>
#include <vector>

#include "events/result.h"

namespace leanos::cli {

struct CsvRow {
  int line;  // 1-based line where the row starts
  std::vector<std::string> cells;
};

// Parses `text`; the first row is the header. Quoted cells may hold commas, quotes ("") and
// newlines. An unterminated quote is an error naming its line.
Result<std::vector<CsvRow>> parse_csv(const std::string& text);

}  // namespace leanos::cli
