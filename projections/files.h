// The files layer's fold: every version of every workspace file, in the order recorded, and
// the views over it (the files in force, one file's log). Pure: no store, no clock.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "leanos/v1/events.pb.h"
#include "leanos/v1/views.pb.h"

namespace leanos::projections {

// Every version of every path (FileVersion events), each path's in the order recorded.
struct FilesState {
  std::map<std::string, std::vector<v1::FileEntry>> paths;
};

void apply(FilesState& s, const v1::Envelope& e);

// The files in force (the last version of each path, unless it is a deletion), by path.
v1::FilesView files_view(const FilesState& s);

// Every version of `path`, oldest first (empty when the path was never recorded).
v1::FileLogView file_log(const FilesState& s, const std::string& path);

}  // namespace leanos::projections
