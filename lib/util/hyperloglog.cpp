#include "util/hyperloglog.hpp"

#include <cmath>
#include <cstring>

namespace shrike::util::hll {

namespace {

constexpr int p_bits = 14;               // registers = 2^14
constexpr int q_bits = 64 - p_bits;      // hash bits left for the zero run
constexpr std::uint8_t register_max = 63;
constexpr std::uint8_t enc_dense = 0, enc_sparse = 1;
constexpr std::size_t encoding_at = 4, card_at = 8;

// Sparse opcodes: 00xxxxxx ZERO (1..64 zero registers), 01xxxxxx xxxxxxxx
// XZERO (1..16384 zeros), 1vvvvvxx VAL (1..4 registers of value 1..32).
constexpr int val_max_value = 32, val_max_len = 4, zero_max_len = 64, xzero_max_len = 16384;
bool is_zero(std::uint8_t b) { return (b & 0xc0) == 0; }
bool is_xzero(std::uint8_t b) { return (b & 0xc0) == 0x40; }
bool is_val(std::uint8_t b) { return b & 0x80; }
int zero_len(std::uint8_t b) { return (b & 0x3f) + 1; }
int xzero_len(std::uint8_t b0, std::uint8_t b1) { return (((b0 & 0x3f) << 8) | b1) + 1; }
int val_value(std::uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
int val_len(std::uint8_t b) { return (b & 0x3) + 1; }
std::uint8_t val_op(int value, int len) { return static_cast<std::uint8_t>(((value - 1) << 2 | (len - 1)) | 0x80); }
std::uint8_t zero_op(int len) { return static_cast<std::uint8_t>(len - 1); }
void put_xzero(std::uint8_t* p, int len) {
  p[0] = static_cast<std::uint8_t>(((len - 1) >> 8) | 0x40);
  p[1] = static_cast<std::uint8_t>((len - 1) & 0xff);
}

std::uint8_t* bytes(std::string& s) { return reinterpret_cast<std::uint8_t*>(s.data()); }
const std::uint8_t* bytes(std::string_view s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

// Dense registers: 6 bits each, register i starting at bit 6*i, low bits
// first. The last register's second byte lies past the array: Redis reads
// (and writes zeros into) the string's terminating NUL there, so it is
// simply skipped here.
std::uint8_t dense_get(const std::uint8_t* regs, std::size_t nbytes, long i) {
  const std::size_t byte = static_cast<std::size_t>(i) * 6 / 8;
  const unsigned fb = static_cast<unsigned>(i * 6) & 7;
  unsigned long b0 = regs[byte];
  unsigned long b1 = byte + 1 < nbytes ? regs[byte + 1] : 0;
  return static_cast<std::uint8_t>(((b0 >> fb) | (b1 << (8 - fb))) & register_max);
}

void dense_put(std::uint8_t* regs, std::size_t nbytes, long i, std::uint8_t v) {
  const std::size_t byte = static_cast<std::size_t>(i) * 6 / 8;
  const unsigned fb = static_cast<unsigned>(i * 6) & 7;
  regs[byte] = static_cast<std::uint8_t>((regs[byte] & ~(register_max << fb)) | (v << fb));
  if (byte + 1 < nbytes) {
    const unsigned fb8 = 8 - fb;
    regs[byte + 1] =
        static_cast<std::uint8_t>((regs[byte + 1] & ~(register_max >> fb8)) | (static_cast<unsigned>(v) >> fb8));
  }
}

constexpr std::size_t dense_bytes = dense_size - header_size;

// hllDenseSet: 1 when the register grew.
int dense_set(std::string& s, long index, std::uint8_t count) {
  std::uint8_t* regs = bytes(s) + header_size;
  if (count <= dense_get(regs, dense_bytes, index)) return 0;
  dense_put(regs, dense_bytes, index, count);
  return 1;
}

// hllPatLen: the register an element goes to and the length of its 0..01 run.
int pattern(std::string_view element, long& index) {
  std::uint64_t hash = murmur64a(element, 0xadc83b19ULL);
  index = static_cast<long>(hash & (registers - 1));
  hash >>= p_bits;
  hash |= std::uint64_t{1} << q_bits;  // the run ends by bit q at the latest
  int count = 1;
  for (std::uint64_t bit = 1; (hash & bit) == 0; bit <<= 1) ++count;
  return count;
}

// Walks the sparse opcodes, calling f(first register, run length, value)
// per run; false when the runs do not cover exactly the registers (or a VAL
// run overflows them, which Redis stops at).
template <class F>
bool walk_sparse(std::string_view s, F&& f) {
  const std::uint8_t* p = bytes(s) + header_size;
  const std::uint8_t* end = bytes(s) + s.size();
  long idx = 0;
  while (p < end) {
    if (is_zero(*p)) {
      idx += zero_len(*p);
      ++p;
    } else if (is_xzero(*p)) {
      // A truncated XZERO reads the byte after the string in Redis (its NUL).
      idx += xzero_len(p[0], p + 1 < end ? p[1] : 0);
      p += 2;
    } else {
      const int len = val_len(*p);
      if (len + idx > registers) return false;
      f(idx, len, val_value(*p));
      idx += len;
      ++p;
    }
  }
  return idx == registers;
}

double sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prev, y = 1, z = x;
  do {
    x *= x;
    z_prev = z;
    z += x * y;
    y += y;
  } while (z_prev != z);
  return z;
}

double tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prev, y = 1.0, z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prev = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prev != z);
  return z / 3;
}

// hllCount's estimator over a register histogram.
std::uint64_t estimate(const int (&histo)[64]) {
  constexpr double alpha_inf = 0.721347520444481703680;  // 0.5 / ln 2
  const double m = registers;
  double z = m * tau((m - histo[q_bits + 1]) / m);
  for (int j = q_bits; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  return static_cast<std::uint64_t>(static_cast<double>(std::llroundl(alpha_inf * m * m / z)));
}

bool cache_valid(std::string_view s) { return (bytes(s)[card_at + 7] & 0x80) == 0; }

}  // namespace

std::uint64_t murmur64a(std::string_view data, std::uint64_t seed) {
  constexpr std::uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const auto len = static_cast<int>(data.size());
  // Redis's seed parameter is an unsigned int and len * m is computed in 64 bits.
  std::uint64_t h = static_cast<std::uint32_t>(seed) ^ (static_cast<std::uint64_t>(static_cast<std::int64_t>(len)) * m);
  const std::uint8_t* p = bytes(data);
  const std::uint8_t* end = p + (len - (len & 7));
  for (; p != end; p += 8) {
    std::uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | p[i];
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  switch (len & 7) {
    case 7: h ^= static_cast<std::uint64_t>(p[6]) << 48; [[fallthrough]];
    case 6: h ^= static_cast<std::uint64_t>(p[5]) << 40; [[fallthrough]];
    case 5: h ^= static_cast<std::uint64_t>(p[4]) << 32; [[fallthrough]];
    case 4: h ^= static_cast<std::uint64_t>(p[3]) << 24; [[fallthrough]];
    case 3: h ^= static_cast<std::uint64_t>(p[2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<std::uint64_t>(p[1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint64_t>(p[0]);
      h *= m;
      break;
    default: break;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

std::string create() {
  std::string s(header_size + 2, '\0');  // one XZERO covers all 16384 registers
  std::memcpy(s.data(), "HYLL", 4);
  s[encoding_at] = static_cast<char>(enc_sparse);
  put_xzero(bytes(s) + header_size, xzero_max_len);
  return s;
}

bool valid(std::string_view s) {
  if (s.size() < header_size || s.substr(0, 4) != "HYLL") return false;
  const std::uint8_t enc = bytes(s)[encoding_at];
  if (enc > enc_sparse) return false;
  return enc != enc_dense || s.size() == dense_size;
}

bool is_dense(std::string_view s) { return bytes(s)[encoding_at] == enc_dense; }

void invalidate_cache(std::string& s) { bytes(s)[card_at + 7] |= 0x80; }

bool to_dense(std::string& s) {
  if (is_dense(s)) return true;
  // The header is kept (magic, cached cardinality), the encoding changes.
  std::string dense(dense_size, '\0');
  std::memcpy(dense.data(), s.data(), header_size);
  dense[encoding_at] = static_cast<char>(enc_dense);
  std::uint8_t* regs = bytes(dense) + header_size;
  const bool ok = walk_sparse(s, [&](long first, int len, int value) {
    for (int i = 0; i < len; ++i) dense_put(regs, dense_bytes, first + i, static_cast<std::uint8_t>(value));
  });
  if (!ok) return false;
  s = std::move(dense);
  return true;
}

int set_register(std::string& s, int index_, std::uint8_t count, std::size_t sparse_max_bytes) {
  const long index = index_;
  if (is_dense(s)) return dense_set(s, index, count);

  auto promote = [&]() -> int {
    if (!to_dense(s)) return -1;
    return dense_set(s, index, count);  // always 1: the register needed to grow
  };
  if (count > val_max_value) return promote();

  // Step 1: the opcode covering `index`.
  const std::size_t start = header_size, end = s.size();
  std::size_t pos = start, prev = std::string::npos;
  long first = 0, span = 0;
  const std::uint8_t* b = bytes(s);
  while (pos < end) {
    std::size_t oplen = 1;
    if (is_zero(b[pos])) {
      span = zero_len(b[pos]);
    } else if (is_val(b[pos])) {
      span = val_len(b[pos]);
    } else {
      span = xzero_len(b[pos], pos + 1 < end ? b[pos + 1] : 0);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = pos;
    pos += oplen;
    first += span;
  }
  if (span == 0 || pos >= end) return -1;

  const std::uint8_t op = b[pos];
  const bool zero = is_zero(op), xzero = is_xzero(op);
  const long runlen = zero ? zero_len(op) : xzero ? span : val_len(op);

  bool rewritten = false;
  // Step 2: the cases updated in place.
  if (!zero && !xzero) {
    if (val_value(op) >= count) return 0;  // A: no change
    if (runlen == 1) {                     // B: a VAL of one register
      bytes(s)[pos] = val_op(count, 1);
      rewritten = true;
    }
  }
  if (!rewritten && zero && runlen == 1) {  // C: a ZERO of one register
    bytes(s)[pos] = val_op(count, 1);
    rewritten = true;
  }
  if (!rewritten) {
    // D: split the opcode into up to three (XZERO-VAL-XZERO at worst).
    std::uint8_t seq[5];
    std::size_t n = 0;
    const long last = first + span - 1;
    auto zeros = [&](long len) {
      if (len > zero_max_len) {
        put_xzero(seq + n, static_cast<int>(len));
        n += 2;
      } else {
        seq[n++] = zero_op(static_cast<int>(len));
      }
    };
    if (zero || xzero) {
      if (index != first) zeros(index - first);
      seq[n++] = val_op(count, 1);
      if (index != last) zeros(last - index);
    } else {
      const int cur = val_value(op);
      if (index != first) seq[n++] = val_op(cur, static_cast<int>(index - first));
      seq[n++] = val_op(count, 1);
      if (index != last) seq[n++] = val_op(cur, static_cast<int>(last - index));
    }
    const std::size_t oldlen = xzero ? 2 : 1;
    if (n > oldlen && s.size() + (n - oldlen) > sparse_max_bytes) return promote();
    // The value changes length by n - oldlen, as in Redis, even when the
    // opcode is a last XZERO cut after its first byte: then the last byte of
    // the new sequence falls past the end. (Such a value is corrupt. Its
    // missing byte reads as 0 here; Redis reads whatever its buffer holds
    // past the string, so corrupt values can go different ways.)
    const std::size_t new_size = s.size() + n - oldlen;
    if (pos + oldlen > s.size()) s.resize(pos + oldlen, '\0');
    s.replace(pos, oldlen, reinterpret_cast<const char*>(seq), n);
    s.resize(new_size);
  }

  // Step 4: merge adjacent VALs of the same value, scanning at most five
  // opcodes from the one before the change.
  std::size_t p = prev != std::string::npos ? prev : start;
  int scanlen = 5;
  while (p < s.size() && scanlen--) {
    const std::uint8_t* q = bytes(s);
    if (is_xzero(q[p])) {
      p += 2;
      continue;
    }
    if (is_zero(q[p])) {
      ++p;
      continue;
    }
    if (p + 1 < s.size() && is_val(q[p + 1])) {
      const int v1 = val_value(q[p]), v2 = val_value(q[p + 1]);
      const int len = val_len(q[p]) + val_len(q[p + 1]);
      if (v1 == v2 && len <= val_max_len) {
        bytes(s)[p + 1] = val_op(v1, len);
        s.erase(p, 1);
        continue;  // the merged opcode may merge with the next one too
      }
    }
    ++p;
  }
  invalidate_cache(s);
  return 1;
}

int add(std::string& s, std::string_view element, std::size_t sparse_max_bytes) {
  long index;
  const int count = pattern(element, index);
  return set_register(s, static_cast<int>(index), static_cast<std::uint8_t>(count), sparse_max_bytes);
}

bool merge_into(raw_registers& max, std::string_view s) {
  if (is_dense(s)) {
    const std::uint8_t* regs = bytes(s) + header_size;
    for (int i = 0; i < registers; ++i) {
      const std::uint8_t v = dense_get(regs, dense_bytes, i);
      if (v > max[static_cast<std::size_t>(i)]) max[static_cast<std::size_t>(i)] = v;
    }
    return true;
  }
  return walk_sparse(s, [&](long first, int len, int value) {
    for (int i = 0; i < len; ++i) {
      auto& m = max[static_cast<std::size_t>(first + i)];
      if (value > m) m = static_cast<std::uint8_t>(value);
    }
  });
}

bool count(std::string& s, std::uint64_t& card, bool& recomputed) {
  recomputed = false;
  if (cache_valid(s)) {
    card = 0;
    for (int i = 7; i >= 0; --i) card = (card << 8) | bytes(s)[card_at + static_cast<std::size_t>(i)];
    return true;
  }
  int histo[64] = {};
  if (is_dense(s)) {
    const std::uint8_t* regs = bytes(s) + header_size;
    for (int i = 0; i < registers; ++i) ++histo[dense_get(regs, dense_bytes, i)];
  } else {
    // Zero runs count too: walk the opcodes directly.
    const std::uint8_t* p = bytes(s) + header_size;
    const std::uint8_t* end = bytes(s) + s.size();
    long idx = 0;
    while (p < end) {
      if (is_zero(*p)) {
        histo[0] += zero_len(*p);
        idx += zero_len(*p);
        ++p;
      } else if (is_xzero(*p)) {
        const int len = xzero_len(p[0], p + 1 < end ? p[1] : 0);
        histo[0] += len;
        idx += len;
        p += 2;
      } else {
        histo[val_value(*p)] += val_len(*p);
        idx += val_len(*p);
        ++p;
      }
    }
    if (idx != registers) return false;
  }
  card = estimate(histo);
  for (int i = 0; i < 8; ++i) bytes(s)[card_at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(card >> (8 * i));
  recomputed = true;
  return true;
}

std::uint64_t count(const raw_registers& regs) {
  int histo[64] = {};
  for (std::uint8_t v : regs) ++histo[v & 63];
  return estimate(histo);
}

}  // namespace shrike::util::hll
