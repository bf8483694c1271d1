#pragma once
// The large form of a sorted set (OBJECT ENCODING "skiplist"): Redis's pair of
// a skiplist ordered by (score, member), whose links carry span widths so that
// ranks cost O(log n), and a member -> node hash for O(1) ZSCORE.
//
// One heap block per member serves both structures: the node is an entry
// block (store/entry.hpp) whose key is the member and whose value area holds
//
//   [double score][entry* backward][level 0: entry* forward, u64 span]...
//
// The block's `next` field chains it in the member hash (a key_table, which
// also gives ZSCAN its reverse-binary cursor and ZRANDMEMBER a random pick),
// and its `encoding` byte is the node's level count. The value area follows
// the key bytes, so it is unaligned: fields are read and written with memcpy.
// The skiplist head is a block of the same shape with an empty key.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>

#include "store/entry.hpp"
#include "store/key_table.hpp"

namespace shrike::store {

namespace zsl {

inline constexpr int max_level = 32;  // enough for 2^64 members at p = 1/4

inline constexpr std::size_t score_offset = 0;
inline constexpr std::size_t backward_offset = 8;
inline constexpr std::size_t levels_offset = 16;
inline constexpr std::size_t level_size = 16;

inline std::size_t node_bytes(int levels) { return levels_offset + static_cast<std::size_t>(levels) * level_size; }

inline double score(const entry* n) {
  double d;
  std::memcpy(&d, n->value_data() + score_offset, sizeof(d));
  return d;
}
inline void set_score(entry* n, double d) { std::memcpy(n->value_data() + score_offset, &d, sizeof(d)); }

inline entry* backward(const entry* n) {
  entry* p;
  std::memcpy(&p, n->value_data() + backward_offset, sizeof(p));
  return p;
}
inline void set_backward(entry* n, entry* p) { std::memcpy(n->value_data() + backward_offset, &p, sizeof(p)); }

inline entry* forward(const entry* n, int level) {
  entry* p;
  std::memcpy(&p, n->value_data() + levels_offset + static_cast<std::size_t>(level) * level_size, sizeof(p));
  return p;
}
inline void set_forward(entry* n, int level, entry* p) {
  std::memcpy(n->value_data() + levels_offset + static_cast<std::size_t>(level) * level_size, &p, sizeof(p));
}

inline std::uint64_t span(const entry* n, int level) {
  std::uint64_t s;
  std::memcpy(&s, n->value_data() + levels_offset + static_cast<std::size_t>(level) * level_size + 8, sizeof(s));
  return s;
}
inline void set_span(entry* n, int level, std::uint64_t s) {
  std::memcpy(n->value_data() + levels_offset + static_cast<std::size_t>(level) * level_size + 8, &s, sizeof(s));
}

inline int levels(const entry* n) { return n->encoding; }

// The order of a sorted set: by score, then by member bytes (memcmp, then
// length), as Redis's zslInsert/sdscmp.
inline bool less(double sa, std::string_view ma, double sb, std::string_view mb) {
  return sa < sb || (sa == sb && ma.compare(mb) < 0);
}

}  // namespace zsl

class zset_object final : public value_object {
 public:
  zset_object();
  ~zset_object() override;
  zset_object(const zset_object&) = delete;
  zset_object& operator=(const zset_object&) = delete;

  std::size_t memory_usage() const override;
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

  const key_table& dict() const { return dict_; }

 private:
  int random_level();
  // Links node `n` (its level already set) at its place.
  void link(entry* n);
  // update[i] = the last node before `n` on level i.
  void find_update(const entry* n, entry** update) const;
  // Unlinks `n` given its predecessors; they stay the predecessors of the
  // node after `n`, so a run of nodes can go with one search.
  void unlink_with(entry* n, entry** update);
  // Removes an unlinked node from the member hash and frees it.
  void drop(entry* n);

  key_table dict_;
  entry* head_;
  entry* tail_ = nullptr;
  std::size_t length_ = 0;
  int level_ = 1;
  std::size_t node_bytes_ = 0;  // allocator bytes of the member blocks
};

inline zset_object& as_zset_object(const entry* e) { return *static_cast<zset_object*>(e->object()); }

}  // namespace shrike::store
