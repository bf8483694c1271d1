#include "server/outbox.hpp"

#include <algorithm>

#include "util/log.hpp"

namespace shrike::server {

outbox::outbox(const output_limit* limits, std::function<void()> wake, std::function<void()> kill)
    : limits_(limits), wake_(std::move(wake)), kill_(std::move(kill)) {}

bool outbox::over_limit(std::int64_t now_ms) {
  const output_limit& l = limits_[static_cast<int>(klass.load(std::memory_order_relaxed))];
  const std::size_t used = queue_.size() + in_flight_;
  const std::uint64_t hard = l.hard.load(std::memory_order_relaxed);
  const std::uint64_t soft = l.soft.load(std::memory_order_relaxed);
  if (hard && used >= hard) return true;
  if (soft && used >= soft) {
    if (soft_since_ms_ == 0) {
      soft_since_ms_ = now_ms;
      return false;
    }
    return now_ms - soft_since_ms_ > l.soft_seconds.load(std::memory_order_relaxed) * 1000;
  }
  soft_since_ms_ = 0;
  return false;
}

bool outbox::append(std::string_view bytes, std::int64_t now_ms) {
  bool wake = false, killed = false;
  {
    std::lock_guard lock(m_);
    if (closed_.load(std::memory_order_relaxed)) return false;
    queue_.append(bytes);
    if (over_limit(now_ms)) {
      closed_ = killed = true;
      std::string().swap(queue_);
    } else if (!wake_pending_) {
      wake_pending_ = wake = true;
    }
  }
  if (killed) {
    util::log_warning("Client scheduled to be closed ASAP for overcoming of output buffer limits.");
    kill_();
    return false;
  }
  if (wake) wake_();
  return true;
}

bool outbox::take(std::string& out) {
  std::lock_guard lock(m_);
  wake_pending_ = false;
  if (queue_.empty()) return false;
  out.swap(queue_);
  in_flight_ += out.size();
  return true;
}

void outbox::written(std::size_t n) {
  std::lock_guard lock(m_);
  in_flight_ -= std::min(n, in_flight_);
}

std::size_t outbox::pending() const {
  std::lock_guard lock(m_);
  return queue_.size() + in_flight_;
}

}  // namespace shrike::server
