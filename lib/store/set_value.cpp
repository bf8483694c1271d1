#include "store/set_value.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "store/hash_value.hpp"  // reserve_inline, allocate_element
#include "util/numbers.hpp"

namespace shrike::store {

namespace {

std::int64_t read_int(const char* p, std::size_t width) {
  switch (width) {
    case 2: {
      std::int16_t v;
      std::memcpy(&v, p, sizeof(v));
      return v;
    }
    case 4: {
      std::int32_t v;
      std::memcpy(&v, p, sizeof(v));
      return v;
    }
    default: {
      std::int64_t v;
      std::memcpy(&v, p, sizeof(v));
      return v;
    }
  }
}

void write_int(char* p, std::size_t width, std::int64_t v) {
  switch (width) {
    case 2: {
      auto n = static_cast<std::int16_t>(v);
      std::memcpy(p, &n, sizeof(n));
      break;
    }
    case 4: {
      auto n = static_cast<std::int32_t>(v);
      std::memcpy(p, &n, sizeof(n));
      break;
    }
    default:
      std::memcpy(p, &v, sizeof(v));
  }
}

// Binary search: true when found; `pos` is the member's index or where it
// would be inserted.
bool intset_find(const entry* e, std::int64_t v, std::size_t& pos) {
  std::size_t lo = 0, hi = intset::length(e);
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    std::int64_t m = intset::at(e, mid);
    if (m == v) {
      pos = mid;
      return true;
    }
    if (m < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  pos = lo;
  return false;
}

entry* intset_add(database& db, entry* e, std::int64_t v, bool& added) {
  std::size_t pos;
  added = !intset_find(e, v, pos);
  if (!added) return e;
  const std::size_t n = intset::length(e);
  const std::size_t width = e->encoding;
  const std::uint8_t need = intset::width_for(v);
  if (need > width) {
    // Widen every member; the new one is the smallest or the largest.
    std::vector<std::int64_t> all(n);
    for (std::size_t i = 0; i < n; ++i) all[i] = intset::at(e, i);
    all.insert(all.begin() + static_cast<std::ptrdiff_t>(pos), v);
    e = reserve_inline(db, e, all.size() * need);
    e = db.resize_string(e, all.size() * need);
    e->encoding = need;
    for (std::size_t i = 0; i < all.size(); ++i) write_int(e->value_data() + i * need, need, all[i]);
    return e;
  }
  e = reserve_inline(db, e, (n + 1) * width);
  e = db.resize_string(e, (n + 1) * width);
  char* base = e->value_data();
  std::memmove(base + (pos + 1) * width, base + pos * width, (n - pos) * width);
  write_int(base + pos * width, width, v);
  return e;
}

entry* intset_erase(database& db, entry* e, std::int64_t v, bool& erased) {
  std::size_t pos;
  erased = intset_find(e, v, pos);
  if (!erased) return e;
  const std::size_t n = intset::length(e);
  const std::size_t width = e->encoding;
  char* base = e->value_data();
  std::memmove(base + pos * width, base + (pos + 1) * width, (n - pos - 1) * width);
  return db.resize_string(e, (n - 1) * width);
}

}  // namespace

std::uint8_t intset::width_for(std::int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

std::int64_t intset::at(const entry* e, std::size_t i) { return read_int(e->value_data() + i * e->encoding, e->encoding); }

std::string intset::encode(const std::vector<std::int64_t>& sorted, std::uint8_t& width) {
  width = 2;
  if (!sorted.empty()) width = std::max(width_for(sorted.front()), width_for(sorted.back()));
  std::string bytes(sorted.size() * width, '\0');
  for (std::size_t i = 0; i < sorted.size(); ++i) write_int(bytes.data() + i * width, width, sorted[i]);
  return bytes;
}

int_text::int_text(std::int64_t v) {
  auto [p, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), v);
  len_ = static_cast<std::size_t>(p - buf_);
}

bool set_object::add(std::string_view member) {
  if (table_.find(member)) return false;
  table_.insert(allocate_element(member, {}));
  return true;
}

bool set_object::erase(std::string_view member) {
  entry* m = table_.unlink(member);
  if (!m) return false;
  free_entry(m);
  return true;
}

std::size_t set_object::memory_usage(std::size_t samples) const {
  return sizeof(*this) + table_.bucket_count() * sizeof(entry*) + sampled_blocks_size(table_, samples);
}

value_object* set_object::clone() const {
  auto* copy = new set_object;
  table_.for_each([&](const entry* m) { copy->table_.insert(allocate_element(m->key(), {})); });
  return copy;
}

std::size_t set_size(const entry* e) { return e->holds_object() ? as_set_object(e).size() : intset::length(e); }

bool set_contains(const entry* e, std::string_view member) {
  if (e->holds_object()) return as_set_object(e).contains(member);
  std::int64_t v;
  std::size_t pos;
  return util::parse_int64(member, v) && intset_find(e, v, pos);
}

entry* set_add(database& db, entry* e, std::string_view member, std::size_t max_intset, bool& added) {
  if (!e->holds_object()) {
    std::int64_t v;
    if (util::parse_int64(member, v)) {
      e = intset_add(db, e, v, added);
      if (added && intset::length(e) > max_intset) e = set_convert(db, e);
      return e;
    }
    e = set_convert(db, e);
  }
  added = as_set_object(e).add(member);
  return e;
}

entry* set_erase(database& db, entry* e, std::string_view member, bool& erased) {
  if (e->holds_object()) {
    erased = as_set_object(e).erase(member);
    return e;
  }
  std::int64_t v;
  erased = false;
  if (!util::parse_int64(member, v)) return e;
  return intset_erase(db, e, v, erased);
}

entry* set_convert(database& db, entry* e) {
  if (e->holds_object()) return e;
  auto* obj = new set_object;
  set_for_each(e, [&](std::string_view m) { obj->add(m); });
  return db.convert_to_object(e, obj, set_encoding_hashtable);
}

std::string set_random_member(const entry* e, std::mt19937_64& rng) {
  if (e->holds_object()) return std::string(as_set_object(e).table().random_entry(rng)->key());
  return std::string(int_text(intset::at(e, rng() % intset::length(e))).view());
}

bool set_builder::add(std::string_view member) {
  if (!object_) {
    std::int64_t v;
    if (util::parse_int64(member, v)) {
      if (!ints_.insert(v).second) return false;
      if (ints_.size() > max_intset_) convert();
      return true;
    }
    convert();
  }
  return object_->add(member);
}

bool set_builder::erase(std::string_view member) {
  if (object_) return object_->erase(member);
  std::int64_t v;
  return util::parse_int64(member, v) && ints_.erase(v) > 0;
}

const std::vector<std::int64_t>& set_builder::sorted() {
  sorted_.assign(ints_.begin(), ints_.end());
  std::sort(sorted_.begin(), sorted_.end());
  return sorted_;
}

void set_builder::convert() {
  object_ = std::make_unique<set_object>();
  for (std::int64_t v : ints_) object_->add(int_text(v).view());
  ints_.clear();
}

entry* set_builder::store(database& db, std::string_view key, std::int64_t now_ms) {
  if (object_) {
    entry* e = db.add_object(key, value_type::set, object_.release(), now_ms);
    e->encoding = set_encoding_hashtable;
    return e;
  }
  std::uint8_t width;
  std::string bytes = intset::encode(sorted(), width);
  return db.add_inline(key, value_type::set, width, bytes, now_ms);
}

}  // namespace shrike::store
