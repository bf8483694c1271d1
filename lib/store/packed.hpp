#pragma once
// The compact encoding of small collections, held inline in the key's block
// (entry::str()), the role listpack plays in Redis:
//
//   [u32 element count][len][bytes][len][bytes]...      len: LEB128 varint
//
// Hashes store field,value pairs; sorted sets member,score pairs (score as 8
// raw bytes of a double). Lookups are linear, which is what makes the encoding
// small; a collection converts to its object form past the *-max-listpack-*
// limits, as Redis does.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string_view>

#include "store/database.hpp"

namespace shrike::store::packed {

constexpr std::size_t header_size = 4;

inline std::uint32_t count(std::string_view v) {
  std::uint32_t n;
  std::memcpy(&n, v.data(), sizeof(n));
  return n;
}
inline void set_count(entry* e, std::uint32_t n) { std::memcpy(e->value_data(), &n, sizeof(n)); }

inline std::size_t varint_size(std::size_t len) {
  std::size_t n = 1;
  while (len >= 0x80) {
    len >>= 7;
    ++n;
  }
  return n;
}
// Bytes one element of `len` bytes takes.
inline std::size_t element_size(std::size_t len) { return varint_size(len) + len; }

char* write_element(char* dst, std::string_view s);
// Reads the element at byte offset `pos` of the packed value `v`; returns the
// offset after it.
std::size_t read_element(std::string_view v, std::size_t pos, std::string_view& out);

// Forward iteration over the elements of a packed value.
class reader {
 public:
  explicit reader(std::string_view v) : v_(v), pos_(header_size) {}
  bool done() const { return pos_ >= v_.size(); }
  std::size_t offset() const { return pos_; }
  std::string_view next() {
    std::string_view s;
    pos_ = read_element(v_, pos_, s);
    return s;
  }

 private:
  std::string_view v_;
  std::size_t pos_;
};

// The inline bytes of a new, empty packed value.
inline std::string_view empty_value() { return std::string_view("\0\0\0\0", header_size); }

// Edits of the packed value of `e` in `db`. Each may move the block (the
// returned entry is the one to use) and adjusts the element count by `delta`.
entry* insert(database& db, entry* e, std::size_t pos, std::initializer_list<std::string_view> elements);
// Removes the bytes [pos, end) holding `elements` elements.
entry* erase(database& db, entry* e, std::size_t pos, std::size_t end, std::uint32_t elements);
// Replaces the single element at [pos, end) by `element`.
entry* replace(database& db, entry* e, std::size_t pos, std::size_t end, std::string_view element);

}  // namespace shrike::store::packed
