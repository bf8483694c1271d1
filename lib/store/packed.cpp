#include "store/packed.hpp"

namespace shrike::store::packed {

char* write_element(char* dst, std::string_view s) {
  std::size_t len = s.size();
  while (len >= 0x80) {
    *dst++ = static_cast<char>((len & 0x7f) | 0x80);
    len >>= 7;
  }
  *dst++ = static_cast<char>(len);
  if (!s.empty()) std::memcpy(dst, s.data(), s.size());
  return dst + s.size();
}

std::size_t read_element(std::string_view v, std::size_t pos, std::string_view& out) {
  std::size_t len = 0;
  int shift = 0;
  for (;;) {
    auto b = static_cast<unsigned char>(v[pos++]);
    len |= static_cast<std::size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  out = v.substr(pos, len);
  return pos + len;
}

entry* insert(database& db, entry* e, std::size_t pos, std::initializer_list<std::string_view> elements) {
  std::size_t add = 0;
  for (auto s : elements) add += element_size(s.size());
  const std::size_t old_len = e->val_len;
  e = db.resize_string(e, old_len + add);
  char* base = e->value_data();
  std::memmove(base + pos + add, base + pos, old_len - pos);
  char* p = base + pos;
  for (auto s : elements) p = write_element(p, s);
  set_count(e, count(e->str()) + static_cast<std::uint32_t>(elements.size()));
  return e;
}

entry* erase(database& db, entry* e, std::size_t pos, std::size_t end, std::uint32_t elements) {
  const std::size_t old_len = e->val_len;
  char* base = e->value_data();
  std::memmove(base + pos, base + end, old_len - end);
  set_count(e, count(e->str()) - elements);
  return db.resize_string(e, old_len - (end - pos));
}

entry* replace(database& db, entry* e, std::size_t pos, std::size_t end, std::string_view element) {
  const std::size_t old_len = e->val_len;
  const std::size_t need = element_size(element.size());
  const std::size_t have = end - pos;
  if (need > have) {
    e = db.resize_string(e, old_len + (need - have));
    char* base = e->value_data();
    std::memmove(base + pos + need, base + end, old_len - end);
  } else if (need < have) {
    char* base = e->value_data();
    std::memmove(base + pos + need, base + end, old_len - end);
    e = db.resize_string(e, old_len - (have - need));
  }
  write_element(e->value_data() + pos, element);
  return e;
}

}  // namespace shrike::store::packed
