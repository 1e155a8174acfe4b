#include "tools/bridge/values.h"

#include "events/domain.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <regex>
#include <vector>

namespace leanos::bridge {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// Every number in the text with where it ends: "1,100,000" and "0.85" read whole.
struct Number {
  double value;
  std::size_t begin, end;
};
std::vector<Number> numbers(std::string_view t) {
  std::vector<Number> out;
  for (std::size_t i = 0; i < t.size();) {
    if (!digit(t[i])) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    std::string digits;
    auto thousands = [&](std::size_t at) {  // ",100" inside "1,100,000"
      return t[at] == ',' && at + 3 < t.size() && digit(t[at + 1]) && digit(t[at + 2]) && digit(t[at + 3]) &&
             (at + 4 >= t.size() || !digit(t[at + 4]));
    };
    while (i < t.size() && (digit(t[i]) || thousands(i) || (t[i] == '.' && i + 1 < t.size() && digit(t[i + 1])))) {
      if (t[i] != ',') digits += t[i];
      ++i;
    }
    if (digits.size() > 15) continue;  // not a value anyone writes in these files
    out.push_back({std::stod(digits), begin, i});
  }
  return out;
}

}  // namespace

namespace {

// Every date in the text, in order: YYYY-MM-DD, and a date written with an English month's
// name ("March 3, 2026", "Mar 3 2026", "3 March 2026"), which says which number is the day.
// A date of numbers alone in another order (02/03/2026) is not read: the day and the month
// could be either.
std::vector<Micros> dates(std::string_view t) {
  std::vector<std::pair<std::size_t, Micros>> found;
  for (std::size_t i = 0; i + 10 <= t.size(); ++i) {
    const auto s = t.substr(i, 10);
    if (!(digit(s[0]) && digit(s[1]) && digit(s[2]) && digit(s[3]) && s[4] == '-' && digit(s[5]) && digit(s[6]) && s[7] == '-' &&
          digit(s[8]) && digit(s[9])))
      continue;
    if ((i > 0 && digit(t[i - 1])) || (i + 10 < t.size() && digit(t[i + 10]))) continue;
    if (auto at = parse_time(s, DateEdge::start_of_day)) {
      found.emplace_back(i, *at);
      i += 9;
    }
  }
  static const std::regex month_first(
      R"(\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?,?\s+([0-9]{4})\b)",
      std::regex::icase);
  static const std::regex day_first(
      R"(\b([0-9]{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+([0-9]{4})\b)",
      std::regex::icase);
  static const std::vector<std::string> months = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  const std::string text(t);
  auto add = [&](const std::smatch& m, const std::string& month, const std::string& day, const std::string& year) {
    const auto it = std::find(months.begin(), months.end(), lower(month).substr(0, 3));
    if (it == months.end()) return;
    char iso[16];
    std::snprintf(iso, sizeof iso, "%s-%02d-%02d", year.c_str(), static_cast<int>(it - months.begin()) + 1, std::stoi(day));
    if (auto at = parse_time(iso, DateEdge::start_of_day)) found.emplace_back(static_cast<std::size_t>(m.position(0)), *at);
  };
  // A field's value, not a document: libstdc++'s regex recurses per character matched, so a
  // long text (a megabyte of spaces on a **Date:** line) is read for ISO dates only.
  if (text.size() <= 1024) {
    for (auto it = std::sregex_iterator(text.begin(), text.end(), month_first); it != std::sregex_iterator(); ++it)
      add(*it, (*it)[1].str(), (*it)[2].str(), (*it)[3].str());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), day_first); it != std::sregex_iterator(); ++it)
      add(*it, (*it)[2].str(), (*it)[1].str(), (*it)[3].str());
  }
  std::sort(found.begin(), found.end());
  std::vector<Micros> out;
  for (const auto& f : found) out.push_back(f.second);
  return out;
}

}  // namespace

std::optional<Micros> earliest_date(std::string_view text) {
  const auto all = dates(text);
  if (all.empty()) return std::nullopt;
  return *std::min_element(all.begin(), all.end());
}

std::optional<Micros> first_date(std::string_view t) {
  auto ds = dates(t);
  if (ds.empty()) return std::nullopt;
  return ds.front();
}

std::optional<std::pair<Micros, Micros>> date_range(std::string_view t) {
  auto ds = dates(t);
  if (ds.empty()) return std::nullopt;
  return std::make_pair(ds.front(), ds.size() > 1 ? std::max(ds[0], ds[1]) : ds.front());
}

std::optional<Confidence> confidence(std::string_view t) {
  const auto ns = numbers(t);
  if (ns.empty()) return std::nullopt;
  auto as_percent = [&](const Number& n) {
    const bool percent = n.end < t.size() && t[n.end] == '%';
    const double v = percent || n.value > 1 ? n.value : n.value * 100;  // 0.60 in JSON-ish text
    return static_cast<int>(std::lround(v));
  };
  // Numbers that are not confidences: "N=5", "(N=1, ...)".
  std::vector<Number> ps;
  for (const auto& n : ns)
    if (!(n.begin >= 2 && t[n.begin - 1] == '=' && (t[n.begin - 2] == 'N' || t[n.begin - 2] == 'n'))) ps.push_back(n);
  if (ps.empty()) return std::nullopt;
  Confidence c{as_percent(ps[0]), std::nullopt};
  const auto arrow = t.find("→") != std::string_view::npos ? t.find("→") : t.find("->");
  if (arrow != std::string_view::npos && ps.size() >= 2 && ps[0].end <= arrow) {
    for (const auto& n : ps)
      if (n.begin > arrow) return Confidence{as_percent(n), as_percent(ps[0])};
  }
  const auto previously = lower(t).find("previous");
  if (previously != std::string::npos)
    for (const auto& n : ps)
      if (n.begin > previously) return Confidence{as_percent(ps[0]), as_percent(n)};
  return c;
}

std::optional<std::pair<std::int64_t, std::int64_t>> money(std::string_view t) {
  std::vector<std::int64_t> amounts;
  for (const auto& n : numbers(t)) {
    double v = n.value;
    if (n.end < t.size()) {
      const char s = static_cast<char>(std::toupper(static_cast<unsigned char>(t[n.end])));
      if (s == 'K') v *= 1e3;
      else if (s == 'M') v *= 1e6;
      else if (s == 'B') v *= 1e9;
    }
    // A dollar sign before it, or a range's second amount: money. Other numbers (days, %)
    // are not.
    const bool dollar = n.begin > 0 && t[n.begin - 1] == '$';
    if (!dollar && amounts.empty()) continue;
    if (!dollar && !(n.begin > 0 && (t[n.begin - 1] == '-' || t[n.begin - 1] == ' '))) continue;
    if (v > 9e15) return std::nullopt;
    amounts.push_back(static_cast<std::int64_t>(std::llround(v)));
    if (amounts.size() == 2) break;
  }
  if (amounts.empty()) return std::nullopt;
  return std::make_pair(amounts.front(), amounts.size() > 1 ? std::max(amounts[0], amounts[1]) : amounts.front());
}

std::optional<double> score(std::string_view t) {
  const auto eq = t.rfind('=');
  const auto ns = numbers(eq == std::string_view::npos ? t : t.substr(eq + 1));
  if (ns.empty()) return std::nullopt;
  return ns.front().value;
}

std::string code_word(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && !std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
  std::string out;
  while (i < t.size() && (std::isalpha(static_cast<unsigned char>(t[i])) || t[i] == '_' || t[i] == '-')) {
    out += t[i] == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(t[i])));
    ++i;
  }
  return out;
}

}  // namespace leanos::bridge
