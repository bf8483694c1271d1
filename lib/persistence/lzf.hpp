#pragma once
// LZF compression in the public liblzf format, the one RDB files use for
// strings (RDB_ENC_LZF) and compressed quicklist nodes:
//
//   000LLLLL <L+1 literal bytes>            literal run of 1..32 bytes
//   LLLooooo oooooooo                       back reference, length L+2 (3..8)
//   111ooooo LLLLLLLL oooooooo              back reference, length L+9
//
// where the offset o+1 (1..8192) counts back from the current output end.
//
// The compressor makes the same choices as Redis's copy of liblzf (a 2^16
// entry hash of the next three bytes, VERY_FAST re-hashing after a match), so
// DUMP payloads of compressible values come out byte-equal with Redis's.
// (Redis leaves its hash table uninitialized, which in rare cases lets a
// stale slot find a different match; we start from an empty table.)
#include <cstddef>

namespace shrike::persistence {

// Compresses `in` into at most `out_len` bytes of `out`; returns the
// compressed size, or 0 when it does not fit (or in_len is 0).
std::size_t lzf_compress(const void* in, std::size_t in_len, void* out, std::size_t out_len);

// Decompresses `in` into `out`; returns the decompressed size, or 0 on
// corrupt input or when the output would exceed `out_len`.
std::size_t lzf_decompress(const void* in, std::size_t in_len, void* out, std::size_t out_len);

}  // namespace shrike::persistence
