// The markdown of LeanOS's files, read with a real CommonMark parser (cmark-gfm, with GitHub's
// tables) into what the importer looks for: headings, the `**Label:** value` lines under each,
// their text and tables, with the source line of everything.
//
// LeanOS files are written by language models, so the reader is tolerant in one direction
// only: it accepts every spelling of a field it knows (`**Label:** value`, `- **Label:**
// value`, `Label: value`, also inside a code block, as the workflow's examples write them)
// and leaves the meaning to the caller, which names what it could not read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leanos::bridge {

struct MdField {
  std::string label;  // as written, without the colon and the emphasis: "Last validated"
  std::string value;  // trimmed
  int line = 0;       // 1-based, in the file
};

struct MdLine {
  std::string text;  // plain text (emphasis, links and code spans flattened)
  int line = 0;
  bool strong = false;  // the whole line is bold: "**PURSUE**"
};

struct MdTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int line = 0;
};

// A heading and what follows it up to the next heading of any level. Level 0 is what comes
// before the first heading.
struct MdSection {
  int level = 0;
  std::string title;
  int line = 0;
  std::vector<MdField> fields;
  std::vector<MdLine> lines;  // every line of text, fields included
  std::vector<MdTable> tables;

  // The first field whose label is one of `labels` (case-insensitive), or nullptr.
  const MdField* field(std::initializer_list<std::string_view> labels) const;
};

struct MdDocument {
  std::string frontmatter;   // the YAML between leading `---` lines, "" for none
  int frontmatter_line = 0;  // the line of its first key
  std::vector<MdSection> sections;

  // The first field with one of `labels` anywhere in the document.
  const MdField* field(std::initializer_list<std::string_view> labels) const;
};

// Never fails: any text is markdown. `text` must be UTF-8.
MdDocument parse_markdown(std::string_view text);

}  // namespace leanos::bridge
