#include "store/shard.hpp"

#include <boost/asio/post.hpp>
#include <chrono>

#include "util/clock.hpp"

namespace shrike::store {

namespace {
// Queued items one hand_on() runs before it posts the rest: the thread that
// let go of the shard gets back to its own clients.
constexpr int hand_on_budget = 64;
// Checks of a run-owned shard before queueing (see try_own_soon).
// 64 measured best on 2 CPUs (SET -P 16, --threads 2): 0 queues ~21% of the
// runs, 64 about 3%, 256 about 0.2% but burns what it saves.
constexpr int spin_checks = 64;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

shard::shard(asio::io_context& io, std::size_t index, std::size_t databases)
    : io_(io), index_(index), dbs_(databases), rng_(0x5eed0000u + index), expiry_timer_(io) {}

bool shard::try_own(owner_kind kind) {
  std::lock_guard lock(mutex_);
  if (owner_.load(std::memory_order_relaxed) != owner_kind::none) return false;
  owner_.store(kind, std::memory_order_relaxed);
  return true;
}

bool shard::try_own_soon(owner_kind kind) {
  for (int i = 0; i < spin_checks; ++i) {
    const owner_kind now = owner_.load(std::memory_order_relaxed);
    if (now == owner_kind::gate) return false;
    if (now == owner_kind::none && try_own(kind)) return true;
    cpu_relax();
  }
  return false;
}

void shard::submit(util::unique_function fn, bool keeps_ownership) {
  {
    std::lock_guard lock(mutex_);
    if (owner_.load(std::memory_order_relaxed) != owner_kind::none) {
      waiting_.push_back(waiter{std::move(fn), keeps_ownership});
      return;
    }
    owner_.store(keeps_ownership ? owner_kind::gate : owner_kind::run, std::memory_order_relaxed);
  }
  if (keeps_ownership) {
    fn();
  } else {
    owner_scope scope(*this);
    fn();
  }
}

void shard::hand_on() {
  for (int left = hand_on_budget;; --left) {
    waiter next;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) {
        owner_.store(owner_kind::none, std::memory_order_relaxed);
        return;
      }
      if (left == 0) break;
      next = std::move(waiting_.front());
      waiting_.pop_front();
      owner_.store(next.keeps_ownership ? owner_kind::gate : owner_kind::run, std::memory_order_relaxed);
    }
    if (next.keeps_ownership) {
      next.fn();  // a gate holder now owns the shard
      return;
    }
    // Should the work throw, the shard still goes on to the next waiter.
    struct continue_on_throw {
      shard& s;
      ~continue_on_throw() {
        if (std::uncaught_exceptions()) asio::post(s.io_, [&s = s] { s.hand_on(); });
      }
    } guard{*this};
    next.fn();
  }
  asio::post(io_, [this] { hand_on(); });
}

asio::awaitable<void> shard::acquire() {
  if (try_own_soon(owner_kind::gate)) co_return;
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this](auto handler) { submit([h = std::move(handler)]() mutable { complete(std::move(h)); }, true); },
      asio::use_awaitable);
}

void shard::start_expiry(std::chrono::milliseconds period) {
  expiry_period_ = period;
  submit([this] { expiry_tick(); });
}

void shard::stop() {
  submit([this] {
    stopped_ = true;
    expiry_timer_.cancel();
  });
}

// Runs as the owner, so a multi-shard command holding the gate is never
// interleaved with a cycle; lazy expiry guards every read meanwhile.
void shard::expiry_tick() {
  if (stopped_) return;
  // Bounded work per tick: about a quarter of the tick period at most.
  bool more = false;
  const auto budget = expiry_period_ / 4;
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t now = util::now_ms();
  for (auto& db : dbs_) {
    if (!db.expires_count()) continue;
    for (;;) {
      bool left = false;
      db.active_expire(now, 1000, rng_, left);
      if (!left) break;
      if (std::chrono::steady_clock::now() - start > budget) {
        more = true;
        break;
      }
    }
  }
  expiry_timer_.expires_after(more ? std::chrono::milliseconds(1) : expiry_period_);
  expiry_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) submit([this] { expiry_tick(); });
  });
}

}  // namespace shrike::store
