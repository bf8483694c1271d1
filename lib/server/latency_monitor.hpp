#pragma once
// The latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR): per event
// class ("command", "fast-command"), the latest 160 samples at most one per
// second (the worst of that second) and the all-time maximum. Samples are
// taken only for latencies of at least latency-monitor-threshold ms (0: off).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace shrike::server {

class latency_monitor {
 public:
  static constexpr std::size_t history_len = 160;
  struct sample {
    std::int64_t time_s = 0;
    std::uint64_t ms = 0;
  };
  struct latest_entry {
    std::string event;
    sample last;
    std::uint64_t max_ms = 0;
  };

  void add_sample(std::string_view event, std::uint64_t ms, std::int64_t now_s);
  std::vector<latest_entry> latest() const;
  // Oldest first; empty for an unknown event.
  std::vector<sample> history(std::string_view event) const;
  bool has(std::string_view event) const;
  std::uint64_t max_of(std::string_view event) const;
  // Forgets the events (all of them when `events` is empty); returns how
  // many existed.
  std::size_t reset(const std::vector<std::string>& events);

 private:
  struct series {
    std::array<sample, history_len> samples{};
    std::size_t next = 0;  // where the next sample goes
    std::uint64_t max_ms = 0;
  };
  mutable std::mutex m_;
  std::map<std::string, series, std::less<>> events_;
};

}  // namespace shrike::server
