// Shared by the benchmarks: wall-clock spans and percentiles.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace leanos::cli::bench {

using Clock = std::chrono::steady_clock;

// This binary's own path, to start it again as a child (a server, a client, an import).
inline std::string self_path() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("leanos") : p.string();
}

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU time this process has used, all its threads (RocksDB's background threads too), in
// seconds: what a cell costs, steadier than its throughput on a shared machine.
inline double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Nearest-rank percentile, p in [0, 1]; 0 for no samples.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Live delivery: what a subscriber received, as (k, when) for the k-th event after its start.
using Receipts = std::vector<std::pair<std::uint64_t, Clock::time_point>>;

// Appends each delivery's latency in ms, receipt minus the acknowledgement of the append
// (`acked[k]`, k in 1..acked.size() - 1); what was not appended by the bench is left out.
inline void add_latencies(const Receipts& received, const std::vector<Clock::time_point>& acked, std::vector<double>& out) {
  for (const auto& [k, at] : received)
    if (k > 0 && k < acked.size()) out.push_back(std::max(0.0, std::chrono::duration<double, std::milli>(at - acked[k]).count()));
}

}  // namespace leanos::cli::bench
