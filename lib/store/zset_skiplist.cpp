#include "store/zset_skiplist.hpp"

#include <malloc.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>

namespace shrike::store {

using namespace zsl;

// ---- nodes ----

namespace {

// A new node: null links, zero spans and score, no backward link.
entry* allocate_node(std::string_view member, int levels) {
  const std::size_t below = links_bytes(levels);
  void* mem = std::malloc(below + sizeof(entry) + member.size());
  if (!mem) throw std::bad_alloc();
  std::memset(mem, 0, below);  // null links, zero spans, score 0
  auto* n = reinterpret_cast<entry*>(static_cast<char*>(mem) + below);
  n->next = nullptr;
  n->key_len = static_cast<std::uint32_t>(member.size());
  n->val_len = 0;
  n->lru = 0;  // with val_len: a null backward link
  n->type = value_type::zset;
  n->encoding = static_cast<std::uint8_t>(levels);
  n->flags = 0;  // no TTL slot: the member follows the header
  n->reserved = 0;
  if (!member.empty()) std::memcpy(n->key_data(), member.data(), member.size());
  return n;
}

void free_node(entry* n) { std::free(raw(n) - links_bytes(levels(n))); }

// Allocator bytes of the node's block.
std::size_t node_block_size(const entry* n) {
  return malloc_usable_size(const_cast<char*>(raw(n) - links_bytes(levels(n))));
}

}  // namespace

// ---- member_table ----

entry* member_table::find(std::string_view member) const {
  if (size_ == 0) return nullptr;
  for (entry* n = *bucket_of(member); n; n = n->next)
    if (zsl::member(n) == member) return n;
  return nullptr;
}

void member_table::insert(entry* n) {
  if (size_ + 1 > bucket_count()) resize(bucket_count() ? bucket_count() * 2 : 4);
  entry** b = bucket_of(member(n));
  n->next = *b;
  *b = n;
  ++size_;
}

void member_table::erase(const entry* n) {
  for (entry** link = bucket_of(member(n)); *link; link = &(*link)->next) {
    if (*link == n) {
      *link = n->next;
      --size_;
      // Shrink below 1/8 fill (Redis shrinks below 10%), never under 4 buckets.
      if (size_ == 0) {
        delete[] buckets_;
        buckets_ = nullptr;
        mask_ = 0;
      } else if (bucket_count() > 4 && size_ * 8 < bucket_count()) {
        resize(std::max<std::size_t>(4, std::bit_ceil(size_)));
      }
      return;
    }
  }
}

entry* member_table::random_entry(std::mt19937_64& rng) const {
  if (size_ == 0) return nullptr;
  // A random non-empty bucket, then a random node of its chain (as Redis's
  // dictGetRandomKey; chains are short at load factor <= 1).
  entry* head;
  do {
    head = buckets_[rng() & mask_];
  } while (!head);
  std::size_t len = 0;
  for (entry* n = head; n; n = n->next) ++len;
  std::size_t pick = rng() % len;
  while (pick--) head = head->next;
  return head;
}

void member_table::resize(std::size_t buckets) {
  auto* fresh = new entry*[buckets]();
  const std::size_t mask = buckets - 1;
  for (std::size_t b = 0; b < bucket_count(); ++b) {
    for (entry* n = buckets_[b]; n;) {
      entry* next = n->next;
      entry** slot = &fresh[hash_key(member(n)) & mask];
      n->next = *slot;
      *slot = n;
      n = next;
    }
  }
  delete[] buckets_;
  buckets_ = fresh;
  mask_ = mask;
}

// ---- zset_object ----

namespace {

bool node_less(const entry* a, const entry* b) { return before(a, score(b), member(b)); }

// Starts loading the slot of a node's score and level-0 link (a hint: the
// address may be null, a prefetch never faults).
inline void prefetch_node(const entry* n) {
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(n) - slot_size));
}

}  // namespace

zset_object::zset_object() : head_(allocate_node({}, max_level)) {}

zset_object::~zset_object() {
  dict_.for_each([](entry* n) { free_node(n); });
  free_node(head_);
}

std::size_t zset_object::memory_usage(std::size_t /*samples: measured exactly*/) const {
  return sizeof(*this) + node_block_size(head_) + node_bytes_ + dict_.bucket_count() * sizeof(entry*);
}

value_object* zset_object::clone() const {
  auto* copy = new zset_object;
  // Highest first: each insertion then stops at the head of every level.
  for (entry* n = tail_; n; n = prev(n)) copy->insert(score(n), member(n));
  return copy;
}

int zset_object::random_level() {
  // p = 1/4 per extra level, as Redis's ZSKIPLIST_P. A per-thread generator:
  // the shape of a skiplist never shows in replies.
  thread_local std::uint64_t state = 0x9E3779B97F4A7C15ull ^ reinterpret_cast<std::uintptr_t>(&state);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  std::uint64_t bits = state;
  int level = 1;
  while ((bits & 3) == 0 && level < max_level) {
    ++level;
    bits >>= 2;
  }
  return level;
}

void zset_object::link(entry* n) {
  entry* update[max_level];
  std::uint64_t rank[max_level];
  const double s = score(n);
  const std::string_view m = member(n);
  entry* x = head_;
  std::uint64_t r = 0;
  for (int i = level_ - 1; i >= 0; --i) {
    for (;;) {
      entry* f = forward(x, i);
      if (i > 0) prefetch_node(forward(x, i - 1));  // where the search goes if f is past n
      if (!f || !before(f, s, m)) break;
      r += span(x, i);
      x = f;
    }
    update[i] = x;
    rank[i] = r;
  }
  link_with(n, update, rank);
}

