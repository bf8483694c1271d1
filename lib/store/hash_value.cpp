#include "store/hash_value.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace shrike::store {

namespace {

// Where a field's pair sits in a listpack: [field_pos, value_pos) is the
// field element, [value_pos, end) the value element.
struct pair_location {
  std::size_t field_pos = 0;
  std::size_t value_pos = 0;
  std::size_t end = 0;
  std::string_view value;
};

bool find_pair(std::string_view packed_value, std::string_view field, pair_location& at) {
  packed::reader r(packed_value);
  while (!r.done()) {
    const std::size_t field_pos = r.offset();
    std::string_view f = r.next();
    const std::size_t value_pos = r.offset();
    std::string_view v = r.next();
    if (f == field) {
      at = {field_pos, value_pos, r.offset(), v};
      return true;
    }
  }
  return false;
}

}  // namespace

entry* allocate_element(std::string_view key, std::string_view value) {
  void* mem = std::malloc(sizeof(entry) + key.size() + value.size());
  if (!mem) throw std::bad_alloc();
  auto* e = static_cast<entry*>(mem);
  e->next = nullptr;
  e->key_len = static_cast<std::uint32_t>(key.size());
  e->val_len = static_cast<std::uint32_t>(value.size());
  e->lru = 0;
  e->type = value_type::string;
  e->encoding = 0;
  e->flags = 0;
  e->reserved = 0;
  if (!key.empty()) std::memcpy(e->key_data(), key.data(), key.size());
  if (!value.empty()) std::memcpy(e->value_data(), value.data(), value.size());
  return e;  // free_entry releases it (std::free)
}

entry* reserve_inline(database& db, entry* e, std::size_t new_len) {
  if (new_len <= e->string_capacity()) return e;
  // Taken out of the table and put back: the block moves with its TTL index.
  entry* detached = db.detach(e->key());
  // Small blocks grow to the exact size (malloc's rounding is their slack and
  // copying them is cheap); bigger ones by 1/8 more, so that a listpack built
  // field by field is not copied on every insert.
  constexpr std::size_t exact_below = 512;
  const std::size_t slack = new_len < exact_below ? 0 : new_len / 8;
  entry* moved = reshape_entry(detached, detached->has_expire(), new_len + slack);
  db.attach(moved);
  return moved;
}

bool hash_object::set(std::string_view field, std::string_view value) {
  entry* f = table_.find(field);
  if (!f) {
    table_.insert(allocate_element(field, value));
    return true;
  }
  if (value.size() > f->string_capacity()) {
    entry* bigger = reshape_entry(f, false, value.size());  // keeps the chain link
    table_.relink(f, bigger);
    f = bigger;
  }
  if (!value.empty()) std::memcpy(f->value_data(), value.data(), value.size());
  f->val_len = static_cast<std::uint32_t>(value.size());
  return false;
}

bool hash_object::erase(std::string_view field) {
  entry* f = table_.unlink(field);
  if (!f) return false;
  free_entry(f);
  return true;
}

std::size_t hash_object::memory_usage(std::size_t samples) const {
  return sizeof(*this) + table_.bucket_count() * sizeof(entry*) + sampled_blocks_size(table_, samples);
}

value_object* hash_object::clone() const {
  auto* copy = new hash_object;
  table_.for_each([&](const entry* f) { copy->table_.insert(allocate_element(f->key(), f->str())); });
  return copy;
}

std::size_t hash_length(const entry* e) {
  return e->holds_object() ? as_hash_object(e).size() : packed::count(e->str()) / 2;
}

bool hash_get(const entry* e, std::string_view field, std::string_view& value) {
  if (e->holds_object()) {
    const entry* f = as_hash_object(e).find(field);
    if (!f) return false;
    value = f->str();
    return true;
  }
  pair_location at;
  if (!find_pair(e->str(), field, at)) return false;
  value = at.value;
  return true;
}

entry* hash_set(database& db, entry* e, std::string_view field, std::string_view value, const hash_limits& limits,
                bool& created) {
  if (!e->holds_object() && (field.size() > limits.max_value || value.size() > limits.max_value))
    e = hash_convert(db, e);
  if (e->holds_object()) {
    created = as_hash_object(e).set(field, value);
    return e;
  }
  pair_location at;
  if (find_pair(e->str(), field, at)) {
    created = false;
    const std::size_t old_size = at.end - at.value_pos, new_size = packed::element_size(value.size());
    if (new_size > old_size) e = reserve_inline(db, e, e->val_len + (new_size - old_size));
    return packed::replace(db, e, at.value_pos, at.end, value);
  }
  created = true;
  e = reserve_inline(db, e, e->val_len + packed::element_size(field.size()) + packed::element_size(value.size()));
  e = packed::insert(db, e, e->val_len, {field, value});
  if (hash_length(e) > limits.max_entries) e = hash_convert(db, e);
  return e;
}

entry* hash_erase(database& db, entry* e, std::string_view field, bool& erased) {
  if (e->holds_object()) {
    erased = as_hash_object(e).erase(field);
    return e;
  }
  pair_location at;
  erased = find_pair(e->str(), field, at);
  if (!erased) return e;
  return packed::erase(db, e, at.field_pos, at.end, 2);
}

entry* hash_convert(database& db, entry* e) {
  if (e->holds_object()) return e;
  auto* obj = new hash_object;
  hash_for_each(e, [&](std::string_view f, std::string_view v) { obj->set(f, v); });
  return db.convert_to_object(e, obj, hash_encoding_hashtable);
}

void hash_random_pair(const entry* e, std::mt19937_64& rng, std::string_view& field, std::string_view& value) {
  if (e->holds_object()) {
    const entry* f = as_hash_object(e).table().random_entry(rng);
    field = f->key();
    value = f->str();
    return;
  }
  std::size_t skip = rng() % hash_length(e);
  packed::reader r(e->str());
  for (; skip; --skip) {
    r.next();
    r.next();
  }
  field = r.next();
  value = r.next();
}

}  // namespace shrike::store
