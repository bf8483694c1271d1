#pragma once
// The clocks of a batch of commands, read once per command instead of three
// times (wall clock for the command, steady clock before and after it: about
// 4% of the CPU at pipeline 16).
//
// start() reads both clocks when a batch begins; resume() reads the steady
// clock alone when a later hop of the same batch begins, so the time spent
// between hops (waiting for a shard) is no command's duration. A command's wall
// time is the batch's wall time plus the steady time elapsed since, and its
// duration runs from the previous lap (the end of the command before it, or
// the start) to now.
#include <chrono>
#include <cstdint>

#include "util/clock.hpp"

namespace shrike::server {

class batch_clock {
 public:
  using steady = std::chrono::steady_clock;

  void start() {
    start_ = last_ = steady::now();
    wall_ms_ = util::now_ms();
  }
  // A later hop of the batch begins: the next lap runs from here.
  void resume() { last_ = steady::now(); }
  // Wall-clock milliseconds at the last lap (or the start).
  std::int64_t now_ms() const {
    return wall_ms_ + std::chrono::duration_cast<std::chrono::milliseconds>(last_ - start_).count();
  }
  // Microseconds since the last lap (or the start); begins the next lap.
  std::int64_t lap_us() {
    const auto t = steady::now();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - last_).count();
    last_ = t;
    return us;
  }

 private:
  steady::time_point start_{}, last_{};
  std::int64_t wall_ms_ = 0;
};

}  // namespace shrike::server
