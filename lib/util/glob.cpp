#include "util/glob.hpp"

#include <cctype>

namespace shrike::util {

namespace {

int lower(int c) { return std::tolower(static_cast<unsigned char>(c)); }

// Mirrors the recursive structure of Redis's matcher, including the shortcut
// that stops retrying longer '*' matches once the rest failed everywhere.
bool match_impl(const char* p, int plen, const char* s, int slen, bool nocase, bool& skip_longer) {
  // Redis reads one byte past the pattern in two places and relies on the
  // string's NUL terminator; `at` reproduces that without reading past the end.
  auto at = [&](int i) -> char { return i < plen ? p[i] : '\0'; };
  while (plen && slen) {
    switch (p[0]) {
      case '*':
        while (plen && at(1) == '*') {
          ++p;
          --plen;
        }
        if (plen == 1) return true;
        while (slen) {
          if (match_impl(p + 1, plen - 1, s, slen, nocase, skip_longer)) return true;
          if (skip_longer) return false;
          ++s;
          --slen;
        }
        skip_longer = true;
        return false;
      case '?':
        ++s;
        --slen;
        break;
      case '[': {
        ++p;
        --plen;
        bool negate = plen > 0 && p[0] == '^';
        if (negate) {
          ++p;
          --plen;
        }
        bool matched = false;
        for (;;) {
          if (plen >= 2 && p[0] == '\\') {
            ++p;
            --plen;
            if (p[0] == s[0]) matched = true;
          } else if (plen > 0 && p[0] == ']') {
            break;
          } else if (plen == 0) {
            --p;
            ++plen;
            break;
          } else if (plen >= 3 && p[1] == '-') {
            int start = static_cast<signed char>(p[0]);
            int end = static_cast<signed char>(p[2]);
            int c = static_cast<signed char>(s[0]);
            if (start > end) std::swap(start, end);
            if (nocase) {
              start = lower(start);
              end = lower(end);
              c = lower(c);
            }
            p += 2;
            plen -= 2;
            if (c >= start && c <= end) matched = true;
          } else {
            if (nocase ? lower(p[0]) == lower(s[0]) : p[0] == s[0]) matched = true;
          }
          ++p;
          --plen;
        }
        if (negate) matched = !matched;
        if (!matched) return false;
        ++s;
        --slen;
        break;
      }
      case '\\':
        if (plen >= 2) {
          ++p;
          --plen;
        }
        [[fallthrough]];
      default:
        if (nocase ? lower(p[0]) != lower(s[0]) : p[0] != s[0]) return false;
        ++s;
        --slen;
        break;
    }
    ++p;
    --plen;
    if (slen == 0) {
      while (plen > 0 && p[0] == '*') {
        ++p;
        --plen;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view str, bool nocase) {
  bool skip_longer = false;
  return match_impl(pattern.data(), static_cast<int>(pattern.size()), str.data(),
                    static_cast<int>(str.size()), nocase, skip_longer);
}

}  // namespace shrike::util
