// An ICP file (YAML, or JSON, which is YAML) -> the IcpDefined payload, through protobuf's own
// JSON mapping so that field names and types are the schema's.
#pragma once

#include <string>

#include "events/result.h"
#include "leanos/v1/domain.pb.h"

namespace leanos::cli {

// `text` must be UTF-8 (read_text_file transcodes); a file naming another segment, malformed
// YAML (with line and column), a document that is not a mapping, or one too large to expand
// (YAML aliases can make a small file expand without bound) is invalid_argument naming `path`.
Result<v1::IcpDefined> parse_icp(const std::string& text, const std::string& path, const std::string& segment);

}  // namespace leanos::cli
