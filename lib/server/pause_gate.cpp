#include "server/pause_gate.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>

#include "store/expiry_policy.hpp"
#include "util/clock.hpp"

namespace shrike::server {

namespace asio = boost::asio;

void pause_gate::pause(mode m, std::int64_t end_ms) {
  std::lock_guard lock(m_);
  const int current = mode_.load(std::memory_order_relaxed);
  if (current == static_cast<int>(mode::off)) {
    end_ms_ = end_ms;
    mode_.store(static_cast<int>(m), std::memory_order_relaxed);
  } else {
    end_ms_ = std::max(end_ms_, end_ms);
    mode_.store(std::max(current, static_cast<int>(m)), std::memory_order_relaxed);
  }
  store::expiry_policy::paused_until_ms.store(std::max<std::int64_t>(end_ms_, 1), std::memory_order_relaxed);
  wake_all_locked();  // waiters sleep until the old end: let them see the new one
}

void pause_gate::unpause() {
  std::lock_guard lock(m_);
  mode_.store(static_cast<int>(mode::off), std::memory_order_relaxed);
  end_ms_ = 0;
  store::expiry_policy::paused_until_ms.store(0, std::memory_order_relaxed);
  wake_all_locked();
}

bool pause_gate::holds(bool writes, std::int64_t now_ms) {
  if (!maybe_active()) return false;
  std::lock_guard lock(m_);
  return holds_locked(writes, now_ms);
}

bool pause_gate::holds_locked(bool writes, std::int64_t now_ms) {
  const int m = mode_.load(std::memory_order_relaxed);
  if (m == static_cast<int>(mode::off)) return false;
  if (end_ms_ < now_ms) {  // its deadline passed: the pause ends here
    mode_.store(static_cast<int>(mode::off), std::memory_order_relaxed);
    store::expiry_policy::paused_until_ms.store(0, std::memory_order_relaxed);
    wake_all_locked();
    return false;
  }
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
      until = end_ms_;
      waiters_.push_back(timer);
      timer->expires_after(std::chrono::milliseconds(std::min<std::int64_t>(until - now + 1, 3600 * 1000)));
    }
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace shrike::server
