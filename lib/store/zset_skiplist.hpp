#pragma once
// The large form of a sorted set (OBJECT ENCODING "skiplist"): Redis's pair of
// a skiplist ordered by (score, member), whose links carry span widths so that
// ranks cost O(log n), and a member -> node hash for O(1) ZSCORE.
//
// One heap block per member serves both structures. A node is handled through
// an entry header (store/entry.hpp) in the middle of its block, with the
// member as its key; the links sit below the header, one 16-byte slot per
// level, level 0 nearest:
//
//   block: [forward L-1, span L-1] ... [forward 1, span 1] [forward 0, score]
//   node:  [entry header 24 B: next, key_len, backward, encoding = L] [member]
//
// A search step compares the score of a node and then follows one of its
// links: the score shares an aligned 16-byte slot (so a cache line) with the
// level-0 link, the next levels' links follow it downwards, and the header
// and member bytes (maybe other lines) are read only when two scores are
// equal. The level-0 span is always 1 and is not stored. The header's `next` chains the node in the
// member hash, its val_len and lru fields hold the backward link, and its
// `encoding` byte is the level count (which locates the start of the block).
// As the blocks are 16-byte aligned, so are the headers. Nodes are not
// keyspace blocks: never pass one to free_entry() or ask it for block_size()
// (hence the member hash is a member_table, not a key_table).
//
// The skiplist head is a node of max_level levels with an empty member.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>

#include "store/entry.hpp"
#include "store/key_table.hpp"  // hash_key, reverse_bits

namespace shrike::store {

namespace zsl {

inline constexpr int max_level = 32;  // enough for 2^64 members at p = 1/4
inline constexpr std::size_t slot_size = 16;

// Bytes of the block below the header of a node of `levels` levels.
inline constexpr std::size_t links_bytes(int levels) { return slot_size * static_cast<std::size_t>(levels); }

inline const char* raw(const entry* n) { return reinterpret_cast<const char*>(n); }
inline char* raw(entry* n) { return reinterpret_cast<char*>(n); }

inline int levels(const entry* n) { return n->encoding; }

inline double score(const entry* n) {
  double d;
  std::memcpy(&d, raw(n) - 8, sizeof(d));
  return d;
}
inline void set_score(entry* n, double d) { std::memcpy(raw(n) - 8, &d, sizeof(d)); }

inline entry* forward(const entry* n, int level) {
  entry* p;
  std::memcpy(&p, raw(n) - slot_size * static_cast<std::size_t>(level + 1), sizeof(p));
  return p;
}
inline void set_forward(entry* n, int level, entry* p) {
  std::memcpy(raw(n) - slot_size * static_cast<std::size_t>(level + 1), &p, sizeof(p));
}

// Span of the link of `level`: how many positions it advances. Level 0
// always advances one.
inline std::uint64_t span(const entry* n, int level) {
  if (level == 0) return 1;
  std::uint64_t s;
  std::memcpy(&s, raw(n) - slot_size * static_cast<std::size_t>(level + 1) + 8, sizeof(s));
  return s;
}
inline void set_span(entry* n, int level, std::uint64_t s) {
  if (level == 0) return;
  std::memcpy(raw(n) - slot_size * static_cast<std::size_t>(level + 1) + 8, &s, sizeof(s));
}

inline constexpr std::size_t backward_offset = offsetof(entry, val_len);
static_assert(offsetof(entry, lru) == backward_offset + 4, "val_len and lru hold the backward link");

inline entry* backward(const entry* n) {
  entry* p;
  std::memcpy(&p, raw(n) + backward_offset, sizeof(p));
  return p;
}
inline void set_backward(entry* n, entry* p) { std::memcpy(raw(n) + backward_offset, &p, sizeof(p)); }

// The member of a node (as n->key(): a node header has no TTL slot).
inline std::string_view member(const entry* n) { return {raw(n) + sizeof(entry), n->key_len}; }

// The order of a sorted set: by score, then by member bytes (memcmp, then
// length), as Redis's zslInsert/sdscmp.
inline bool less(double sa, std::string_view ma, double sb, std::string_view mb) {
  return sa < sb || (sa == sb && ma.compare(mb) < 0);
}
// Whether node `f` sorts before (s, m). The header and member of `f` (apart
// from its score, maybe another cache line) are read only on equal scores.
inline bool before(const entry* f, double s, std::string_view m) {
  const double fs = score(f);
  return fs < s || (fs == s && member(f).compare(m) < 0);
}

}  // namespace zsl

// The member -> node hash: chained through the node headers' `next`, a power
// of two of buckets, at most one node per bucket on average. Scans use Redis's
// reverse-binary cursor, so a member present for a whole ZSCAN is returned at
// least once however the table is resized in between. It never frees nodes.
class member_table {
 public:
  member_table() = default;
  member_table(const member_table&) = delete;
  member_table& operator=(const member_table&) = delete;
  ~member_table() { delete[] buckets_; }

