#include "persistence/encodings.hpp"

#include <cstring>

#include "util/numbers.hpp"

namespace shrike::persistence {

namespace {

std::uint32_t load_u32(const unsigned char* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}
std::uint16_t load_u16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint64_t load_le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
// Sign-extends the low `bits` bits of v.
std::int64_t sign_extend(std::uint64_t v, int bits) {
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  v &= (sign << 1) - 1;
  return static_cast<std::int64_t>((v ^ sign) - sign);
}

// lpEncodeBacklen: the size `l` written most significant group first, every
// byte but the first with the high bit set (so it reads back right to left).
std::size_t encode_backlen(unsigned char* buf, std::uint64_t l) {
  if (l <= 127) {
    buf[0] = static_cast<unsigned char>(l);
    return 1;
  }
  std::size_t n = l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t shift = 7 * (n - 1 - i);
    buf[i] = static_cast<unsigned char>(((l >> shift) & 127) | (i ? 128 : 0));
  }
  return n;
}
std::size_t backlen_size(std::uint64_t l) {
  unsigned char tmp[5];
  return encode_backlen(tmp, l);
}

}  // namespace

std::string packed_element::text() const {
  if (is_int) return util::format_int64(num);
  return std::string(str);
}

void packed_element::append_to(std::string& out) const {
  if (is_int)
    util::append_int64(out, num);
  else
    out.append(str);
}

// ---- listpack ----

void listpack_builder::reset() {
  buf_.assign(6, '\0');
  count_ = 0;
}

void listpack_builder::add_entry(const unsigned char* enc, std::size_t enc_len, std::string_view payload) {
  const std::size_t entry_len = enc_len + payload.size();
  unsigned char back[5];
  const std::size_t back_len = encode_backlen(back, entry_len);
  buf_.append(reinterpret_cast<const char*>(enc), enc_len);
  buf_.append(payload);
  buf_.append(reinterpret_cast<const char*>(back), back_len);
  ++count_;
}

void listpack_builder::add_int(std::int64_t v) {
  unsigned char enc[9];
  std::size_t n;
  auto put = [&](unsigned char tag, std::uint64_t u, int bytes) {
    enc[0] = tag;
    for (int i = 0; i < bytes; ++i) enc[1 + i] = static_cast<unsigned char>(u >> (8 * i));
    n = static_cast<std::size_t>(1 + bytes);
  };
  const auto u = static_cast<std::uint64_t>(v);
  if (v >= 0 && v <= 127) {
    enc[0] = static_cast<unsigned char>(v);
    n = 1;
  } else if (v >= -4096 && v <= 4095) {
    const std::uint64_t t = u & 0x1fff;
    enc[0] = static_cast<unsigned char>((t >> 8) | 0xc0);
    enc[1] = static_cast<unsigned char>(t & 0xff);
    n = 2;
  } else if (v >= -32768 && v <= 32767) {
    put(0xf1, u, 2);
  } else if (v >= -8388608 && v <= 8388607) {
    put(0xf2, u, 3);
  } else if (v >= -2147483648LL && v <= 2147483647LL) {
    put(0xf3, u, 4);
  } else {
    put(0xf4, u, 8);
  }
  add_entry(enc, n, {});
}

void listpack_builder::add(std::string_view s) {
  std::int64_t v;
  if (util::parse_int64(s, v)) return add_int(v);
  unsigned char enc[5];
  std::size_t n;
  const std::size_t len = s.size();
  if (len < 64) {
    enc[0] = static_cast<unsigned char>(len | 0x80);
    n = 1;
  } else if (len < 4096) {
    enc[0] = static_cast<unsigned char>((len >> 8) | 0xe0);
    enc[1] = static_cast<unsigned char>(len & 0xff);
    n = 2;
  } else {
    enc[0] = 0xf0;
    for (int i = 0; i < 4; ++i) enc[1 + i] = static_cast<unsigned char>(len >> (8 * i));
    n = 5;
  }
  add_entry(enc, n, s);
}

