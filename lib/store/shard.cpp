#include "store/shard.hpp"

#include <chrono>

#include "util/clock.hpp"

namespace shrike::store {

shard::shard(asio::io_context& io, std::size_t index, std::size_t databases, bool single_thread)
    : io_(io),
      index_(index),
      strand_(asio::make_strand(io)),
      dbs_(databases),
      rng_(0x5eed0000u + index),
      single_thread_(single_thread),
      expiry_timer_(strand_) {}

asio::awaitable<void> shard::acquire() {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this](auto handler) {
        asio::dispatch(strand_, [this, h = std::move(handler)]() mutable {
          auto grant = [this, h = std::move(h)]() mutable {
            locked_ = true;
            complete(std::move(h));
          };
          if (!locked_)
            grant();
          else
            waiting_.emplace_back(std::move(grant));
        });
      },
      asio::use_awaitable);
}

void shard::release() {
  asio::dispatch(strand_, [this] {
    locked_ = false;
    drain();
  });
}

void shard::drain() {
  while (!locked_ && !waiting_.empty()) {
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    next();
  }
}

void shard::start_expiry(std::chrono::milliseconds period) {
  expiry_period_ = period;
  asio::dispatch(strand_, [this] { expiry_tick(); });
}

void shard::stop() {
  asio::dispatch(strand_, [this] {
    stopped_ = true;
    expiry_timer_.cancel();
  });
}

void shard::expiry_tick() {
  if (stopped_) return;
  // Skip the cycle while a multi-shard command holds the gate; lazy expiry
  // still guards every read.
  bool more = false;
  if (!locked_) {
    // Bounded work per tick: about a quarter of the tick period at most.
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
  }
  expiry_timer_.expires_after(more ? std::chrono::milliseconds(1) : expiry_period_);
  expiry_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) expiry_tick();
  });
}

}  // namespace shrike::store
