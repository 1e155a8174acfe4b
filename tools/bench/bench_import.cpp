// leanos bench import: a generated LeanOS workspace of N deal threads imported by the real
// `leanos import` (this binary, as a child process, as a user runs it): first import,
// re-import with no change, re-import after 1 % of the threads gained a stage file.
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/time.h"
#include "tools/bench/bench.h"
#include "tools/bench/bench_util.h"

extern char** environ;

namespace leanos::cli {

namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string day(Micros base, int plus) { return format_date(base + days(plus)); }

// One deal thread in the seed era's files, `stages` of them (5 or 6), starting on `start`.
void thread(const fs::path& dir, int i, Micros start, bool learning) {
  const std::string id = "deal-" + std::to_string(i), company = "Company " + std::to_string(i);
  write(dir / "meta.json", "{\n  \"thread_id\": \"" + id + "\",\n  \"type\": \"sales\",\n  \"created\": \"" + day(start, 0) +
                               "\",\n  \"segment\": \"enterprise\",\n  \"goal_id\": \"g-mrr\",\n  \"stage\": " + (learning ? "6" : "5") +
                               ",\n  \"impact_score\": 0.6\n}\n");
  write(dir / "1-input.md", "# Input\n\n**Date:** " + day(start, 0) + "\n\n## Observation\n" + company +
                                " asked for a demo.\n\n## Details\n- **Contact:** Pat Lee, CTO, pat@c" + std::to_string(i) +
                                ".example\n- **Company:** " + company + "\n\n**Source:** Inbound (website)\n");
  write(dir / "2-hypothesis.md", "# Hypothesis\n\n**Date:** " + day(start, 1) +
                                     "\n\n### A4: White-label\n**Status:** TESTING\n**Confidence:** 60%\n");
  write(dir / "3-implication.md", "# Implication\n\n**Date:** " + day(start, 2) +
                                      "\n\n**Expected ARR:** $100K-$150K\n**Strategic value:** Medium\n**Priority:** 0.6\n");
  write(dir / "4-decision.md", "# Decision\n\n**Date:** " + day(start, 3) + "\n\n## Verdict\n**QUALIFY**\n\n**Impact score:** 0.6\n");
  write(dir / "5-actions.md", "# Actions\n\n## Action 1: Intake\n**Type:** sales:lead-intake\n**Status:** completed\n**Duration:** " +
                                  day(start, 4) + " - " + day(start, 4) + "\n**Result:** READY_FOR_QUALIFICATION\n\n---\n\n"
                                  "## Action 2: Qualify\n**Type:** sales:qualify\n**Status:** completed\n**Duration:** " +
                                  day(start, 5) + " - " + day(start, 7) + "\n**Result:** QUALIFIED\n\n---\n\n"
                                  "## Action 3: Demo\n**Type:** sales:demo\n**Status:** completed\n**Duration:** " +
                                  day(start, 10) + " - " + day(start, 11) + "\n**Result:** INTERESTED\n\n---\n\n"
                                  "## Action 4: Close\n**Type:** sales:close\n**Status:** completed\n**Duration:** " +
                                  day(start, 20) + " - " + day(start, 25) + "\n**Result:** WON\n");
  if (learning)
    write(dir / "6-learning.md", "# Learning\n\n**Date:** " + day(start, 30) + "\n\n## Deal Outcome\n**Status:** WON\n**ARR:** $120K\n\n"
                                     "## Hypothesis Validation\n\n### A4: White-label\n**Status:** VALIDATED\n**Confidence:** 60% → 70%\n");
}

// The workspace: a canvas, a goal, `deals` threads (every fifth without its learning yet).
void generate(const fs::path& root, int deals) {
  const Micros base = parse_time("2024-01-01").value();
  write(root / "strategy/canvas/10-assumptions.md",
        "# Assumptions\n\n### A4: White-label\n**Hypothesis:** Enterprise customers prefer white-label\n**Confidence:** 60%\n"
        "**Last validated:** 2024-01-01\n");
  write(root / "strategy/goals/active/g-mrr.md",
        "---\nid: g-mrr\ncreated: 2023-12-01\ndeadline: 2030-12-31\n---\n\n# Grow MRR\n\n## State\n\n### Metrics\n"
        "| Metric | Current | Target |\n|---|---|---|\n| MRR | $0 | $100,000,000 |\n");
  for (int i = 0; i < deals; ++i)
    thread(root / "threads/sales" / ("deal-" + std::to_string(i)), i, base + days(i % 700), i % 5 != 0);
}

// Runs this binary with `args`, its stdout into `out`, stderr discarded; seconds taken.
double timed_run(const std::vector<std::string>& args, const std::string& out, int* exit_code) {
  std::vector<char*> argv;
  static std::string self = bench::self_path();
  argv.push_back(self.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto t0 = bench::Clock::now();
  pid_t pid = 0;
  int status = 0;
  if (posix_spawn(&pid, self.c_str(), &fa, nullptr, argv.data(), environ) != 0 || waitpid(pid, &status, 0) < 0) {
    posix_spawn_file_actions_destroy(&fa);
    *exit_code = -1;
    return 0;
  }
  posix_spawn_file_actions_destroy(&fa);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return bench::seconds_since(t0);
}

int run_bench_import(const GlobalOptions& g, std::string dir, int deals) {
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-import-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  const fs::path ws = fs::path(dir) / "workspace", data = fs::path(dir) / "data";
  std::fprintf(stderr, "bench: generating a workspace of %d deal threads...\n", deals);
  generate(ws, deals);
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(ws)) files += e.is_regular_file();
  struct Row {
    const char* what;
    double seconds;
    int exit_code;
    std::uint64_t events;
  };
  std::vector<Row> rows;
  const std::string report = (fs::path(dir) / "report.json").string();
  auto import = [&](const char* what) {
    int code = 0;
    std::fprintf(stderr, "bench: %s...\n", what);
    const double s = timed_run({"--data", data.string(), "--json", "import", ws.string()}, report, &code);
    std::ifstream in(report);
    auto j = nlohmann::json::parse(in, nullptr, false);
    const std::uint64_t events = j.is_object() && j.contains("events_recorded") ? j["events_recorded"].get<std::uint64_t>() : 0;
    rows.push_back({what, s, code, events});
  };
  import("first import");
  import("re-import, nothing changed");
  // 1 % of the threads gain their learning (a new 6-learning.md), as after an agent's run: the
  // most recent of those still open (an agent works on the current deals). A close dated before
  // others restates every goal and canvas value derived after it; the oldest deals closing now
  // would restate the whole history (1,000 deals: 27,000 restatements, 20 s).
  const Micros base = parse_time("2024-01-01").value();
  std::vector<int> open;
  for (int i = 0; i < deals; i += 5) open.push_back(i);
  std::stable_sort(open.begin(), open.end(), [](int a, int b) { return a % 700 > b % 700; });
  open.resize(std::min<std::size_t>(open.size(), std::max(1, deals / 100)));
  for (int i : open) thread(ws / "threads/sales" / ("deal-" + std::to_string(i)), i, base + days(i % 700), true);
  import("re-import, 1 % of threads changed");
  if (temp) fs::remove_all(dir, ec);
  for (const auto& r : rows)
    if (r.exit_code != 0) return fail(Status::io(std::string("bench: ") + r.what + " exited " + std::to_string(r.exit_code)));
  if (g.json) {
    std::printf("{\"deals\":%d,\"files\":%zu,\"first_s\":%.3f,\"first_events\":%llu,\"unchanged_s\":%.3f,\"changed_s\":%.3f,"
                "\"changed_events\":%llu}\n",
                deals, files, rows[0].seconds, static_cast<unsigned long long>(rows[0].events), rows[1].seconds, rows[2].seconds,
                static_cast<unsigned long long>(rows[2].events));
    return 0;
  }
  std::printf("import of a generated LeanOS workspace: %d deal threads, %zu files (the real `leanos import`, durable)\n", deals, files);
  std::printf("%-36s %-10s %-10s %-10s %-10s\n", "run", "seconds", "files/s", "events", "events/s");
  for (const auto& r : rows)
    std::printf("%-36s %-10.2f %-10.0f %-10llu %-10.0f\n", r.what, r.seconds, static_cast<double>(files) / r.seconds,
                static_cast<unsigned long long>(r.events), static_cast<double>(r.events) / r.seconds);
  return 0;
}

}  // namespace

void add_bench_import(CLI::App* bench, GlobalOptions& g, Action& action) {
  struct Args {
    std::string dir;
    int deals = 1000;
  };
  auto a = std::make_shared<Args>();
  auto* s = bench->add_subcommand("import", "import a generated LeanOS workspace: first, unchanged, 1 % changed");
  s->add_option("--dir", a->dir, "scratch folder, kept after (default: a temporary folder, removed after)");
  s->add_option("--deals", a->deals, "deal threads to generate (default 1000)")->check(CLI::Range(1, 1'000'000));
  s->callback([&g, &action, a] { action = [&g, a] { return run_bench_import(g, a->dir, a->deals); }; });
}

}  // namespace leanos::cli
