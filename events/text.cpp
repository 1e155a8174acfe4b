#include "events/text.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

namespace leanos {

std::optional<std::size_t> invalid_utf8_at(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) len = 3, lo = 0xa0;
    else if (c == 0xed) len = 3, hi = 0x9f;  // no surrogates
    else if (c >= 0xe1 && c <= 0xef) len = 3;
    else if (c == 0xf0) len = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4) len = 4, hi = 0x8f;  // nothing past U+10FFFF
    else return i;
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return i;
    i += len;
  }
  return std::nullopt;
}

namespace {

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

}  // namespace

Status check_utf8(std::string_view what, std::string_view text) {
  const auto at = invalid_utf8_at(text);
  if (!at) return Status::success();
  return Status::invalid(std::string(what) + " is not valid UTF-8: byte " + hex_byte(static_cast<unsigned char>(text[*at])) +
                         " at offset " + std::to_string(*at) + " (" + std::to_string(*at + 1) +
                         ". byte); give the text in UTF-8");
}

Status check_utf8_file(std::string_view path, std::string_view text) {
  const auto at = invalid_utf8_at(text);
  if (!at) return Status::success();
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < *at; ++i)
    if (text[i] == '\n') ++line, line_start = i + 1;
  return Status::invalid(std::string(path) + " line " + std::to_string(line) + ", column " +
                         std::to_string(*at - line_start + 1) + ": byte " +
                         hex_byte(static_cast<unsigned char>(text[*at])) +
                         " is not valid UTF-8; save the file as UTF-8, or name its encoding with --encoding "
                         "(e.g. --encoding latin1 or --encoding windows-1252)");
}

Result<std::string> to_utf8(std::string_view path, std::string text, std::string_view encoding) {
  const std::string enc = [&] {
    std::string e;
    for (char c : encoding) e += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return e;
  }();
  std::string out;
  if (enc.empty() || enc == "utf-8" || enc == "utf8") {
    out = std::move(text);
  } else {
    iconv_t cd = iconv_open("UTF-8", std::string(encoding).c_str());
    if (cd == reinterpret_cast<iconv_t>(-1))
      return Status::invalid("unknown encoding '" + std::string(encoding) +
                             "'; use a name iconv knows, such as utf-8, latin1, windows-1252 or utf-16");
    out.resize(text.size() * 4 + 16);
    char* in = text.data();
    std::size_t in_left = text.size();
    char* o = out.data();
    std::size_t out_left = out.size();
    const std::size_t r = iconv(cd, &in, &in_left, &o, &out_left);
    const int err = errno;
    iconv_close(cd);
    if (r == static_cast<std::size_t>(-1)) {
      const std::size_t at = text.size() - in_left;
      return Status::invalid(std::string(path) + ": byte " + std::to_string(at) + " is not valid " + std::string(encoding) +
                             " (" + (err == EINVAL ? "truncated sequence" : "invalid sequence") +
                             "); check the file's encoding");
    }
    out.resize(out.size() - out_left);
  }
  if (out.rfind("\xEF\xBB\xBF", 0) == 0) out.erase(0, 3);
  if (auto s = check_utf8_file(path, out); !s) return s;
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::optional<std::string> walk(const Message& m) {
  const auto* reflection = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      std::string scratch;
      if (f->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(m, f); ++i)
          if (!valid_utf8(reflection->GetRepeatedStringReference(m, f, i, &scratch)))
            return f->name() + "[" + std::to_string(i) + "]";
      } else if (!valid_utf8(reflection->GetStringReference(m, f, &scratch))) {
        return f->name();
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(m, f); ++i)
          if (auto inner = walk(reflection->GetRepeatedMessage(m, f, i)))
            return f->name() + (f->is_map() ? "{}" : "[" + std::to_string(i) + "]") + "." + *inner;
      } else if (auto inner = walk(reflection->GetMessage(m, f))) {
        return f->name() + "." + *inner;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> invalid_utf8_field(const Message& message) { return walk(message); }

std::string printable(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const auto bad = invalid_utf8_at(text);
    const std::size_t good = bad.value_or(text.size());
    for (std::size_t i = 0; i < good; ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x20 || c == 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", c);
        out += hex;
      } else {
        out += text[i];
      }
    }
    if (!bad) break;
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned char>(text[good]));
    out += hex;
    text.remove_prefix(good + 1);
  }
  return out;
}

}  // namespace leanos
