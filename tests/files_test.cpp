// The files layer through the real binary and real git repositories: every file of a
// workspace kept as written (any name, bytes, encoding, mode, links), every version and
// deletion, given back byte for byte by `checkout` at any point in time or git commit.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "actors/files.h"
#include "events/ids.h"
#include "tests/store_support.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using leanos::test::RunResult;
using leanos::test::TempDir;
using leanos::test::Workspace;

namespace {

// What a folder holds, as checkout must give it back: per path, its kind and bytes (a link:
// "link:" and its target; an executable: "exec:" before its bytes). `.git` left out.
std::map<std::string, std::string> tree_of(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const auto rel = it->path().lexically_relative(dir).generic_string();
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    const auto st = fs::symlink_status(it->path());
    if (fs::is_symlink(st)) {
      out[rel] = "link:" + fs::read_symlink(it->path()).string();
    } else if (fs::is_regular_file(st)) {
      std::ifstream in(it->path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      out[rel] = ((st.permissions() & fs::perms::owner_exec) != fs::perms::none ? "exec:" : "file:") + bytes;
    }
  }
  return out;
}

void put(const std::string& path, const std::string& bytes, bool executable = false) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  fs::permissions(path, executable ? fs::perms(0755) : fs::perms(0644));
}

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// A workspace with what the trial found dropped: empty, binary, extension-less, hidden,
// Windows-1252 and executable files, a link, a file larger than one chunk.
void messy_workspace(const std::string& dir, std::mt19937_64& rng) {
  put(dir + "/strategy/canvas/01-context.md", "# Context\n\nWe sell white-label analytics.\n");
  put(dir + "/.claude/agents/sales-execution.md", "---\nname: sales-execution\n---\nRun the sales skills.\n");
  put(dir + "/LICENSE", "MIT License\n");
  put(dir + "/threads/.gitkeep", "");
  put(dir + "/artifacts/logo.png", "\x89PNG\r\n\x1a\n" + random_bytes(rng, 3000));
  put(dir + "/research/notes-cp1252.md", std::string("It\x92s the customer\x92s call.\n"));
  put(dir + "/scripts/sync.sh", "#!/bin/sh\nleanos import .\n", true);
  put(dir + "/artifacts/deck.pdf", random_bytes(rng, 1'700'000));  // three chunks
  fs::create_symlink("../strategy/canvas/01-context.md", dir + "/research/context-link.md");
}

nlohmann::json files_json(Workspace& w, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"files"};
  args.insert(args.end(), extra.begin(), extra.end());
  return w.json(args);
}

void git(const std::string& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"});
  auto r = leanos::test::run("/usr/bin/git", args);
  INFO("git ", args[6], ": ", r.err);
  REQUIRE(r.exit_code == 0);
}

// Commits the whole tree of `repo` (an empty one too), dated `date`.
void commit_dated(const std::string& repo, const char* date, const std::string& message) {
  git(repo, {"add", "-A"});
  git(repo, {"commit", "-q", "--allow-empty", "--date", date, "-m", message});
}

// `leanos import --git repo` into `w`, REQUIRED to record it (warnings allowed: exit 15).
leanos::test::RunResult import_history(Workspace& w, const std::string& repo) {
  auto imported = w.run({"import", "--git", repo});
  INFO(imported.out, imported.err);
  REQUIRE((imported.exit_code == 0 || imported.exit_code == 15));
  return imported;
}

