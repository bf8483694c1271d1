#pragma once
// All shards of the server, key -> shard routing, and execution over a set of
// shards with their gates held (multi-key atomicity across shards).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "store/key_table.hpp"
#include "store/shard.hpp"

namespace shrike::store {

class shard_set {
 public:
  shard_set(asio::io_context& io, std::size_t shards, std::size_t databases);

  std::size_t size() const { return shards_.size(); }
  shard& at(std::size_t i) { return *shards_[i]; }
  std::size_t database_count() const { return databases_; }

  std::size_t shard_of(std::string_view key) const { return shard_of_hash(hash_key(key)); }
  // `hash` is hash_key(key). The top bits pick the shard; the low bits pick
  // the bucket inside it.
  std::size_t shard_of_hash(std::uint64_t hash) const {
    return static_cast<std::size_t>(((hash >> 32) * shards_.size()) >> 32);
  }
  database& db_for(std::string_view key, std::size_t db) { return at(shard_of(key)).db(db); }

  // Runs fn with the gates of `ids` held (sorted ascending, no duplicates):
  // one shard -> shard::run (no gate round trip); several -> acquire each gate
  // in ascending order (no deadlock), run fn on the caller, release all.
  template <class Fn>
  asio::awaitable<void> run_gated(std::span<const std::size_t> ids, Fn& fn) {
    if (ids.size() == 1) {
      co_await at(ids[0]).run(fn);
      co_return;
    }
    for (std::size_t id : ids) co_await at(id).acquire();
    try {
      fn();
    } catch (...) {
      for (std::size_t id : ids) at(id).release();
      throw;
    }
    for (std::size_t id : ids) at(id).release();
  }

  template <class Fn>
  asio::awaitable<void> run_on_all(Fn& fn) {
    co_await run_gated(std::span<const std::size_t>(all_), fn);
  }

  // Installs `listener` on every database of every shard (at startup).
  void set_key_listener(key_listener* listener) {
    for (auto& s : shards_) s->set_key_listener(listener);
  }

  void start_expiry(std::chrono::milliseconds period);
  void stop();

 private:
  std::vector<std::unique_ptr<shard>> shards_;
  std::vector<std::size_t> all_;
  std::size_t databases_;
};

}  // namespace shrike::store
