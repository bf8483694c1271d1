#pragma once
// Constants of the RDB format as Redis 7.0 writes it (RDB version 10).
//
// A file is "REDIS0010", opcodes and key records, RDB_OPCODE_EOF and the
// CRC-64 of everything before it (little endian; 0 = not computed). A key
// record is [EXPIRETIME_MS t][IDLE n | FREQ b] <value type> <key> <value>.
//
// Lengths (rdbSaveLen): 00xxxxxx (6 bits), 01xxxxxx xxxxxxxx (14 bits, big
// endian), 0x80 + 4 bytes or 0x81 + 8 bytes big endian; 11xxxxxx introduces
// a special string encoding: an 8/16/32-bit little-endian integer or an LZF
// blob ([compressed len][original len][data]).
#include <cstdint>

#include "util/version.hpp"

namespace shrike::persistence::rdb {

inline constexpr int version = 10;
inline constexpr const char* redis_version = util::redis_version;

// Value types.
inline constexpr std::uint8_t type_string = 0;
inline constexpr std::uint8_t type_list = 1;
inline constexpr std::uint8_t type_set = 2;
inline constexpr std::uint8_t type_zset = 3;
inline constexpr std::uint8_t type_hash = 4;
inline constexpr std::uint8_t type_zset_2 = 5;
inline constexpr std::uint8_t type_module = 6;
inline constexpr std::uint8_t type_module_2 = 7;
inline constexpr std::uint8_t type_hash_zipmap = 9;
inline constexpr std::uint8_t type_list_ziplist = 10;
inline constexpr std::uint8_t type_set_intset = 11;
inline constexpr std::uint8_t type_zset_ziplist = 12;
inline constexpr std::uint8_t type_hash_ziplist = 13;
inline constexpr std::uint8_t type_list_quicklist = 14;
inline constexpr std::uint8_t type_stream_listpacks = 15;
inline constexpr std::uint8_t type_hash_listpack = 16;
inline constexpr std::uint8_t type_zset_listpack = 17;
inline constexpr std::uint8_t type_list_quicklist_2 = 18;
inline constexpr std::uint8_t type_stream_listpacks_2 = 19;

inline constexpr bool is_object_type(int t) { return (t >= 0 && t <= 7) || (t >= 9 && t <= 19); }

// Opcodes.
inline constexpr std::uint8_t opcode_function2 = 245;
inline constexpr std::uint8_t opcode_function = 246;
inline constexpr std::uint8_t opcode_module_aux = 247;
inline constexpr std::uint8_t opcode_idle = 248;
inline constexpr std::uint8_t opcode_freq = 249;
inline constexpr std::uint8_t opcode_aux = 250;
inline constexpr std::uint8_t opcode_resizedb = 251;
inline constexpr std::uint8_t opcode_expiretime_ms = 252;
inline constexpr std::uint8_t opcode_expiretime = 253;
inline constexpr std::uint8_t opcode_selectdb = 254;
inline constexpr std::uint8_t opcode_eof = 255;

// Length encodings.
inline constexpr std::uint8_t len_32bit = 0x80;
inline constexpr std::uint8_t len_64bit = 0x81;
inline constexpr std::uint8_t enc_int8 = 0;
inline constexpr std::uint8_t enc_int16 = 1;
inline constexpr std::uint8_t enc_int32 = 2;
inline constexpr std::uint8_t enc_lzf = 3;

// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
inline constexpr std::uint64_t container_plain = 1;
inline constexpr std::uint64_t container_packed = 2;

// Stream entry flags inside a listpack node.
inline constexpr std::int64_t stream_flag_deleted = 1;
inline constexpr std::int64_t stream_flag_samefields = 2;

}  // namespace shrike::persistence::rdb
