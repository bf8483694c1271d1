#pragma once
// HyperLogLog values exactly as Redis 7.0 stores them (hyperloglog.c), so a
// PF* key reads, dumps and replicates byte-equal with Redis: a string with
// a 16-byte header ("HYLL", encoding, 3 zero bytes, the cached cardinality
// little-endian, its top bit set when stale) and 16384 6-bit registers,
// either dense (12288 bytes, packed little-endian bit order) or sparse (runs
// of ZERO / XZERO / VAL opcodes). Elements hash with MurmurHash64A; the
// estimate is Ertl's (arXiv:1702.01284), as in Redis.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shrike::util::hll {

inline constexpr int registers = 16384;
inline constexpr std::size_t header_size = 16;
inline constexpr std::size_t dense_size = header_size + (registers * 6 + 7) / 8;

using raw_registers = std::array<std::uint8_t, registers>;

// MurmurHash64A, the little-endian form Redis uses.
std::uint64_t murmur64a(std::string_view data, std::uint64_t seed);

// A new, empty HLL (sparse).
std::string create();
// Whether `s` is an HLL value (isHLLObjectOrReply): magic, known encoding,
// exact size when dense. The sparse opcodes are checked as they are read.
bool valid(std::string_view s);
bool is_dense(std::string_view s);

// PFADD of one element: 1 when a register grew, 0 when not, -1 when the
// sparse data is corrupt. A sparse value goes dense when a register needs
// more than 32 or when it would outgrow `sparse_max_bytes`.
int add(std::string& s, std::string_view element, std::size_t sparse_max_bytes);
// Raises register `index` to `count` if lower (the same rules as add).
int set_register(std::string& s, int index, std::uint8_t count, std::size_t sparse_max_bytes);
// The sparse value converted to dense (a no-op when dense); false if corrupt.
bool to_dense(std::string& s);

// max[i] = MAX(max[i], register i of s); false when the sparse data is corrupt.
bool merge_into(raw_registers& max, std::string_view s);

// The cardinality: the cached one when valid, else computed and cached in
// `s` (`recomputed` says so). False when the sparse data is corrupt.
bool count(std::string& s, std::uint64_t& card, bool& recomputed);
// The cardinality of plain registers (PFCOUNT of several keys).
std::uint64_t count(const raw_registers& regs);

void invalidate_cache(std::string& s);

}  // namespace shrike::util::hll
