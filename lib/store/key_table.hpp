#pragma once
// Chained hash table of entry blocks (the chain pointer lives in the block).
//
// Power-of-two bucket counts and Redis's reverse-binary cursor make SCAN's
// promise hold: a key present for the whole iteration is returned at least
// once however often the table grows or shrinks between calls. Resizing is
// done in one step (no incremental rehash): a shard is single-threaded and the
// pause for 1M keys is a few milliseconds.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <string_view>

#include "store/entry.hpp"

namespace shrike::store {

std::uint64_t hash_key(std::string_view key);

inline std::uint64_t reverse_bits(std::uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
  v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
  return __builtin_bswap64(v);
}

class key_table {
 public:
  key_table() = default;
  key_table(const key_table&) = delete;
  key_table& operator=(const key_table&) = delete;
  key_table(key_table&& other) noexcept { swap(other); }
  key_table& operator=(key_table&& other) noexcept {
    if (this != &other) {
      clear();
      swap(other);
    }
    return *this;
  }
  void swap(key_table& other) noexcept {
    std::swap(buckets_, other.buckets_);
    std::swap(mask_, other.mask_);
    std::swap(size_, other.size_);
  }
  ~key_table() { clear(); }

  std::size_t size() const { return size_; }
  std::size_t bucket_count() const { return mask_ ? mask_ + 1 : 0; }

  entry* find(std::string_view key) const;
  // For a batch of lookups (a pipelined batch): prefetch every key's bucket,
  // then every bucket's first entry, then look them up, so the cache misses
  // of the batch overlap instead of adding up. `hash` is hash_key(key).
  void prefetch_bucket(std::uint64_t hash) const {
    if (mask_) __builtin_prefetch(&buckets_[hash & mask_]);
  }
  void prefetch_entry(std::uint64_t hash) const {
    if (!mask_) return;
    if (const entry* e = buckets_[hash & mask_]) __builtin_prefetch(e);
  }
  // The key must not be present.
  void insert(entry* e);
  // Unlinks and returns the entry (not freed), or nullptr.
  entry* unlink(std::string_view key);
  // Puts `now` where `before` was (same key, `now->next` already copied from
  // `before`; `before` itself is never dereferenced, it may be freed).
  void relink(entry* before, entry* now);

  // Visits one cursor step (one bucket) and returns the next cursor; 0 = done.
  template <class Visit>
  std::uint64_t scan_step(std::uint64_t cursor, Visit&& visit) const;

  entry* random_entry(std::mt19937_64& rng) const;

  template <class Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t b = 0; b < bucket_count(); ++b)
      for (entry* e = buckets_[b]; e; e = e->next) visit(e);
  }

  // Frees every entry.
  void clear();

 private:
  entry** bucket_of(std::string_view key) const { return &buckets_[hash_key(key) & mask_]; }
  void resize(std::size_t buckets);
  void maybe_shrink();

  std::unique_ptr<entry*[]> buckets_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

template <class Visit>
std::uint64_t key_table::scan_step(std::uint64_t v, Visit&& visit) const {
  if (size_ == 0) return 0;
  const std::uint64_t m = mask_;
  for (entry* e = buckets_[v & m]; e; e = e->next) visit(e);
  // Increment the reversed cursor: the high bits of the bucket index advance
  // first, so buckets split or merged by a resize are never skipped.
  v |= ~m;
  v = reverse_bits(v);
  ++v;
  v = reverse_bits(v);
  return v;
}

// Bytes of the table's element blocks: the first `samples` in scan order
// measured, the rest counted at their average (SIZE_MAX: all measured).
inline std::size_t sampled_blocks_size(const key_table& table, std::size_t samples) {
  std::size_t seen = 0, bytes = 0;
  std::uint64_t cursor = 0;
  do {
    cursor = table.scan_step(cursor, [&](const entry* e) {
      if (seen < samples) {
        bytes += e->block_size();
        ++seen;
      }
    });
  } while (cursor != 0 && seen < samples);
  return seen == 0 ? 0 : bytes / seen * table.size() + bytes % seen * table.size() / seen;
}

}  // namespace shrike::store