const std::string& listpack_builder::finish() {
  buf_.push_back(static_cast<char>(0xff));
  const auto total = static_cast<std::uint32_t>(buf_.size());
  const auto count = static_cast<std::uint16_t>(count_ < 65535 ? count_ : 65535);
  for (int i = 0; i < 4; ++i) buf_[static_cast<std::size_t>(i)] = static_cast<char>(total >> (8 * i));
  buf_[4] = static_cast<char>(count & 0xff);
  buf_[5] = static_cast<char>(count >> 8);
  return buf_;
}

bool parse_listpack(std::string_view lp_view, std::vector<packed_element>& out) {
  const auto* lp = reinterpret_cast<const unsigned char*>(lp_view.data());
  const std::size_t size = lp_view.size();
  if (size < 7 || load_u32(lp) != size || lp[size - 1] != 0xff) return false;
  const std::uint16_t numele = load_u16(lp + 4);
  std::size_t p = 6, count = 0;
  const std::size_t end = size - 1;  // the terminator
  while (p < end) {
    const unsigned char b = lp[p];
    packed_element el;
    std::size_t head, len = 0;  // header bytes, string payload bytes
    auto need = [&](std::size_t n) { return p + n <= end; };
    if ((b & 0x80) == 0) {
      el.is_int = true;
      el.num = b & 0x7f;
      head = 1;
    } else if ((b & 0xc0) == 0x80) {
      head = 1;
      len = b & 0x3f;
    } else if ((b & 0xe0) == 0xc0) {
      if (!need(2)) return false;
      el.is_int = true;
      el.num = sign_extend((std::uint64_t{b & 0x1fu} << 8) | lp[p + 1], 13);
      head = 2;
    } else if ((b & 0xf0) == 0xe0) {
      if (!need(2)) return false;
      head = 2;
      len = (std::size_t{b & 0x0fu} << 8) | lp[p + 1];
    } else if (b == 0xf0) {
      if (!need(5)) return false;
      head = 5;
      len = load_u32(lp + p + 1);
    } else if (b >= 0xf1 && b <= 0xf4) {
      static constexpr int widths[] = {2, 3, 4, 8};
      const int w = widths[b - 0xf1];
      if (!need(static_cast<std::size_t>(1 + w))) return false;
      el.is_int = true;
      el.num = sign_extend(load_le(lp + p + 1, w), 8 * w);
      head = static_cast<std::size_t>(1 + w);
    } else {
      return false;  // 0xf5..0xfe are unused; 0xff cannot start an entry here
    }
    const std::size_t entry_len = head + len;
    const std::size_t back = backlen_size(entry_len);
    if (entry_len + back > end - p) return false;
    if (!el.is_int) el.str = std::string_view(lp_view.data() + p + head, len);
    // The backlen must read back as the entry's size.
    std::uint64_t decoded = 0;
    const std::size_t last = p + entry_len + back - 1;
    for (std::size_t i = 0; i < back; ++i) {
      const unsigned char c = lp[last - i];
      decoded |= std::uint64_t{c & 127u} << (7 * i);
      if (((c & 128) != 0) != (i + 1 < back)) return false;
    }
    if (decoded != entry_len) return false;
    out.push_back(el);
    p += entry_len + back;
    ++count;
  }
  return numele == 65535 || numele == count;
}

// ---- ziplist ----

