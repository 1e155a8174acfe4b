#include "projections/files.h"

#include <algorithm>

#include "events/ids.h"
#include "projections/ledger.h"

namespace leanos::projections {

namespace {

// Version `version` of its path, as the views list it.
v1::FileEntry entry_of(const v1::Envelope& e, std::uint32_t version) {
  const auto& f = e.file_version();
  v1::FileEntry x;
  x.set_path(f.path());
  x.set_kind(f.kind());
  x.set_sha256(f.sha256());
  x.set_size(f.size());
  x.set_version(version);
  *x.mutable_written_at() = e.occurred_at();
  *x.mutable_recorded_at() = e.recorded_at();
  if (f.has_committed_at()) *x.mutable_committed_at() = f.committed_at();
  x.set_commit(f.commit());
  x.set_event_id(e.event_id());
  x.set_position(e.position());
  x.set_actor(e.actor());
  return x;
}

// The files in force among each path's last version.
template <typename Paths, typename Last>
v1::FilesView in_force(const Paths& paths, Last last) {
  v1::FilesView v;
  std::uint64_t bytes = 0;
  for (const auto& [path, held] : paths) {
    const v1::FileEntry* x = last(held);
    if (x == nullptr || x->kind() == v1::FILE_DELETED) continue;
    *v.add_files() = *x;
    bytes += x->size();
  }
  v.set_total_bytes(bytes);
  return v;
}

}  // namespace

void apply(FilesState& s, const v1::Envelope& e) {
  if (!e.has_file_version()) return;
  auto& versions = s.paths[e.file_version().path()];
  versions.push_back(entry_of(e, static_cast<std::uint32_t>(versions.size() + 1)));
}

void apply(FilesLatest& s, const v1::Envelope& e) {
  if (e.stream() == kFilesStream) s.version = std::max(s.version, e.version());
  if (!e.has_file_version()) return;
  auto& last = s.paths[e.file_version().path()];
  last = entry_of(e, last.version() + 1);
}

std::string serialize(const FilesLatest& s) {
  v1::FilesSnapshot snap;
  snap.set_version(s.version);
  for (const auto& [path, x] : s.paths) *snap.add_latest() = x;
  return deterministic_bytes(snap);
}

bool parse(const std::string& bytes, FilesLatest* s) {
  v1::FilesSnapshot snap;
  if (!snap.ParseFromString(bytes)) return false;
  FilesLatest out;
  out.version = snap.version();
  for (auto& x : *snap.mutable_latest()) {
    if (x.path().empty() || x.version() == 0) return false;
    std::string path = x.path();
    out.paths[path] = std::move(x);
  }
  *s = std::move(out);
  return true;
}

v1::FilesView files_view(const FilesState& s) {
  return in_force(s.paths, [](const std::vector<v1::FileEntry>& versions) { return versions.empty() ? nullptr : &versions.back(); });
}

v1::FilesView files_view(const FilesLatest& s) {
  return in_force(s.paths, [](const v1::FileEntry& x) { return &x; });
}

v1::FileLogView file_log(const FilesState& s, const std::string& path) {
  v1::FileLogView v;
  v.set_path(path);
  if (auto it = s.paths.find(path); it != s.paths.end())
    for (const auto& x : it->second) *v.add_versions() = x;
  return v;
}

}  // namespace leanos::projections
