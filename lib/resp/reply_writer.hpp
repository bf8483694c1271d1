#pragma once
// Reply writer: appends RESP2 or RESP3 frames to a connection's output buffer.
//
// Handlers describe a reply by shape (map, set, double, null, ...) and the
// writer picks the encoding for the connection's protocol version, so that a
// command is written once for both protocols. RESP2 flattens maps into arrays
// of 2n elements, sends sets as arrays, doubles as bulk strings, booleans as
// integers and every null as $-1 or *-1 (as Redis 7.0 does).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shrike::resp {

class reply_writer {
 public:
  explicit reply_writer(std::string& out) : out_(&out) {}

  int protocol() const { return protocol_; }
  void set_protocol(int version) { protocol_ = version; }
  std::string& buffer() { return *out_; }

  void simple(std::string_view s);               // +OK
  void error(std::string_view s);                // "x" -> -ERR x; "-CODE x" -> -CODE x
  void integer(std::int64_t v);                  // :1
  void bulk(std::string_view s);                 // $3 foo
  void null();                                   // $-1 / _
  void null_array();                             // *-1 / _
  void array(std::size_t n);                     // *n
  void map(std::size_t n);                       // %n / *2n   (n = pairs)
  void set(std::size_t n);                       // ~n / *n
  void push(std::size_t n);                      // >n / *n
  void double_value(double d);                   // ,d / bulk
  void double_text(std::string_view text);       // ,text / bulk: a double the caller printed
  void boolean(bool b);                          // #t / :1
  void verbatim(std::string_view s, std::string_view format = "txt");  // =... / bulk
  void ok() { simple("OK"); }

  // Replies whose element count is known only at the end: begin returns a
  // marker, end inserts the header there.
  std::size_t begin_deferred();
  void end_deferred_array(std::size_t marker, std::size_t n);
  void end_deferred_map(std::size_t marker, std::size_t pairs);
  void end_deferred_set(std::size_t marker, std::size_t n);

  // Counts errors written (INFO's total_error_replies).
  std::size_t errors_written() const { return errors_; }

 private:
  void header(char type, std::int64_t n);
  void insert_header(std::size_t marker, char type, std::size_t n);

  std::string* out_;
  int protocol_ = 2;
  std::size_t errors_ = 0;
};

}  // namespace shrike::resp
