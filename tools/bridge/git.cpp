#include "tools/bridge/git.h"

#include "actors/files.h"

#include <git2.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include "events/domain.h"
#include "events/text.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

namespace {

// libgit2 is initialised once for the process.
void init() {
  static const int once = git_libgit2_init();
  (void)once;
}

std::string last_error(const std::string& what) {
  const git_error* e = git_error_last();
  return what + ": " + (e && e->message ? e->message : "unknown libgit2 error");
}

template <class T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  ~Owned() {
    if (p) Free(p);
  }
};

using Repo = Owned<git_repository, git_repository_free>;
using Walk = Owned<git_revwalk, git_revwalk_free>;
using Commit = Owned<git_commit, git_commit_free>;
using Tree = Owned<git_tree, git_tree_free>;

Status open(const std::string& path, Repo& repo) {
  init();
  if (git_repository_open_ext(&repo.p, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
    return Status::not_found(path + " is not a git repository (" + last_error("libgit2") + "); import the folder without --git");
  return Status::success();
}

// A name git's own tools never write but a crafted tree can hold: it would point outside the
// folder being written ("..") or into git's own (".git").
bool unsafe_name(const std::string& name) {
  return name.empty() || name == "." || name == ".." || lower(name) == ".git" || name.find('/') != std::string::npos ||
         name.find('\\') != std::string::npos;
}

}  // namespace

Result<std::vector<GitCommit>> git_history(const std::string& path) {
  Repo repo;
  if (auto s = open(path, repo); !s) return s;
  Walk walk;
  if (git_revwalk_new(&walk.p, repo.p) != 0) return Status::io(last_error("walking " + path));
  git_revwalk_sorting(walk.p, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME | GIT_SORT_REVERSE);
  if (git_revwalk_push_head(walk.p) != 0) return Status::not_found(path + " has no commit yet (" + last_error("HEAD") + ")");
  std::vector<GitCommit> out;
  git_oid oid;
  while (git_revwalk_next(&oid, walk.p) == 0) {
    Commit c;
    if (git_commit_lookup(&c.p, repo.p, &oid) != 0) return Status::io(last_error("reading a commit"));
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, &oid);
    const char* summary = git_commit_summary(c.p);
    // The author's time: when the change was made (a rebase or cherry-pick keeps it).
    const git_signature* author = git_commit_author(c.p);
    const git_time_t when = author ? author->when.time : git_commit_time(c.p);
    out.push_back({hex, static_cast<Micros>(when) * kMicrosPerSecond, summary ? summary : "",
                   static_cast<Micros>(git_commit_time(c.p)) * kMicrosPerSecond});
  }
  return out;
}

Result<ScratchFolder> ScratchFolder::make(const std::string& prefix) {
  std::string templ = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (!::mkdtemp(templ.data())) return Status::io("cannot create a scratch folder in " + fs::temp_directory_path().string());
  return ScratchFolder(templ);
}

ScratchFolder::~ScratchFolder() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

struct Reader {
  git_repository* repo;
  FileTree tree;
  Status error;
  const BlobCache* before = nullptr;  // the commit read before
  BlobCache now;                      // this one's blobs
};

int read_entry(const char* root, const git_tree_entry* entry, void* payload) {
  auto& r = *static_cast<Reader*>(payload);
  const std::string name = git_tree_entry_name(entry);
  const std::string rel = std::string(root) + name;
  if (unsafe_name(name)) {
    r.tree.refused.push_back({printable(rel), 0, "a path that leaves the workspace or enters .git: not kept (the commit was crafted)"});
    return 1;  // and nothing under it
  }
  const auto mode = git_tree_entry_filemode(entry);
  if (mode == GIT_FILEMODE_TREE) return 0;
  if (mode == GIT_FILEMODE_COMMIT) {
    char hex[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(hex, sizeof hex, git_tree_entry_id(entry));
    r.tree.refused.push_back({rel, 0, std::string("a submodule (commit ") + hex + "): its files live in another repository; not kept"});
    return 0;
  }
  if (auto st = check_file_path(rel); !st) {
    r.tree.refused.push_back({printable(rel), 0, st.message()});
    return 0;
  }
  const v1::FileKind kind = mode == GIT_FILEMODE_LINK ? v1::FILE_SYMLINK : mode == GIT_FILEMODE_BLOB_EXECUTABLE ? v1::FILE_EXECUTABLE : v1::FILE_REGULAR;
  char id[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(id, sizeof id, git_tree_entry_id(entry));
  if (r.before)
    if (auto it = r.before->by_id.find(id); it != r.before->by_id.end()) {
      r.tree.files.push_back({rel, kind, it->second.bytes, std::nullopt, it->second.sha256});
      r.now.by_id.emplace(id, it->second);
      return 0;
    }
  git_object* object = nullptr;
  if (git_tree_entry_to_object(&object, r.repo, entry) != 0) {
    r.error = Status::io(last_error("reading " + rel));
    return -1;
  }
  auto* blob = reinterpret_cast<git_blob*>(object);
  const auto size = static_cast<std::uint64_t>(git_blob_rawsize(blob));
  if (size > kMaxFileBytes) {
    r.tree.refused.push_back({rel, 0, "is " + std::to_string(size) + " bytes; the ledger keeps files of at most " +
                                          std::to_string(kMaxFileBytes) + " bytes (list it in .leanosignore)"});
  } else {
    TreeFile f{rel, kind, std::string(static_cast<const char*>(git_blob_rawcontent(blob)), size), std::nullopt, ""};
    f.sha256 = sha256_hex(f.bytes);
    r.now.by_id[id] = {f.bytes, f.sha256};
    r.tree.files.push_back(std::move(f));
  }
  git_object_free(object);
  return 0;
}

}  // namespace

Result<FileTree> commit_files(const std::string& path, const std::string& commit, BlobCache* blobs) {
  Repo repo;
  if (auto s = open(path, repo); !s) return s;
  git_oid oid;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0) return Status::invalid("'" + commit + "' is not a commit id");
  Commit c;
  if (git_commit_lookup(&c.p, repo.p, &oid) != 0) return Status::not_found(last_error("commit " + commit));
  Tree tree;
  if (git_commit_tree(&tree.p, c.p) != 0) return Status::io(last_error("the tree of " + commit));
  Reader r{repo.p, {}, Status::success(), blobs, {}};
  if (git_tree_walk(tree.p, GIT_TREEWALK_PRE, read_entry, &r) != 0 && !r.error) return Status::io(last_error("walking " + commit));
  if (!r.error) return r.error;
  if (blobs) *blobs = std::move(r.now);
  std::sort(r.tree.files.begin(), r.tree.files.end(), [](const TreeFile& a, const TreeFile& b) { return a.path < b.path; });
  apply_ignore_file(r.tree);
  return std::move(r.tree);
}

Result<std::string> unified_diff(const std::string& before, const std::string& after, const std::string& before_name,
                                 const std::string& after_name) {
  init();
  git_patch* patch = nullptr;
  if (git_patch_from_buffers(&patch, before.data(), before.size(), before_name.c_str(), after.data(), after.size(), after_name.c_str(),
                             nullptr) != 0)
    return Status::io(last_error("diffing " + after_name));
  git_buf buf = GIT_BUF_INIT;
  const int rc = git_patch_to_buf(&buf, patch);
  git_patch_free(patch);
  if (rc != 0) return Status::io(last_error("diffing " + after_name));
  std::string out(buf.ptr ? buf.ptr : "", buf.size);
  git_buf_dispose(&buf);
  return out;
}


}  // namespace leanos::bridge
