// Bitmaps over strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
// BITFIELD_RO. Semantics and error texts follow Redis 7.0 (bitops.c).
//
// Bit numbering as Redis: bit 0 is the most significant bit of byte 0.
#include <algorithm>
#include <climits>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;

constexpr std::int64_t proto_max_bulk_len = 512ll * 1024 * 1024;

constexpr std::string_view err_bit_offset = "bit offset is not an integer or out of range";
constexpr std::string_view err_bit_value = "bit is not an integer or out of range";
constexpr std::string_view err_bitfield_type =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

// Redis compares option words with strcasecmp: an argument ends at its first
// NUL byte as far as such a comparison is concerned.
std::string_view c_string(std::string_view s) {
  const auto nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}
bool option_is(std::string_view arg, std::string_view word) { return iequals(c_string(arg), word); }

void set_raw(entry* e) { e->encoding = static_cast<std::uint8_t>(store::string_encoding::raw); }

unsigned char* bytes_of(entry* e) { return reinterpret_cast<unsigned char*>(e->value_data()); }

// getBitOffsetFromArgument. With `hash_bits` > 0 a "#N" offset means N * bits
// (BITFIELD); the multiplication wraps as Redis's does.
bool bit_offset_arg(command_context& ctx, std::string_view text, std::uint64_t& offset, int hash_bits = 0) {
  const bool use_hash = hash_bits > 0 && !text.empty() && text[0] == '#';
  std::int64_t v;
  if (!util::parse_int64(use_hash ? text.substr(1) : text, v)) {
    ctx.out.error(err_bit_offset);
    return false;
  }
  if (use_hash) v = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) * static_cast<std::uint64_t>(hash_bits));
  if (v < 0 || (v >> 3) >= proto_max_bulk_len) {
    ctx.out.error(err_bit_offset);
    return false;
  }
  offset = static_cast<std::uint64_t>(v);
  return true;
}

// Population count of `n` bytes, eight at a time. The loop is compiled twice:
// once for the x86-64 baseline (a libgcc call per word) and once with the
// POPCNT instruction, picked at run time. (Not target_clones: its ifunc
// resolver runs before sanitizer runtimes start and crashes TSan builds.)
[[gnu::always_inline]] inline std::uint64_t popcount_loop(const unsigned char* p, std::size_t n) {
  std::uint64_t count = 0;
  while (n >= 32) {
    std::uint64_t w[4];
    std::memcpy(w, p, sizeof(w));
    count += static_cast<std::uint64_t>(__builtin_popcountll(w[0]) + __builtin_popcountll(w[1]) +
                                        __builtin_popcountll(w[2]) + __builtin_popcountll(w[3]));
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof(w));
    count += static_cast<std::uint64_t>(__builtin_popcountll(w));
    p += 8;
    n -= 8;
  }
  while (n--) count += static_cast<std::uint64_t>(__builtin_popcount(*p++));
  return count;
}

std::uint64_t popcount_generic(const unsigned char* p, std::size_t n) { return popcount_loop(p, n); }

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) std::uint64_t popcount_hw(const unsigned char* p, std::size_t n) {
  return popcount_loop(p, n);
}
#endif

std::uint64_t popcount_bytes(const unsigned char* p, std::size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has_popcnt = __builtin_cpu_supports("popcnt");
  if (has_popcnt) return popcount_hw(p, n);
#endif
  return popcount_generic(p, n);
}

// Set bits among bits [first, last] (inclusive, last < 8 * length).
std::uint64_t count_bits(const unsigned char* p, std::uint64_t first, std::uint64_t last) {
  const std::uint64_t fb = first >> 3, lb = last >> 3;
  const unsigned head_mask = 0xFFu >> (first & 7);          // bits at and after `first` in its byte
  const unsigned tail_mask = (0xFF00u >> ((last & 7) + 1)) & 0xFFu;  // bits up to `last` in its byte
  if (fb == lb) return static_cast<std::uint64_t>(__builtin_popcount(p[fb] & head_mask & tail_mask));
  std::uint64_t count = static_cast<std::uint64_t>(__builtin_popcount(p[fb] & head_mask));
  count += popcount_bytes(p + fb + 1, static_cast<std::size_t>(lb - fb - 1));
  count += static_cast<std::uint64_t>(__builtin_popcount(p[lb] & tail_mask));
  return count;
}

