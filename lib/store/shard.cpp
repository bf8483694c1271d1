#include "store/shard.hpp"

#include <boost/asio/post.hpp>
#include <chrono>

#include "util/clock.hpp"

namespace shrike::store {

namespace {
// Queued items one hand_on() runs before it posts the rest: the thread that
// let go of the shard gets back to its own clients.
constexpr int hand_on_budget = 64;
}  // namespace

shard::shard(asio::io_context& io, std::size_t index, std::size_t databases)
    : io_(io), index_(index), dbs_(databases), rng_(0x5eed0000u + index), expiry_timer_(io) {}

bool shard::try_own() {
  std::lock_guard lock(mutex_);
  if (owned_) return false;
  owned_ = true;
  return true;
}

void shard::submit(util::unique_function fn, bool keeps_ownership) {
  {
    std::lock_guard lock(mutex_);
    if (owned_) {
      waiting_.push_back(waiter{std::move(fn), keeps_ownership});
      return;
    }
    owned_ = true;
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
        owned_ = false;
        return;
      }
      if (left == 0) break;
      next = std::move(waiting_.front());
      waiting_.pop_front();
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
  if (try_own()) co_return;
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
