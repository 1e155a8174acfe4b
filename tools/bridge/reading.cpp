#include "tools/bridge/reading.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

#include "events/ids.h"
#include "events/text.h"
#include "tools/bridge/values.h"
#include "tools/cli/cli.h"

namespace leanos::bridge {

namespace fs = std::filesystem;

// ---- files ------------------------------------------------------------------------------------

// The file's text, or a problem: a symlink (never followed), a file over the limit, bytes in
// no encoding the import reads. UTF-8 (a byte order mark dropped) and UTF-16 with a byte
// order mark are read as they are; other bytes as Windows-1252, with a warning naming the
// first byte that is not UTF-8 (its line and column). The bytes themselves are kept as
// written by the files layer either way.
Result<TextFile> read_file(const fs::path& root, const fs::path& path, Workspace& ws) {
  const std::string rel = path.lexically_relative(root).generic_string();
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(path, ec)))
    return Status::invalid("a symbolic link: not followed (copy the file into the workspace instead)");
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::io(ec.message());
  if (size > kMaxImportFileBytes)
    return Status::invalid(std::to_string(size >> 20) + " MiB; files over " + std::to_string(kMaxImportFileBytes >> 20) +
                           " MiB are not read (LeanOS's files are a few KB: is it the right file?)");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in && !in.eof()) return Status::io("cannot be read");
  TextFile f{rel, s.str()};
  if (f.text.rfind("\xFF\xFE", 0) == 0 || f.text.rfind("\xFE\xFF", 0) == 0) {  // UTF-16, its byte order mark says which end first
    auto t = to_utf8(rel, std::move(f.text), "UTF-16");
    if (!t) return Status::invalid("starts with a UTF-16 byte order mark but is not UTF-16 (" + t.status().message() + "); save it as UTF-8");
    f.text = std::move(*t);
    return f;
  }
  if (f.text.rfind("\xEF\xBB\xBF", 0) == 0) f.text.erase(0, 3);  // a byte order mark
  if (auto bad = invalid_utf8_at(f.text)) {
    const auto st = check_utf8_file(rel, f.text);
    std::string m = st.message();
    if (m.rfind(rel + " ", 0) == 0) m.erase(0, rel.size() + 1);  // the report names the file
    m = m.substr(0, m.find("; "));
    const int line = 1 + static_cast<int>(std::count(f.text.begin(), f.text.begin() + static_cast<long>(*bad), '\n'));
    auto t = to_utf8(rel, f.text, "WINDOWS-1252");
    if (!t) return Status(st.code(), m + ", nor Windows-1252; save the file as UTF-8 (LeanOS's agents write UTF-8)");
    // "line 3, column 17: byte 0xe9 is not valid UTF-8": the line goes to the warning's own.
    if (auto c = m.find("column "); c != std::string::npos) m.erase(0, c);
    auto as_char = to_utf8(rel, std::string(1, f.text[*bad]), "WINDOWS-1252");
    ws.warnings_by_file[rel].push_back({rel, line, m + ": read as Windows-1252" + (as_char ? " ('" + *as_char + "')" : std::string()) +
                                                       "; the file's bytes are kept as written; save it as UTF-8 to be sure"});
    f.text = std::move(*t);
  }
  return f;
}

// "A4: Brand Preferences", "A4 - x", "H12. y": the id and the rest.
std::optional<std::pair<std::string, std::string>> assumption_heading(const std::string& title) {
  static const std::regex id(R"(^\s*([AH][0-9]{1,4})\s*(?:[:.\-]|–|—)?\s*(.*)$)");
  std::smatch m;
  if (!std::regex_match(title, m, id)) return std::nullopt;
  return std::make_pair(m[1].str(), m[2].str());
}

// A command for `payload` dated `at`, its id derived from where it was read and what it says.
Fact fact(const std::string& file, int line, std::string what, const google::protobuf::Message& payload, Micros at,
          const std::string& actor) {
  Envelope c = make_event(payload, at);
  c.set_event_id(derived_event_id("leanos-import:" + file + "#" + what, cli::to_json(payload) + "@" + std::to_string(at)));
  c.set_actor(actor);
  return Fact{file, line, std::move(what), std::move(c), {}};
}

// meta.json as LeanOS writes it: JSON, with `# comment` lines (invalid JSON, in its docs).
Result<nlohmann::json> read_meta(const TextFile& f) {
  std::string cleaned;
  std::istringstream in(f.text);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    cleaned += (first != std::string::npos && line[first] == '#') ? "" : line;
    cleaned += '\n';
  }
  auto j = nlohmann::json::parse(cleaned, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    // Name the line: parse again with exceptions for the position.
    try {
      const auto again = nlohmann::json::parse(cleaned);
      (void)again;
    } catch (const nlohmann::json::parse_error& e) {
      const std::size_t byte = std::min(e.byte, cleaned.size());
      const int line = 1 + static_cast<int>(std::count(cleaned.begin(), cleaned.begin() + static_cast<long>(byte ? byte - 1 : 0), '\n'));
      return Status::invalid("line " + std::to_string(line) + ": not JSON (" + std::string(e.what()) +
                             "); fix it, or delete meta.json: the stage files say enough");
    }
    return Status::invalid("not a JSON object; fix it, or delete meta.json");
  }
  return j;
}

std::string meta_string(const nlohmann::json& meta, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto it = meta.find(k); it != meta.end() && it->is_string()) return it->get<std::string>();
  return "";
}
std::optional<double> meta_number(const nlohmann::json& meta, const char* key) {
  if (auto it = meta.find(key); it != meta.end() && it->is_number()) return it->get<double>();
  return std::nullopt;
}