// Position of the first bit equal to `bit` among bits [first, last], or -1.
std::int64_t find_bit(const unsigned char* p, std::uint64_t first, std::uint64_t last, int bit) {
  const unsigned flip = bit ? 0x00u : 0xFFu;  // search for a set bit in (byte ^ flip)
  auto first_in_byte = [&](std::uint64_t byte, unsigned mask) -> std::int64_t {
    const unsigned v = (p[byte] ^ flip) & mask;
    if (!v) return -1;
    return static_cast<std::int64_t>(byte * 8 + static_cast<std::uint64_t>(std::countl_zero(static_cast<std::uint8_t>(v))));
  };
  const std::uint64_t fb = first >> 3, lb = last >> 3;
  const unsigned head_mask = 0xFFu >> (first & 7);
  const unsigned tail_mask = (0xFF00u >> ((last & 7) + 1)) & 0xFFu;
  if (fb == lb) return first_in_byte(fb, head_mask & tail_mask);
  if (auto pos = first_in_byte(fb, head_mask); pos >= 0) return pos;
  // Whole bytes between: skip words that hold no candidate.
  const std::uint64_t skip = bit ? 0 : ~std::uint64_t{0};
  std::uint64_t b = fb + 1;
  while (b + 8 <= lb) {
    std::uint64_t w;
    std::memcpy(&w, p + b, sizeof(w));
    if (w != skip) break;
    b += 8;
  }
  for (; b < lb; ++b)
    if (auto pos = first_in_byte(b, 0xFFu); pos >= 0) return pos;
  return first_in_byte(lb, tail_mask);
}

// The [first, last] bit range of BITCOUNT/BITPOS from start/end indexes
// (bytes, or bits with `in_bits`); false when the range is empty.
bool resolve_range(std::int64_t start, std::int64_t end, bool in_bits, std::int64_t len_bytes, std::uint64_t& first,
                   std::uint64_t& last) {
  const std::int64_t total = in_bits ? len_bytes * 8 : len_bytes;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return false;
  if (in_bits) {
    first = static_cast<std::uint64_t>(start);
    last = static_cast<std::uint64_t>(end);
  } else {
    first = static_cast<std::uint64_t>(start) * 8;
    last = static_cast<std::uint64_t>(end) * 8 + 7;
  }
  return true;
}

// lookupStringForBitCommand: the string at argv[1], created or zero-padded so
// that bit `max_bit` exists. nullptr (reply written) on WRONGTYPE. `grown`
// tells whether the key was created or lengthened.
entry* string_for_write(command_context& ctx, store::database& db, std::uint64_t max_bit, bool& grown) {
  const std::size_t need = static_cast<std::size_t>(max_bit >> 3) + 1;
  entry* e = write_key(ctx, db, ctx.arg(1));
  grown = false;
  if (!e) {
    e = db.set_string(ctx.arg(1), {}, ctx.now_ms);
    notify_new(ctx, ctx.arg(1));
    grown = true;
  } else if (!check_type(ctx, e, value_type::string)) {
    return nullptr;
  }
  const std::size_t old_len = e->val_len;
  if (need > old_len) {
    e = db.resize_string(e, need);
    std::memset(e->value_data() + old_len, 0, need - old_len);
    grown = true;
  }
  set_raw(e);
  return e;
}

void cmd_setbit(command_context& ctx) {
  std::uint64_t offset;
  if (!bit_offset_arg(ctx, ctx.arg(2), offset)) return;
  std::int64_t on;
  if (!util::parse_int64(ctx.arg(3), on) || (on & ~std::int64_t{1})) return ctx.out.error(err_bit_value);
  bool grown;
  entry* e = string_for_write(ctx, ctx.db(ctx.arg(1)), offset, grown);
  if (!e) return;
  unsigned char& byte = bytes_of(e)[offset >> 3];
  const unsigned mask = 1u << (7 - (offset & 7));
  const bool old = byte & mask;
  if (on)
    byte = static_cast<unsigned char>(byte | mask);
  else
    byte = static_cast<unsigned char>(byte & ~mask);
  if (grown || old != (on != 0)) notify_event(ctx, notify::string, "setbit", ctx.arg(1));
  ctx.out.integer(old ? 1 : 0);
}

