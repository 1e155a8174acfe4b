#include "projections/files.h"

namespace leanos::projections {

void apply(FilesState& s, const v1::Envelope& e) {
  if (!e.has_file_version()) return;
  const auto& f = e.file_version();
  auto& versions = s.paths[f.path()];
  v1::FileEntry x;
  x.set_path(f.path());
  x.set_kind(f.kind());
  x.set_sha256(f.sha256());
  x.set_size(f.size());
  x.set_version(static_cast<std::uint32_t>(versions.size() + 1));
  *x.mutable_written_at() = e.occurred_at();
  *x.mutable_recorded_at() = e.recorded_at();
  if (f.has_committed_at()) *x.mutable_committed_at() = f.committed_at();
  x.set_commit(f.commit());
  x.set_event_id(e.event_id());
  x.set_position(e.position());
  x.set_actor(e.actor());
  versions.push_back(std::move(x));
}

v1::FilesView files_view(const FilesState& s) {
  v1::FilesView v;
  std::uint64_t bytes = 0;
  for (const auto& [path, versions] : s.paths) {
    if (versions.empty() || versions.back().kind() == v1::FILE_DELETED) continue;
    *v.add_files() = versions.back();
    bytes += versions.back().size();
  }
  v.set_total_bytes(bytes);
  return v;
}

v1::FileLogView file_log(const FilesState& s, const std::string& path) {
  v1::FileLogView v;
  v.set_path(path);
  if (auto it = s.paths.find(path); it != s.paths.end())
    for (const auto& x : it->second) *v.add_versions() = x;
  return v;
}

}  // namespace leanos::projections
