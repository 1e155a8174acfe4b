// The dashboard's files (tools/server/web/), built into the binary: the page works from any
// install, offline, with nothing to find on disk but Debian's Chart.js.
#pragma once

#include <string_view>
#include <vector>

namespace leanos::cli {

struct WebAsset {
  const char* path;  // "/", "/app.js", "/style.css"
  const char* type;  // its Content-Type
  std::string_view body;
};

const std::vector<WebAsset>& web_assets();

}  // namespace leanos::cli