void cmd_getbit(command_context& ctx) {
  std::uint64_t offset;
  if (!bit_offset_arg(ctx, ctx.arg(2), offset)) return;
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::string)) return;
  const std::uint64_t byte = offset >> 3;
  int v = 0;
  if (byte < e->val_len) v = (bytes_of(e)[byte] >> (7 - (offset & 7))) & 1;
  ctx.out.integer(v);
}

// BITCOUNT key [start end [BYTE|BIT]]
void cmd_bitcount(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::string)) return;
  const auto len = static_cast<std::int64_t>(e->val_len);
  std::uint64_t first = 0, last = 0;
  if (ctx.argc() == 4 || ctx.argc() == 5) {
    std::int64_t start, end;
    if (!int_arg(ctx, 2, start) || !int_arg(ctx, 3, end)) return;
    if (start < 0 && end < 0 && start > end) return ctx.out.integer(0);
    bool in_bits = false;
    if (ctx.argc() == 5) {
      if (option_is(ctx.arg(4), "bit"))
        in_bits = true;
      else if (!option_is(ctx.arg(4), "byte"))
        return ctx.out.error(errors::syntax);
    }
    if (!resolve_range(start, end, in_bits, len, first, last)) return ctx.out.integer(0);
  } else if (ctx.argc() == 2) {
    if (len == 0) return ctx.out.integer(0);
    first = 0;
    last = static_cast<std::uint64_t>(len) * 8 - 1;
  } else {
    return ctx.out.error(errors::syntax);
  }
  ctx.out.integer(static_cast<std::int64_t>(count_bits(bytes_of(e), first, last)));
}