std::string git_out(const std::string& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"-C", repo});
  auto r = leanos::test::run("/usr/bin/git", args);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("import keeps every file as written, and checkout gives each back byte for byte: empty, binary, hidden, links, modes") {
  std::mt19937_64 rng(7);
  TempDir src;
  messy_workspace(src.path(), rng);
  Workspace w;
  auto first = w.run({"import", src.path(), "--json"});
  INFO(first.err);
  // Recorded with one warning: the notes' Windows-1252 bytes, read as such for the document.
  REQUIRE(first.exit_code == 15);
  const auto report = nlohmann::json::parse(first.out);
  CHECK(report["warnings"] == 1);
  CHECK(first.out.find("research/notes-cp1252.md\",\"line\":1,\"what\":\"column 3: byte 0x92 is not valid UTF-8: read as Windows-1252") !=
        std::string::npos);
  CHECK(report["files"]["in_workspace"] == 9);
  CHECK(report["files"]["versions_recorded"] == 9);
  CHECK(report["files"]["refused"].empty());

  const auto listed = files_json(w);
  REQUIRE(listed["files"].size() == 9);
  std::map<std::string, nlohmann::json> by_path;
  for (const auto& f : listed["files"]) by_path[f["path"]] = f;
  CHECK(by_path.count(".claude/agents/sales-execution.md"));
  CHECK(by_path["threads/.gitkeep"].value("size", 0) == 0);
  CHECK(by_path["scripts/sync.sh"]["kind"] == "executable");
  CHECK(by_path["research/context-link.md"]["kind"] == "symlink");
  CHECK(by_path["artifacts/deck.pdf"]["size"] == 1'700'000);
  for (const char* path : {"LICENSE", "artifacts/deck.pdf", "research/notes-cp1252.md"})
    CHECK(by_path[path]["sha256"] == leanos::test::run("/usr/bin/sha256sum", {src.sub(path)}).out.substr(0, 64));

  TempDir out;
  auto co = w.run({"checkout", out.sub("ws")});
  INFO(co.err);
  REQUIRE(co.exit_code == 0);
  CHECK(tree_of(out.sub("ws")) == tree_of(src.path()));
  // Stored sealed, like personal data: no file of the data folder holds a text in clear.
  CHECK(leanos::test::files_holding(w.dir.path(), "Run the sales skills").empty());
  CHECK(leanos::test::files_holding(w.dir.path(), "leanos import .").empty());

  // Nothing new: a second import records no version.
  const int events = w.all_events();
  auto again = w.run({"import", src.path(), "--json"});
  CHECK(nlohmann::json::parse(again.out)["files"]["versions_recorded"] == 0);
  CHECK(w.all_events() == events);
  // Into a folder that has files only with --force; a link planted on the way is refused.
  auto busy = w.run({"checkout", out.sub("ws")});
  CHECK(busy.exit_code != 0);
  CHECK(busy.err.find("--force") != std::string::npos);
}

// Checkout reads and writes each file on two threads, as soon as it has read it: a content it
// cannot read (here: the workspace locked, its master key away) stops it, and what it wrote
// goes — a new folder is gone, an empty one left empty.
TEST_CASE("a checkout that cannot read a file's content writes nothing: a new folder is not left behind, an empty one stays empty") {
  TempDir src;
  for (int i = 0; i < 40; ++i) put(src.sub("threads/deal-" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".md"), "# File " + std::to_string(i) + "\n");
  Workspace w;
  const int imported = w.run({"import", src.path()}).exit_code;
  REQUIRE((imported == 0 || imported == 15));
  const std::string key = w.dir.path() + ".master-key", away = w.dir.path() + ".key-away";
  REQUIRE(fs::exists(key));
  fs::rename(key, away);
  TempDir out;
  auto locked = w.run({"checkout", out.sub("ws")});
  CHECK(locked.exit_code != 0);
  CHECK(locked.err.find("nothing was written") != std::string::npos);
  CHECK(locked.err.find("locked") != std::string::npos);
  CHECK_FALSE(fs::exists(out.sub("ws")));
  fs::create_directories(out.sub("empty"));
  CHECK(w.run({"checkout", out.sub("empty")}).exit_code != 0);
  CHECK(fs::is_empty(out.sub("empty")));
  fs::rename(away, key);
  REQUIRE(w.run({"checkout", out.sub("ws")}).exit_code == 0);
  CHECK(tree_of(out.sub("ws")) == tree_of(src.path()));
}

