#include "tools/bridge/markdown.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace leanos::bridge {

namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool same_label(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "Label: value" with a short label: a field. "- " or "* " before it (a list written inside a
// code block) is dropped.
std::optional<MdField> field_of(const MdLine& l) {
  std::string_view t = l.text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  if (t.size() > 2 && (t[0] == '-' || t[0] == '*') && t[1] == ' ') t.remove_prefix(2);
  const auto colon = t.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 40) return std::nullopt;
  const std::string label = trim(t.substr(0, colon));
  if (label.empty() || std::none_of(label.begin(), label.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  if (std::count(label.begin(), label.end(), ' ') > 5) return std::nullopt;
  // "https://…" is a link, not a field.
  if (colon + 2 < t.size() && t[colon + 1] == '/' && t[colon + 2] == '/') return std::nullopt;
  return MdField{label, trim(t.substr(colon + 1)), l.line};
}

struct Walker {
  int offset = 0;  // lines before the markdown body (frontmatter)
  MdDocument doc;

  MdSection& section() { return doc.sections.back(); }

  void add_line(MdLine l) {
    l.text = trim(l.text);
    if (l.text.empty()) return;
    if (auto f = field_of(l)) section().fields.push_back(std::move(*f));
    section().lines.push_back(std::move(l));
  }

  // Inline content as lines: soft and hard breaks end a line.
  struct InlineState {
    std::vector<MdLine> lines;
    bool any_plain = false;  // a non-blank character outside bold on the current line
    bool any_strong = false;
  };
  void inlines(cmark_node* n, InlineState& st, bool in_strong) {
    for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c)) {
      switch (cmark_node_get_type(c)) {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_CODE: {
          const char* lit = cmark_node_get_literal(c);
          std::string_view s = lit ? lit : "";
          st.lines.back().text += s;
          if (s.find_first_not_of(" \t") != std::string_view::npos) (in_strong ? st.any_strong : st.any_plain) = true;
          break;
        }
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
          st.lines.back().strong = st.any_strong && !st.any_plain;
          st.lines.push_back(MdLine{"", st.lines.back().line + 1, false});
          st.any_plain = st.any_strong = false;
          break;
        case CMARK_NODE_STRONG: inlines(c, st, true); break;
        default: inlines(c, st, in_strong); break;  // emphasis, links, images: their text
      }
    }
  }
  std::vector<MdLine> inline_lines(cmark_node* n) {
    InlineState st;
    st.lines.push_back(MdLine{"", cmark_node_get_start_line(n) + offset, false});
    inlines(n, st, false);
    st.lines.back().strong = st.any_strong && !st.any_plain;
    return st.lines;
  }
  std::string inline_text(cmark_node* n) {
    std::string out;
    for (auto& l : inline_lines(n)) out += (out.empty() ? "" : " ") + trim(l.text);
    return out;
  }

  void table(cmark_node* t) {
    MdTable out;
    out.line = cmark_node_get_start_line(t) + offset;
    bool header = true;
    for (cmark_node* row = cmark_node_first_child(t); row; row = cmark_node_next(row)) {
      std::vector<std::string> cells;
      for (cmark_node* cell = cmark_node_first_child(row); cell; cell = cmark_node_next(cell)) cells.push_back(inline_text(cell));
      if (header) out.header = std::move(cells);
      else out.rows.push_back(std::move(cells));
      header = false;
    }
    section().tables.push_back(std::move(out));
  }

  void block(cmark_node* n) {
    const cmark_node_type type = cmark_node_get_type(n);
    const char* name = cmark_node_get_type_string(n);
    if (name && std::string_view(name) == "table") return table(n);
    switch (type) {
      case CMARK_NODE_HEADING:
        doc.sections.push_back(MdSection{cmark_node_get_heading_level(n), inline_text(n), cmark_node_get_start_line(n) + offset, {}, {}, {}});
        return;
      case CMARK_NODE_PARAGRAPH:
        for (auto& l : inline_lines(n)) add_line(std::move(l));
        return;
      case CMARK_NODE_CODE_BLOCK: {
        const char* lit = cmark_node_get_literal(n);
        std::string_view s = lit ? lit : "";
        int fence_length = 0, fence_offset = 0;
        char fence_char = 0;
        const bool fenced = cmark_node_get_fenced(n, &fence_length, &fence_offset, &fence_char) != 0;
        int line = cmark_node_get_start_line(n) + offset + (fenced ? 1 : 0);
        for (std::size_t at = 0; at < s.size();) {
          const auto nl = s.find('\n', at);
          add_line(MdLine{std::string(s.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at)), line++, false});
          if (nl == std::string_view::npos) break;
          at = nl + 1;
        }
        return;
      }
      default:  // documents, lists, items, block quotes: their blocks
        for (cmark_node* c = cmark_node_first_child(n); c; c = cmark_node_next(c)) block(c);
    }
  }
};

}  // namespace

const MdField* MdSection::field(std::initializer_list<std::string_view> labels) const {
  for (const auto& f : fields)
    for (auto l : labels)
      if (same_label(f.label, l)) return &f;
  return nullptr;
}

const MdField* MdDocument::field(std::initializer_list<std::string_view> labels) const {
  for (const auto& s : sections)
    if (const auto* f = s.field(labels)) return f;
  return nullptr;
}

MdDocument parse_markdown(std::string_view original) {
  // Line endings as CommonMark reads them (\r\n, \r, \n) become \n, so that every line
  // number here is the one an editor shows.
  std::string normalized;
  normalized.reserve(original.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    if (original[i] != '\r') {
      normalized += original[i];
    } else {
      normalized += '\n';
      if (i + 1 < original.size() && original[i + 1] == '\n') ++i;
    }
  }
  const std::string_view text = normalized;
  Walker w;
  // YAML frontmatter: a first line `---`, up to a line `---` or `...`.
  std::string_view body = text;
  if (text.rfind("---\n", 0) == 0 || text.rfind("---\r\n", 0) == 0) {
    std::size_t at = text.find('\n') + 1;
    int line = 2;
    while (at < text.size()) {
      const auto nl = text.find('\n', at);
      const std::string l = trim(text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
      if (l == "---" || l == "...") {
        w.doc.frontmatter = std::string(text.substr(text.find('\n') + 1, at - text.find('\n') - 1));
        w.doc.frontmatter_line = 2;
        w.offset = line;
        body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        break;
      }
      if (nl == std::string_view::npos) break;
      at = nl + 1;
      ++line;
    }
  }
  static std::once_flag registered;
  std::call_once(registered, [] { cmark_gfm_core_extensions_ensure_registered(); });
  std::unique_ptr<cmark_parser, void (*)(cmark_parser*)> parser(cmark_parser_new(CMARK_OPT_DEFAULT), cmark_parser_free);
  if (auto* tables = cmark_find_syntax_extension("table")) cmark_parser_attach_syntax_extension(parser.get(), tables);
  cmark_parser_feed(parser.get(), body.data(), body.size());
  std::unique_ptr<cmark_node, void (*)(cmark_node*)> root(cmark_parser_finish(parser.get()), cmark_node_free);
  w.doc.sections.push_back(MdSection{});
  if (root) w.block(root.get());
  return std::move(w.doc);
}

}  // namespace leanos::bridge
