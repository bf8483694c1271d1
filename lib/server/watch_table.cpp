#include "server/watch_table.hpp"

#include <algorithm>

namespace shrike::server {

std::string watch_table::slot(std::size_t db, std::string_view key) {
  std::string s = std::to_string(db);
  s += ':';
  s += key;
  return s;
}

void watch_table::watch(std::size_t db, std::string_view key, const std::shared_ptr<watch_state>& w) {
  std::lock_guard lock(mutex_);
  auto& v = keys_[slot(db, key)];
  for (auto& x : v)
    if (x.lock().get() == w.get()) return;  // already watched by this client
  v.push_back(w);
  pairs_.fetch_add(1);
}

void watch_table::unwatch(std::size_t db, std::string_view key, const watch_state* w) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(slot(db, key));
  if (it == keys_.end()) return;
  auto& v = it->second;
  auto gone = std::remove_if(v.begin(), v.end(), [&](const std::weak_ptr<watch_state>& x) {
    auto p = x.lock();
    return !p || p.get() == w;
  });
  pairs_.fetch_sub(static_cast<std::size_t>(v.end() - gone));
  v.erase(gone, v.end());
  if (v.empty()) keys_.erase(it);
}

void watch_table::touch(std::size_t db, std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(slot(db, key));
  if (it == keys_.end()) return;
  for (auto& x : it->second)
    if (auto p = x.lock()) p->dirty.store(true);
}

void watch_table::touch_db(std::size_t db) {
  const std::string prefix = std::to_string(db) + ':';
  std::lock_guard lock(mutex_);
  for (auto& [k, v] : keys_)
    if (k.compare(0, prefix.size(), prefix) == 0)
      for (auto& x : v)
        if (auto p = x.lock()) p->dirty.store(true);
}

void watch_table::touch_all() {
  std::lock_guard lock(mutex_);
  for (auto& [k, v] : keys_)
    for (auto& x : v)
      if (auto p = x.lock()) p->dirty.store(true);
}

}  // namespace shrike::server