bool parse_ziplist(std::string_view zl_view, std::vector<packed_element>& out) {
  const auto* zl = reinterpret_cast<const unsigned char*>(zl_view.data());
  const std::size_t size = zl_view.size();
  constexpr std::size_t header = 10;
  if (size < header + 1 || load_u32(zl) != size || zl[size - 1] != 0xff) return false;
  const std::uint32_t tail = load_u32(zl + 4);
  const std::uint16_t zllen = load_u16(zl + 8);
  const std::size_t end = size - 1;
  std::size_t p = header, count = 0, prev_len = 0, last_entry = header;
  while (p < end) {
    const std::size_t start = p;
    // prevlen: 1 byte below 254, else 0xFE + 4 bytes.
    std::size_t prevlen;
    if (zl[p] < 254) {
      prevlen = zl[p];
      p += 1;
    } else if (zl[p] == 254) {
      if (p + 5 > end) return false;
      prevlen = load_u32(zl + p + 1);
      p += 5;
    } else {
      return false;
    }
    if (prevlen != prev_len || p >= end) return false;
    const unsigned char b = zl[p];
    packed_element el;
    std::size_t head, len = 0;
    switch (b >> 6) {
      case 0:
        head = 1;
        len = b & 0x3f;
        break;
      case 1:
        if (p + 2 > end) return false;
        head = 2;
        len = (std::size_t{b & 0x3fu} << 8) | zl[p + 1];
        break;
      case 2:
        if (p + 5 > end) return false;  // (the low 6 bits are unused)
        head = 5;
        len = (std::size_t{zl[p + 1]} << 24) | (std::size_t{zl[p + 2]} << 16) | (std::size_t{zl[p + 3]} << 8) |
              zl[p + 4];
        break;
      default: {
        el.is_int = true;
        int w;
        switch (b) {
          case 0xc0: w = 2; break;
          case 0xd0: w = 4; break;
          case 0xe0: w = 8; break;
          case 0xf0: w = 3; break;
          case 0xfe: w = 1; break;
          default:
            if (b >= 0xf1 && b <= 0xfd) {
              w = 0;
              el.num = (b & 0x0f) - 1;
            } else {
              return false;
            }
        }
        if (p + 1 + static_cast<std::size_t>(w) > end) return false;
        if (w) el.num = sign_extend(load_le(zl + p + 1, w), 8 * w);
        head = 1 + static_cast<std::size_t>(w);
      }
    }
    if (len > end - p - head) return false;
    if (!el.is_int) el.str = std::string_view(zl_view.data() + p + head, len);
    p += head + len;
    out.push_back(el);
    last_entry = start;
    prev_len = p - start;
    ++count;
  }
  if (tail != last_entry) return false;
  return zllen == 65535 || zllen == count;
}

// ---- intset ----

bool parse_intset(std::string_view blob, std::uint8_t& width, std::string_view& contents) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8) return false;
  const std::uint32_t enc = load_u32(p), count = load_u32(p + 4);
  if (enc != 2 && enc != 4 && enc != 8) return false;
  if (count == 0) return false;  // an empty intset is never written
  if (blob.size() - 8 != std::uint64_t{count} * enc) return false;
  std::int64_t prev = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::int64_t v = sign_extend(load_le(p + 8 + i * enc, static_cast<int>(enc)), static_cast<int>(8 * enc));
    if (i && v <= prev) return false;  // sorted, no duplicates
    prev = v;
  }
  width = static_cast<std::uint8_t>(enc);
  contents = blob.substr(8);
  return true;
}

std::string build_intset(std::uint8_t width, std::string_view contents) {
  std::string blob(8, '\0');
  const auto count = static_cast<std::uint32_t>(contents.size() / width);
  for (int i = 0; i < 4; ++i) {
    blob[static_cast<std::size_t>(i)] = static_cast<char>(std::uint32_t{width} >> (8 * i));
    blob[static_cast<std::size_t>(4 + i)] = static_cast<char>(count >> (8 * i));
  }
  blob.append(contents);
  return blob;
}

// ---- zipmap ----

bool parse_zipmap(std::string_view zm_view, std::vector<std::pair<std::string_view, std::string_view>>& out) {
  const auto* zm = reinterpret_cast<const unsigned char*>(zm_view.data());
  const std::size_t size = zm_view.size();
  if (size < 2 || zm[size - 1] != 0xff) return false;
  const std::size_t end = size - 1;
  std::size_t p = 1, count = 0;
  auto read_len = [&](std::size_t& len) {
    if (p >= end) return false;
    if (zm[p] < 254) {
      len = zm[p++];
      return true;
    }
    if (zm[p] != 254 || p + 5 > end) return false;
    len = load_u32(zm + p + 1);
    p += 5;
    return true;
  };
  while (p < end) {
    std::size_t klen, vlen;
    if (!read_len(klen) || klen > end - p) return false;
    std::string_view key(zm_view.data() + p, klen);
    p += klen;
    if (!read_len(vlen) || p >= end) return false;
    const std::size_t free = zm[p++];
    if (vlen > end - p || free > end - p - vlen) return false;
    std::string_view value(zm_view.data() + p, vlen);
    p += vlen + free;
    out.emplace_back(key, value);
    ++count;
  }
  if (count == 0) return false;
  return zm[0] == 254 || zm[0] == count;
}

}  // namespace shrike::persistence
