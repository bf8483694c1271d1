#include "store/zset_skiplist.hpp"

namespace shrike::store {

using namespace zsl;

namespace {

entry* allocate_node(std::string_view member, int level) {
  entry* n = allocate_entry(member, value_type::zset, node_bytes(level), false);
  n->encoding = static_cast<std::uint8_t>(level);
  n->val_len = static_cast<std::uint32_t>(node_bytes(level));
  set_backward(n, nullptr);
  for (int i = 0; i < level; ++i) {
    set_forward(n, i, nullptr);
    set_span(n, i, 0);
  }
  return n;
}

bool node_less(const entry* a, const entry* b) { return less(score(a), a->key(), score(b), b->key()); }

}  // namespace

zset_object::zset_object() : head_(allocate_node({}, max_level)) {}

zset_object::~zset_object() {
  dict_.clear();  // frees every member block
  free_entry(head_);
}

std::size_t zset_object::memory_usage() const {
  return sizeof(*this) + head_->block_size() + node_bytes_ + dict_.bucket_count() * sizeof(entry*);
}

value_object* zset_object::clone() const {
  auto* copy = new zset_object;
  // Highest first: each insertion then stops at the head of every level.
  for (entry* n = tail_; n; n = prev(n)) copy->insert(score(n), n->key());
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
  entry* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    for (entry* f = forward(x, i); f && node_less(f, n); f = forward(x, i)) {
      rank[i] += span(x, i);
      x = f;
    }
    update[i] = x;
  }
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
  entry* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    for (entry* f = forward(x, i); f && node_less(f, n); f = forward(x, i)) x = f;
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
  dict_.unlink(n->key());
  node_bytes_ -= n->block_size();
  free_entry(n);
}

entry* zset_object::insert(double s, std::string_view member) {
  entry* n = allocate_node(member, random_level());
  set_score(n, s);
  link(n);
  dict_.insert(n);
  node_bytes_ += n->block_size();
  return n;
}

void zset_object::erase(entry* n) {
  entry* update[max_level];
  find_update(n, update);
  unlink_with(n, update);
  drop(n);
}

void zset_object::update_score(entry* n, double s) {
  // Still between its neighbours: the links stay as they are.
  entry* b = backward(n);
  entry* f = forward(n, 0);
  if ((!b || score(b) < s) && (!f || score(f) > s)) {
    set_score(n, s);
    return;
  }
  entry* update[max_level];
  find_update(n, update);
  unlink_with(n, update);
  set_score(n, s);
  link(n);
}

std::size_t zset_object::rank(const entry* n) const {
  std::size_t count = 0;
  last_where([&](const entry* f) { return !node_less(n, f); }, count);
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
