// The files layer of `leanos import`: what a workspace tree (a folder, or a git commit) changes
// against the files the ledger holds, recorded as file versions and contents.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/files.h"
#include "actors/runtime.h"
#include "events/result.h"
#include "events/time.h"
#include "store/event_store.h"
#include "tools/bridge/tree.h"

namespace leanos::bridge {

// The last version of each path the ledger holds (deleted ones too), kept up to date by
// record_files across the commits of one import run.
struct FilesHeld {
  struct Last {
    v1::FileKind kind;
    std::string sha256, event_id;
  };
  std::map<std::string, Last> paths;
  // The last content written per path in this run (a git history's next commit takes it as
  // the base of its delta without reading it back).
  std::map<std::string, StoredContent> written;
};

Result<FilesHeld> files_held(const store::EventStore& store);

struct FilesRecorded {
  std::size_t versions = 0;  // new versions (deletions included)
  std::size_t deleted = 0;
  std::vector<std::string> deleted_paths;  // the paths gone from the workspace since
  std::size_t contents = 0;  // distinct new contents stored
  std::size_t in_force = 0;  // files in the tree kept
  std::size_t ignored = 0;   // left out by .leanosignore
  std::vector<Problem> refused;
};

struct FilesSource {
  Micros at = 0;                      // the versions' business time (0: each file's own: its modification time)
  std::string commit;                 // git: the commit
  std::optional<Micros> committed_at; // git: the committer's time
  std::string actor;
  std::map<std::string, std::string> metadata;
};

// Records the versions `tree` brings against `held` (contents first, each once; then the
// versions and the deletions of paths it no longer has). `runtime` null: a dry run, counted.
Result<FilesRecorded> record_files(store::EventStore* store, Runtime* runtime, const FileTree& tree, FilesHeld& held,
                                   const FilesSource& source);

// A document whose text is its file's very bytes, as the files layer holds them (recorded
// just before it), names that content (content_sha256) instead of holding the text again.
Status name_held_content(const store::EventStore& store, v1::DocumentWritten& document);

}  // namespace leanos::bridge
