#include "store/entry.hpp"
#include "store/snapshot_epoch.hpp"

#include <malloc.h>

#include <cstdlib>
#include <new>

#include "util/numbers.hpp"

namespace shrike::store {

std::size_t entry::string_capacity() const {
  return malloc_usable_size(const_cast<entry*>(this)) - header_size() - key_len;
}

std::size_t entry::block_size() const { return malloc_usable_size(const_cast<entry*>(this)); }

std::size_t key_memory_usage(const entry* e, std::size_t samples) {
  return e->block_size() + sizeof(entry*) + (e->holds_object() ? e->object()->memory_usage(samples) : 0);
}

entry* allocate_entry(std::string_view key, value_type type, std::size_t value_capacity, bool with_expire) {
  if (value_capacity < sizeof(value_object*)) value_capacity = sizeof(value_object*);
  std::size_t header = sizeof(entry) + (with_expire ? sizeof(expire_info) : 0);
  void* mem = std::malloc(header + key.size() + value_capacity);
  if (!mem) throw std::bad_alloc();
  auto* e = static_cast<entry*>(mem);
  e->next = nullptr;
  e->key_len = static_cast<std::uint32_t>(key.size());
  e->val_len = 0;
  e->lru = 0;
  e->type = type;
  e->encoding = 0;
  e->flags = with_expire ? entry::has_expire_flag : 0;
  e->reserved = snapshot_epoch();  // created now: not part of a snapshot in progress
  if (with_expire) *e->expiry() = expire_info{0, 0};
  if (!key.empty()) std::memcpy(e->key_data(), key.data(), key.size());
  return e;
}

void free_entry(entry* e) {
  if (e->holds_object()) delete e->object();
  std::free(e);
}

entry* reshape_entry(entry* e, bool with_expire, std::size_t value_capacity) {
  std::size_t payload = e->payload_size();
  if (value_capacity < payload) value_capacity = payload;
  entry* n = allocate_entry(e->key(), e->type, value_capacity, with_expire);
  n->next = e->next;  // the caller puts n where e was in its bucket chain
  n->val_len = e->val_len;
  n->lru = e->lru;
  n->encoding = e->encoding;
  n->flags = static_cast<std::uint8_t>((e->flags & ~entry::has_expire_flag) | (n->flags & entry::has_expire_flag));
  n->reserved = e->reserved;  // the same key: still pending if it was
  if (with_expire && e->has_expire()) *n->expiry() = *e->expiry();
  if (payload) std::memcpy(n->value_data(), e->value_data(), payload);
  std::free(e);  // the value object (if any) now belongs to n
  return n;
}

entry* rekey_entry(entry* e, std::string_view new_key) {
  std::size_t payload = e->payload_size();
  entry* n = allocate_entry(new_key, e->type, payload, e->has_expire());
  n->val_len = e->val_len;
  n->lru = e->lru;
  n->encoding = e->encoding;
  n->flags = e->flags;
  n->reserved = e->reserved;
  if (e->has_expire()) *n->expiry() = *e->expiry();
  if (payload) std::memcpy(n->value_data(), e->value_data(), payload);
  std::free(e);
  return n;
}

entry* copy_entry(const entry* e, std::string_view new_key) {
  std::size_t payload = e->payload_size();
  entry* n = allocate_entry(new_key, e->type, payload, false);
  n->val_len = e->val_len;
  n->lru = e->lru;
  n->encoding = e->encoding;
  if (e->holds_object()) {
    n->set_object(e->object()->clone());
  } else if (payload) {
    std::memcpy(n->value_data(), e->value_data(), payload);
  }
  return n;
}

string_encoding classify_string(std::string_view value) {
  constexpr std::size_t embstr_limit = 44;  // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
  std::int64_t v;
  if (value.size() <= 20 && util::parse_int64(value, v)) return string_encoding::integer;
  return value.size() <= embstr_limit ? string_encoding::embstr : string_encoding::raw;
}

}  // namespace shrike::store
