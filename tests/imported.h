// What the import tests share: a copy of the fixture workspace in a scratch folder, with a
// data folder beside it, imported by the real binary.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support.h"

namespace leanos::test {

struct Imported {
  Workspace w;
  std::string ws;
  Imported() : ws(w.dir.sub("leanos")) { std::filesystem::copy(LEANOS_SEED_FIXTURE, ws, std::filesystem::copy_options::recursive); }
  std::string file(const std::string& rel) const { return ws + "/" + rel; }
  // The workspace's file `rel` with its first `from` written as `to` (an agent's edit).
  void rewrite(const std::string& rel, const std::string& from, const std::string& to) {
    std::ifstream in(file(rel), std::ios::binary);
    std::string text(std::istreambuf_iterator<char>(in), {});
    const auto at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, rel << " holds no '" << from << "'");
    text.replace(at, from.size(), to);
    write_file(file(rel), text);
  }
  RunResult import(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"import", ws};
    args.insert(args.end(), extra.begin(), extra.end());
    return w.run(args);
  }
};

// A file's bytes.
inline std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace leanos::test