void zset_object::link_with(entry* n, entry** update, std::uint64_t* rank) {
  const int level = levels(n);
  if (level > level_) {
    for (int i = level_; i < level; ++i) {
      rank[i] = 0;
      update[i] = head_;
      set_span(head_, i, length_);
    }
    level_ = level;
  }
  for (int i = 0; i < level; ++i) {
    set_forward(n, i, forward(update[i], i));
    set_forward(update[i], i, n);
    // The new node splits update[i]'s link: it lies rank[0] - rank[i] + 1
    // positions after update[i].
    set_span(n, i, span(update[i], i) - (rank[0] - rank[i]));
    set_span(update[i], i, rank[0] - rank[i] + 1);
  }
  for (int i = level; i < level_; ++i) set_span(update[i], i, span(update[i], i) + 1);
  set_backward(n, update[0] == head_ ? nullptr : update[0]);
  if (entry* f = forward(n, 0))
    set_backward(f, n);
  else
    tail_ = n;
  ++length_;
}

void zset_object::find_update(const entry* n, entry** update) const {
  const double s = score(n);
  const std::string_view m = member(n);
  entry* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    for (;;) {
      entry* f = forward(x, i);
      if (i > 0) prefetch_node(forward(x, i - 1));
      if (!f || !before(f, s, m)) break;
      x = f;
    }
    update[i] = x;
  }
}

void zset_object::unlink_with(entry* n, entry** update) {
  for (int i = 0; i < level_; ++i) {
    if (forward(update[i], i) == n) {
      set_span(update[i], i, span(update[i], i) + span(n, i) - 1);
      set_forward(update[i], i, forward(n, i));
    } else {
      set_span(update[i], i, span(update[i], i) - 1);
    }
  }
  if (entry* f = forward(n, 0))
    set_backward(f, backward(n));
  else
    tail_ = backward(n);
  while (level_ > 1 && !forward(head_, level_ - 1)) --level_;
  --length_;
}

void zset_object::drop(entry* n) {
  dict_.erase(n);
  node_bytes_ -= node_block_size(n);
  free_node(n);
}

entry* zset_object::insert(double s, std::string_view member) {
  entry* n = allocate_node(member, random_level());
  set_score(n, s);
  link(n);
  dict_.insert(n);
  node_bytes_ += node_block_size(n);
  return n;
}

void zset_object::erase(entry* n) {
  entry* update[max_level];
  find_update(n, update);
  unlink_with(n, update);
  drop(n);
}

void zset_object::update_score(entry* n, double s) {
  // Still between its neighbours: the links stay as they are. Only the
  // neighbour on the side it moves to needs a look (the other one sorts
  // before or after it whatever its member).
  const double old_s = score(n);
  if (s > old_s) {
    const entry* f = forward(n, 0);
    if (!f || score(f) > s) {
      set_score(n, s);
      return;
    }
  } else if (s < old_s) {
    const entry* b = backward(n);
    if (!b || score(b) < s) {
      set_score(n, s);
      return;
    }
  } else {  // equal (0 and -0 are): same order
    set_score(n, s);
    return;
  }
  // Two searches in one loop, a step of each in turn, so that their cache
  // misses overlap: (a) the predecessors of n at its current place, to unlink
  // it, and (b) the predecessors of its new place in the list without n, with
  // their positions. Each step prefetches the node its search reads next,
  // and the one it reads should that node be past its target.
  entry* old_update[max_level];
  entry* new_update[max_level];
  std::uint64_t new_rank[max_level];
  const std::string_view m = member(n);
  entry* xa = head_;
  entry* xb = head_;
  int ia = level_ - 1, ib = level_ - 1;
  std::uint64_t rb = 0;
  while (ia >= 0 || ib >= 0) {
    if (ia >= 0) {
      entry* fa = forward(xa, ia);
      if (fa && before(fa, old_s, m))
        xa = fa;
      else
        old_update[ia--] = xa;
      if (ia >= 0) prefetch_node(forward(xa, ia));
      if (ia > 0) prefetch_node(forward(xa, ia - 1));
    }
    if (ib >= 0) {
      entry* fb = forward(xb, ib);
      std::uint64_t step = span(xb, ib);
      if (fb == n) {  // look past n, as if it were gone
        step += span(n, ib);
        fb = forward(n, ib);
      }
      if (fb && before(fb, s, m)) {
        rb += step;
        xb = fb;
      } else {
        new_update[ib] = xb;
        new_rank[ib] = rb;
        --ib;
      }
      if (ib >= 0) prefetch_node(forward(xb, ib));
      if (ib > 0) prefetch_node(forward(xb, ib - 1));
    }
  }
  // (b) counted n where it passed it: the predecessors after n move up one
  // place once n is gone. Lower levels' predecessors are never before higher
  // levels' ones, so the first one found before n ends the fix.
  if (old_s < s)
    for (int i = 0; i < level_ && new_update[i] != head_ && node_less(n, new_update[i]); ++i) --new_rank[i];
  unlink_with(n, old_update);
  set_score(n, s);
  link_with(n, new_update, new_rank);
}

std::size_t zset_object::rank(const entry* n) const {
  std::size_t count = 0;
  const double s = score(n);
  const std::string_view m = member(n);
  last_where(
      [&](const entry* f) {  // f is not after n
        const double fs = score(f);
        return fs < s || (fs == s && member(f).compare(m) <= 0);
      },
      count);
  return count - 1;
}

entry* zset_object::at_rank(std::size_t r) const {
  const std::uint64_t target = r + 1;
  std::uint64_t traversed = 0;
  entry* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    for (entry* f = forward(x, i); f && traversed + span(x, i) <= target; f = forward(x, i)) {
      traversed += span(x, i);
      x = f;
    }
    if (traversed == target) return x;
  }
  return nullptr;
}

}  // namespace shrike::store