TEST_CASE("edits, deletions and renames are versions: files log, diff, and checkout at an earlier position") {
  TempDir src;
  put(src.sub("strategy/canvas/07-uvp.md"), "# UVP\n\nFast.\n");
  put(src.sub("notes/old-name.md"), "a note\n");
  put(src.sub("notes/gone.md"), "soon deleted\n");
  Workspace w;
  REQUIRE(w.run({"import", src.path()}).exit_code != 1);
  const int first = w.all_events();
  put(src.sub("strategy/canvas/07-uvp.md"), "# UVP\n\nFast and private.\n");
  fs::rename(src.sub("notes/old-name.md"), src.sub("notes/new-name.md"));
  fs::remove(src.sub("notes/gone.md"));
  auto second = w.run({"import", src.path(), "--json"});
  const auto report = nlohmann::json::parse(second.out);
  CHECK(report["files"]["versions_recorded"] == 4);  // the edit, the rename (a deletion and a new path), the deletion
  CHECK(report["files"]["deleted"] == 2);
  CHECK(report["files"]["new_contents"] == 1);        // the renamed file's bytes were stored already

  const auto now = files_json(w);
  std::vector<std::string> paths;
  for (const auto& f : now["files"]) paths.push_back(f["path"]);
  CHECK(paths == std::vector<std::string>{"notes/new-name.md", "strategy/canvas/07-uvp.md"});
  auto log = w.json({"files", "log", "notes/gone.md"});
  REQUIRE(log["versions"].size() == 2);
  CHECK(log["versions"][1]["kind"] == "deleted");
  auto diff = w.run({"files", "diff", "strategy/canvas/07-uvp.md"});
  REQUIRE(diff.exit_code == 0);
  CHECK(diff.out.find("-Fast.") != std::string::npos);
  CHECK(diff.out.find("+Fast and private.") != std::string::npos);

  TempDir out;
  REQUIRE(w.run({"checkout", out.sub("then"), "--at-position", std::to_string(first)}).exit_code == 0);
  CHECK(tree_of(out.sub("then")) == std::map<std::string, std::string>{{"notes/gone.md", "file:soon deleted\n"},
                                                                       {"notes/old-name.md", "file:a note\n"},
                                                                       {"strategy/canvas/07-uvp.md", "file:# UVP\n\nFast.\n"}});
  w.refused({"files", "log", "notes/never.md"}, "no file 'notes/never.md' was recorded");
  w.refused({"files", "diff", "notes/new-name.md", "--from", "1", "--to", "1"}, "has versions 1 to 1");
  auto first_version = w.run({"files", "diff", "notes/new-name.md"});  // against nothing: every line added
  CHECK(first_version.out.find("/dev/null") != std::string::npos);
  CHECK(first_version.out.find("+a note") != std::string::npos);
}

