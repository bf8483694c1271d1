#pragma once
// The bytes waiting to be written to one connection in push mode (pub/sub
// subscribers and MONITOR clients): other threads append messages, the
// session's writer coroutine takes them in order. Appends from one thread
// keep their order; a message appended after a subscription's confirmation
// is written after it.
//
// Output buffer limits (client-output-buffer-limit) are enforced here, on
// append, as Redis does on every reply it adds: a client over its hard limit,
// or over its soft limit for longer than the soft period, is closed and its
// pending bytes are dropped at once, so a subscriber that stops reading
// cannot grow the server's memory.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace shrike::server {

// One class of client-output-buffer-limit (bytes; 0 = no limit).
struct output_limit {
  std::atomic<std::uint64_t> hard{0};
  std::atomic<std::uint64_t> soft{0};
  std::atomic<std::int64_t> soft_seconds{0};
};

// Redis's client classes for client-output-buffer-limit.
enum class client_class : std::uint8_t { normal = 0, replica = 1, pubsub = 2 };

class outbox {
 public:
  // `wake` is called (at most once until the next take) when bytes arrive
  // for an idle writer; `kill` closes the connection. Both must be safe to
  // call from any thread. `limits` points at the three classes' limits.
  outbox(const output_limit* limits, std::function<void()> wake, std::function<void()> kill);

  // Queues bytes. Returns false when the client is (now) over its limit and
  // being closed; the bytes are dropped then.
  bool append(std::string_view bytes, std::int64_t now_ms);
  // Writer side: moves what is queued into `out` (which must be empty) and
  // counts it as in flight until written(). False when nothing is queued.
  bool take(std::string& out);
  void written(std::size_t n);

  // Queued plus in-flight bytes (CLIENT LIST omem, the limit check).
  std::size_t pending() const;
  bool closed() const { return closed_.load(std::memory_order_relaxed); }

  // The protocol messages are formatted in (follows the client's HELLO).
  std::atomic<int> resp{2};
  // The limit class the client is in now.
  std::atomic<client_class> klass{client_class::normal};

 private:
  bool over_limit(std::int64_t now_ms);  // under m_

  const output_limit* limits_;
  std::function<void()> wake_, kill_;
  mutable std::mutex m_;
  std::string queue_;
  std::size_t in_flight_ = 0;
  bool wake_pending_ = false;
  std::int64_t soft_since_ms_ = 0;  // when the soft limit was first exceeded (0: it is not)
  std::atomic<bool> closed_{false};
};

}  // namespace shrike::server
