#pragma once
// CLIENT PAUSE: while a pause lasts, clients' commands wait before they run
// (all of them in ALL mode; in WRITE mode those that write or may be
// propagated), as Redis postpones them, and expiry deletes nothing. The
// pause ends at its deadline or at CLIENT UNPAUSE, which wakes the waiters
// at once. Replicas are never paused.
//
// As in Redis, each purpose (CLIENT PAUSE, FAILOVER) has its own pause: the
// strongest mode of those not past their deadline holds, and ending one
// purpose's pause leaves the other's in place.
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
  enum class purpose : int { client_command = 0, failover = 1 };

  // A new pause, or a longer or stronger one for the same purpose: the
  // stronger mode and the later end win. `end_ms` 0 or in the past: ends at
  // the next check.
  void pause(purpose why, mode m, std::int64_t end_ms);
  void unpause(purpose why);

  // One relaxed load while no pause was ever set since the last end.
  bool maybe_active() const { return mode_.load(std::memory_order_relaxed) != static_cast<int>(mode::off); }
  // Whether a command must wait now (ends pauses past their deadline).
  bool holds(bool writes, std::int64_t now_ms);
  // Expiry must not delete while any pause lasts.
  bool active(std::int64_t now_ms) { return holds(true, now_ms); }

  // Suspends until holds(writes, now) is false.
  boost::asio::awaitable<void> wait(bool writes);

 private:
  bool holds_locked(bool writes, std::int64_t now_ms);
  void wake_all_locked();

  static constexpr int purposes = 2;
  struct one_pause {
    mode m = mode::off;
    std::int64_t end_ms = 0;
  };
  // Recomputes mode_ and expiry's pause after a purpose's pause changed.
  void update_locked();
  // The earliest deadline among the pauses in force.
  std::int64_t first_end_locked() const;

  std::atomic<int> mode_{static_cast<int>(mode::off)};  // the strongest mode in force
  std::mutex m_;
  one_pause by_purpose_[purposes];
  // Waiting clients' timers (each on its session's executor).
  std::vector<std::weak_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace shrike::server
