#pragma once
// Clients blocked on keys of one shard (BLPOP, BZPOPMIN, ...), per key in
// arrival order. Touched only by the shard's current owner.
//
// A blocked client may wait on keys of several shards; it is shared between
// their registries and claimed exactly once (by the shard that serves it, by
// its own timeout, by CLIENT UNBLOCK or by its disconnection). Whoever claims
// it decides its outcome; everyone else leaves it alone.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace shrike::store {

class blocked_client {
 public:
  // `ex` is the executor of the waiting coroutine; wake() cancels `signal`
  // there, which is what the coroutine awaits.
  explicit blocked_client(boost::asio::any_io_executor ex)
      : ex_(ex), signal_(std::make_shared<boost::asio::steady_timer>(ex)) {
    signal_->expires_at(boost::asio::steady_timer::time_point::max());
  }
  virtual ~blocked_client() = default;
  blocked_client(const blocked_client&) = delete;
  blocked_client& operator=(const blocked_client&) = delete;

  bool claim() {
    bool expected = false;
    return claimed_.compare_exchange_strong(expected, true, std::memory_order_acq_rel);
  }
  bool claimed() const { return claimed_.load(std::memory_order_acquire); }

  // Called by the claimer once the outcome is recorded.
  void wake() {
    woken_.store(true, std::memory_order_release);
    boost::asio::post(ex_, [s = signal_] { s->cancel(); });
  }
  bool woken() const { return woken_.load(std::memory_order_acquire); }
  boost::asio::steady_timer& signal() { return *signal_; }

 private:
  boost::asio::any_io_executor ex_;
  std::shared_ptr<boost::asio::steady_timer> signal_;
  std::atomic<bool> claimed_{false};
  std::atomic<bool> woken_{false};
};

class blocked_keys {
 public:
  using queue = std::deque<std::shared_ptr<blocked_client>>;

  void add(std::size_t db, std::string_view key, std::shared_ptr<blocked_client> c) {
    map_[slot(db, key)].push_back(std::move(c));
  }
  void remove(std::size_t db, std::string_view key, const blocked_client* c) {
    auto it = map_.find(slot(db, key));
    if (it == map_.end()) return;
    auto& q = it->second;
    for (auto i = q.begin(); i != q.end(); ++i) {
      if (i->get() == c) {
        q.erase(i);
        break;
      }
    }
    if (q.empty()) map_.erase(it);
  }
  queue* find(std::size_t db, std::string_view key) {
    if (map_.empty()) return nullptr;
    auto it = map_.find(slot(db, key));
    return it == map_.end() ? nullptr : &it->second;
  }
  void drop_if_empty(std::size_t db, std::string_view key) {
    auto it = map_.find(slot(db, key));
    if (it != map_.end() && it->second.empty()) map_.erase(it);
  }
  bool empty() const { return map_.empty(); }
  // Keys of database `db` with waiters (SWAPDB re-checks them).
  template <class Visit>
  void for_each_key(std::size_t db, Visit&& visit) const {
    const std::string prefix = std::to_string(db) + ':';
    for (const auto& [slot_key, q] : map_)
      if (slot_key.compare(0, prefix.size(), prefix) == 0) visit(std::string_view(slot_key).substr(prefix.size()));
  }

 private:
  static std::string slot(std::size_t db, std::string_view key) {
    std::string s = std::to_string(db);
    s += ':';
    s += key;
    return s;
  }
  std::unordered_map<std::string, queue> map_;
};

}  // namespace shrike::store
