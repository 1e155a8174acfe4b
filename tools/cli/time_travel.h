// The CLI's --as-of / --known-at / --at-position, for every command that reads the ledger at a
// point in time (queries, export).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "leanos/v1/query.pb.h"

namespace leanos::cli {

struct TimeTravelOptions {
  std::string as_of, known_at;
  std::uint64_t at_position = 0;
  CLI::Option* position_opt = nullptr;
  // Copies what was given into the request (answer_query validates it).
  void into(v1::QueryRequest& q) const;
};

void add_time_travel(CLI::App* sub, TimeTravelOptions& t);

}  // namespace leanos::cli
