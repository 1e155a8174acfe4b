// A workspace folder across the network (the Import RPC): the client reads its folder into
// parts (send_folder), the server writes them into a scratch folder of its own
// (FolderUpload) and imports that folder as `leanos import` does where the ledger is — the
// same files layer, the same facts, the same report.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "events/result.h"
#include "leanos/v1/workspace.pb.h"
#include "tools/bridge/git.h"

namespace leanos::bridge {

// The largest part sent: a file larger than this goes in several parts of its path.
inline constexpr std::size_t kUploadPartBytes = std::size_t{1} << 20;

// Reads `dir` (its .leanosignore applied; symbolic links as links) and hands `send` the parts
// of the Import stream: `options` first (with what could not be read and how many paths were
// left out), then each file. Stops at the first part `send` refuses (false: the stream broke).
Status send_folder(const std::string& dir, v1::ImportOptions options, const std::function<bool(const v1::ImportPart&)>& send);

// Parts of an Import stream written into a fresh scratch folder, removed when this is.
class FolderUpload {
 public:
  static Result<FolderUpload> make();
  // The next part, in the order sent. invalid_argument: a path that is no safe relative
  // path, one sent twice, a kind other than regular, executable or symlink, a file over the
  // files layer's limit, options after the first part.
  Status add(const v1::ImportPart& part);
  // Closes the last file; the options the first part gave.
  Result<v1::ImportOptions> finish();
  const std::string& dir() const { return scratch_.path(); }

 private:
  explicit FolderUpload(ScratchFolder scratch) : scratch_(std::move(scratch)) {}
  Status close_file();

  ScratchFolder scratch_;
  std::optional<v1::ImportOptions> options_;
  bool started_ = false;   // a part came (the options are the first one's only)
  std::set<std::string> seen_;
  // The file being received: its path, kind, time, and its bytes so far (a link's target).
  std::string path_;
  v1::FileKind kind_ = v1::FILE_KIND_UNSPECIFIED;
  std::int64_t modified_ = 0;
  std::string bytes_;
  bool open_ = false;
};

}  // namespace leanos::bridge
