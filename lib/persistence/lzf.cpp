#include "persistence/lzf.hpp"

#include <cstdint>
#include <cstring>
#include <memory>

namespace shrike::persistence {

namespace {

constexpr unsigned hash_log = 16;
constexpr std::size_t hash_size = std::size_t{1} << hash_log;
constexpr std::size_t max_literal = 32;
constexpr std::size_t max_offset = 8192;
constexpr std::size_t max_ref = 256 + 8;

// The hash of liblzf's VERY_FAST mode over the three bytes at a position,
// kept as a rolling 32-bit value (only the low 16 bits of the slot count).
inline std::uint32_t first_hash(const std::uint8_t* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
inline std::uint32_t next_hash(std::uint32_t h, const std::uint8_t* p) { return (h << 8) | p[2]; }
inline std::size_t slot_of(std::uint32_t h) { return ((h >> (3 * 8 - hash_log)) - h * 5) & (hash_size - 1); }

// Slots hold (generation << 32 | position + 1): bumping the generation empties
// the table without clearing 512 KB for every small string.
class hash_table {
 public:
  hash_table() : slots_(new std::uint64_t[hash_size]()) {}

  void reset() {
    if (++generation_ == 0) {
      std::memset(slots_.get(), 0, hash_size * sizeof(std::uint64_t));
      generation_ = 1;
    }
  }
  // The previous position stored in `slot` during this call, or -1.
  std::int64_t exchange(std::size_t slot, std::size_t pos) {
    const std::uint64_t old = slots_[slot];
    set(slot, pos);
    if ((old >> 32) != generation_) return -1;
    return static_cast<std::int64_t>(old & 0xffffffffu) - 1;
  }
  void set(std::size_t slot, std::size_t pos) {
    slots_[slot] = (std::uint64_t{generation_} << 32) | (static_cast<std::uint64_t>(pos) + 1);
  }

 private:
  std::unique_ptr<std::uint64_t[]> slots_;
  std::uint32_t generation_ = 0;
};

}  // namespace

std::size_t lzf_compress(const void* in_data, std::size_t in_len, void* out_data, std::size_t out_len) {
  if (in_len == 0 || out_len == 0) return 0;
  // Positions are kept in 32 bits; RDB strings are below 4 GB (a string
  // value is at most 512 MB), bigger input is simply not compressed.
  if (in_len >= 0xffffffffu) return 0;
  thread_local hash_table table;
  table.reset();
  const auto* in = static_cast<const std::uint8_t*>(in_data);
  auto* out = static_cast<std::uint8_t*>(out_data);

  std::size_t ip = 0, op = 1;  // op: past the header byte of the current literal run
  std::size_t lit = 0;
  auto end_run = [&] {
    out[op - lit - 1] = static_cast<std::uint8_t>(lit - 1);
    if (lit == 0) --op;  // an empty run takes no header
  };

  if (in_len >= 3) {
    std::uint32_t h = first_hash(in);
    while (ip + 2 < in_len) {
      h = next_hash(h, in + ip);
      const std::int64_t ref_pos = table.exchange(slot_of(h), ip);
      const bool match = ref_pos > 0 && ip - static_cast<std::size_t>(ref_pos) - 1 < max_offset &&
                         in[ref_pos + 2] == in[ip + 2] && in[ref_pos] == in[ip] && in[ref_pos + 1] == in[ip + 1];
      if (match) {
        const auto ref = static_cast<std::size_t>(ref_pos);
        const std::size_t off = ip - ref - 1;
        std::size_t len = 2;
        std::size_t maxlen = in_len - ip - len;
        if (maxlen > max_ref) maxlen = max_ref;
        // Room for the reference (up to 3 bytes) and the next run's header.
        if (op + 3 + 1 >= out_len && op - (lit == 0 ? 1 : 0) + 3 + 1 >= out_len) return 0;
        end_run();
        // Extend the match: first up to 16 bytes without the bound check when
        // the bound is far (as liblzf's unrolled loop), then byte by byte.
        bool done = false;
        if (maxlen > 16) {
          for (int k = 0; k < 16 && !done; ++k) {
            ++len;
            done = in[ref + len] != in[ip + len];
          }
        }
        if (!done) {
          do ++len;
          while (len < maxlen && in[ref + len] == in[ip + len]);
        }
        len -= 2;  // encoded length
        ++ip;
        if (len < 7) {
          out[op++] = static_cast<std::uint8_t>((off >> 8) + (len << 5));
        } else {
          out[op++] = static_cast<std::uint8_t>((off >> 8) + (7 << 5));
          out[op++] = static_cast<std::uint8_t>(len - 7);
        }
        out[op++] = static_cast<std::uint8_t>(off);
        lit = 0;
        ++op;  // header of the next literal run
        ip += len + 1;
        if (ip + 2 >= in_len) break;
        // Hash the two positions before the new one (VERY_FAST).
        ip -= 2;
        h = first_hash(in + ip);
        h = next_hash(h, in + ip);
        table.set(slot_of(h), ip);
        ++ip;
        h = next_hash(h, in + ip);
        table.set(slot_of(h), ip);
        ++ip;
      } else {
        if (op >= out_len) return 0;
        ++lit;
        out[op++] = in[ip++];
        if (lit == max_literal) {
          out[op - lit - 1] = static_cast<std::uint8_t>(lit - 1);
          lit = 0;
          ++op;
        }
      }
    }
  }
  if (op + 3 > out_len) return 0;  // at most 3 more bytes follow
  while (ip < in_len) {
    ++lit;
    out[op++] = in[ip++];
    if (lit == max_literal) {
      out[op - lit - 1] = static_cast<std::uint8_t>(lit - 1);
      lit = 0;
      ++op;
    }
  }
  end_run();
  return op;
}

std::size_t lzf_decompress(const void* in_data, std::size_t in_len, void* out_data, std::size_t out_len) {
  const auto* in = static_cast<const std::uint8_t*>(in_data);
  auto* out = static_cast<std::uint8_t*>(out_data);
  std::size_t ip = 0, op = 0;
  while (ip < in_len) {
    const std::size_t ctrl = in[ip++];
    if (ctrl < 32) {  // literal run
      const std::size_t len = ctrl + 1;
      if (op + len > out_len || ip + len > in_len) return 0;
      std::memcpy(out + op, in + ip, len);
      op += len;
      ip += len;
      continue;
    }
    std::size_t len = ctrl >> 5;  // back reference
    if (len == 7) {
      if (ip >= in_len) return 0;
      len += in[ip++];
    }
    if (ip >= in_len) return 0;
    const std::size_t back = ((ctrl & 0x1f) << 8) + in[ip++] + 1;
    len += 2;
    if (back > op || op + len > out_len) return 0;
    // Byte by byte: the source may overlap the bytes being written.
    for (std::size_t i = 0; i < len; ++i, ++op) out[op] = out[op - back];
  }
  return op;
}

}  // namespace shrike::persistence
