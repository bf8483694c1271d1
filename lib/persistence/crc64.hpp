#pragma once
// CRC-64 as Redis computes it (crc64.c): the Jones polynomial
// 0xad93d23594c935a9, reflected input and output, no final xor. It guards
// RDB files (the 8 bytes after the EOF opcode) and DUMP payloads.
//
// crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shrike::persistence {

// Continues `crc` over `len` bytes (start with 0).
std::uint64_t crc64(std::uint64_t crc, const void* data, std::size_t len);

inline std::uint64_t crc64(std::uint64_t crc, std::string_view bytes) {
  return crc64(crc, bytes.data(), bytes.size());
}

}  // namespace shrike::persistence
