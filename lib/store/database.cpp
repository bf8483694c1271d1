#include "store/database.hpp"

#include <algorithm>
#include <ctime>
#include <string>

#include "store/access_stamp.hpp"
#include "store/expiry_policy.hpp"

namespace shrike::store {

entry* database::lookup(std::string_view key, std::int64_t now_ms) {
  entry* e = table_.find(key);
  if (e && is_expired(e, now_ms)) {
    if (expiry_policy::keeps_expired_keys()) return expiry_policy::applying_master_stream ? e : nullptr;
    expire_entry(e);
    return nullptr;
  }
  return e;
}

entry* database::touch(std::string_view key, std::int64_t now_ms) {
  entry* e = lookup(key, now_ms);
  if (e) e->lru = access_stamp::accessed(e->lru, now_ms);
  return e;
}

entry* database::set_string(std::string_view key, std::string_view value, std::int64_t now_ms,
                            std::int64_t expire_at_ms, bool keep_ttl) {
  entry* old = table_.find(key);
  std::int64_t ttl = expire_at_ms;
  if (old && keep_ttl && old->has_expire() && !is_expired(old, now_ms)) ttl = old->expiry()->at_ms;
  const bool with_expire = ttl >= 0;

  // Reuse the block when the layout matches and the value fits.
  if (old && old->type == value_type::string && old->has_expire() == with_expire &&
      value.size() <= old->string_capacity()) {
    if (!value.empty()) std::memmove(old->value_data(), value.data(), value.size());
    old->val_len = static_cast<std::uint32_t>(value.size());
    old->encoding = static_cast<std::uint8_t>(classify_string(value));
    old->lru = access_stamp::accessed(old->lru, now_ms);  // (Redis's lookupKeyWrite; LFU data is kept)
    if (with_expire) old->expiry()->at_ms = ttl;
    return old;
  }
  entry* e = allocate_entry(key, value_type::string, value.size(), with_expire);
  if (!value.empty()) std::memcpy(e->value_data(), value.data(), value.size());
  e->val_len = static_cast<std::uint32_t>(value.size());
  e->encoding = static_cast<std::uint8_t>(classify_string(value));
  e->lru = old ? access_stamp::accessed(old->lru, now_ms) : access_stamp::fresh(now_ms);
  if (old) erase_entry(old);
  table_.insert(e);
  if (with_expire) {
    e->expiry()->at_ms = ttl;
    index_expire(e);
  }
  return e;
}

entry* database::add_object(std::string_view key, value_type type, value_object* obj, std::int64_t now_ms) {
  entry* e = allocate_entry(key, type, sizeof(value_object*), false);
  e->set_object(obj);
  e->lru = access_stamp::fresh(now_ms);
  table_.insert(e);
  return e;
}

entry* database::add_inline(std::string_view key, value_type type, std::uint8_t encoding, std::string_view bytes,
                            std::int64_t now_ms) {
  entry* e = allocate_entry(key, type, bytes.size(), false);
  if (!bytes.empty()) std::memcpy(e->value_data(), bytes.data(), bytes.size());
  e->val_len = static_cast<std::uint32_t>(bytes.size());
  e->encoding = encoding;
  e->lru = access_stamp::fresh(now_ms);
  table_.insert(e);
  return e;
}

entry* database::convert_to_object(entry* e, value_object* obj, std::uint8_t encoding) {
  entry* n = e;
  if (e->string_capacity() < sizeof(value_object*)) {
    n = reshape_entry(e, e->has_expire(), sizeof(value_object*));
    table_.relink(e, n);
    if (n->has_expire()) expiring_[n->expiry()->index] = n;
  }
  n->set_object(obj);
  n->encoding = encoding;
  return n;
}

entry* database::resize_string(entry* e, std::size_t new_len) {
  if (new_len <= e->string_capacity()) {
    e->val_len = static_cast<std::uint32_t>(new_len);
    return e;
  }
  // Greedy growth as sds: double below 1 MB, then +1 MB.
  constexpr std::size_t max_prealloc = 1024 * 1024;
  std::size_t cap = new_len < max_prealloc ? new_len * 2 : new_len + max_prealloc;
  const bool had_expire = e->has_expire();
  entry* n = reshape_entry(e, had_expire, cap);
  table_.relink(e, n);
  if (had_expire) expiring_[n->expiry()->index] = n;
  n->val_len = static_cast<std::uint32_t>(new_len);
  return n;
}

bool database::erase(std::string_view key) {
  entry* e = table_.find(key);
  if (!e) return false;
  erase_entry(e);
  return true;
}

void database::erase_entry(entry* e) {
  table_.unlink(e->key());
  if (e->has_expire()) unindex_expire(e);
  free_entry(e);
}

void database::expire_entry(entry* e) {
  if (expiry_policy::keeps_expired_keys()) return;  // the master's DEL removes it
  ++expired_;
  if (!listener_ || !listener_->wants_expired()) return erase_entry(e);
  // Reported once the key is gone, as Redis notifies after the delete.
  const std::string key(e->key());
  erase_entry(e);
  listener_->expired(id_, key);
}

entry* database::detach(std::string_view key) {
  entry* e = table_.unlink(key);
  if (e && e->has_expire()) unindex_expire(e);
  return e;
}

void database::attach(entry* e) {
  table_.insert(e);
  if (e->has_expire()) index_expire(e);
}

entry* database::set_expire(entry* e, std::int64_t at_ms) {
  if (e->has_expire()) {
    e->expiry()->at_ms = at_ms;
    return e;
  }
  std::size_t cap = e->payload_size();
  entry* n = reshape_entry(e, true, cap);
  table_.relink(e, n);
  n->expiry()->at_ms = at_ms;
  index_expire(n);
  return n;
}

entry* database::persist(entry* e) {
  if (!e->has_expire()) return e;
  unindex_expire(e);
  std::size_t cap = e->payload_size();
  entry* n = reshape_entry(e, false, cap);
  table_.relink(e, n);
  return n;
}

void database::index_expire(entry* e) {
  e->expiry()->index = expiring_.size();
  expiring_.push_back(e);
}

void database::unindex_expire(entry* e) {
  std::uint64_t i = e->expiry()->index;
  entry* last = expiring_.back();
  expiring_[i] = last;
  last->expiry()->index = i;
  expiring_.pop_back();
}

std::size_t database::active_expire(std::int64_t now_ms, std::size_t max_checks, std::mt19937_64& rng,
                                    bool& more_left) {
  // Redis's cycle: sample 20 keys with a TTL, delete the expired ones, repeat
  // while more than a quarter of a sample was expired.
  constexpr std::size_t sample = 20;
  std::size_t removed = 0, checked = 0;
  more_left = false;
  if (expiry_policy::keeps_expired_keys()) return 0;
  while (!expiring_.empty() && checked < max_checks) {
    std::size_t expired_in_sample = 0, n = std::min(sample, expiring_.size());
    for (std::size_t i = 0; i < n && !expiring_.empty(); ++i) {
      entry* e = expiring_[rng() % expiring_.size()];
      ++checked;
      if (e->expiry()->at_ms <= now_ms) {
        expire_entry(e);
        ++removed;
        ++expired_in_sample;
      }
    }
    if (expired_in_sample * 4 <= n) return removed;
  }
  more_left = !expiring_.empty();
  return removed;
}

entry* database::random_key(std::int64_t now_ms, std::mt19937_64& rng) {
  // As Redis: retry when the pick is expired (it is deleted), give up after
  // a bounded number of tries if every key is expired.
  for (int tries = 0; tries < 100 && table_.size(); ++tries) {
    entry* e = table_.random_entry(rng);
    if (!is_expired(e, now_ms)) return e;
    expire_entry(e);
  }
  return nullptr;
}

void database::clear() {
  table_.clear();
  expiring_.clear();
}

void database::swap(database& other) noexcept {
  table_.swap(other.table_);
  std::swap(expiring_, other.expiring_);
  std::swap(expired_, other.expired_);
}

}  // namespace shrike::store
