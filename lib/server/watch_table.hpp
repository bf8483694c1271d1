#pragma once
// WATCH: which clients watch which keys, so that a write marks them dirty and
// their EXEC fails (optimistic locking, as Redis's watched_keys).
//
// Shared by all threads behind one mutex, but a write pays only an atomic
// load while no client watches anything.
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace shrike::server {

struct watch_state {
  std::atomic<bool> dirty{false};
};

class watch_table {
 public:
  void watch(std::size_t db, std::string_view key, const std::shared_ptr<watch_state>& w);
  void unwatch(std::size_t db, std::string_view key, const watch_state* w);

  bool active() const { return pairs_.load() > 0; }
  // Marks the watchers of `key` in `db` dirty.
  void touch(std::size_t db, std::string_view key);
  // Marks every watcher of `db` dirty (FLUSHDB, SWAPDB), or of every db (FLUSHALL).
  void touch_db(std::size_t db);
  void touch_all();

 private:
  static std::string slot(std::size_t db, std::string_view key);

  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::weak_ptr<watch_state>>> keys_;
  std::atomic<std::size_t> pairs_{0};  // (key, client) pairs watched
};

}  // namespace shrike::server
