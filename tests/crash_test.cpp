// Durability: every append acknowledged before a SIGKILL is in the log after reopening.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <random>

#include "store/event_store.h"
#include "tests/support.h"

using namespace leanos;

namespace {

// Starts the child with its stdout on a pipe, reads `kill_after` acknowledged lines, kills
// it with SIGKILL, then drains what it printed before dying (acknowledged too).
std::map<std::uint64_t, std::string> run_and_kill(const std::string& dir, const std::string& run_id, int kill_after) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(CRASH_CHILD, CRASH_CHILD, dir.c_str(), run_id.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  std::map<std::uint64_t, std::string> acked;
  char line[256];
  int n = 0;
  while (n < kill_after && std::fgets(line, sizeof line, in)) {
    unsigned long long pos = 0;
    char id[200];
    if (std::sscanf(line, "%llu %199s", &pos, id) == 2) acked[pos] = id;
    ++n;
  }
  kill(pid, SIGKILL);
  while (std::fgets(line, sizeof line, in)) {
    unsigned long long pos = 0;
    char id[200];
    if (std::sscanf(line, "%llu %199s", &pos, id) == 2) acked[pos] = id;
  }
  std::fclose(in);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  return acked;
}

}  // namespace

TEST_CASE("every acknowledged append survives SIGKILL at a random moment, and the log stays dense") {
  test::TempDir dir;
  std::mt19937 rng(std::random_device{}());
  std::map<std::uint64_t, std::string> all_acked;
  for (int round = 0; round < 3; ++round) {
    const int kill_after = std::uniform_int_distribution<int>(20, 2000)(rng);
    auto acked = run_and_kill(dir.path(), "r" + std::to_string(round), kill_after);
    REQUIRE(static_cast<int>(acked.size()) >= kill_after);
    all_acked.insert(acked.begin(), acked.end());

    auto opened = store::EventStore::open(dir.path());
    REQUIRE(opened.is_ok());
    auto& es = **opened;
    INFO("round " << round << ", killed after " << kill_after << " acknowledged events");
    CHECK(es.last_position() >= all_acked.rbegin()->first);
    for (const auto& acked : all_acked) {
      const std::uint64_t pos = acked.first;  // a plain variable: doctest's message lambda captures it
      const auto& id = acked.second;
      auto e = es.read_event(pos);
      REQUIRE_MESSAGE(e.is_ok(), "acknowledged position " << pos << " is missing");
      CHECK(e->event_id() == id);
    }
    auto report = es.verify();
    CHECK(report.clean());
    CHECK(report.events == es.last_position());
  }
}
