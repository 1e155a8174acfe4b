// Test support: scratch folders and running the real `leanos` binary.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace leanos::test {

// A fresh folder, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

// Runs `program args...` and waits; stdin is /dev/null, `input` (if any) is written to a file
// passed nowhere. Never uses a shell.
RunResult run(const std::string& program, const std::vector<std::string>& args);

// The `leanos` binary under test (path baked in at build time).
RunResult run_leanos(const std::vector<std::string>& args);

std::string write_file(const std::string& path, const std::string& content);

// Fills the data folder `data` (which must not exist yet) with the seed's worked example
// (tools/seed-example.sh). Under ctest the example is recorded once per run by the
// "seeded example" fixture and copied from there ($LEANOS_SEEDED_EXAMPLE); a test binary run
// by hand records it itself. REQUIRES success.
void seed_example(const std::string& data);

// Counts the lines of `text` that are not empty.
int count_lines(const std::string& text);
// The names of the files under `dir` (recursively) whose bytes hold `needle`.
std::vector<std::string> files_holding(const std::string& dir, const std::string& needle);

// A data folder driven through the real binary, with helpers for the seed's workspace.
struct Workspace {
  TempDir dir;
  RunResult run(std::vector<std::string> args);
  // REQUIRES the command to succeed.
  void ok(std::vector<std::string> args);
  // The events of the facts (the files layer's versions and contents aside: an import also
  // keeps the folder's files); all_events() counts every one.
  int events();
  int all_events();
  // Runs a command that must be refused: non-zero exit, the reason on stderr, nothing appended.
  void refused(std::vector<std::string> args, const std::string& says);
  void open_deal(const std::string& id);
  void setup();  // goal g-mrr-50k with SG1, assumption A4 at 60 %
  void to_decision(const std::string& id, const std::string& verdict);
  // Runs a command with --json, REQUIRES it to succeed, and gives its answer parsed.
  nlohmann::json json(std::vector<std::string> args);
};

}  // namespace leanos::test
