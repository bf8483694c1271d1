#include "resp/reply_writer.hpp"

#include <cmath>
#include <cstdio>

#include "util/numbers.hpp"

namespace shrike::resp {

void reply_writer::header(char type, std::int64_t n) {
  out_->push_back(type);
  util::append_int64(*out_, n);
  out_->append("\r\n", 2);
}

void reply_writer::simple(std::string_view s) {
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n", 2);
}

void reply_writer::error(std::string_view s) {
  ++errors_;
  out_->push_back('-');
  // As Redis's addReplyError: a text that starts with '-' carries its own code
  // ("-WRONGTYPE ..."); any other text gets the generic ERR code.
  if (!s.empty() && s[0] == '-')
    s.remove_prefix(1);
  else
    out_->append("ERR ");
  // Newlines would break the framing: Redis replaces them with spaces.
  std::size_t start = out_->size();
  out_->append(s);
  for (std::size_t i = start; i < out_->size(); ++i)
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  out_->append("\r\n", 2);
}

void reply_writer::integer(std::int64_t v) { header(':', v); }

void reply_writer::bulk(std::string_view s) {
  header('$', static_cast<std::int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n", 2);
}

void reply_writer::null() {
  if (protocol_ >= 3)
    out_->append("_\r\n", 3);
  else
    out_->append("$-1\r\n", 5);
}

void reply_writer::null_array() {
  if (protocol_ >= 3)
    out_->append("_\r\n", 3);
  else
    out_->append("*-1\r\n", 5);
}

void reply_writer::array(std::size_t n) { header('*', static_cast<std::int64_t>(n)); }

void reply_writer::map(std::size_t n) {
  if (protocol_ >= 3)
    header('%', static_cast<std::int64_t>(n));
  else
    header('*', static_cast<std::int64_t>(2 * n));
}

void reply_writer::set(std::size_t n) {
  header(protocol_ >= 3 ? '~' : '*', static_cast<std::int64_t>(n));
}

void reply_writer::push(std::size_t n) {
  header(protocol_ >= 3 ? '>' : '*', static_cast<std::int64_t>(n));
}

void reply_writer::double_value(double d) {
  if (protocol_ >= 3) {
    out_->push_back(',');
    out_->append(util::format_double(d));
    out_->append("\r\n", 2);
  } else {
    bulk(util::format_double(d));
  }
}

void reply_writer::double_text(std::string_view text) {
  if (protocol_ >= 3) {
    out_->push_back(',');
    out_->append(text);
    out_->append("\r\n", 2);
  } else {
    bulk(text);
  }
}

void reply_writer::boolean(bool b) {
  if (protocol_ >= 3)
    out_->append(b ? "#t\r\n" : "#f\r\n", 4);
  else
    out_->append(b ? ":1\r\n" : ":0\r\n", 4);
}

void reply_writer::verbatim(std::string_view s, std::string_view format) {
  if (protocol_ >= 3) {
    header('=', static_cast<std::int64_t>(s.size() + 4));
    out_->append(format);
    out_->push_back(':');
    out_->append(s);
    out_->append("\r\n", 2);
  } else {
    bulk(s);
  }
}

std::size_t reply_writer::begin_deferred() { return out_->size(); }

void reply_writer::insert_header(std::size_t marker, char type, std::size_t n) {
  std::string h(1, type);
  util::append_int64(h, static_cast<std::int64_t>(n));
  h.append("\r\n");
  out_->insert(marker, h);
}

void reply_writer::end_deferred_array(std::size_t marker, std::size_t n) {
  insert_header(marker, '*', n);
}

void reply_writer::end_deferred_map(std::size_t marker, std::size_t pairs) {
  if (protocol_ >= 3)
    insert_header(marker, '%', pairs);
  else
    insert_header(marker, '*', pairs * 2);
}

void reply_writer::end_deferred_set(std::size_t marker, std::size_t n) {
  insert_header(marker, protocol_ >= 3 ? '~' : '*', n);
}

}  // namespace shrike::resp
