// Shared by the benchmarks: wall-clock spans and percentiles.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace leanos::cli::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Nearest-rank percentile, p in [0, 1]; 0 for no samples.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace leanos::cli::bench
