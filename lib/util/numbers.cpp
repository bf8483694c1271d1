#include "util/numbers.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace shrike::util {

bool parse_int64(std::string_view s, std::int64_t& value) {
  constexpr std::size_t long_str_size = 21;
  if (s.empty() || s.size() >= long_str_size) return false;
  if (s.size() == 1 && s[0] == '0') {
    value = 0;
    return true;
  }
  std::size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    if (++i == s.size()) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  unsigned long long v = static_cast<unsigned long long>(s[i++] - '0');
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    if (v > ULLONG_MAX / 10) return false;
    v *= 10;
    if (v > ULLONG_MAX - static_cast<unsigned>(c - '0')) return false;
    v += static_cast<unsigned>(c - '0');
  }
  if (negative) {
    if (v > static_cast<unsigned long long>(-(LLONG_MIN + 1)) + 1) return false;
    value = static_cast<std::int64_t>(0 - v);
  } else {
    if (v > static_cast<unsigned long long>(LLONG_MAX)) return false;
    value = static_cast<std::int64_t>(v);
  }
  return true;
}

bool parse_double(std::string_view s, double& value) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);  // strtod needs a terminator; arguments may contain NULs
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf.c_str(), &end);
  if (static_cast<std::size_t>(end - buf.c_str()) != buf.size()) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || std::fpclassify(v) == FP_ZERO))
    return false;
  if (std::isnan(v)) return false;
  value = v;
  return true;
}

bool parse_long_double(std::string_view s, long double& value) {
  constexpr std::size_t max_long_double_chars = 5 * 1024;
  if (s.empty() || s.size() > max_long_double_chars) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  long double v = std::strtold(buf.c_str(), &end);
  if (std::isspace(static_cast<unsigned char>(buf[0])) ||
      static_cast<std::size_t>(end - buf.c_str()) != buf.size() ||
      (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || std::fpclassify(v) == FP_ZERO)) ||
      std::isnan(v))
    return false;
  value = v;
  return true;
}

void append_int64(std::string& out, std::int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, p);
}

std::string format_int64(std::int64_t v) {
  std::string s;
  append_int64(s, v);
  return s;
}

std::string format_double(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string format_long_double_human(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[5 * 1024 + 32];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n < 0 || static_cast<std::size_t>(n) + 1 > sizeof(buf)) return {};
  std::size_t l = static_cast<std::size_t>(n);
  if (std::memchr(buf, '.', l) != nullptr) {
    while (buf[l - 1] == '0') --l;
    if (buf[l - 1] == '.') --l;
  }
  if (l == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, l);
}

std::string bytes_to_human(std::uint64_t n) {
  char buf[64];
  const double d = static_cast<double>(n);
  if (n < 1024)
    std::snprintf(buf, sizeof(buf), "%lluB", static_cast<unsigned long long>(n));
  else if (n < 1024ULL * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fK", d / 1024);
  else if (n < 1024ULL * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fM", d / (1024.0 * 1024));
  else if (n < 1024ULL * 1024 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.2fG", d / (1024.0 * 1024 * 1024));
  else
    std::snprintf(buf, sizeof(buf), "%.2fT", d / (1024.0 * 1024 * 1024 * 1024));
  return buf;
}

}  // namespace shrike::util
