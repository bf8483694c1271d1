#pragma once
// What a key's 32-bit `lru` field holds: under an LRU (or no) maxmemory policy
// the unix second of its last access (OBJECT IDLETIME); under an LFU policy,
// as Redis, the minute of the last decrement (16 bits) above a logarithmic
// access counter (8 bits) that starts at 5, grows with probability
// 1/((counter-5)*lfu-log-factor+1) per access and loses one per
// lfu-decay-time minutes (OBJECT FREQ). Switching policies reinterprets the
// field, as in Redis ("LRU and LFU data will take some time to adjust").
#include <atomic>
#include <cstdint>
#include <random>

namespace shrike::store::access_stamp {

// The mode and LFU parameters in force, set from the configuration.
inline std::atomic<bool> lfu_mode{false};
inline std::atomic<std::int64_t> lfu_log_factor{10};
inline std::atomic<std::int64_t> lfu_decay_time{1};

inline constexpr std::uint32_t lfu_init_val = 5;

inline std::uint32_t minutes(std::int64_t now_ms) { return static_cast<std::uint32_t>(now_ms / 60000) & 0xffffU; }

// LFUDecrAndReturn: the counter after the decay its idle minutes call for.
inline std::uint32_t lfu_counter(std::uint32_t stamp, std::int64_t now_ms) {
  // (a stamp written under an LRU policy has more than 24 bits: as Redis's
  // 24-bit field would, keep 16 bits of "minutes")
  const std::uint32_t then = (stamp >> 8) & 0xffffU, now = minutes(now_ms);
  std::uint32_t counter = stamp & 0xffU;
  const std::uint32_t elapsed = now >= then ? now - then : 65535 - then + now;
  const std::int64_t decay = lfu_decay_time.load(std::memory_order_relaxed);
  const std::uint32_t periods = decay > 0 ? static_cast<std::uint32_t>(elapsed / decay) : 0;
  return periods > counter ? 0 : counter - periods;
}

// An LFU stamp with this counter as of now (RESTORE FREQ, an RDB's FREQ).
inline std::uint32_t with_counter(std::int64_t counter, std::int64_t now_ms) {
  return (minutes(now_ms) << 8) | static_cast<std::uint32_t>(counter & 0xff);
}

// A key's stamp when it is created.
inline std::uint32_t fresh(std::int64_t now_ms) {
  if (lfu_mode.load(std::memory_order_relaxed)) return (minutes(now_ms) << 8) | lfu_init_val;
  return static_cast<std::uint32_t>(now_ms / 1000);
}

// A key's stamp after an access (updateLFU, or the LRU clock).
inline std::uint32_t accessed(std::uint32_t stamp, std::int64_t now_ms) {
  if (!lfu_mode.load(std::memory_order_relaxed)) return static_cast<std::uint32_t>(now_ms / 1000);
  std::uint32_t counter = lfu_counter(stamp, now_ms);
  if (counter < 255) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    const double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const double base = counter > lfu_init_val ? counter - lfu_init_val : 0;
    const double p = 1.0 / (base * static_cast<double>(lfu_log_factor.load(std::memory_order_relaxed)) + 1.0);
    if (r < p) ++counter;
  }
  return (minutes(now_ms) << 8) | counter;
}

}  // namespace shrike::store::access_stamp
