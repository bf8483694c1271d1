#pragma once
// A point-in-time image of the keyspace, made without fork while clients keep
// writing (BGSAVE). begin() runs with every shard's gate held and moves the
// keyspace to a new snapshot epoch: from that instant every existing key is
// "pending". Each shard then saves its pending keys in bounded steps, each a
// run on the shard (step()), and a write command saves the keys it is about to
// change first, as they were (guard(): serialize-before-modify). Keys created
// after begin() carry the new epoch and are never saved; keys deleted before
// being saved were guarded on their way out. So the file holds the dataset
// exactly as it was at begin(), and the extra memory is bounded by one
// step's output plus what guards produce before the writer drains it.
//
// Everything per shard runs as that shard's owner (a run, or its gate's holder).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/rdb_writer.hpp"
#include "store/shard_set.hpp"

namespace shrike::persistence {

class snapshot {
 public:
  snapshot(store::shard_set& shards, const rdb_save_options& opts);

  // With every gate held: the point in time.
  void begin();
  // On shard `s`: saves `key` of `db` as it is now unless already saved.
  void guard(std::size_t s, std::size_t db, std::string_view key, std::int64_t now_ms);
  // On shard `s`: saves pending keys until about `budget` bytes are ready.
  // False once the shard has nothing left.
  bool step(std::size_t s, std::int64_t now_ms, std::size_t budget);
  // On shard `s`: everything left, at once (before FLUSHALL, SWAPDB...).
  void finish_shard(std::size_t s, std::int64_t now_ms);
  // On shard `s`: moves the bytes ready for the file into `out`.
  void take(std::size_t s, std::string& out);

  std::uint8_t epoch() const { return epoch_; }
  std::uint64_t keys_saved() const { return keys_saved_.load(std::memory_order_relaxed); }

 private:
  struct shard_state {
    std::string bytes;
    std::unique_ptr<rdb_writer> writer;
    std::size_t selected_db = SIZE_MAX;  // the db of the last SELECTDB in `bytes`' stream
    std::size_t scan_db = 0;             // the scan's position: database, cursor
    std::uint64_t cursor = 0;
    bool done = false;
  };
  void save(shard_state& st, std::size_t db, store::entry* e, std::int64_t now_ms);

  store::shard_set& shards_;
  rdb_save_options opts_;
  std::vector<shard_state> states_;
  std::uint8_t epoch_ = 0;
  std::atomic<std::uint64_t> keys_saved_{0};
};

}  // namespace shrike::persistence
