#pragma once
// Wall-clock milliseconds, replaceable in tests (expiry with a fake clock).
#include <atomic>
#include <cstdint>

namespace shrike::util {

// When non-zero, now_ms() returns this instead of the system clock.
extern std::atomic<std::int64_t> fake_now_ms;

std::int64_t system_now_ms();
inline std::int64_t now_ms() {
  std::int64_t f = fake_now_ms.load(std::memory_order_relaxed);
  return f ? f : system_now_ms();
}
std::int64_t now_us();

}  // namespace shrike::util
