// Shared by the benchmarks: wall-clock spans, percentiles, sizes on disk.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "events/result.h"

extern char** environ;

namespace leanos::cli::bench {

using Clock = std::chrono::steady_clock;

// What a folder takes on disk, as du counts it (allocated blocks: git's loose objects take a
// 4 KiB block each, whatever their size).
inline std::uint64_t folder_bytes(const std::filesystem::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (it->is_regular_file(ec) && !it->is_symlink(ec) && ::lstat(it->path().c_str(), &st) == 0)
      n += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return n;
}

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

// A child process with a pipe to its stdin and one from its stdout.
class Child {
 public:
  static Result<std::unique_ptr<Child>> start(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return Status::io("bench: cannot create a pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    for (int fd : {in[0], in[1], out[0], out[1]}) posix_spawn_file_actions_addclose(&actions, fd);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
      close(in[1]);
      close(out[0]);
      return Status::io("bench: cannot start " + args[0]);
    }
    auto c = std::unique_ptr<Child>(new Child);
    c->pid_ = pid;
    c->in_ = fdopen(in[1], "w");
    c->out_ = fdopen(out[0], "r");
    return c;
  }
  ~Child() {
    if (in_) std::fclose(in_);
    if (out_) std::fclose(out_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // One line of its output, without the newline; empty at its end.
  std::string line() {
    std::string s;
    for (int c; (c = std::fgetc(out_)) != EOF && c != '\n';) s.push_back(static_cast<char>(c));
    return s;
  }
  void say(const std::string& text) {
    std::fputs((text + "\n").c_str(), in_);
    std::fflush(in_);
  }
  // Stops it with `sig` (none: waits for it to end); its exit status.
  int stop(int sig) {
    if (sig) kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  Child() = default;
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

}  // namespace leanos::cli::bench