TEST_CASE("checkout --commit equals git archive of every commit of a random history, merges included, and a re-import records nothing") {
  // LEANOS_TEST_SEED replays a run that failed (the seed is logged).
  const char* given = std::getenv("LEANOS_TEST_SEED");
  const std::uint64_t seed = given ? std::strtoull(given, nullptr, 10) : std::uint64_t{std::random_device{}()};
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  TempDir repo;
  git(repo.path(), {"init", "-q", "-b", "main"});
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<std::string> names{"a.md", "b.md", "dir/c.md", "dir/sub/d.bin", "e", ".hidden/f.md", "g.sh", "h.md"};
  auto mutate = [&](int changes) {
    for (int k = 0; k < changes; ++k) {
      const std::string path = repo.sub(names[pick(names.size())]);
      switch (pick(6)) {
        case 0:
          if (fs::exists(fs::symlink_status(path))) fs::remove(path);  // a link to itself has no status of its own
          break;
        case 1:
          if (!fs::is_symlink(path)) {
            fs::remove(path);
            fs::create_directories(fs::path(path).parent_path());
            fs::create_symlink("a.md", path);
          }
          break;
        case 2:
          if (fs::is_symlink(path)) fs::remove(path);
          put(path, "", false);
          break;
        case 3:
          if (fs::is_symlink(path)) fs::remove(path);
          put(path, random_bytes(rng, pick(5000)), pick(2) == 0);
          break;
        default:
          if (fs::is_symlink(path)) fs::remove(path);
          put(path, "line " + std::to_string(rng() % 100) + "\n", false);
      }
    }
  };
  auto commit = [&](const std::string& message) {
    git(repo.path(), {"add", "-A"});
    git(repo.path(), {"commit", "-q", "--allow-empty", "-m", message});
  };
  for (int i = 0; i < 6; ++i) {
    mutate(3);
    commit("main " + std::to_string(i));
  }
  git(repo.path(), {"checkout", "-q", "-b", "side", "HEAD~3"});
  for (int i = 0; i < 3; ++i) {
    mutate(2);
    commit("side " + std::to_string(i));
  }
  git(repo.path(), {"checkout", "-q", "main"});
  {
    auto merged = leanos::test::run("/usr/bin/git", {"-C", repo.path(), "-c", "user.name=t", "-c", "user.email=t@example.com", "merge",
                                                     "-q", "--no-edit", "-X", "theirs", "side"});
    if (merged.exit_code != 0) {  // a conflict -X cannot settle (a file against a link): settle it by hand
      mutate(1);
      commit("merge side");
    }
  }
  mutate(2);
  commit("after the merge");

  Workspace w;
  auto imported = w.run({"import", "--git", repo.path()});
  INFO(imported.out, imported.err);
  REQUIRE((imported.exit_code == 0 || imported.exit_code == 13 || imported.exit_code == 15));  // random bytes: some facts skipped or read with warnings
  const auto commits = git_out(repo.path(), {"rev-list", "--all"});
  std::istringstream ids(commits);
  int compared = 0;
  for (std::string id; std::getline(ids, id);) {
    INFO("commit " << id);
    TempDir ours, theirs;
    auto co = w.run({"checkout", ours.sub("ws"), "--commit", id.substr(0, 9)});
    INFO(co.err);
    REQUIRE(co.exit_code == 0);
    fs::create_directories(theirs.sub("ws"));
    auto archive = leanos::test::run("/bin/sh", {"-c", "git -C \"$1\" archive \"$2\" | tar -x -C \"$3\"", "sh", repo.path(), id, theirs.sub("ws")});
    REQUIRE(archive.exit_code == 0);
    CHECK(tree_of(ours.sub("ws")) == tree_of(theirs.sub("ws")));
    ++compared;
  }
  CHECK(compared >= 10);
  // The import flushed what it wrote: no write-ahead log is left for every later open to replay.
  std::uintmax_t wal = 0;
  for (const auto& f : fs::directory_iterator(w.dir.path()))
    if (f.path().extension() == ".log") wal += f.file_size();
  CHECK(wal == 0);
  const int events = w.all_events();
  auto again = w.run({"import", "--git", repo.path()});
  CHECK(w.all_events() == events);
  w.refused({"checkout", w.dir.sub("none"), "--commit", "0000000"}, "no imported commit 0000000");
}

