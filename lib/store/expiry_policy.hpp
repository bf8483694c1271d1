#pragma once
// Whether this server expires keys by itself. A replica does not: its master
// sends a DEL for every key it expires, and a replica that dropped keys on
// its own clock could apply the master's next write to a key the master
// still has (INCR on a fresh key instead of the master's value). So while
// the server replicates a master, keys whose TTL passed stay in the store:
// the master's stream still sees them, other clients do not (as Redis 7.0's
// replicas).
#include <atomic>
#include <cstdint>

#include "util/clock.hpp"

namespace shrike::store::expiry_policy {

// Set while the server is a replica of some master.
inline std::atomic<bool> replica_mode{false};
// Set on the thread applying a command of the master's stream, for the time
// of that command.
inline thread_local bool applying_master_stream = false;

// While CLIENT PAUSE lasts (until this unix time in ms; 0: no pause) expired
// keys are not deleted either, as the dataset must not change.
inline std::atomic<std::int64_t> paused_until_ms{0};

inline bool keeps_expired_keys() {
  if (replica_mode.load(std::memory_order_relaxed)) return true;
  const std::int64_t until = paused_until_ms.load(std::memory_order_relaxed);
  return until != 0 && until >= util::now_ms();
}

// Marks the current thread as applying the master's stream for a scope.
class master_stream_scope {
 public:
  explicit master_stream_scope(bool on) : on_(on) {
    if (on_) applying_master_stream = true;
  }
  ~master_stream_scope() {
    if (on_) applying_master_stream = false;
  }
  master_stream_scope(const master_stream_scope&) = delete;
  master_stream_scope& operator=(const master_stream_scope&) = delete;

 private:
  bool on_;
};

}  // namespace shrike::store::expiry_policy