// BITPOS key bit [start [end [BYTE|BIT]]]
void cmd_bitpos(command_context& ctx) {
  std::int64_t bit;
  if (!int_arg(ctx, 2, bit)) return;
  if (bit != 0 && bit != 1) return ctx.out.error("The bit argument must be 1 or 0.");
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  // A missing key is an endless run of zeros.
  if (!e) return ctx.out.integer(bit ? -1 : 0);
  if (!check_type(ctx, e, value_type::string)) return;
  const auto len = static_cast<std::int64_t>(e->val_len);
  bool end_given = false;
  std::uint64_t first = 0, last = 0;
  const std::size_t argc = ctx.argc();
  if (argc >= 4 && argc <= 6) {
    std::int64_t start, end;
    if (!int_arg(ctx, 3, start)) return;
    bool in_bits = false;
    if (argc == 6) {
      if (option_is(ctx.arg(5), "bit"))
        in_bits = true;
      else if (!option_is(ctx.arg(5), "byte"))
        return ctx.out.error(errors::syntax);
    }
    if (argc >= 5) {
      if (!int_arg(ctx, 4, end)) return;
      end_given = true;
    } else {
      end = len - 1;
    }
    if (!resolve_range(start, end, in_bits, len, first, last)) return ctx.out.integer(-1);
  } else if (argc == 3) {
    if (len == 0) return ctx.out.integer(-1);
    first = 0;
    last = static_cast<std::uint64_t>(len) * 8 - 1;
  } else {
    return ctx.out.error(errors::syntax);
  }
  const std::int64_t pos = find_bit(bytes_of(e), first, last, static_cast<int>(bit));
  if (pos >= 0) return ctx.out.integer(pos);
  // No clear bit in the range: without an explicit end the string counts as
  // followed by zeros, so the answer is the first bit after it.
  if (bit == 0 && !end_given) return ctx.out.integer(static_cast<std::int64_t>(last + 1));
  ctx.out.integer(-1);
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]
void cmd_bitop(command_context& ctx) {
  enum class op { and_, or_, xor_, not_ } kind;
  std::string_view name = ctx.arg(1);
  if (option_is(name, "and"))
    kind = op::and_;
  else if (option_is(name, "or"))
    kind = op::or_;
  else if (option_is(name, "xor"))
    kind = op::xor_;
  else if (option_is(name, "not"))
    kind = op::not_;
  else
    return ctx.out.error(errors::syntax);
  if (kind == op::not_ && ctx.argc() != 4) return ctx.out.error("BITOP NOT must be called with a single source key.");

  const std::size_t nsrc = ctx.argc() - 3;
  std::vector<std::string_view> src(nsrc);
  std::size_t max_len = 0, min_len = 0;
  for (std::size_t j = 0; j < nsrc; ++j) {
    std::string_view key = ctx.arg(j + 3);
    entry* e = read_key(ctx, ctx.db(key), key);
    if (!e) {
      min_len = 0;
      continue;
    }
    if (!check_type(ctx, e, value_type::string)) return;
    src[j] = e->str();
    max_len = std::max(max_len, src[j].size());
    if (j == 0 || src[j].size() < min_len) min_len = src[j].size();
  }
  // Reads do not move blocks, so the views stay valid until the store below.
  // Every byte of the result is written below: no need to zero it first.
  std::unique_ptr<unsigned char[]> result;
  if (max_len) {
    result = std::make_unique_for_overwrite<unsigned char[]>(max_len);
    unsigned char* out = result.get();
    auto byte_at = [&](std::size_t j, std::size_t i) -> unsigned char {
      return i < src[j].size() ? static_cast<unsigned char>(src[j][i]) : 0;
    };
    // Words over the prefix every source covers, then bytes (missing = 0).
    std::size_t i = 0;
    for (; i + 8 <= min_len; i += 8) {
      std::uint64_t acc, w;
      std::memcpy(&acc, src[0].data() + i, 8);
      if (kind == op::not_) acc = ~acc;
      for (std::size_t j = 1; j < nsrc; ++j) {
        std::memcpy(&w, src[j].data() + i, 8);
        if (kind == op::and_)
          acc &= w;
        else if (kind == op::or_)
          acc |= w;
        else
          acc ^= w;
      }
      std::memcpy(out + i, &acc, 8);
    }
    for (; i < max_len; ++i) {
      unsigned acc = byte_at(0, i);
      if (kind == op::not_) acc = ~acc & 0xFFu;
      for (std::size_t j = 1; j < nsrc; ++j) {
        if (kind == op::and_)
          acc &= byte_at(j, i);
        else if (kind == op::or_)
          acc |= byte_at(j, i);
        else
          acc ^= byte_at(j, i);
      }
      out[i] = static_cast<unsigned char>(acc);
    }
  }
  std::string_view dest = ctx.arg(2);
  auto& ddb = ctx.db(dest);
  if (max_len) {
    const bool created = creating_key(ctx, ddb, dest);
    entry* e = ddb.set_string(dest, std::string_view(reinterpret_cast<const char*>(result.get()), max_len), ctx.now_ms);
    set_raw(e);
    if (created) notify_new(ctx, dest);
    notify_event(ctx, notify::string, "set", dest);
  } else if (ddb.erase(dest)) {
    notify_event(ctx, notify::generic, "del", dest);
  }
  ctx.out.integer(static_cast<std::int64_t>(max_len));
}

// ---- BITFIELD ---------------------------------------------------------------

enum class overflow_mode { wrap, sat, fail };
enum class field_op { get, set, incrby };

struct field_spec {
  std::uint64_t offset;
  std::int64_t value;  // SET value or INCRBY increment
  field_op op;
  overflow_mode overflow;
  int bits;
  bool is_signed;
};

// getBitfieldTypeFromArgument: i1..i64, u1..u63.
bool bitfield_type_arg(command_context& ctx, std::string_view text, bool& is_signed, int& bits) {
  text = c_string(text);
  std::int64_t n;
  if (text.empty() || (text[0] != 'i' && text[0] != 'u') || !util::parse_int64(text.substr(1), n) || n < 1 ||
      n > (text[0] == 'i' ? 64 : 63)) {
    ctx.out.error(err_bitfield_type);
    return false;
  }
  is_signed = text[0] == 'i';
  bits = static_cast<int>(n);
  return true;
}

// Bit fields are read and written MSB first; every field lies inside `p`.
std::uint64_t read_field(const unsigned char* p, std::uint64_t offset, int bits) {
  std::uint64_t v = 0;
  for (int j = 0; j < bits; ++j, ++offset) v = (v << 1) | ((p[offset >> 3] >> (7 - (offset & 7))) & 1u);
  return v;
}

