// A workspace's files as written, for the files layer: every file of a folder, or of a git
// commit's tree, with its bytes and kind (regular, executable, symbolic link), whatever its
// name, extension, size or encoding. `.git` is never read; a `.leanosignore` at the root
// (gitignore syntax) leaves paths out. What cannot be kept is named, never skipped silently.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "events/result.h"
#include "events/time.h"
#include "leanos/v1/domain.pb.h"
#include "tools/bridge/workspace.h"

namespace leanos::bridge {

struct TreeFile {
  std::string path;  // workspace-relative, '/'-separated
  v1::FileKind kind = v1::FILE_REGULAR;
  std::string bytes;  // the content; a link's target as written
  std::optional<Micros> modified;  // a folder's file: its modification time
  std::string sha256;              // of `bytes`, when the reader knew it already (else empty)
};

struct FileTree {
  std::vector<TreeFile> files;   // sorted by path
  std::vector<Problem> refused;  // what could not be kept, and why
  std::size_t ignored = 0;       // paths left out by .leanosignore
};

// The rules of a `.leanosignore` (gitignore syntax: `#` comments, `!` negation, a trailing
// `/` for folders only, a `/` at the start or inside anchors to the root, `*`, `?`, `[...]`
// within a name, `**` across folders; the last rule that matches decides).
class IgnoreRules {
 public:
  explicit IgnoreRules(const std::string& text = "");
  // Whether `path` (workspace-relative; `dir`: a folder) is left out, by a rule on it or on
  // a folder it is in.
  bool ignored(const std::string& path, bool dir) const;
  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::vector<std::string> parts;  // the pattern's '/'-separated parts
    bool negate = false, dir_only = false, anchored = false;
  };
  bool matches(const Rule& r, const std::vector<std::string>& parts, std::size_t n, bool dir) const;
  std::vector<Rule> rules_;
};

// Every file under `dir` (symbolic links as links, never followed).
Result<FileTree> read_folder_tree(const std::string& dir);

// Applies the root's `.leanosignore` of `tree` (kept itself) to it.
void apply_ignore_file(FileTree& tree);

// What sync_folder wrote into a folder: path -> bytes.
using FolderCopy = std::map<std::string, std::string>;

// Makes `dir` hold `tree`'s files (links left out: the facts never follow them), writing only
// those that differ from `copy` (what it wrote before) and removing those gone, with the
// folders they leave empty. `changed` (if given) receives the paths written or removed.
Status sync_folder(const FileTree& tree, const std::string& dir, FolderCopy& copy, std::set<std::string>* changed = nullptr);

}  // namespace leanos::bridge
