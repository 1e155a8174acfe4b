#include "tests/support.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

extern char** environ;

namespace leanos::test {

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  path_ = (base / ("leanos-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()))).string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  // A store opened at the folder itself keeps its master key beside it.
  std::filesystem::remove(path_ + ".master-key", ec);
  std::filesystem::remove(path_ + ".master-key.forgotten", ec);
}

static std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void seed_example(const std::string& data) {
  REQUIRE_FALSE(std::filesystem::exists(data));
  if (const char* seeded = std::getenv("LEANOS_SEEDED_EXAMPLE"); seeded && *seeded) {
    std::error_code ec;
    std::filesystem::copy(seeded, data, std::filesystem::copy_options::recursive, ec);
    INFO("copying the seeded example from " << seeded << ": " << ec.message());
    REQUIRE_FALSE(ec);
    // Its personal fields are sealed under the master key beside it: the copy's goes beside the copy.
    std::filesystem::copy_file(std::string(seeded) + ".master-key", data + ".master-key", ec);
    REQUIRE_FALSE(ec);
    return;
  }
  auto r = run("/bin/bash", {SEED_SCRIPT, LEANOS_BINARY, data});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

RunResult run(const std::string& program, const std::vector<std::string>& args) {
  TempDir io;
  const std::string out_path = io.sub("out"), err_path = io.sub("err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  RunResult r;
  if (posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    r.err = "cannot start " + program;
    return r;
  }
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

RunResult run_leanos(const std::vector<std::string>& args) { return run(LEANOS_BINARY, args); }

std::string write_file(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
  return path;
}

std::vector<std::string> files_holding(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) out.push_back(f.path().filename().string());
  }
  return out;
}

int count_lines(const std::string& text) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++n;
  return n;
}

RunResult Workspace::run(std::vector<std::string> args) {
  args.insert(args.begin(), {"--data", dir.path()});
  return run_leanos(args);
}
void Workspace::ok(std::vector<std::string> args) {
  auto r = run(args);
  INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << " -> " << r.err);
  REQUIRE(r.exit_code == 0);
}
int Workspace::all_events() { return count_lines(run({"log"}).out); }
int Workspace::events() {
  std::istringstream log(run({"log"}).out);
  int n = 0;
  for (std::string line; std::getline(log, line);)
    n += !line.empty() && line.find("  files@") == std::string::npos && line.find("  file-contents@") == std::string::npos;
  return n;
}
void Workspace::refused(std::vector<std::string> args, const std::string& says) {
  const int before = events();
  auto r = run(args);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(says) != std::string::npos);
  CHECK(events() == before);
}
void Workspace::open_deal(const std::string& id) {
  ok({"deal",
      "open",
      id,
      "--company",
      "Acme Corp",
      "--segment",
      "enterprise",
      "--source",
      "inbound",
      "--channel",
      "website",
      "--contact-name",
      "Jane Doe",
      "--contact-title",
      "CTO",
      "--contact-email",
      "jane@acme.example",
      "--signal",
      "demo request",
      "--goal",
      "g-mrr-50k",
      "--subgoal",
      "SG1",
      "--at",
      "2026-01-10"});
}
void Workspace::setup() {
  ok({"goal", "define", "g-mrr-50k", "--title", "Reach $50K MRR by Q2", "--metric", "mrr", "--target", "50000", "--due",
      "2026-06-30", "--at", "2026-01-01"});
  ok({"goal", "subgoal", "g-mrr-50k", "SG1", "--title", "Close first 3 customers", "--target", "3", "--at",
      "2026-01-01"});
  ok({"canvas", "assume", "A4", "--statement", "Enterprise customers prefer white-label", "--confidence", "60", "--at",
      "2026-01-01"});
}
nlohmann::json Workspace::json(std::vector<std::string> args) {
  args.push_back("--json");
  auto r = run(args);
  INFO(args.front(), " ", r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

void Workspace::to_decision(const std::string& id, const std::string& verdict) {
  open_deal(id);
  ok({"deal", "hypothesis", id, "--tests", "A4", "--confidence", "60", "--at", "2026-01-10"});
  ok({"deal", "implication", id, "--arr-low", "1000000", "--arr-high", "1500000", "--strategic", "high", "--cost-hours",
      "40", "--priority", "0.5", "--at", "2026-01-11"});
  ok({"deal", "decide", id, verdict, "--reason", "fits the ICP", "--at", "2026-01-12"});
}

}  // namespace leanos::test
