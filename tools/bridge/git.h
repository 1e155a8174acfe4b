// A LeanOS workspace's git history through libgit2: its commits oldest first, and each
// commit's files (bytes, modes, links), so that `leanos import --git` imports each in turn.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "events/result.h"
#include "events/time.h"
#include "tools/bridge/tree.h"
#include "tools/bridge/workspace.h"

namespace leanos::bridge {

struct GitCommit {
  std::string id;       // 40 hex digits
  Micros time = 0;      // the author's time: when the change was made
  std::string summary;  // the message's first line
  Micros committed = 0; // the committer's time: when git knew it
};

// The commits reachable from HEAD, parents before children (oldest first). not_found when
// `repo` is not a git repository (or has no commit yet).
Result<std::vector<GitCommit>> git_history(const std::string& repo);

// A scratch folder, removed with everything in it when the object goes.
class ScratchFolder {
 public:
  static Result<ScratchFolder> make(const std::string& prefix);
  ScratchFolder(ScratchFolder&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchFolder& operator=(ScratchFolder&&) = delete;
  ~ScratchFolder();
  const std::string& path() const { return path_; }

 private:
  explicit ScratchFolder(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Every file of `commit`'s tree as the files layer keeps it: bytes, the executable bit, links
// as links; a submodule or a name that is no safe path is named in `refused`; the tree's own
// `.leanosignore` applied.
//
// `blobs` (optional) carries the blobs of the commit read before, by id, with their SHA-256:
// a file the next commit did not change is taken from it, not inflated and hashed again.
struct BlobCache {
  struct Blob {
    std::string bytes, sha256;
  };
  std::map<std::string, Blob> by_id;
};
Result<FileTree> commit_files(const std::string& repo, const std::string& commit, BlobCache* blobs = nullptr);

// A unified diff of two texts (libgit2's), headed by the two names; "Binary files … differ"
// for bytes that are not text.
Result<std::string> unified_diff(const std::string& before, const std::string& after, const std::string& before_name,
                                 const std::string& after_name);

}  // namespace leanos::bridge
