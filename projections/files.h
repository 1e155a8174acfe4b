// The files layer's fold: every version of every workspace file, in the order recorded, and
// the views over it (the files in force, one file's log). Pure: no store, no clock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "leanos/v1/events.pb.h"
#include "leanos/v1/views.pb.h"

namespace leanos::projections {

// Every version of every path (FileVersion events), each path's in the order recorded.
struct FilesState {
  std::map<std::string, std::vector<v1::FileEntry>> paths;
  std::uint64_t version = 0;  // of the `files` stream, read up to
};

void apply(FilesState& s, const v1::Envelope& e);

// The last version of every path (deletions too): the files in force without the history
// before, what a checkout needs. Its snapshot (FilesSnapshot) is kept under kFilesSnapshotName,
// keyed by the position of the last version folded.
struct FilesLatest {
  std::map<std::string, v1::FileEntry> paths;
  std::uint64_t version = 0;  // of the `files` stream, folded up to
};
inline constexpr const char* kFilesSnapshotName = "files-latest-v1";

void apply(FilesLatest& s, const v1::Envelope& e);
// Deterministic bytes: the same state gives the same snapshot.
std::string serialize(const FilesLatest& s);
// False when the bytes are no FilesSnapshot (a damaged snapshot: fold from the log instead).
bool parse(const std::string& bytes, FilesLatest* s);

// The files in force (the last version of each path, unless it is a deletion), by path.
v1::FilesView files_view(const FilesState& s);
v1::FilesView files_view(const FilesLatest& s);

// Every version of `path`, oldest first (empty when the path was never recorded).
v1::FileLogView file_log(const FilesState& s, const std::string& path);

}  // namespace leanos::projections
