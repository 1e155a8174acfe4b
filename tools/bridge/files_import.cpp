#include "tools/bridge/files_import.h"

#include <algorithm>
#include <set>

#include "actors/files.h"
#include "events/domain.h"
#include "events/ids.h"

namespace leanos::bridge {

Result<FilesHeld> files_held(const store::EventStore& store) {
  auto s = files_latest_at(store, AsOf{});
  if (!s) return s.status();
  FilesHeld held;
  for (const auto& [path, last] : s->paths) held.paths[path] = {last.kind(), last.sha256(), last.event_id()};
  return held;
}

namespace {

// The id of a path's version: from what it holds and the version it follows, so that a re-run
// records nothing and going back to an earlier content is a version too.
std::string version_id(const std::string& path, v1::FileKind kind, const std::string& sha256, const std::string& after) {
  return derived_event_id("leanos-file:" + path, std::to_string(kind) + ":" + sha256 + "@after:" + after);
}

constexpr std::size_t kBatchBytes = 8 << 20;  // contents appended in groups of about this much

}  // namespace

Result<FilesRecorded> record_files(store::EventStore* store, Runtime* runtime, const FileTree& tree, FilesHeld& held,
                                   const FilesSource& source) {
  FilesRecorded out;
  out.refused = tree.refused;
  out.ignored = tree.ignored;
  out.in_force = tree.files.size();
  const Micros now = now_micros();
  std::vector<v1::Envelope> contents, versions;
  std::size_t batch_bytes = 0;
  std::set<std::string> stored_now;  // contents of this run, not yet in the store
  auto flush_contents = [&]() -> Status {
    if (contents.empty() || runtime == nullptr) return (contents.clear(), batch_bytes = 0, Status::success());
    auto h = runtime->submit_batch(std::move(contents));
    contents.clear();
    batch_bytes = 0;
    return h ? Status::success() : h.status();
  };
  auto stamp = [&](v1::Envelope& e) {
    e.set_actor(source.actor);
    for (const auto& [k, v] : source.metadata) (*e.mutable_metadata())[k] = v;
  };
  auto add_version = [&](const std::string& path, v1::FileKind kind, const std::string& sha, std::uint64_t size, Micros at) {
    auto& last = held.paths[path];
    v1::FileVersion f;
    f.set_path(path);
    f.set_kind(kind);
    f.set_sha256(sha);
    f.set_size(size);
    f.set_commit(source.commit);
    if (source.committed_at) to_timestamp(*source.committed_at, f.mutable_committed_at());
    v1::Envelope e = make_event(f, at);
    e.set_event_id(version_id(path, kind, sha, last.event_id));
    stamp(e);
    last = {kind, sha, e.event_id()};
    versions.push_back(std::move(e));
    ++out.versions;
  };
  std::set<std::string> present;
  for (const auto& f : tree.files) {
    present.insert(f.path);
    const std::string sha = f.sha256.empty() ? sha256_hex(f.bytes) : f.sha256;
    if (auto it = held.paths.find(f.path); it != held.paths.end() && it->second.kind == f.kind && it->second.sha256 == sha) continue;
    // A folder's file is dated by its modification time (one in the future, a clock set
    // wrong, by now: the ledger records nothing before it happens).
    const Micros at = source.at ? source.at : std::min(f.modified.value_or(now), now);
    // The content, once: not in the store, nor in this run already.
    if (!stored_now.count(sha)) {
      bool known = false;
      if (store) {
        auto k = store->find_event_id(file_content_event_id(sha, 0));
        if (!k) return k.status();
        known = k->has_value();
      }
      if (!known) {
        stored_now.insert(sha);
        ++out.contents;
        // A delta against the path's content before (stored whole when it cannot be read).
        const StoredContent* base = nullptr;
        std::optional<StoredContent> read;
        if (auto it = held.paths.find(f.path); it != held.paths.end() && !it->second.sha256.empty() && it->second.kind != v1::FILE_DELETED &&
                                               f.bytes.size() <= kFileChunkBytes) {
          if (auto w = held.written.find(f.path); w != held.written.end() && w->second.sha256 == it->second.sha256) {
            base = &w->second;
          } else if (store) {
            if (auto r = stored_content(*store, it->second.sha256)) read = std::move(*r);
            if (read) base = &*read;
          }
        }
        auto commands = file_content_commands(f.bytes, sha, at, base);
        if (f.bytes.size() <= kFileChunkBytes) {
          StoredContent now_held = after_content(base, commands.front().file_content(), f.bytes);
          held.written[f.path] = std::move(now_held);  // base may be the entry it replaces
        }
        for (auto& c : commands) {
          stamp(c);
          batch_bytes += c.file_content().data().size();
          contents.push_back(std::move(c));
        }
        if (batch_bytes >= kBatchBytes)
          if (auto s = flush_contents(); !s) return s;
      }
    }
    add_version(f.path, f.kind, sha, f.bytes.size(), at);
  }
  for (const auto& [path, last] : held.paths)
    if (last.kind != v1::FILE_DELETED && !present.count(path)) {
      add_version(path, v1::FILE_DELETED, "", 0, source.at ? source.at : now);
      ++out.deleted;
      out.deleted_paths.push_back(path);
    }
  if (auto s = flush_contents(); !s) return s;
  if (runtime != nullptr && !versions.empty()) {
    std::vector<std::string> paths;
    for (const auto& v : versions) paths.push_back(v.file_version().path());
    auto h = runtime->submit_batch(std::move(versions));
    if (!h) {
      const std::string index = h.status().param("batch_index");
      const std::string path = index.empty() ? std::string("the files") : paths.at(std::stoul(index));
      return Status(h.status().code(), "recording " + path + ": " + h.status().message());
    }
    if (store)  // checkout and the files in force then start from a recent state, not the stream's start
      if (auto s = keep_files_snapshot(*store); !s) return s;
  }
  return out;
}

Status name_held_content(const store::EventStore& store, v1::DocumentWritten& document) {
  if (document.content().empty()) return Status::success();
  const std::string sha = sha256_hex(document.content());
  auto held = content_held(store, sha);
  if (!held) return held.status();
  if (*held) {
    document.clear_content();
    document.set_content_sha256(sha);
  }
  return Status::success();
}

}  // namespace leanos::bridge
