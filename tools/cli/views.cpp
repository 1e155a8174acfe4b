#include "tools/cli/views.h"

#include <cstdio>
#include <sstream>

#include "events/time.h"
#include "tools/cli/cli.h"

namespace leanos::cli {

nlohmann::json proto_json(const google::protobuf::Message& m) { return nlohmann::json::parse(to_json(m)); }

std::string dollars(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-$" : "$") + out;
}

std::string amount(const std::string& metric, std::int64_t v) { return metric == "customers" ? std::to_string(v) : dollars(v); }

std::string date_of(const google::protobuf::Timestamp& t) { return format_date(from_timestamp(t)); }

}  // namespace leanos::cli
