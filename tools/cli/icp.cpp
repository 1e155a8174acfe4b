#include "tools/cli/icp.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "events/text.h"
#include "tools/cli/cli.h"

namespace leanos::cli {

namespace {

// A real ICP has dozens of nodes; aliases (&a / *a) can expand a 1 KB file into millions.
constexpr std::size_t kMaxNodes = 100'000;
constexpr int kMaxDepth = 64;

struct TooLarge {};

// yaml-cpp 0.7 turns some escapes in double-quoted strings ("\_", "\xA0", "\N") into a
// single Latin-1 byte instead of UTF-8 (the fuzzer found it): the text it hands back is
// checked like any outside input.
std::string checked(const std::string& text, const YAML::Node& n) {
  if (!valid_utf8(text))
    throw YAML::Exception(n.Mark(), "a string here decodes to bytes that are not UTF-8 (an escape such as \\_, \\xA0 or "
                                    "\\N?); write the character itself");
  return text;
}

// YAML -> JSON. Unquoted scalars that read as numbers or booleans keep that type.
nlohmann::json yaml_to_json(const YAML::Node& n, std::size_t& budget, int depth) {
  if (budget == 0 || depth > kMaxDepth) throw TooLarge{};
  --budget;
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      auto a = nlohmann::json::array();
      for (const auto& item : n) a.push_back(yaml_to_json(item, budget, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      auto o = nlohmann::json::object();
      for (const auto& kv : n) o[checked(kv.first.as<std::string>(), kv.first)] = yaml_to_json(kv.second, budget, depth + 1);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = checked(n.Scalar(), n);
      if (n.Tag() != "!") {
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0' && std::isfinite(d)) return d;
        if (s == "true" || s == "false") return s == "true";
      }
      return s;
    }
    default: return nullptr;
  }
}

}  // namespace

Result<v1::IcpDefined> parse_icp(const std::string& text, const std::string& path, const std::string& segment) {
  if (auto s = check_utf8_file(path, text); !s) return s;
  nlohmann::json j;
  try {
    std::size_t budget = kMaxNodes;
    j = yaml_to_json(YAML::Load(text), budget, 0);
  } catch (const YAML::Exception& e) {
    return Status::invalid("malformed YAML/JSON in " + path + " at line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const TooLarge&) {
    return Status::invalid(path + " expands to more than " + std::to_string(kMaxNodes) + " values or nests deeper than " +
                           std::to_string(kMaxDepth) + " levels; an ICP is a short mapping of filters and criteria");
  }
  if (!j.is_object()) return Status::invalid(path + " is not a mapping; expected segment, filters, qualification_score...");
  if (j.contains("segment") && j["segment"] != segment)
    return Status::invalid(path + " is for segment " + j["segment"].dump() + ", not '" + segment + "'");
  j["segment"] = segment;
  j.erase("generated_date");  // when LeanOS's ICP generator wrote it: the import's date, not the ICP's content
  v1::IcpDefined icp;
  if (auto s = from_json(j.dump(), &icp, path); !s) return s;
  return icp;
}

}  // namespace leanos::cli
