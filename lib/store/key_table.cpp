#include "store/key_table.hpp"

#include <bit>
#include <functional>

namespace shrike::store {

std::uint64_t hash_key(std::string_view key) { return std::hash<std::string_view>{}(key); }

entry* key_table::find(std::string_view key) const {
  if (size_ == 0) return nullptr;
  for (entry* e = *bucket_of(key); e; e = e->next)
    if (e->key_len == key.size() && std::memcmp(e->key_data(), key.data(), key.size()) == 0) return e;
  return nullptr;
}

void key_table::insert(entry* e) {
  if (size_ + 1 > bucket_count()) resize(bucket_count() ? bucket_count() * 2 : 4);
  entry** b = bucket_of(e->key());
  e->next = *b;
  *b = e;
  ++size_;
}

entry* key_table::unlink(std::string_view key) {
  if (size_ == 0) return nullptr;
  for (entry** link = bucket_of(key); *link; link = &(*link)->next) {
    entry* e = *link;
    if (e->key_len == key.size() && std::memcmp(e->key_data(), key.data(), key.size()) == 0) {
      *link = e->next;
      e->next = nullptr;
      --size_;
      maybe_shrink();
      return e;
    }
  }
  return nullptr;
}

void key_table::relink(entry* before, entry* now) {
  for (entry** link = bucket_of(now->key()); *link; link = &(*link)->next) {
    if (*link == before) {  // `before` may be freed already: compare, never read it
      *link = now;
      return;
    }
  }
}

entry* key_table::random_entry(std::mt19937_64& rng) const {
  if (size_ == 0) return nullptr;
  // Pick a random non-empty bucket, then a random element of its chain (as
  // Redis's dictGetRandomKey; chains are short at load factor <= 1).
  entry* head;
  do {
    head = buckets_[rng() & mask_];
  } while (!head);
  std::size_t len = 0;
  for (entry* e = head; e; e = e->next) ++len;
  std::size_t pick = rng() % len;
  while (pick--) head = head->next;
  return head;
}

void key_table::resize(std::size_t buckets) {
  auto fresh = std::make_unique<entry*[]>(buckets);
  const std::size_t mask = buckets - 1;
  for (std::size_t b = 0; b < bucket_count(); ++b) {
    for (entry* e = buckets_[b]; e;) {
      entry* next = e->next;
      entry** slot = &fresh[hash_key(e->key()) & mask];
      e->next = *slot;
      *slot = e;
      e = next;
    }
  }
  buckets_ = std::move(fresh);
  mask_ = mask;
}

void key_table::maybe_shrink() {
  // Shrink below 1/8 fill (Redis shrinks below 10%), never under 4 buckets.
  if (bucket_count() > 4 && size_ * 8 < bucket_count())
    resize(std::max<std::size_t>(4, std::bit_ceil(std::max<std::size_t>(size_, 1))));
  else if (size_ == 0 && bucket_count()) {
    buckets_.reset();
    mask_ = 0;
  }
}

void key_table::clear() {
  for (std::size_t b = 0; b < bucket_count(); ++b) {
    for (entry* e = buckets_[b]; e;) {
      entry* next = e->next;
      free_entry(e);
      e = next;
    }
  }
  buckets_.reset();
  mask_ = 0;
  size_ = 0;
}

}  // namespace shrike::store
