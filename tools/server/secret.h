// The bearer token check shared by the gRPC and HTTP servers.
#pragma once

#include <algorithm>
#include <string_view>

namespace leanos::cli {

// Compares in time that depends on the lengths only, never on where the first difference
// is: a client cannot find the token byte by byte from response times.
inline bool same_secret(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % std::max<std::size_t>(expected.size(), 1)]);
  return diff == 0;
}

}  // namespace leanos::cli
