#include "server/pause_gate.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "store/expiry_policy.hpp"
#include "util/clock.hpp"

namespace shrike::server {

namespace asio = boost::asio;

void pause_gate::pause(purpose why, mode m, std::int64_t end_ms) {
  std::lock_guard lock(m_);
  one_pause& p = by_purpose_[static_cast<int>(why)];
  if (p.m == mode::off) {
    p.end_ms = end_ms;
    p.m = m;
  } else {
    p.end_ms = std::max(p.end_ms, end_ms);
    p.m = std::max(p.m, m);
  }
  update_locked();
  wake_all_locked();  // waiters sleep until the old end: let them see the new one
}

void pause_gate::unpause(purpose why) {
  std::lock_guard lock(m_);
  by_purpose_[static_cast<int>(why)] = one_pause{};
  update_locked();
  wake_all_locked();
}

void pause_gate::update_locked() {
  mode strongest = mode::off;
  std::int64_t last_end = 0;
  for (const one_pause& p : by_purpose_) {
    strongest = std::max(strongest, p.m);
    if (p.m != mode::off) last_end = std::max(last_end, p.end_ms);
  }
  mode_.store(static_cast<int>(strongest), std::memory_order_relaxed);
  store::expiry_policy::paused_until_ms.store(strongest == mode::off ? 0 : std::max<std::int64_t>(last_end, 1),
                                              std::memory_order_relaxed);
}

std::int64_t pause_gate::first_end_locked() const {
  std::int64_t first = INT64_MAX;
  for (const one_pause& p : by_purpose_)
    if (p.m != mode::off) first = std::min(first, p.end_ms);
  return first;
}

bool pause_gate::holds(bool writes, std::int64_t now_ms) {
  if (!maybe_active()) return false;
  std::lock_guard lock(m_);
  return holds_locked(writes, now_ms);
}

bool pause_gate::holds_locked(bool writes, std::int64_t now_ms) {
  if (mode_.load(std::memory_order_relaxed) == static_cast<int>(mode::off)) return false;
  bool ended = false;
  for (one_pause& p : by_purpose_) {
    if (p.m != mode::off && p.end_ms < now_ms) {  // its deadline passed: this pause ends here
      p = one_pause{};
      ended = true;
    }
  }
  if (ended) {
    update_locked();
    wake_all_locked();
  }
  const int m = mode_.load(std::memory_order_relaxed);
  if (m == static_cast<int>(mode::off)) return false;
  return m == static_cast<int>(mode::all) || writes;
}

void pause_gate::wake_all_locked() {
  for (auto& w : waiters_)
    if (auto t = w.lock()) asio::post(t->get_executor(), [t] { t->cancel(); });
  waiters_.clear();
}

asio::awaitable<void> pause_gate::wait(bool writes) {
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
  for (;;) {
    std::int64_t until;
    {
      // Checked and registered under the lock that unpause() takes: an
      // unpause cannot slip between the two.
      std::lock_guard lock(m_);
      const std::int64_t now = util::now_ms();
      if (!holds_locked(writes, now)) co_return;
      until = first_end_locked();  // then checked again: another pause may still hold
      waiters_.push_back(timer);
      timer->expires_after(std::chrono::milliseconds(std::min<std::int64_t>(until - now + 1, 3600 * 1000)));
    }
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace shrike::server
