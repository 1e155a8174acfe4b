// What the import tests share: a copy of the fixture workspace in a scratch folder, with a
// data folder beside it, imported by the real binary.
#pragma once

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
