#pragma once
// Incremental RESP request parser (sans-I/O).
//
// The session keeps every unconsumed byte in one contiguous buffer and calls
// parse() with a view that always starts at the first byte of the request that
// is being parsed. When parse() answers need_more it remembers how far it got
// (header, arguments already located), so that the next call with the same
// start and more bytes appended resumes there: a large MSET arriving in many
// reads is scanned once, not once per read.
//
// Multibulk arguments are reported as offsets into the view (no copy). Inline
// requests ("SET a b\r\n") need unescaping, so their arguments are copied into
// the parser-owned storage of the request.
//
// Limits and error texts are those of Redis 7.0 (networking.c): after an error
// the session replies with the text and closes the connection.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace shrike::resp {

struct parser_limits {
  std::size_t max_bulk_len = 512ull * 1024 * 1024;  // proto-max-bulk-len
  std::size_t max_inline_len = 64 * 1024;          // PROTO_INLINE_MAX_SIZE
  // A client that still has to AUTH may send at most 10 arguments of at most
  // 16384 bytes each (Redis 7.0's guard against unauthenticated memory use).
  bool unauthenticated = false;
};

// One parsed request. Arguments point into the caller's buffer (multibulk) or
// into `owned` (inline); they stay valid until the buffer is compacted.
struct request {
  std::vector<std::string_view> argv;
  bool inline_form = false;
};

class request_parser {
 public:
  enum class status { complete, need_more, error };

  explicit request_parser(parser_limits limits = {}) : limits_(limits) {}

  // Parses one request from `data` (which starts at the request's first byte).
  // complete: `out` holds the arguments (possibly none: an empty inline line or
  //           "*0\r\n", which the caller skips), `consumed` its length in bytes.
  // need_more: nothing consumed; call again with the same start and more bytes.
  // error:    error_text() is the reply (without "-ERR "/CRLF framing).
  status parse(std::string_view data, request& out, std::size_t& consumed);

  const std::string& error_text() const { return error_; }

  // The limits of the next parse() calls (they may change between requests:
  // CONFIG SET proto-max-bulk-len, AUTH).
  void set_limits(const parser_limits& limits) { limits_ = limits; }

  // Storage for unescaped inline arguments of all requests parsed since the
  // last release; the session clears it once a batch's replies are written.
  void release_owned() { owned_.clear(); }

 private:
  status parse_inline(std::string_view data, request& out, std::size_t& consumed);
  status parse_multibulk(std::string_view data, request& out, std::size_t& consumed);
  status fail(std::string text);
  void reset_state();

  parser_limits limits_;
  std::string error_;
  std::deque<std::string> owned_;  // deque: growing it never moves existing strings

  // Resume state of a partially parsed multibulk request.
  bool in_multibulk_ = false;
  std::int64_t args_left_ = 0;
  std::int64_t bulk_len_ = -1;  // -1: the next "$<len>" line is not read yet
  std::size_t pos_ = 0;         // offset of the next unread byte
  std::vector<std::pair<std::size_t, std::size_t>> offsets_;
};

// Splits an inline line as Redis's sdssplitargs does (double quotes with C
// escapes, single quotes, blanks). Returns false on unbalanced quotes.
bool split_inline_args(std::string_view line, std::vector<std::string>& out);

}  // namespace shrike::resp
