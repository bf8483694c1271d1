#pragma once
// CLIENT PAUSE: while a pause lasts, clients' commands wait before they run
// (all of them in ALL mode; in WRITE mode those that write or may be
// propagated), as Redis postpones them, and expiry deletes nothing. The
// pause ends at its deadline or at CLIENT UNPAUSE, which wakes the waiters
// at once. Replicas are never paused.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace shrike::server {

class pause_gate {
 public:
  enum class mode : int { off = 0, write = 1, all = 2 };

  // A new pause, or a longer or stronger one: the stronger mode and the
  // later end win. `end_ms` 0 or in the past: ends at the next check.
  void pause(mode m, std::int64_t end_ms);
  void unpause();

  // One relaxed load while no pause was ever set since the last end.
  bool maybe_active() const { return mode_.load(std::memory_order_relaxed) != static_cast<int>(mode::off); }
  // Whether a command must wait now (ends a pause past its deadline).
  bool holds(bool writes, std::int64_t now_ms);
  // Expiry must not delete while any pause lasts.
  bool active(std::int64_t now_ms) { return holds(true, now_ms); }

  // Suspends until holds(writes, now) is false.
  boost::asio::awaitable<void> wait(bool writes);

 private:
  bool holds_locked(bool writes, std::int64_t now_ms);
  void wake_all_locked();

  std::atomic<int> mode_{static_cast<int>(mode::off)};
  std::mutex m_;
  std::int64_t end_ms_ = 0;
  // Waiting clients' timers (each on its session's executor).
  std::vector<std::weak_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace shrike::server
