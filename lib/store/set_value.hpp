#pragma once
// Set values in their two encodings, switched as Redis 7.0 switches them
// (t_set.c; 7.0 has no listpack sets):
//
//  * intset: the members as a sorted array of little-endian integers held
//    inline in the key's block, no header. All members share one width (2, 4
//    or 8 bytes, widened when a member needs it, never narrowed, as Redis's
//    intset); the width is the entry's encoding byte, so the length is
//    val_len / width.
//  * hashtable (set_encoding_hashtable): a set_object, a key_table of blocks
//    that hold just the member as their key.
//
// A set is an intset while every member is an integer in string2ll's exact
// form and it has at most set-max-intset-entries members; it converts once,
// for good. Results of SINTERSTORE/SUNIONSTORE/SDIFFSTORE/SPOP are built with
// set_builder, which follows the same rule from an empty intset, as Redis
// builds them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/database.hpp"
#include "store/entry.hpp"
#include "store/key_table.hpp"

namespace shrike::store {

// Encoding byte: the intset width, or this for the object form.
inline constexpr std::uint8_t set_encoding_hashtable = 1;

class set_object final : public value_object {
 public:
  set_object() = default;
  set_object(const set_object&) = delete;
  set_object& operator=(const set_object&) = delete;

  std::size_t size() const { return table_.size(); }
  bool contains(std::string_view member) const { return table_.find(member) != nullptr; }
  bool add(std::string_view member);
  bool erase(std::string_view member);
  const key_table& table() const { return table_; }

  std::size_t memory_usage(std::size_t samples) const override;
  value_object* clone() const override;
  const char* encoding_name() const override { return "hashtable"; }

 private:
  key_table table_;
};

inline set_object& as_set_object(const entry* e) { return *static_cast<set_object*>(e->object()); }

namespace intset {
// Bytes a member needs: 2, 4 or 8.
std::uint8_t width_for(std::int64_t v);
inline std::size_t length(const entry* e) { return e->val_len / e->encoding; }
std::int64_t at(const entry* e, std::size_t i);
// Inline bytes of an intset holding `sorted` (ascending, unique) at the
// narrowest width; `width` receives it.
std::string encode(const std::vector<std::int64_t>& sorted, std::uint8_t& width);
}  // namespace intset

// Decimal text of an intset member, held in a small buffer.
class int_text {
 public:
  explicit int_text(std::int64_t v);
  std::string_view view() const { return {buf_, len_}; }

 private:
  char buf_[24];
  std::size_t len_;
};

// max-intset-entries as Redis applies it (capped at 2^30).
inline std::size_t intset_cap(std::int64_t configured) {
  constexpr std::int64_t cap = std::int64_t{1} << 30;
  return static_cast<std::size_t>(configured < 0 ? 0 : (configured > cap ? cap : configured));
}

std::size_t set_size(const entry* e);
bool set_contains(const entry* e, std::string_view member);
// setTypeAdd: converts to a hashtable on a non-integer member or past
// `max_intset` members. Returns the entry to use (the block may move).
entry* set_add(database& db, entry* e, std::string_view member, std::size_t max_intset, bool& added);
entry* set_erase(database& db, entry* e, std::string_view member, bool& erased);
entry* set_convert(database& db, entry* e);

// Visits every member (intsets in ascending order). The view passed to
// `visit` lives only for the call.
template <class Visit>
void set_for_each(const entry* e, Visit&& visit) {
  if (e->holds_object()) {
    as_set_object(e).table().for_each([&](const entry* m) { visit(m->key()); });
    return;
  }
  const std::size_t n = intset::length(e);
  for (std::size_t i = 0; i < n; ++i) visit(int_text(intset::at(e, i)).view());
}

// A random member of a non-empty set.
std::string set_random_member(const entry* e, std::mt19937_64& rng);

// A set under construction that is not in the keyspace yet (the destination
// of the *STORE commands, SPOP's survivors). It starts as an intset and takes
// the same one-way conversion a stored set takes, so both the order of its
// members (ascending while an intset) and the encoding it is stored with
// match what Redis would produce.
class set_builder {
 public:
  explicit set_builder(std::size_t max_intset) : max_intset_(max_intset) {}

  bool add(std::string_view member);
  bool erase(std::string_view member);
  std::size_t size() const { return object_ ? object_->size() : ints_.size(); }
  bool is_intset() const { return !object_; }

  // Visits the members (ascending while an intset).
  template <class Visit>
  void for_each(Visit&& visit) {
    if (object_) {
      object_->table().for_each([&](const entry* m) { visit(m->key()); });
      return;
    }
    for (std::int64_t v : sorted()) visit(int_text(v).view());
  }

  // Adds the set under `key` (which must be absent); the builder is spent.
  entry* store(database& db, std::string_view key, std::int64_t now_ms);

 private:
  const std::vector<std::int64_t>& sorted();
  void convert();

  std::size_t max_intset_;
  std::unordered_set<std::int64_t> ints_;
  std::vector<std::int64_t> sorted_;
  std::unique_ptr<set_object> object_;
};

}  // namespace shrike::store
