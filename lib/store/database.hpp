#pragma once
// One logical database (SELECT n) of one shard: the key table plus the index
// of keys that carry a TTL. Touched only by the current owner of its shard (a
// run, or the holder of the shard's gate).
//
// Every read goes through lookup(), which deletes a key whose TTL has passed
// (lazy expiry); active_expire() removes keys nobody reads again.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "store/entry.hpp"
#include "store/key_table.hpp"

namespace shrike::store {

// Hears of the keys the store removes by itself (lazy and active expiry), so
// that the server can publish keyspace notifications without the store
// knowing about it. Installed once, before the shards run.
class key_listener {
 public:
  virtual ~key_listener() = default;
  // Whether expired() has anything to do now. Asked before the key is
  // copied: with nobody listening an expiry costs one relaxed load more.
  virtual bool wants_expired() const = 0;
  // `key` of database `db` was just removed because its TTL passed.
  virtual void expired(std::size_t db, std::string_view key) = 0;
};

class database {
 public:
  database() = default;
  database(database&&) noexcept = default;
  database& operator=(database&&) noexcept = default;

  std::size_t size() const { return table_.size(); }
  std::size_t expires_count() const { return expiring_.size(); }
  // Bytes of bookkeeping beside the key blocks (MEMORY STATS): the hash
  // table's buckets, and for keys with a TTL the index vector and the
  // expire_info each of their blocks carries.
  std::size_t table_overhead() const { return sizeof(table_) + table_.bucket_count() * sizeof(entry*); }
  std::size_t expires_overhead() const {
    return expiring_.capacity() * sizeof(entry*) + expiring_.size() * sizeof(expire_info);
  }
  // Keys removed because their TTL passed (INFO expired_keys).
  std::uint64_t expired_total() const { return expired_; }

  // Tells `listener` (may be null) about expiries, as database number `id`.
  // Stays with the database object: swap() does not exchange it.
  void set_listener(key_listener* listener, std::size_t id) {
    listener_ = listener;
    id_ = id;
  }

  // Lazily expiring lookup; nullptr when absent or expired.
  entry* lookup(std::string_view key, std::int64_t now_ms);
  // Batch prefetch of a key's bucket, then its chain's head (key_table).
  void prefetch_bucket(std::uint64_t hash) const { table_.prefetch_bucket(hash); }
  void prefetch_entry(std::uint64_t hash) const { table_.prefetch_entry(hash); }
  // Lookup that refreshes the access time (what commands use).
  entry* touch(std::string_view key, std::int64_t now_ms);

  // Creates or replaces the string at `key`. The new key has no TTL unless
  // `expire_at_ms` >= 0. keep_ttl keeps the TTL of a replaced key.
  entry* set_string(std::string_view key, std::string_view value, std::int64_t now_ms,
                    std::int64_t expire_at_ms = -1, bool keep_ttl = false);
  // Adds a new key holding `obj` (the key must not exist).
  entry* add_object(std::string_view key, value_type type, value_object* obj, std::int64_t now_ms);

  // Adds a new key whose value is held inline (a compact collection encoding).
  entry* add_inline(std::string_view key, value_type type, std::uint8_t encoding, std::string_view bytes,
                    std::int64_t now_ms);
  // Replaces an inline value by `obj` (a compact collection outgrew its
  // encoding); same key and TTL. The caller has already copied what it needs
  // from the inline bytes. Returns the entry to use.
  entry* convert_to_object(entry* e, value_object* obj, std::uint8_t encoding);

  // Resizes an inline value (a string or a compact collection) in place when the block allows, otherwise moves it
  // to a larger block (growing greedily like sds). Returns the entry to use.
  entry* resize_string(entry* e, std::size_t new_len);

  bool erase(std::string_view key);
  void erase_entry(entry* e);
  // Removes `e` because its TTL passed: counted in expired_total(), reported
  // to the listener. Every expiry goes through here; on a replica it does
  // nothing (store/expiry_policy.hpp: the master sends DEL).
  void expire_entry(entry* e);
  // Removes without freeing (RENAME/MOVE hand the block to another table).
  entry* detach(std::string_view key);
  // Inserts a detached block (key must be absent).
  void attach(entry* e);

  // TTL management. set_expire may move the block; the returned entry is the one to use.
  entry* set_expire(entry* e, std::int64_t at_ms);
  entry* persist(entry* e);
  static std::int64_t expire_of(const entry* e) { return e->has_expire() ? e->expiry()->at_ms : -1; }

  // Deletes expired keys among the keys with a TTL, sampling as Redis's active
  // expiry does. Returns the number removed; stops when `max_checks` keys were
  // examined.
  std::size_t active_expire(std::int64_t now_ms, std::size_t max_checks, std::mt19937_64& rng,
                            bool& more_left);

  entry* random_key(std::int64_t now_ms, std::mt19937_64& rng);
  // A random key for eviction to consider, among all keys or only those with
  // a TTL (the volatile-* policies); nullptr when there is none. No expiry.
  entry* sample_key(bool with_ttl, std::mt19937_64& rng) const {
    if (with_ttl) return expiring_.empty() ? nullptr : expiring_[rng() % expiring_.size()];
    return table_.random_entry(rng);
  }

  template <class Visit>
  std::uint64_t scan_step(std::uint64_t cursor, Visit&& visit) const {
    return table_.scan_step(cursor, std::forward<Visit>(visit));
  }
  template <class Visit>
  void for_each(Visit&& visit) const {
    table_.for_each(std::forward<Visit>(visit));
  }

  void clear();
  void swap(database& other) noexcept;

  static bool is_expired(const entry* e, std::int64_t now_ms) {
    return e->has_expire() && e->expiry()->at_ms <= now_ms;
  }

 private:
  void index_expire(entry* e);
  void unindex_expire(entry* e);

  key_table table_;
  std::vector<entry*> expiring_;
  std::uint64_t expired_ = 0;
  key_listener* listener_ = nullptr;
  std::size_t id_ = 0;
};

}  // namespace shrike::store
