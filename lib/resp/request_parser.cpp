#include "resp/request_parser.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include "util/numbers.hpp"

namespace shrike::resp {

namespace {

// Limits of a client that has yet to authenticate (networking.c).
constexpr std::int64_t unauthenticated_max_args = 10;
constexpr std::int64_t unauthenticated_max_bulk = 16384;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool is_blank(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

}  // namespace

bool split_inline_args(std::string_view line, std::vector<std::string>& out) {
  // Redis treats the line as a C string: a NUL ends it.
  if (auto nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  std::size_t i = 0;
  const std::size_t n = line.size();
  auto at = [&](std::size_t k) { return k < n ? line[k] : '\0'; };
  for (;;) {
    while (i < n && is_blank(line[i])) ++i;
    if (i >= n) return true;
    std::string current;
    bool in_dq = false, in_sq = false;
    for (bool done = false; !done;) {
      char c = at(i);
      if (in_dq) {
        if (c == '\\' && at(i + 1) == 'x' && is_hex(at(i + 2)) && is_hex(at(i + 3))) {
          current.push_back(static_cast<char>(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3))));
          i += 3;
        } else if (c == '\\' && at(i + 1)) {
          ++i;
          switch (at(i)) {
            case 'n': current.push_back('\n'); break;
            case 'r': current.push_back('\r'); break;
            case 't': current.push_back('\t'); break;
            case 'b': current.push_back('\b'); break;
            case 'a': current.push_back('\a'); break;
            default: current.push_back(at(i)); break;
          }
        } else if (c == '"') {
          if (at(i + 1) && !is_blank(at(i + 1))) return false;
          done = true;
        } else if (!c) {
          return false;
        } else {
          current.push_back(c);
        }
      } else if (in_sq) {
        if (c == '\\' && at(i + 1) == '\'') {
          ++i;
          current.push_back('\'');
        } else if (c == '\'') {
          if (at(i + 1) && !is_blank(at(i + 1))) return false;
          done = true;
        } else if (!c) {
          return false;
        } else {
          current.push_back(c);
        }
      } else {
        switch (c) {
          case ' ': case '\n': case '\r': case '\t': case '\0': done = true; break;
          case '"': in_dq = true; break;
          case '\'': in_sq = true; break;
          default: current.push_back(c); break;
        }
      }
      if (at(i)) ++i;
    }
    out.push_back(std::move(current));
  }
}

void request_parser::reset_state() {
  in_multibulk_ = false;
  args_left_ = 0;
  bulk_len_ = -1;
  pos_ = 0;
  offsets_.clear();
}

request_parser::status request_parser::fail(std::string text) {
  error_ = std::move(text);
  reset_state();
  return status::error;
}

request_parser::status request_parser::parse(std::string_view data, request& out,
                                             std::size_t& consumed) {
  consumed = 0;
  out.argv.clear();
  out.inline_form = false;
  if (data.empty()) return status::need_more;
  if (in_multibulk_ || data[0] == '*') return parse_multibulk(data, out, consumed);
  return parse_inline(data, out, consumed);
}

request_parser::status request_parser::parse_inline(std::string_view data, request& out,
                                                    std::size_t& consumed) {
  auto newline = data.find('\n');
  if (newline == std::string_view::npos) {
    if (data.size() > limits_.max_inline_len) return fail("Protocol error: too big inline request");
    return status::need_more;
  }
  std::size_t line_len = newline;
  if (line_len > 0 && data[line_len - 1] == '\r') --line_len;
  std::vector<std::string> args;
  if (!split_inline_args(data.substr(0, line_len), args))
    return fail("Protocol error: unbalanced quotes in request");
  consumed = newline + 1;
  out.inline_form = true;
  for (auto& a : args) {
    owned_.push_back(std::move(a));
    out.argv.emplace_back(owned_.back());
  }
  return status::complete;
}

request_parser::status request_parser::parse_multibulk(std::string_view data, request& out,
                                                       std::size_t& consumed) {
  // A "<prefix><number>\r\n" line starting at `from`; npos when incomplete.
  auto find_line_end = [&](std::size_t from) -> std::size_t {
    auto cr = data.find('\r', from);
    if (cr == std::string_view::npos || cr + 1 >= data.size()) return std::string_view::npos;
    return cr;
  };

  if (!in_multibulk_) {
    auto cr = find_line_end(0);
    if (cr == std::string_view::npos) {
      if (data.size() > limits_.max_inline_len && data.find('\r') == std::string_view::npos)
        return fail("Protocol error: too big mbulk count string");
      return status::need_more;
    }
    std::int64_t count = 0;
    if (!util::parse_int64(data.substr(1, cr - 1), count) || count > INT_MAX)
      return fail("Protocol error: invalid multibulk length");
    if (count > unauthenticated_max_args && limits_.unauthenticated)
      return fail("Protocol error: unauthenticated multibulk length");
    pos_ = cr + 2;
    if (count <= 0) {
      consumed = pos_;
      reset_state();
      return status::complete;
    }
    in_multibulk_ = true;
    args_left_ = count;
    bulk_len_ = -1;
    offsets_.clear();
    offsets_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(count, 1024)));
  }

  while (args_left_ > 0) {
    if (bulk_len_ < 0) {
      auto cr = find_line_end(pos_);
      if (cr == std::string_view::npos) {
        if (data.size() - pos_ > limits_.max_inline_len &&
            data.find('\r', pos_) == std::string_view::npos)
          return fail("Protocol error: too big bulk count string");
        return status::need_more;
      }
      if (data[pos_] != '$')
        return fail(std::string("Protocol error: expected '$', got '") + data[pos_] + "'");
      std::int64_t len = 0;
      if (!util::parse_int64(data.substr(pos_ + 1, cr - pos_ - 1), len) || len < 0 ||
          static_cast<std::uint64_t>(len) > limits_.max_bulk_len)
        return fail("Protocol error: invalid bulk length");
      if (len > unauthenticated_max_bulk && limits_.unauthenticated)
        return fail("Protocol error: unauthenticated bulk length");
      bulk_len_ = len;
      pos_ = cr + 2;
    }
    // Like Redis, the two bytes after the payload are skipped unchecked.
    if (data.size() - pos_ < static_cast<std::size_t>(bulk_len_) + 2) return status::need_more;
    offsets_.emplace_back(pos_, static_cast<std::size_t>(bulk_len_));
    pos_ += static_cast<std::size_t>(bulk_len_) + 2;
    bulk_len_ = -1;
    --args_left_;
  }

  out.argv.reserve(offsets_.size());
  for (auto [off, len] : offsets_) out.argv.emplace_back(data.data() + off, len);
  consumed = pos_;
  reset_state();
  return status::complete;
}

}  // namespace shrike::resp
