#include "util/clock.hpp"

#include <chrono>

namespace shrike::util {

std::atomic<std::int64_t> fake_now_ms{0};

std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t now_us() {
  using namespace std::chrono;
  std::int64_t f = fake_now_ms.load(std::memory_order_relaxed);
  if (f) return f * 1000;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace shrike::util
