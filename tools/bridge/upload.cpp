#include "tools/bridge/upload.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "events/domain.h"
#include "events/ids.h"
#include "tools/bridge/tree.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

Status send_folder(const std::string& dir, v1::ImportOptions options, const std::function<bool(const v1::ImportPart&)>& send) {
  auto tree = read_folder_tree(dir);
  if (!tree)
    return tree.status().code() == Code::not_found
               ? Status::not_found("no folder " + dir + " to import; give the LeanOS workspace's folder (it holds strategy/ and threads/)")
               : tree.status();
  for (const auto& p : tree->refused) {
    auto* q = options.add_refused();
    q->set_file(p.file);
    q->set_line(static_cast<std::uint32_t>(std::max(p.line, 0)));
    q->set_what(p.what);
  }
  options.set_ignored(static_cast<std::uint32_t>(tree->ignored));
  v1::ImportPart first;
  *first.mutable_options() = std::move(options);
  if (!send(first)) return Status::unavailable("the server broke off the import");
  for (const auto& f : tree->files) {
    std::size_t at = 0;
    do {  // an empty file is one part too
      v1::ImportPart part;
      part.set_path(f.path);
      part.set_kind(f.kind);
      part.set_modified_micros(f.modified.value_or(0));
      const std::size_t n = std::min(kUploadPartBytes, f.bytes.size() - at);
      part.set_data(f.bytes.substr(at, n));
      at += n;
      part.set_more(at < f.bytes.size());
      if (!send(part)) return Status::unavailable("the server broke off the import at " + f.path);
    } while (at < f.bytes.size());
  }
  return Status::success();
}

Result<FolderUpload> FolderUpload::make() {
  auto scratch = ScratchFolder::make("leanos-upload-");
  if (!scratch) return scratch.status();
  return FolderUpload(std::move(*scratch));
}

Status FolderUpload::add(const v1::ImportPart& part) {
  const bool first = !started_;
  started_ = true;
  if (part.has_options()) {
    if (!first) return Status::invalid("options: only the first part of an import gives them");
    options_ = part.options();
    if (part.path().empty()) return Status::success();
  }
  if (open_ && part.path() == path_) {  // the next part of the file being received
    if (part.kind() != kind_) return Status::invalid(part.path() + ": a part of another kind than the file's first");
    if (bytes_.size() + part.data().size() > kMaxFileBytes)
      return Status::invalid(part.path() + ": over " + std::to_string(kMaxFileBytes) + " bytes, the files layer's limit");
    bytes_ += part.data();
  } else {
    if (open_) return Status::invalid(path_ + ": its last part said more was to come, then " + part.path() + " came");
    if (auto s = check_file_path(part.path()); !s) return Status::invalid("path '" + part.path() + "': " + s.message());
    if (!seen_.insert(part.path()).second) return Status::invalid(part.path() + ": sent twice");
    if (part.kind() != v1::FILE_REGULAR && part.kind() != v1::FILE_EXECUTABLE && part.kind() != v1::FILE_SYMLINK)
      return Status::invalid(part.path() + ": kind must be FILE_REGULAR, FILE_EXECUTABLE or FILE_SYMLINK");
    if (part.data().size() > kMaxFileBytes)
      return Status::invalid(part.path() + ": over " + std::to_string(kMaxFileBytes) + " bytes, the files layer's limit");
    path_ = part.path();
    kind_ = part.kind();
    modified_ = part.modified_micros();
    bytes_ = part.data();
    open_ = true;
  }
  return part.more() ? Status::success() : close_file();
}

Status FolderUpload::close_file() {
  open_ = false;
  const fs::path p = fs::path(dir()) / path_;
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return Status::invalid(path_ + ": cannot be written beside the files sent before it (" + ec.message() + ")");
  if (kind_ == v1::FILE_SYMLINK) {
    fs::create_symlink(bytes_, p, ec);  // the target as written: the import never follows it
    if (ec) return Status::invalid(path_ + ": cannot be made a link (" + ec.message() + ")");
  } else {
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out.write(bytes_.data(), static_cast<std::streamsize>(bytes_.size()));
      if (!out) return Status::io("cannot write " + p.string() + " (the upload's scratch folder)");
    }
    if (kind_ == v1::FILE_EXECUTABLE) fs::permissions(p, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add, ec);
  }
  if (modified_ > 0) {  // a goal that states no date is dated by its file's time
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(modified_ / 1'000'000);
    times[0].tv_nsec = times[1].tv_nsec = static_cast<long>(modified_ % 1'000'000) * 1000;
    ::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  bytes_.clear();
  return Status::success();
}

Result<v1::ImportOptions> FolderUpload::finish() {
  if (open_) return Status::invalid(path_ + ": its last part said more was to come, and the import ended");
  if (!options_) return Status::invalid("options: the first part of an import gives them (none came)");
  return *options_;
}

}  // namespace leanos::bridge
