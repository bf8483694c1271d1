#pragma once
// Statistics counters that many threads bump and few read (INFO). One shared
// atomic would bounce its cache line between the pool threads on every
// command; here each thread adds into its own cache-line-sized stripe (a
// thread picks a stripe once, round robin) and a read sums the stripes.
// Threads beyond `stripes` share stripes, which stays correct (atomic adds).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shrike::util {

inline constexpr std::size_t counter_stripes = 8;

// The calling thread's stripe.
inline std::size_t my_stripe() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t stripe = next.fetch_add(1, std::memory_order_relaxed) % counter_stripes;
  return stripe;
}

// N counters that are bumped together (they share each stripe's line).
template <std::size_t N>
class striped_counters {
 public:
  void add(std::size_t i, std::uint64_t n) {
    stripes_[my_stripe()].v[i].fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t load(std::size_t i) const {
    std::uint64_t sum = 0;
    for (const auto& s : stripes_) sum += s.v[i].load(std::memory_order_relaxed);
    return sum;
  }
  void reset() {
    for (auto& s : stripes_)
      for (auto& c : s.v) c.store(0, std::memory_order_relaxed);
  }

 private:
  struct alignas(64) stripe {
    std::array<std::atomic<std::uint64_t>, N> v{};
  };
  std::array<stripe, counter_stripes> stripes_{};
};

// One counter with std::atomic's spelling, so call sites read the same.
class striped_counter {
 public:
  void fetch_add(std::uint64_t n, std::memory_order = std::memory_order_relaxed) { c_.add(0, n); }
  std::uint64_t load(std::memory_order = std::memory_order_relaxed) const { return c_.load(0); }
  void reset() { c_.reset(); }

 private:
  striped_counters<1> c_;
};

}  // namespace shrike::util
