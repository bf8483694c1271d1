#include "util/split_args.hpp"

#include <cctype>

namespace shrike::util {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

bool split_args(std::string_view s, std::vector<std::string>& out) {
  out.clear();
  std::size_t i = 0;
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  for (;;) {
    while (i < s.size() && blank(s[i])) ++i;
    if (i >= s.size()) return true;
    std::string word;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      if (in_dq) {
        if (i >= s.size()) return false;
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex_digit(s[i + 2]) >= 0 &&
            hex_digit(s[i + 3]) >= 0) {
          word.push_back(static_cast<char>(hex_digit(s[i + 2]) * 16 + hex_digit(s[i + 3])));
          i += 3;
        } else if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
          char c = s[i];
          switch (c) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: break;
          }
          word.push_back(c);
        } else if (s[i] == '"') {
          if (i + 1 < s.size() && !blank(s[i + 1])) return false;
          done = true;
        } else {
          word.push_back(s[i]);
        }
      } else if (in_sq) {
        if (i >= s.size()) return false;
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\'') {
          ++i;
          word.push_back('\'');
        } else if (s[i] == '\'') {
          if (i + 1 < s.size() && !blank(s[i + 1])) return false;
          done = true;
        } else {
          word.push_back(s[i]);
        }
      } else {
        if (i >= s.size()) {
          done = true;
          break;
        }
        switch (s[i]) {
          case ' ': case '\n': case '\r': case '\t': case '\0': done = true; break;
          case '"': in_dq = true; break;
          case '\'': in_sq = true; break;
          default: word.push_back(s[i]); break;
        }
      }
      if (i < s.size()) ++i;
    }
    out.push_back(std::move(word));
  }
}

}  // namespace shrike::util