// Which stage a file of a thread folder is: "1-input.md" -> 1, "2-hypotesis.md" -> 2,
// "6-results.md" -> 6 (results) or "7-learning.md" -> 7; 0 for another file.
StageFile stage_file(const std::string& name) {
  static const std::regex re(R"(^([1-7])[-_.]([a-z-]+)\.md$)");
  std::smatch m;
  const std::string n = lower(name);
  if (!std::regex_match(n, m, re)) return StageFile::none;
  const std::string word = m[2].str();
  if (word.rfind("input", 0) == 0) return StageFile::input;
  if (word.rfind("hypot", 0) == 0) return StageFile::hypothesis;
  if (word.rfind("implication", 0) == 0) return StageFile::implication;
  if (word.rfind("decision", 0) == 0) return StageFile::decision;
  if (word.rfind("action", 0) == 0) return StageFile::actions;
  if (word.rfind("result", 0) == 0) return StageFile::results;
  if (word.rfind("learning", 0) == 0) return StageFile::learning;
  return StageFile::none;
}

// The stage's date: **Date:**, the frontmatter's `date`, or a `**Created:**`/`**Completed:**`.
std::optional<std::pair<Micros, int>> stage_date(const StageDoc& d) {
  if (const auto* f = d.doc.field({"Date"}))
    if (auto t = first_date(f->value)) return std::make_pair(*t, f->line);
  if (d.front && d.front.IsMap() && d.front["date"] && d.front["date"].IsScalar())
    if (auto t = first_date(d.front["date"].as<std::string>())) return std::make_pair(*t, d.doc.frontmatter_line);
  if (const auto* f = d.doc.field({"Created", "Completed", "Closed"}))
    if (auto t = first_date(f->value)) return std::make_pair(*t, f->line);
  return std::nullopt;
}

std::optional<std::pair<int, std::string>> unreadable_date(const StageDoc& d) {
  if (const auto* f = d.doc.field({"Date"}); f && !first_date(f->value)) return std::make_pair(f->line, f->value);
  if (d.front && d.front.IsMap() && d.front["date"] && d.front["date"].IsScalar()) {
    const std::string v = d.front["date"].as<std::string>();
    if (!first_date(v)) return std::make_pair(d.doc.frontmatter_line, v);
  }
  return std::nullopt;
}

std::optional<TextFile> read_modeled(const fs::path& root, const fs::path& path, Unit& unit, Workspace& ws) {
  const std::string rel = path.lexically_relative(root).generic_string();
  auto f = read_file(root, path, ws);
  ++ws.files_read;
  ws.modeled.insert(rel);
  if (!f) {
    unit.problems.push_back({rel, 0, f.status().message()});
    return std::nullopt;
  }
  return std::move(*f);
}

bool placeholder(const TextFile& f, Workspace& ws) {
  if (f.text.find_first_not_of(" \t\r\n") != std::string::npos) return false;
  ws.placeholders.push_back(f.rel);
  return true;
}

std::optional<StageDoc> stage_doc(const TextFile& f, Unit& unit) {
  StageDoc d{f, parse_markdown(f.text), YAML::Node()};
  if (!d.doc.frontmatter.empty()) {
    try {
      d.front = YAML::Load(d.doc.frontmatter);
    } catch (const YAML::Exception& e) {
      unit.problems.push_back({f.rel, d.doc.frontmatter_line + e.mark.line, "frontmatter is not YAML: " + e.msg});
      return std::nullopt;
    }
  }
  return d;
}

void add_stage(std::map<StageFile, StageDoc>& stages, StageFile kind, StageDoc d, Unit& unit) {
  if (auto it = stages.find(kind); it != stages.end()) {
    unit.problems.push_back({d.file.rel, 0, "a second file for the same stage as " + it->second.file.rel + ": keep one"});
    return;
  }
  stages.emplace(kind, std::move(d));
}

// All text lines of the document, in order.
std::vector<const MdLine*> all_lines(const MdDocument& doc) {
  std::vector<const MdLine*> out;
  for (const auto& s : doc.sections)
    for (const auto& l : s.lines) out.push_back(&l);
  return out;
}

// The date a document states for itself, if any.
std::optional<Micros> document_date(const TextFile& f, const std::string& ext) {
  auto from_yaml = [](const std::string& text) -> std::optional<Micros> {
    try {
      YAML::Node n = YAML::Load(text);
      if (!n.IsMap()) return std::nullopt;
      for (const char* k : {"last_updated", "updated", "generated_date", "date", "created"})
        if (n[k] && n[k].IsScalar())
          if (auto d = first_date(n[k].as<std::string>())) return d;
    } catch (const YAML::Exception&) {
    }
    return std::nullopt;
  };
  if (ext == ".yaml" || ext == ".yml") return from_yaml(f.text);
  if (ext != ".md") return std::nullopt;
  const auto doc = parse_markdown(f.text);
  if (!doc.frontmatter.empty())
    if (auto d = from_yaml(doc.frontmatter)) return d;
  for (const auto& s : doc.sections)
    if (const auto* field = s.field({"Last Updated", "Last updated", "Updated", "Date", "Created"}))
      if (auto d = first_date(field->value)) return d;
  return std::nullopt;
}

// When the file was last written, as the file system says.
std::optional<Micros> modified_at(const fs::path& path) {
  std::error_code ec;
  const auto written = fs::last_write_time(path, ec);
  if (ec) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::file_clock::to_sys(written).time_since_epoch()).count();
}

}  // namespace leanos::bridge