TEST_CASE("a file edited commit after commit is stored as skip-deltas, a few hops from a whole version, chains bounded, every commit given back as git has it") {
  std::mt19937_64 rng(5);
  TempDir repo;
  git(repo.path(), {"init", "-q", "-b", "main"});
  std::string logo = random_bytes(rng, 100'000), notes = "# Notes\n";
  constexpr int kCommits = 40;  // past one chain (32 versions): the next starts whole again
  for (int i = 0; i < kCommits; ++i) {
    logo += "edit " + std::to_string(i) + "\n";  // a small change to a large file, as an agent appends to one
    notes += "- line " + std::to_string(i) + "\n";
    put(repo.sub("artifacts/logo.bin"), logo);
    put(repo.sub("research/notes.md"), notes);
    git(repo.path(), {"add", "-A"});
    char date[32];
    std::snprintf(date, sizeof date, "2026-%02d-%02dT10:00:00Z", 1 + i / 28, 1 + i % 28);
    git(repo.path(), {"commit", "-q", "--date", date, "-m", "edit " + std::to_string(i)});
  }
  Workspace w;
  import_history(w, repo.path());
  // The contents: the first whole, then deltas, the one at chain place k of the one at
  // k & (k - 1): as many hops to the whole one as k has set bits; the 33rd version whole again.
  // What they take is far less than every version whole.
  auto log = w.run({"--json", "log", "--stream", "file-contents"});
  REQUIRE(log.exit_code == 0);
  std::istringstream lines(log.out);
  int contents = 0, deltas = 0;
  unsigned deepest = 0, last_place = 0;
  std::map<std::string, unsigned> place_of;  // each content's chain place, by its SHA-256
  std::size_t stored = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto e = nlohmann::json::parse(line);
    const auto& c = e.at("file_content");
    ++contents;
    // Dated as the commit that first held it, not by the clock (which would put every later
    // version behind it in business time: recorded late, each fold starting far back).
    CHECK(e.at("occurred_at").get<std::string>().rfind("2026-0", 0) == 0);
    const unsigned place = c.value("chain", 0u), depth = c.value("depth", 0u);
    place_of[c.at("sha256").get<std::string>()] = place;
    if (c.contains("base_sha256")) {
      ++deltas;
      INFO(line);
      CHECK(place > 0);
      CHECK(depth == static_cast<unsigned>(__builtin_popcount(place)));
      CHECK(place_of.at(c.at("base_sha256").get<std::string>()) == (place & (place - 1)));
    }
    deepest = std::max(deepest, depth);
    last_place = std::max(last_place, place);
    stored += c.at("data").get<std::string>().size() * 3 / 4;  // base64
  }
  CHECK(contents == 2 * kCommits);
  CHECK(deltas >= 2 * kCommits - 8);
  CHECK(last_place == leanos::kDeltaChain - 1);  // the chain starts again after 31 deltas
  CHECK(deepest == 5);                          // place 31: five hops
  CHECK(stored < 3 * logo.size());
  // Each commit back byte for byte.
  std::istringstream ids(git_out(repo.path(), {"rev-list", "--all"}));
  int compared = 0;
  for (std::string id; std::getline(ids, id);) {
    INFO("commit " << id);
    TempDir ours, theirs;
    REQUIRE(w.run({"checkout", ours.sub("ws"), "--commit", id}).exit_code == 0);
    fs::create_directories(theirs.sub("ws"));
    auto archive = leanos::test::run("/bin/sh", {"-c", "git -C \"$1\" archive \"$2\" | tar -x -C \"$3\"", "sh", repo.path(), id, theirs.sub("ws")});
    REQUIRE(archive.exit_code == 0);
    CHECK(tree_of(ours.sub("ws")) == tree_of(theirs.sub("ws")));
    ++compared;
  }
  CHECK(compared == kCommits);
  // A plain import of the folder afterwards: the next version, a delta of the last.
  put(repo.sub("artifacts/logo.bin"), logo + "one more\n");
  const int plain = w.run({"import", repo.path()}).exit_code;
  CHECK((plain == 0 || plain == 15));
  TempDir now;
  REQUIRE(w.run({"checkout", now.sub("ws")}).exit_code == 0);
  CHECK(tree_of(now.sub("ws")) == tree_of(repo.path()));
}

