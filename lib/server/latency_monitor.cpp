#include "server/latency_monitor.hpp"

namespace shrike::server {

void latency_monitor::add_sample(std::string_view event, std::uint64_t ms, std::int64_t now_s) {
  std::lock_guard lock(m_);
  auto it = events_.find(event);
  if (it == events_.end()) it = events_.emplace(std::string(event), series{}).first;
  series& s = it->second;
  s.max_ms = std::max(s.max_ms, ms);
  sample& prev = s.samples[(s.next + history_len - 1) % history_len];
  if (prev.time_s == now_s) {  // one sample per second: the worst
    prev.ms = std::max(prev.ms, ms);
    return;
  }
  s.samples[s.next] = {now_s, ms};
  s.next = (s.next + 1) % history_len;
}

std::vector<latency_monitor::latest_entry> latency_monitor::latest() const {
  std::lock_guard lock(m_);
  std::vector<latest_entry> out;
  for (const auto& [name, s] : events_)
    out.push_back({name, s.samples[(s.next + history_len - 1) % history_len], s.max_ms});
  return out;
}

std::vector<latency_monitor::sample> latency_monitor::history(std::string_view event) const {
  std::lock_guard lock(m_);
  std::vector<sample> out;
  auto it = events_.find(event);
  if (it == events_.end()) return out;
  const series& s = it->second;
  for (std::size_t j = 0; j < history_len; ++j) {
    const sample& x = s.samples[(s.next + j) % history_len];
    if (x.time_s != 0) out.push_back(x);
  }
  return out;
}

bool latency_monitor::has(std::string_view event) const {
  std::lock_guard lock(m_);
  return events_.find(event) != events_.end();
}

std::uint64_t latency_monitor::max_of(std::string_view event) const {
  std::lock_guard lock(m_);
  auto it = events_.find(event);
  return it == events_.end() ? 0 : it->second.max_ms;
}

std::size_t latency_monitor::reset(const std::vector<std::string>& events) {
  std::lock_guard lock(m_);
  if (events.empty()) {
    const std::size_t n = events_.size();
    events_.clear();
    return n;
  }
  std::size_t n = 0;
  for (const auto& e : events) n += events_.erase(e);
  return n;
}

}  // namespace shrike::server
