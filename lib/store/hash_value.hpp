#pragma once
// Hash values in their two encodings, switched as Redis 7.0 switches them:
//
//  * listpack (encoding_listpack): the packed field,value list held inline in
//    the key's block (store/packed.hpp), in insertion order. The element count
//    in the header counts fields and values, so it is twice the hash length.
//  * hashtable (encoding_hashtable): a hash_object, a key_table of blocks
//    [entry header][field][value] -- one allocation per field, the value inline
//    (entry::str()), so a field costs about as much as a small string key.
//
// A hash starts as a listpack and converts once, for good, when it gets more
// than hash-max-listpack-entries fields or a field or value longer than
// hash-max-listpack-value bytes (t_hash.c hashTypeTryConversion/hashTypeSet).
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

#include "store/database.hpp"
#include "store/entry.hpp"
#include "store/key_table.hpp"
#include "store/packed.hpp"

namespace shrike::store {

inline constexpr std::uint8_t hash_encoding_listpack = 0;
inline constexpr std::uint8_t hash_encoding_hashtable = 1;

// A block for one element of a hashtable-encoded collection: [entry
// header][key = field or member][value], without the pointer-sized minimum
// value slot allocate_entry reserves (an element never holds an object, and
// for small set members those 8 bytes decide the malloc size class).
entry* allocate_element(std::string_view key, std::string_view value);

// Makes room for an inline value of `new_len` bytes (exactly for small
// values, with 1/8 of slack for bigger ones) and returns the entry to use. Compact collections grow through this rather
// than database::resize_string, whose sds-style doubling suits strings that
// keep growing but would leave up to half of a small hash's or intset's block
// unused (the per-element memory of small collections is what they are for).
entry* reserve_inline(database& db, entry* e, std::size_t new_len);

// The configured compact-encoding limits (hash-max-listpack-*).
struct hash_limits {
  std::size_t max_entries = 512;
  std::size_t max_value = 64;
};

class hash_object final : public value_object {
 public:
  hash_object() = default;
  hash_object(const hash_object&) = delete;
  hash_object& operator=(const hash_object&) = delete;

  std::size_t size() const { return table_.size(); }
  const entry* find(std::string_view field) const { return table_.find(field); }
  // Inserts or overwrites; true when the field is new.
  bool set(std::string_view field, std::string_view value);
  bool erase(std::string_view field);
  const key_table& table() const { return table_; }

  std::size_t memory_usage(std::size_t samples) const override;
  value_object* clone() const override;
  const char* encoding_name() const override { return "hashtable"; }

 private:
  key_table table_;
};

inline hash_object& as_hash_object(const entry* e) { return *static_cast<hash_object*>(e->object()); }

// Number of fields.
std::size_t hash_length(const entry* e);
// The value of `field`; the view stays valid until the next write to the key.
bool hash_get(const entry* e, std::string_view field, std::string_view& value);
// hashTypeSet: inserts or overwrites, converting to a hashtable when the new
// pair or the new length exceeds the limits. `created` tells an insert from an
// update. Returns the entry to use (the block may move).
entry* hash_set(database& db, entry* e, std::string_view field, std::string_view value, const hash_limits& limits,
                bool& created);
entry* hash_erase(database& db, entry* e, std::string_view field, bool& erased);
// listpack -> hashtable. Returns the entry to use.
entry* hash_convert(database& db, entry* e);

// Visits every (field, value), in listpack order for the compact encoding.
template <class Visit>
void hash_for_each(const entry* e, Visit&& visit) {
  if (e->holds_object()) {
    as_hash_object(e).table().for_each([&](const entry* f) { visit(f->key(), f->str()); });
    return;
  }
  packed::reader r(e->str());
  while (!r.done()) {
    std::string_view field = r.next();
    std::string_view value = r.next();
    visit(field, value);
  }
}

// One uniformly chosen (listpack) or table-random (hashtable) pair of a
// non-empty hash.
void hash_random_pair(const entry* e, std::mt19937_64& rng, std::string_view& field, std::string_view& value);

}  // namespace shrike::store
