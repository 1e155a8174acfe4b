#include "tools/bridge/tree.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "events/domain.h"
#include "events/text.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '/'))
    if (!part.empty()) out.push_back(part);
  return out;
}

// `pattern` (parts, "**" for any number of folders) against `path`'s first `n` parts: which
// (pattern part, path part) pairs can match is worked out once each, so a rule full of "**"
// costs parts x parts, never exponential time.
bool glob(const std::vector<std::string>& pattern, const std::vector<std::string>& path, std::size_t n) {
  // can[p][i]: the pattern from part p matches the path from part i.
  std::vector<std::vector<char>> can(pattern.size() + 1, std::vector<char>(n + 1, 0));
  can[pattern.size()][n] = 1;
  for (std::size_t p = pattern.size(); p-- > 0;)
    for (std::size_t i = n + 1; i-- > 0;) {
      if (pattern[p] == "**") can[p][i] = can[p + 1][i] || (i < n && can[p][i + 1]);
      else can[p][i] = i < n && can[p + 1][i + 1] && ::fnmatch(pattern[p].c_str(), path[i].c_str(), 0) == 0;
    }
  return can[0][0];
}

}  // namespace

// Hand-written over fnmatch(3): libgit2's matcher needs a repository and reads the user's own
// global excludes, which must not decide what a workspace keeps.
IgnoreRules::IgnoreRules(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' && (line.size() < 2 || line[line.size() - 2] != '\\')) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    Rule r;
    if (line.front() == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line.front() == '\\') {
      line.erase(0, 1);  // "\#name", "\!name"
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    r.anchored = line.find('/') != std::string::npos;  // at the start or inside
    r.parts = split(line);
    if (r.parts.empty()) continue;
    if (!r.anchored) r.parts.insert(r.parts.begin(), "**");
    rules_.push_back(std::move(r));
  }
}

bool IgnoreRules::matches(const Rule& r, const std::vector<std::string>& parts, std::size_t n, bool dir) const {
  if (r.dir_only && !dir) return false;
  return glob(r.parts, parts, n);
}

bool IgnoreRules::ignored(const std::string& path, bool dir) const {
  if (rules_.empty()) return false;
  const auto parts = split(path);
  // A folder left out leaves out everything in it (git: a file in it cannot be taken back).
  for (std::size_t n = 1; n <= parts.size(); ++n) {
    const bool is_dir = n < parts.size() || dir;
    bool out = false;
    for (const auto& r : rules_)
      if (matches(r, parts, n, is_dir)) out = !r.negate;
    if (out) return true;
  }
  return false;
}

Result<FileTree> read_folder_tree(const std::string& dir) {
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::is_directory(root, ec)) return Status::not_found("no folder " + dir);
  FileTree tree;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) return Status::io("cannot read " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::io("cannot read " + dir + ": " + ec.message());
    const fs::path& p = it->path();
    const std::string rel = p.lexically_relative(root).generic_string();
    if (p.filename() == ".git") {  // git's own, never the workspace's
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    const auto status = it->symlink_status(ec);
    if (fs::is_directory(status)) continue;
    if (auto st = check_file_path(rel); !st) {
      tree.refused.push_back({rel, 0, st.message()});
      continue;
    }
    TreeFile f{rel, v1::FILE_REGULAR, {}, std::nullopt, {}};
    if (struct stat st {}; ::lstat(p.c_str(), &st) == 0)
      f.modified = static_cast<Micros>(st.st_mtim.tv_sec) * kMicrosPerSecond + st.st_mtim.tv_nsec / 1000;
    if (fs::is_symlink(status)) {
      f.kind = v1::FILE_SYMLINK;
      f.bytes = fs::read_symlink(p, ec).string();  // the target as written, never followed
      if (ec) {
        tree.refused.push_back({rel, 0, "a symbolic link whose target cannot be read: " + ec.message()});
        continue;
      }
    } else if (fs::is_regular_file(status)) {
      struct stat st {};
      if (::stat(p.c_str(), &st) != 0) {
        tree.refused.push_back({rel, 0, std::string("cannot read it: ") + std::strerror(errno)});
        continue;
      }
      if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes) {
        tree.refused.push_back({rel, 0, "is " + std::to_string(st.st_size) + " bytes; the ledger keeps files of at most " +
                                           std::to_string(kMaxFileBytes) + " bytes (keep it outside the workspace, or list it in .leanosignore)"});
        continue;
      }
      if (st.st_mode & S_IXUSR) f.kind = v1::FILE_EXECUTABLE;
      std::ifstream in(p, std::ios::binary);
      f.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (in.bad() || f.bytes.size() != static_cast<std::size_t>(st.st_size)) {
        tree.refused.push_back({rel, 0, "cannot read it whole (it changed while read, or the disk failed)"});
        continue;
      }
    } else {
      tree.refused.push_back({rel, 0, "neither a file, a folder nor a symbolic link (a socket, a device or a pipe): not kept"});
      continue;
    }
    tree.files.push_back(std::move(f));
  }
  std::sort(tree.files.begin(), tree.files.end(), [](const TreeFile& a, const TreeFile& b) { return a.path < b.path; });
  apply_ignore_file(tree);
  return tree;
}

void apply_ignore_file(FileTree& tree) {
  auto rules_file = std::find_if(tree.files.begin(), tree.files.end(), [](const TreeFile& f) { return f.path == ".leanosignore"; });
  if (rules_file == tree.files.end() || rules_file->kind == v1::FILE_SYMLINK) return;
  const IgnoreRules rules(rules_file->bytes);
  const auto before = tree.files.size();
  std::erase_if(tree.files, [&](const TreeFile& f) { return f.path != ".leanosignore" && rules.ignored(f.path, false); });
  std::erase_if(tree.refused, [&](const Problem& p) { return rules.ignored(p.file, false); });
  tree.ignored += before - tree.files.size();
}

Status sync_folder(const FileTree& tree, const std::string& dir, FolderCopy& copy, std::set<std::string>* changed) {
  std::error_code ec;
  const fs::path root(dir);
  FolderCopy next;
  for (const auto& f : tree.files)
    if (f.kind != v1::FILE_SYMLINK) next[f.path] = f.bytes;
  for (const auto& [path, bytes] : copy) {
    if (next.count(path)) continue;
    if (changed) changed->insert(path);
    fs::remove(root / path, ec);
    for (fs::path parent = (root / path).parent_path(); parent != root && fs::is_empty(parent, ec); parent = parent.parent_path())
      fs::remove(parent, ec);
  }
  for (const auto& [path, bytes] : next) {
    if (auto it = copy.find(path); it != copy.end() && it->second == bytes) continue;
    if (changed) changed->insert(path);
    const fs::path p = root / path;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return Status::io("cannot create " + p.parent_path().string() + ": " + ec.message());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::io("cannot write " + p.string());
  }
  copy = std::move(next);
  return Status::success();
}

}  // namespace leanos::bridge
