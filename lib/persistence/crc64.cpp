#include "persistence/crc64.hpp"

#include <array>
#include <cstring>

namespace shrike::persistence {

namespace {

constexpr std::uint64_t jones_polynomial = 0xad93d23594c935a9ULL;

constexpr std::uint64_t reverse_bits(std::uint64_t v) {
  std::uint64_t r = 0;
  for (int i = 0; i < 64; ++i) {
    r = (r << 1) | (v & 1);
    v >>= 1;
  }
  return r;
}

using table_set = std::array<std::array<std::uint64_t, 256>, 8>;

// Slicing-by-8 tables of the reflected polynomial: t[0] is the classic
// byte-at-a-time table, t[k] advances a byte that sits k bytes further back.
constexpr table_set make_tables() {
  constexpr std::uint64_t poly = reverse_bits(jones_polynomial);
  table_set t{};
  for (std::uint64_t n = 0; n < 256; ++n) {
    std::uint64_t c = n;
    for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    t[0][n] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
  return t;
}

constexpr table_set tables = make_tables();

}  // namespace

std::uint64_t crc64(std::uint64_t crc, const void* data, std::size_t len) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (len >= 8) {
    std::uint64_t word = 0;
    for (int i = 7; i >= 0; --i) word = (word << 8) | p[i];  // little-endian load
    crc ^= word;
    crc = tables[7][crc & 0xff] ^ tables[6][(crc >> 8) & 0xff] ^ tables[5][(crc >> 16) & 0xff] ^
          tables[4][(crc >> 24) & 0xff] ^ tables[3][(crc >> 32) & 0xff] ^ tables[2][(crc >> 40) & 0xff] ^
          tables[1][(crc >> 48) & 0xff] ^ tables[0][crc >> 56];
    p += 8;
    len -= 8;
  }
  while (len--) crc = tables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace shrike::persistence
