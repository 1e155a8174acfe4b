// What reading a LeanOS workspace's files shares (tools/bridge/workspace.h): a file read as
// UTF-8 text or refused, a fact with its derived id, a thread's stage files and meta.json.
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "tools/bridge/markdown.h"
#include "tools/bridge/workspace.h"

namespace leanos::bridge {

struct TextFile {
  std::string rel;   // workspace-relative path
  std::string text;  // UTF-8
};

// The file's text, or a problem: a symlink (never followed), a file over the limit, bytes in
// no encoding the import reads (UTF-8, UTF-16 with a byte order mark, Windows-1252: the last
// with a warning in `ws.warnings_by_file`).
Result<TextFile> read_file(const std::filesystem::path& root, const std::filesystem::path& path, Workspace& ws);

// "A4: Brand Preferences", "A4 - x", "H12. y": the assumption's id and the rest of the heading.
std::optional<std::pair<std::string, std::string>> assumption_heading(const std::string& title);

// A command for `payload` dated `at`, its id derived from where it was read and what it says.
Fact fact(const std::string& file, int line, std::string what, const google::protobuf::Message& payload, Micros at,
          const std::string& actor);

// meta.json as LeanOS writes it: JSON, with `# comment` lines (invalid JSON, in its docs).
Result<nlohmann::json> read_meta(const TextFile& f);
std::string meta_string(const nlohmann::json& meta, std::initializer_list<const char*> keys);
std::optional<double> meta_number(const nlohmann::json& meta, const char* key);

// Which stage a file of a thread folder is: "1-input.md" -> 1, "2-hypotesis.md" -> 2,
// "6-results.md" -> 6 (results) or "7-learning.md" -> 7; none for another file.
enum class StageFile { none = 0, input, hypothesis, implication, decision, actions, results, learning };
StageFile stage_file(const std::string& name);

struct StageDoc {
  TextFile file;
  MdDocument doc;
  YAML::Node front;  // frontmatter, null when none
};

// The stage's date: **Date:**, the frontmatter's `date`, or a `**Created:**`/`**Completed:**`.
std::optional<std::pair<Micros, int>> stage_date(const StageDoc& d);
// A date the stage gives (**Date:**, the frontmatter's `date`) that holds nothing the import
// reads as a date (02/03/2026, "next Tuesday"): its line and text, for the report to name
// instead of dating the stage by something else.
std::optional<std::pair<int, std::string>> unreadable_date(const StageDoc& d);

// A file of a thread folder, counted as read and as the ledger's (not a document): its text,
// or nullopt with the reason it was refused a problem of `unit`.
std::optional<TextFile> read_modeled(const std::filesystem::path& root, const std::filesystem::path& path, Unit& unit, Workspace& ws);
// Whitespace only: a placeholder (LeanOS's 0-byte stage files), recorded as one.
bool placeholder(const TextFile& f, Workspace& ws);
// The file as a stage: markdown and frontmatter; nullopt (a problem of `unit`) when the
// frontmatter is not YAML.
std::optional<StageDoc> stage_doc(const TextFile& f, Unit& unit);
// Keeps `d` as the folder's file for stage `kind`; a second file for one stage is a problem.
void add_stage(std::map<StageFile, StageDoc>& stages, StageFile kind, StageDoc d, Unit& unit);

// All text lines of the document, in order.
std::vector<const MdLine*> all_lines(const MdDocument& doc);

// The date a document states for itself (**Last updated:**, frontmatter or YAML
// `date`/`updated`/`generated_date`), if any; `ext` is the file's lower-case extension.
std::optional<Micros> document_date(const TextFile& f, const std::string& ext);
// When the file was last written, as the file system says.
std::optional<Micros> modified_at(const std::filesystem::path& path);

}  // namespace leanos::bridge