void write_field(unsigned char* p, std::uint64_t offset, int bits, std::uint64_t value) {
  for (int j = bits - 1; j >= 0; --j, ++offset) {
    const unsigned mask = 1u << (7 - (offset & 7));
    unsigned char& byte = p[offset >> 3];
    if ((value >> j) & 1u)
      byte = static_cast<unsigned char>(byte | mask);
    else
      byte = static_cast<unsigned char>(byte & ~mask);
  }
}

// The low `bits` bits of v as a two's complement number.
std::int64_t sign_extend(std::uint64_t v, int bits) {
  if (bits < 64) {
    const std::uint64_t high = ~std::uint64_t{0} << bits;
    v = (v >> (bits - 1)) & 1u ? v | high : v & ~high;
  }
  return static_cast<std::int64_t>(v);
}

// value + incr into a field of `bits` bits. Returns false when the result does
// not fit; `out` then holds the wrapped or saturated result for WRAP/SAT.
// (SET is the case incr == 0 with the new value as `value`.)
//
// Signed limits are checked with Redis's formulas, wrapping included: for a
// SET of a value far below the minimum (value <= max - 2^63) the wrapped
// "max - value" makes Redis see an overflow upwards, so SAT stores the maximum.
bool fit_signed(std::int64_t value, std::int64_t incr, int bits, overflow_mode mode, std::int64_t& out) {
  const std::int64_t max = bits == 64 ? INT64_MAX : (std::int64_t{1} << (bits - 1)) - 1;
  const std::int64_t min = -max - 1;
  auto wrapping_sub = [](std::int64_t a, std::int64_t b) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
  };
  const std::int64_t max_incr = wrapping_sub(max, value);
  const std::int64_t min_incr = wrapping_sub(min, value);
  const bool over = value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr);
  const bool under =
      !over && (value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr));
  const std::uint64_t sum = static_cast<std::uint64_t>(value) + static_cast<std::uint64_t>(incr);
  if (!over && !under) {
    out = static_cast<std::int64_t>(sum);
    return true;
  }
  if (mode == overflow_mode::sat)
    out = over ? max : min;
  else
    out = sign_extend(sum, bits);
  return false;
}

bool fit_unsigned(std::uint64_t value, std::int64_t incr, int bits, overflow_mode mode, std::uint64_t& out) {
  const std::uint64_t max = (std::uint64_t{1} << bits) - 1;  // bits <= 63
  // Magnitude of a negative increment, without negating INT64_MIN.
  const std::uint64_t down = incr < 0 ? static_cast<std::uint64_t>(-(incr + 1)) + 1 : 0;
  const bool over = value > max || (incr > 0 && static_cast<std::uint64_t>(incr) > max - value);
  const bool under = !over && down > value;
  if (!over && !under) {
    out = value + static_cast<std::uint64_t>(incr);
    return true;
  }
  if (mode == overflow_mode::sat)
    out = over ? max : 0;
  else
    out = (value + static_cast<std::uint64_t>(incr)) & max;
  return false;
}

