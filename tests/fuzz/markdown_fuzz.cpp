// The LeanOS file reader (tools/bridge): markdown with frontmatter as LeanOS's agents write it,
// and the prose values in it. Any bytes parse; every line named lies within the file; UTF-8
// in gives UTF-8 out; the value readers never fail on anything.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "events/text.h"
#include "tools/bridge/markdown.h"
#include "tools/bridge/values.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto doc = leanos::bridge::parse_markdown(text);
  const bool utf8 = leanos::valid_utf8(text);
  // Lines as CommonMark counts them: \r\n, a lone \r and \n each end one.
  int lines = 1;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++lines;
  auto within = [&](int line) {
    if (line < 0 || line > lines) std::abort();
  };
  for (const auto& s : doc.sections) {
    within(s.line);
    if (utf8 && !leanos::valid_utf8(s.title)) std::abort();
    for (const auto& f : s.fields) {
      within(f.line);
      (void)leanos::bridge::confidence(f.value);
      (void)leanos::bridge::money(f.value);
      (void)leanos::bridge::date_range(f.value);
      (void)leanos::bridge::score(f.value);
      (void)leanos::bridge::code_word(f.value);
    }
    for (const auto& l : s.lines) {
      within(l.line);
      if (utf8 && !leanos::valid_utf8(l.text)) std::abort();
    }
  }
  (void)leanos::bridge::confidence(text);
  (void)leanos::bridge::money(text);
  (void)leanos::bridge::first_date(text);
  return 0;
}
