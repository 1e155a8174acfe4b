// Test support: scratch folders and running the real `leanos` binary.
#pragma once

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

// Counts the lines of `text` that are not empty.
int count_lines(const std::string& text);

}  // namespace leanos::test