// Stores before skip-deltas hold each delta on the version before it (FileContent.chain 0,
// depth up to 16): they read as written, and a path's next version after one starts a chain
// whole rather than continuing one whose places it does not know.
TEST_CASE("an older store's linear deltas read as written, and the version after one starts a new chain whole") {
  using namespace leanos;
  TempDir dir;
  auto es = test::open_store(dir.path());
  const std::string a = "# Notes\n" + std::string(400, 'a') + "\n", b = a + "- b\n", c = b + "- c\n", d = c + "- d\n";
  auto whole = file_content_commands(a, sha256_hex(a), 1'000'000);
  const StoredContent held_a{.sha256 = sha256_hex(a), .bytes = a};
  auto on_a = file_content_commands(b, sha256_hex(b), 2'000'000, &held_a);
  REQUIRE(on_a.front().file_content().base_sha256() == sha256_hex(a));
  CHECK(on_a.front().file_content().chain() == 1);
  // c as an older store wrote it: a delta of b, two deep, no chain place.
  const StoredContent b_alone{.sha256 = sha256_hex(b), .bytes = b};
  auto linear = file_content_commands(c, sha256_hex(c), 3'000'000, &b_alone);
  REQUIRE(linear.front().file_content().base_sha256() == sha256_hex(b));
  linear.front().mutable_file_content()->set_depth(2);
  linear.front().mutable_file_content()->clear_chain();
  for (auto* batch : {&whole, &on_a, &linear}) REQUIRE(es->append(kFileContentsStream, store::ExpectedVersion::any(), *batch).is_ok());

  auto read_c = stored_content(*es, sha256_hex(c));
  REQUIRE(read_c.is_ok());
  CHECK(read_c->bytes == c);
  CHECK(read_c->depth == 2);
  CHECK(read_c->chain == 0);
  auto after_linear = file_content_commands(d, sha256_hex(d), 4'000'000, &*read_c);
  CHECK(after_linear.front().file_content().base_sha256().empty());  // whole: a new chain

  // Read back from the store, b knows its chain: the version at place 2 is a delta of a.
  auto read_b = stored_content(*es, sha256_hex(b));
  REQUIRE(read_b.is_ok());
  CHECK(read_b->chain == 1);
  REQUIRE(read_b->links.size() == 1);
  CHECK(read_b->links.front().sha256 == sha256_hex(a));
  const std::string c2 = b + "- another c\n";
  auto on_b = file_content_commands(c2, sha256_hex(c2), 5'000'000, &*read_b);
  const auto& placed = on_b.front().file_content();
  CHECK(placed.base_sha256() == sha256_hex(a));
  CHECK(placed.chain() == 2);
  CHECK(placed.depth() == 1);
  REQUIRE(es->append(kFileContentsStream, store::ExpectedVersion::any(), on_b).is_ok());
  auto bytes = file_bytes(*es, sha256_hex(c2));
  REQUIRE(bytes.is_ok());
  CHECK(*bytes == c2);
}

TEST_CASE("a document whose file is deleted is no longer in force from then on: documents, export, and back when written again") {
  TempDir repo;
  git(repo.path(), {"init", "-q", "-b", "main"});
  auto commit = [&](const char* date, const std::string& message) { commit_dated(repo.path(), date, message); };
  put(repo.sub("research/notes.md"), "# Notes\n\nWhat the interviews said.\n");
  put(repo.sub("research/keep.md"), "# Keep\n");
  commit("2026-02-01T10:00:00Z", "notes");
  fs::remove(repo.sub("research/notes.md"));
  commit("2026-02-10T10:00:00Z", "notes go");
  Workspace w;
  auto imported = import_history(w, repo.path());
  CHECK(imported.out.find("research/notes.md (removed: the file is gone from the workspace)") != std::string::npos);
  auto paths = [&](std::vector<std::string> args) {
    std::set<std::string> out;
    const auto j = w.json(args);  // kept: a range-for over a temporary's member dangles
    for (const auto& d : j.at("documents")) out.insert(d.at("path").get<std::string>());
    return out;
  };
  CHECK(paths({"documents"}) == std::set<std::string>{"research/keep.md"});
  CHECK(paths({"documents", "--as-of", "2026-02-05"}) == std::set<std::string>{"research/keep.md", "research/notes.md"});
  TempDir out;
  REQUIRE(w.run({"export", out.sub("ws")}).exit_code == 0);
  CHECK(fs::exists(out.sub("ws/research/keep.md")));
  CHECK(!fs::exists(out.sub("ws/research/notes.md")));
  // The same folder imported again records nothing; the file written again is back.
  const int events = w.all_events();
  CHECK(w.run({"import", "--git", repo.path()}).exit_code == 0);
  CHECK(w.all_events() == events);
  put(repo.sub("research/notes.md"), "# Notes\n\nWhat the interviews said.\n");
  const int plain = w.run({"import", repo.path()}).exit_code;
  CHECK((plain == 0 || plain == 15));
  CHECK(paths({"documents"}) == std::set<std::string>{"research/keep.md", "research/notes.md"});
  // And gone from the folder: removed by a plain import too.
  fs::remove(repo.sub("research/notes.md"));
  REQUIRE(w.run({"import", repo.path()}).exit_code != 1);
  CHECK(paths({"documents"}) == std::set<std::string>{"research/keep.md"});
}

