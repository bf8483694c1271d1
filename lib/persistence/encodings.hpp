#pragma once
// The compact serializations RDB files embed as opaque strings: listpack
// (Redis 7), and, read only, the older ziplist, zipmap and the intset.
//
//  * listpack: [total bytes u32][count u16, 65535 = unknown] entries [0xFF];
//    an entry is [encoding + data][backlen]; integers in 7/13/16/24/32/64
//    bits, strings with a 6/12/32-bit length; backlen is the entry's size
//    written backwards 7 bits at a time.
//  * ziplist: [bytes u32][tail offset u32][count u16] entries [0xFF]; an
//    entry is [prevlen 1|5][encoding][data].
//  * intset: [width u32: 2, 4 or 8][count u32][count sorted little-endian ints].
//  * zipmap: [count u8] ([len]key[len][free]value[free bytes])* [0xFF].
//
// Decoders validate everything they read (sizes, bounds, the listpack
// backlens, the ziplist prevlens, header counts): corrupt input gives false,
// never a read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shrike::persistence {

// One element of a listpack or ziplist: an integer or a byte string (a view
// into the decoded buffer).
struct packed_element {
  bool is_int = false;
  std::int64_t num = 0;
  std::string_view str;

  // The element as Redis hands it out (integers in decimal).
  std::string text() const;
  void append_to(std::string& out) const;
};

// Builds a listpack the way lpAppend does: an element that is an integer in
// canonical form (string2ll) is stored as an integer.
class listpack_builder {
 public:
  listpack_builder() { reset(); }

  void add(std::string_view s);
  void add_int(std::int64_t v);
  // Bytes of the listpack as it stands, header and terminator included (lpBytes).
  std::size_t bytes() const { return buf_.size() + 1; }
  std::size_t count() const { return count_; }
  // Completes the header and terminator; the builder must be reset() before reuse.
  const std::string& finish();
  void reset();

 private:
  void add_entry(const unsigned char* enc, std::size_t enc_len, std::string_view payload);
  std::string buf_;
  std::size_t count_ = 0;
};

bool parse_listpack(std::string_view lp, std::vector<packed_element>& out);
bool parse_ziplist(std::string_view zl, std::vector<packed_element>& out);
// Checks an intset blob (width, size, not empty, strictly ascending members); `contents`
// receives the member array (count * width bytes).
bool parse_intset(std::string_view blob, std::uint8_t& width, std::string_view& contents);
// The intset blob of a member array of the given width.
std::string build_intset(std::uint8_t width, std::string_view contents);
bool parse_zipmap(std::string_view zm, std::vector<std::pair<std::string_view, std::string_view>>& out);

}  // namespace shrike::persistence