void bitfield_generic(command_context& ctx, bool read_only_command) {
  std::vector<field_spec> ops;
  overflow_mode overflow = overflow_mode::wrap;
  bool writes = false;
  std::uint64_t highest_write_bit = 0;
  for (std::size_t j = 2; j < ctx.argc(); ++j) {
    const std::size_t rem = ctx.argc() - j - 1;
    std::string_view sub = ctx.arg(j);
    field_op op;
    if (option_is(sub, "get") && rem >= 2) {
      op = field_op::get;
    } else if (option_is(sub, "set") && rem >= 3) {
      op = field_op::set;
    } else if (option_is(sub, "incrby") && rem >= 3) {
      op = field_op::incrby;
    } else if (option_is(sub, "overflow") && rem >= 1) {
      std::string_view mode = ctx.arg(++j);
      if (option_is(mode, "wrap"))
        overflow = overflow_mode::wrap;
      else if (option_is(mode, "sat"))
        overflow = overflow_mode::sat;
      else if (option_is(mode, "fail"))
        overflow = overflow_mode::fail;
      else
        return ctx.out.error("Invalid OVERFLOW type specified");
      continue;
    } else {
      return ctx.out.error(errors::syntax);
    }
    field_spec f{};
    f.op = op;
    f.overflow = overflow;
    if (!bitfield_type_arg(ctx, ctx.arg(j + 1), f.is_signed, f.bits)) return;
    if (!bit_offset_arg(ctx, ctx.arg(j + 2), f.offset, f.bits)) return;
    if (op != field_op::get) {
      writes = true;
      highest_write_bit = std::max(highest_write_bit, f.offset + static_cast<std::uint64_t>(f.bits) - 1);
      if (!int_arg(ctx, j + 3, f.value)) return;
    }
    ops.push_back(f);
    j += op == field_op::get ? 2 : 3;
  }

  auto& db = ctx.db(ctx.arg(1));
  entry* e;
  bool grown = false;
  if (!writes) {
    e = read_key(ctx, db, ctx.arg(1));
    if (e && !check_type(ctx, e, value_type::string)) return;
  } else {
    if (read_only_command) return ctx.out.error("BITFIELD_RO only supports the GET subcommand");
    e = string_for_write(ctx, db, highest_write_bit, grown);
    if (!e) return;
  }

  ctx.out.array(ops.size());
  bool changed = false;  // a write that changed a field (or grew the string): "setbit"
  for (const auto& f : ops) {
    if (f.op == field_op::get) {
      // Read through a zero-padded copy of the (at most 9) bytes covered.
      unsigned char buf[9] = {};
      const std::uint64_t byte = f.offset >> 3;
      if (e && byte < e->val_len)
        std::memcpy(buf, bytes_of(e) + byte, std::min<std::uint64_t>(9, e->val_len - byte));
      const std::uint64_t raw = read_field(buf, f.offset & 7, f.bits);
      ctx.out.integer(f.is_signed ? sign_extend(raw, f.bits) : static_cast<std::int64_t>(raw));
      continue;
    }
    unsigned char* p = bytes_of(e);
    const std::uint64_t old_raw = read_field(p, f.offset, f.bits);
    bool fits;
    std::int64_t reply;
    std::uint64_t new_raw;
    if (f.is_signed) {
      const std::int64_t old_value = sign_extend(old_raw, f.bits);
      std::int64_t result;
      if (f.op == field_op::incrby) {
        fits = fit_signed(old_value, f.value, f.bits, f.overflow, result);
        reply = result;
      } else {
        fits = fit_signed(f.value, 0, f.bits, f.overflow, result);
        reply = old_value;
      }
      new_raw = static_cast<std::uint64_t>(result);
    } else {
      std::uint64_t result;
      if (f.op == field_op::incrby) {
        fits = fit_unsigned(old_raw, f.value, f.bits, f.overflow, result);
        reply = static_cast<std::int64_t>(result);
      } else {
        fits = fit_unsigned(static_cast<std::uint64_t>(f.value), 0, f.bits, f.overflow, result);
        reply = static_cast<std::int64_t>(old_raw);
      }
      new_raw = result;
    }
    if (!fits && f.overflow == overflow_mode::fail) {
      ctx.out.null();
      continue;
    }
    ctx.out.integer(reply);
    write_field(p, f.offset, f.bits, new_raw);
    const std::uint64_t field_mask = f.bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << f.bits) - 1;
    if (grown || (new_raw & field_mask) != old_raw) changed = true;
  }
  if (changed) notify_event(ctx, notify::string, "setbit", ctx.arg(1));
}

void cmd_bitfield(command_context& ctx) { bitfield_generic(ctx, false); }
void cmd_bitfield_ro(command_context& ctx) { bitfield_generic(ctx, true); }

}  // namespace

void register_bit_commands(command_table& t) {
  t.add("setbit", exec_kind::keyed, cmd_setbit);
  t.add("getbit", exec_kind::keyed, cmd_getbit);
  t.add("bitcount", exec_kind::keyed, cmd_bitcount);
  t.add("bitpos", exec_kind::keyed, cmd_bitpos);
  t.add("bitop", exec_kind::keyed, cmd_bitop);
  t.add("bitfield", exec_kind::keyed, cmd_bitfield);
  t.add("bitfield_ro", exec_kind::keyed, cmd_bitfield_ro);
}

}  // namespace shrike::commands