TEST_CASE("a commit with no files checks out as an empty folder, as git gives it: an empty first commit, and one that deletes every file") {
  TempDir repo;
  git(repo.path(), {"init", "-q", "-b", "main"});
  auto commit = [&](const char* date, const std::string& message) { commit_dated(repo.path(), date, message); };
  commit("2026-02-01T10:00:00Z", "empty");
  put(repo.sub("notes.md"), "# Notes\n");
  commit("2026-02-02T10:00:00Z", "notes");
  fs::remove(repo.sub("notes.md"));
  commit("2026-02-03T10:00:00Z", "none left");
  Workspace w;
  import_history(w, repo.path());
  for (const char* rev : {"HEAD~2", "HEAD"}) {
    INFO(rev);
    TempDir out;
    auto co = w.run({"checkout", out.sub("ws"), "--commit", git_out(repo.path(), {"rev-parse", "--short=9", rev}).substr(0, 9)});
    INFO(co.err);
    REQUIRE(co.exit_code == 0);
    CHECK(fs::is_directory(out.sub("ws")));
    CHECK(fs::is_empty(out.sub("ws")));
  }
  TempDir out;  // and the commit between holds its one file (named by its whole id: found without a scan)
  REQUIRE(w.run({"checkout", out.sub("ws"), "--commit", git_out(repo.path(), {"rev-parse", "HEAD~1"}).substr(0, 40)}).exit_code == 0);
  CHECK(tree_of(out.sub("ws")).size() == 1);
}

TEST_CASE(".leanosignore leaves paths out, named in the report, and the rules' own streams take no raw append") {
  TempDir src;
  put(src.sub(".leanosignore"), "# build output\n*.log\n/tmp/\n!keep.log\nsecrets/**\n");
  put(src.sub("a.md"), "kept\n");
  put(src.sub("debug.log"), "left out\n");
  put(src.sub("keep.log"), "kept again\n");
  put(src.sub("tmp/x.md"), "left out\n");
  put(src.sub("deep/tmp/y.md"), "kept: /tmp/ is anchored\n");
  put(src.sub("secrets/k/z.txt"), "left out\n");
  Workspace w;
  auto r = w.run({"import", src.path(), "--json"});
  const auto report = nlohmann::json::parse(r.out);
  CHECK(report["files"]["ignored"] == 3);
  std::string paths;
  const auto listed = files_json(w);
  for (const auto& f : listed["files"]) paths += f["path"].get<std::string>() + " ";
  CHECK(w.run({"documents"}).out.find("tmp/x.md") == std::string::npos);  // nor read for facts
  INFO(r.out);
  CHECK(paths == ".leanosignore a.md deep/tmp/y.md keep.log ");
  for (const char* stream : {"files", "file-contents", "documents", "imports"})
    w.refused({"append", stream, "--type", "Note"}, "belongs to the workflow's rules");
}

TEST_CASE("bench import --git-commits measures a generated history beside git, and its checkout equals git's own") {
  TempDir scratch;
  Workspace w;
  auto r = w.run({"bench", "import", "--git-commits", "30", "--json", "--dir", scratch.sub("bench")});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  const auto rows = nlohmann::json::parse(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["commits"] == 30);
  CHECK(rows[0]["import_s"].get<double>() > 0);
  CHECK(rows[0]["store_bytes"].get<double>() > 0);
  CHECK(rows[0]["git_bytes"].get<double>() > rows[0]["git_gc_bytes"].get<double>());
  // What the benchmark timed is a real checkout: the middle commit, as git gives it.
  const std::string run = scratch.sub("bench") + "/30";
  const auto ours = tree_of(run + "/out-leanos"), theirs = tree_of(run + "/out-git");
  CHECK(ours.size() > 290);
  CHECK(ours == theirs);
}