  std::size_t size() const { return size_; }
  std::size_t bucket_count() const { return mask_ + (buckets_ ? 1 : 0); }

  entry* find(std::string_view member) const;
  // `n`'s member must not be present.
  void insert(entry* n);
  // `n` must be present.
  void erase(const entry* n);

  // Visits one cursor step (one bucket) and returns the next cursor; 0 = done.
  template <class Visit>
  std::uint64_t scan_step(std::uint64_t cursor, Visit&& visit) const;

  entry* random_entry(std::mt19937_64& rng) const;

  template <class Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t b = 0; b < bucket_count(); ++b)
      for (entry* n = buckets_[b]; n;) {
        entry* next = n->next;  // `visit` may free the node
        visit(n);
        n = next;
      }
  }

 private:
  entry** bucket_of(std::string_view member) const { return &buckets_[hash_key(member) & mask_]; }
  void resize(std::size_t buckets);

  entry** buckets_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

template <class Visit>
std::uint64_t member_table::scan_step(std::uint64_t v, Visit&& visit) const {
  if (size_ == 0) return 0;
  const std::uint64_t m = mask_;
  for (entry* n = buckets_[v & m]; n; n = n->next) visit(n);
  // Increment the reversed cursor: the high bits of the bucket index advance
  // first, so buckets split or merged by a resize are never skipped.
  v |= ~m;
  v = reverse_bits(v);
  ++v;
  v = reverse_bits(v);
  return v;
}

class zset_object final : public value_object {
 public:
  zset_object();
  ~zset_object() override;
  zset_object(const zset_object&) = delete;
  zset_object& operator=(const zset_object&) = delete;

  std::size_t memory_usage(std::size_t samples) const override;
  value_object* clone() const override;
  const char* encoding_name() const override { return "skiplist"; }

  std::size_t size() const { return length_; }
  entry* find(std::string_view member) const { return dict_.find(member); }

  // Adds a member that is not present; returns its node.
  entry* insert(double score, std::string_view member);
  // Removes node `n` (from both structures) and frees it.
  void erase(entry* n);
  // Moves node `n` to its place for a new score (the block stays the same).
  void update_score(entry* n, double score);

  entry* first() const { return zsl::forward(head_, 0); }
  entry* last() const { return tail_; }
  static entry* next(const entry* n) { return zsl::forward(n, 0); }
  static entry* prev(const entry* n) { return zsl::backward(n); }

  // 0-based rank of node `n`.
  std::size_t rank(const entry* n) const;
  // Node at 0-based `rank` (< size()).
  entry* at_rank(std::size_t rank) const;

  // Removes `start` and the nodes after it while `pred(node)` holds (it sees
  // each node before it goes); returns how many went. O(log n + removed).
  template <class Pred>
  std::size_t erase_while(entry* start, Pred&& pred) {
    entry* update[zsl::max_level];
    find_update(start, update);
    std::size_t removed = 0;
    for (entry* x = start; x && pred(x);) {
      entry* after = next(x);
      unlink_with(x, update);
      drop(x);
      ++removed;
      x = after;
    }
    return removed;
  }

  // For a predicate that holds for a prefix of the order (true, ..., true,
  // false, ...): the last node of that prefix (nullptr when the prefix is
  // empty) and the prefix length.
  template <class Pred>
  entry* last_where(Pred&& pred, std::size_t& count) const {
    entry* x = head_;
    std::size_t traversed = 0;
    for (int i = level_ - 1; i >= 0; --i) {
      for (entry* f = zsl::forward(x, i); f && pred(f); f = zsl::forward(x, i)) {
        traversed += zsl::span(x, i);
        x = f;
      }
    }
    count = traversed;
    return x == head_ ? nullptr : x;
  }

  const member_table& dict() const { return dict_; }

 private:
  int random_level();
  // Links node `n` (its level and score already set) at its place.
  void link(entry* n);
  // Links `n` after update[i] on each of its levels i; rank[i] = the
  // position of update[i] (the head is 0), both as find_place gives them.
  void link_with(entry* n, entry** update, std::uint64_t* rank);
  // update[i] = the last node before `n` on level i.
  void find_update(const entry* n, entry** update) const;
  // Unlinks `n` given its predecessors; they stay the predecessors of the
  // node after `n`, so a run of nodes can go with one search.
  void unlink_with(entry* n, entry** update);
  // Removes an unlinked node from the member hash and frees it.
  void drop(entry* n);

  member_table dict_;
  entry* head_;
  entry* tail_ = nullptr;
  std::size_t length_ = 0;
  int level_ = 1;
  std::size_t node_bytes_ = 0;  // allocator bytes of the member blocks
};

inline zset_object& as_zset_object(const entry* e) { return *static_cast<zset_object*>(e->object()); }

}  // namespace shrike::store
