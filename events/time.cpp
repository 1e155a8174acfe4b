#include "events/time.h"

#include <google/protobuf/timestamp.pb.h>

#include <chrono>
#include <cstdio>

namespace leanos {

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm (public domain), exact for the proleptic Gregorian calendar.
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

namespace {

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

Status bad_time(std::string_view text, const char* why) {
  return Status::invalid("malformed date '" + std::string(text) + "' (" + why +
                         "); expected an ISO-8601 date or date-time in UTC such as "
                         "2026-03-01 or 2026-03-01T14:30:00Z");
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

Result<Micros> parse_time(std::string_view text, DateEdge edge) {
  int y = 0, mo = 0, d = 0;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d))
    return bad_time(text, "not YYYY-MM-DD");
  if (y < 1970 || y > 2199) return bad_time(text, "year outside 1970-2199");
  if (mo < 1 || mo > 12) return bad_time(text, "month out of range");
  if (d < 1 || static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)))
    return bad_time(text, "day out of range for the month");
  const Micros day = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kMicrosPerDay;
  if (text.size() == 10) return edge == DateEdge::start_of_day ? day : day + kMicrosPerDay - 1;

  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return bad_time(text, "expected 'T' after the date");
  int h = 0, mi = 0, s = 0;
  if (!digits(text, 11, 2, h) || text.size() < 16 || text[13] != ':' || !digits(text, 14, 2, mi))
    return bad_time(text, "time is not HH:MM");
  std::size_t pos = 16;
  Micros frac = 0;
  if (pos < text.size() && text[pos] == ':') {
    if (!digits(text, pos + 1, 2, s)) return bad_time(text, "seconds are not SS");
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      Micros scale = 100'000;
      std::size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        frac += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return bad_time(text, "empty fraction of a second");
    }
  }
  if (h > 23 || mi > 59 || s > 59) return bad_time(text, "time of day out of range (00:00:00-23:59:59)");
  Micros offset = 0;
  if (pos < text.size()) {
    const char c = text[pos];
    if ((c == 'Z' || c == 'z') && pos + 1 == text.size()) {
      ++pos;
    } else if (c == '+' || c == '-') {
      int oh = 0, om = 0;
      if (!digits(text, pos + 1, 2, oh) || pos + 6 != text.size() || text[pos + 3] != ':' ||
          !digits(text, pos + 4, 2, om) || oh > 23 || om > 59)
        return bad_time(text, "offset is not +HH:MM");
      offset = (oh * 3600 + om * 60) * kMicrosPerSecond * (c == '+' ? 1 : -1);
      pos += 6;
    } else {
      return bad_time(text, "unexpected characters after the time");
    }
  }
  if (pos != text.size()) return bad_time(text, "unexpected characters after the time");
  const Micros t = day + (h * 3600 + mi * 60 + s) * kMicrosPerSecond + frac - offset;
  if (t < kMinTime || t >= kEndOfTime) return bad_time(text, "outside 1970-2199 once the offset is applied");
  return t;
}

Status check_time_range(std::string_view what, Micros t) {
  if (t >= kMinTime && t < kEndOfTime) return Status::success();
  return Status::invalid(std::string(what) + " is outside the ledger's time range; give a time from 1970-01-01 to "
                         "2199-12-31 (UTC)");
}

Status check_timestamp(std::string_view what, const google::protobuf::Timestamp& ts) {
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999)
    return Status::invalid(std::string(what) + " has nanos " + std::to_string(ts.nanos()) +
                           "; nanos must be 0 to 999999999");
  if (ts.seconds() < kMinTime / kMicrosPerSecond || ts.seconds() >= kEndOfTime / kMicrosPerSecond)
    return Status::invalid(std::string(what) + " has seconds " + std::to_string(ts.seconds()) +
                           ", outside the ledger's time range; give a time from 1970-01-01 to 2199-12-31 (UTC)");
  return Status::success();
}

std::string format_time(Micros t) {
  std::int64_t days = t / kMicrosPerDay;
  Micros rem = t % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const auto secs = rem / kMicrosPerSecond;
  const auto frac = rem % kMicrosPerSecond;
  char buf[48];
  if (frac == 0)
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60));
  else
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", y, m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60), static_cast<long long>(frac));
  return buf;
}

std::string format_date(Micros t) { return format_time(t).substr(0, 10); }

Micros now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Micros from_timestamp(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * kMicrosPerSecond + ts.nanos() / 1000;
}

void to_timestamp(Micros t, google::protobuf::Timestamp* ts) {
  Micros secs = t / kMicrosPerSecond;
  Micros rem = t % kMicrosPerSecond;
  if (rem < 0) {
    rem += kMicrosPerSecond;
    --secs;
  }
  ts->set_seconds(secs);
  ts->set_nanos(static_cast<std::int32_t>(rem * 1000));
}

}  // namespace leanos
