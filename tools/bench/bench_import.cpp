// leanos bench import: a generated LeanOS workspace of N deal threads imported by the real
// `leanos import` (this binary, as a child process, as a user runs it): first import,
// re-import with no change, re-import after 1 % of the threads gained a stage file.
// `--git-commits N…`: a generated git history beside git itself — `import --git` time, the
// store's size beside the repository's .git, `checkout --commit` beside git's own checkout of
// the same commit (a worktree), all measured in one run.
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
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

// Runs `program` (a path; posix_spawnp searches PATH) with `args` and `env` added to this
// process's environment, its stdout into `out`, stderr discarded; seconds taken.
double timed_spawn(const std::string& program, const std::vector<std::string>& args, const std::string& out, int* exit_code,
                   const std::vector<std::string>& env = {}) {
  std::vector<char*> argv;
  std::string name = program;
  argv.push_back(name.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (auto& e : env_copy) envp.push_back(e.data());
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto t0 = bench::Clock::now();
  pid_t pid = 0;
  int status = 0;
  if (posix_spawnp(&pid, program.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0 || waitpid(pid, &status, 0) < 0) {
    posix_spawn_file_actions_destroy(&fa);
    *exit_code = -1;
    return 0;
  }
  posix_spawn_file_actions_destroy(&fa);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return bench::seconds_since(t0);
}

// Runs this binary with `args`, its stdout into `out`, stderr discarded; seconds taken.
double timed_run(const std::vector<std::string>& args, const std::string& out, int* exit_code) {
  static const std::string self = bench::self_path();
  return timed_spawn(self, args, out, exit_code);
}

// ---- a git history beside git ---------------------------------------------------------------------

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// git with `args` in `repo`, dated `when` (author and committer); fails loudly.
Status git(const fs::path& repo, std::vector<std::string> args, const std::string& out = "/dev/null", Micros when = 0) {
  args.insert(args.begin(), {"-C", repo.string(), "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c",
                             "commit.gpgsign=false", "-c", "gc.auto=0"});
  std::vector<std::string> env;
  if (when) {
    const std::string at = format_time(when);
    env = {"GIT_AUTHOR_DATE=" + at, "GIT_COMMITTER_DATE=" + at};
  }
  int code = 0;
  timed_spawn("git", args, out, &code, env);
  if (code != 0) return Status::io("bench: git " + args[10] + " exited " + std::to_string(code) + " (is git installed? tools/setup.sh installs it)");
  return Status::success();
}

// A LeanOS-like history: 300 markdown files in 40 thread folders and two binary files, then
// `commits - 1` commits of five appended lines each, a deletion every 7th, a rename every
// 11th, a new binary file every 25th (../shared-style generator, seeded: the same history
// every run).
Result<std::vector<std::string>> generate_history(const fs::path& repo, int commits) {
  std::mt19937_64 rng(2026);
  std::vector<std::string> tracked;
  auto put = [&](const std::string& rel, const std::string& text) {
    write(repo / rel, text);
    tracked.push_back(rel);
  };
  fs::create_directories(repo);
  if (auto s = git(repo, {"init", "-q", "-b", "main"}); !s) return s;
  for (int i = 1; i <= 300; ++i) {
    char date[16];
    std::snprintf(date, sizeof date, "2026-01-%02d", i % 28 + 1);
    put("threads/sales/deal-" + std::to_string(i % 40) + "/f" + std::to_string(i) + ".md",
        "# Stage " + std::to_string(i) + "\n\n**Date:** " + date + "\n\nSome text about deal " + std::to_string(i) +
            " that goes on for a while.\n");
  }
  put("artifacts/logo.png", random_bytes(rng, 200'000));
  put("artifacts/deck.pdf", random_bytes(rng, 50'000));
  const Micros base = parse_time("2026-01-01T10:00:00Z").value();
  auto commit = [&](int c) -> Status {
    if (auto s = git(repo, {"add", "-A"}); !s) return s;
    return git(repo, {"commit", "-q", "-m", "commit " + std::to_string(c)}, "/dev/null", base + static_cast<Micros>(c) * 3'600'000'000LL);
  };
  if (auto s = commit(1); !s) return s;
  auto pick_md = [&]() -> std::size_t {
    for (;;) {
      const std::size_t i = rng() % tracked.size();
      if (tracked[i].ends_with(".md")) return i;
    }
  };
  for (int c = 2; c <= commits; ++c) {
    for (int k = 1; k <= 5; ++k) {
      const std::string& f = tracked[rng() % tracked.size()];
      std::ofstream(repo / f, std::ios::binary | std::ios::app) << "edit " << c << " " << k << "\n";
    }
    if (c % 7 == 0) {
      const std::size_t i = pick_md();
      fs::remove(repo / tracked[i]);
      tracked.erase(tracked.begin() + static_cast<long>(i));
    }
    if (c % 11 == 0) {
      const std::size_t i = pick_md();
      const std::string to = tracked[i].substr(0, tracked[i].size() - 3) + "-renamed.md";
      fs::rename(repo / tracked[i], repo / to);
      tracked[i] = to;
    }
    if (c % 25 == 0) put("artifacts/img" + std::to_string(c) + ".bin", random_bytes(rng, 30'000));
    if (auto s = commit(c); !s) return s;
  }
  const std::string list = (repo.parent_path() / "commits.txt").string();
  if (auto s = git(repo, {"rev-list", "--reverse", "HEAD"}, list); !s) return s;
  std::vector<std::string> ids;
  std::ifstream in(list);
  for (std::string id; std::getline(in, id);)
    if (!id.empty()) ids.push_back(id);
  return ids;
}

struct GitRow {
  int commits = 0;
  double import_s = 0, checkout_s = 0, git_checkout_s = 0;
  std::uint64_t store = 0, git_loose = 0, git_packed = 0;
};

Result<GitRow> git_row(const fs::path& dir, int commits) {
  GitRow row;
  row.commits = commits;
  const fs::path repo = dir / "repo", data = dir / "data";
  std::fprintf(stderr, "bench: generating a git history of %d commits...\n", commits);
  auto ids = generate_history(repo, commits);
  if (!ids) return ids.status();
  row.git_loose = bench::folder_bytes(repo / ".git");
  std::fprintf(stderr, "bench: import --git...\n");
  int code = 0;
  row.import_s = timed_run({"--data", data.string(), "import", "--git", repo.string()}, (dir / "import.txt").string(), &code);
  if (code != 0 && code != 15)  // 15: recorded, with warnings (documents dated by their commit)
    return Status::io("bench: import --git exited " + std::to_string(code) + "; its report is in " + (dir / "import.txt").string());
  row.store = bench::folder_bytes(data);
  // The middle commit, by leanos and by git (a worktree: git's own checkout into a new folder),
  // five times each, in turn, each into a new folder: the median of each (a checkout takes
  // tens of milliseconds, where one run on a shared machine moves by as much).
  const std::string& middle = ids->at(ids->size() / 2);
  constexpr int kRounds = 5;
  std::vector<double> ours, theirs;
  for (int round = 0; round < kRounds; ++round) {
    const std::string n = round ? "-" + std::to_string(round) : "";
    ours.push_back(timed_run({"--data", data.string(), "checkout", (dir / ("out-leanos" + n)).string(), "--commit", middle},
                             (dir / "checkout.txt").string(), &code));
    if (code != 0) return Status::io("bench: checkout --commit exited " + std::to_string(code));
    const auto t0 = bench::Clock::now();
    if (auto s = git(repo, {"worktree", "add", "-q", "--detach", (dir / ("out-git" + n)).string(), middle}); !s) return s;
    theirs.push_back(bench::seconds_since(t0));
  }
  row.checkout_s = bench::percentile(ours, 0.5);
  row.git_checkout_s = bench::percentile(theirs, 0.5);
  if (auto s = git(repo, {"gc", "-q"}); !s) return s;
  row.git_packed = bench::folder_bytes(repo / ".git");
  return row;
}

int run_bench_import_git(const GlobalOptions& g, std::string dir, const std::vector<int>& sizes) {
  const bool temp = dir.empty();
  if (temp) dir = (fs::temp_directory_path() / ("leanos-bench-import-git-" + std::to_string(::getpid()))).string();
  std::error_code ec;
  std::vector<GitRow> rows;
  for (int n : sizes) {
    const fs::path run = fs::path(dir) / std::to_string(n);
    fs::remove_all(run, ec);
    auto row = git_row(run, n);
    if (temp) fs::remove_all(run, ec);
    if (!row) return fail(row.status());
    rows.push_back(*row);
  }
  if (temp) fs::remove_all(dir, ec);
  auto mib = [](std::uint64_t b) { return static_cast<double>(b) / (1 << 20); };
  if (g.json) {
    auto a = nlohmann::json::array();
    for (const auto& r : rows)
      a.push_back({{"commits", r.commits}, {"import_s", r.import_s}, {"store_bytes", r.store}, {"git_bytes", r.git_loose},
                   {"git_gc_bytes", r.git_packed}, {"checkout_s", r.checkout_s}, {"git_checkout_s", r.git_checkout_s}});
    std::printf("%s\n", a.dump().c_str());
    return 0;
  }
  std::printf("import --git of a generated history (300 markdown files, binaries; edits, deletions, renames) beside git itself;\n"
              "sizes on disk (du), .git as the commits left it and after git gc\n");
  std::printf("%-8s %-10s %-10s %-10s %-8s %-12s %-8s %-12s %-12s %-6s\n", "commits", "import s", "store MiB", ".git MiB", "ratio",
              ".git gc MiB", "ratio", "checkout s", "git checkout", "ratio");
  for (const auto& r : rows)
    std::printf("%-8d %-10.2f %-10.1f %-10.1f %-8.2f %-12.1f %-8.2f %-12.3f %-12.3f %-6.1f\n", r.commits, r.import_s, mib(r.store),
                mib(r.git_loose), mib(r.store) / mib(r.git_loose), mib(r.git_packed), mib(r.store) / mib(r.git_packed), r.checkout_s,
                r.git_checkout_s, r.checkout_s / r.git_checkout_s);
  return 0;
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
    std::vector<int> git;
  };
  auto a = std::make_shared<Args>();
  auto* s = bench->add_subcommand("import", "import a generated LeanOS workspace: first, unchanged, 1 % changed; or a generated git history beside git");
  s->add_option("--dir", a->dir, "scratch folder, kept after (default: a temporary folder, removed after)");
  s->add_option("--deals", a->deals, "deal threads to generate (default 1000)")->check(CLI::Range(1, 1'000'000));
  s->add_option("--git-commits", a->git,
                "instead: generated git histories of these many commits (e.g. 100 1000): import --git, store size beside .git, "
                "checkout --commit beside git's own checkout")
      ->check(CLI::Range(2, 100'000));
  s->callback([&g, &action, a] {
    action = [&g, a] { return a->git.empty() ? run_bench_import(g, a->dir, a->deals) : run_bench_import_git(g, a->dir, a->git); };
  });
}

}  // namespace leanos::cli
