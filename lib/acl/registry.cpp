#include "acl/registry.hpp"

#include <cstdlib>

namespace shrike::acl {

namespace {

// ACLCreateDefaultUser.
user make_default_user() {
  user u("default", false);
  u.apply("+@all", false);
  u.apply("~*", false);
  u.apply("&*", false);
  u.apply("on", false);
  u.apply("nopass", false);
  return u;
}

// Entries this close in time (and alike) are counted as one.
constexpr std::int64_t log_grouping_ms = 60000;

bool same_event(const log_entry& a, const log_entry& b) {
  return a.reason == b.reason && a.context == b.context && std::llabs(a.ctime_ms - b.ctime_ms) <= log_grouping_ms &&
         a.object == b.object && a.username == b.username;
}

}  // namespace

registry::registry() {
  std::unique_lock lock(m_);
  store(make_default_user());
  publish();
}

void registry::store(user u) {
  auto it = users_.find(u.name);
  u.uid = it != users_.end() && it->second->uid ? it->second->uid : next_uid_++;
  u.finish();
  auto snapshot = std::make_shared<const user>(std::move(u));
  users_.insert_or_assign(snapshot->name, std::move(snapshot));
}

void registry::publish() {
  const auto& d = users_.at("default");
  default_nopass_.store((d->flags & user::nopass) != 0, std::memory_order_relaxed);
  default_requires_auth_.store(!(d->flags & user::nopass) || (d->flags & user::disabled),
                               std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

user_ptr registry::find(std::string_view name) const {
  std::shared_lock lock(m_);
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second;
}

user_ptr registry::default_user() const { return find("default"); }

std::vector<user_ptr> registry::users() const {
  std::shared_lock lock(m_);
  std::vector<user_ptr> out;
  out.reserve(users_.size());
  for (const auto& [name, u] : users_) out.push_back(u);
  return out;
}

std::string registry::set_user(std::string_view name, std::span<const std::string_view> rules,
                               bool pubsub_all_default, user_ptr* before, user_ptr* after) {
  std::vector<std::string> merged;
  std::size_t bad = 0;
  if (!merge_selector_args(rules, merged, bad))
    return "Unmatched parenthesis in acl selector starting at '" + std::string(rules[bad]) + "'.";
  std::unique_lock lock(m_);
  auto it = users_.find(name);
  user staged = it != users_.end() ? *it->second : user(std::string(name), pubsub_all_default);
  for (const auto& op : merged) {
    if (auto e = staged.apply(op, pubsub_all_default); e != rule_error::none)
      return "Error in ACL SETUSER modifier '" + op + "': " + std::string(error_text(e));
  }
  if (before) *before = it != users_.end() ? it->second : nullptr;
  store(std::move(staged));
  if (after) *after = users_.at(std::string(name));
  publish();
  return {};
}

std::vector<user_ptr> registry::delete_users(std::span<const std::string_view> names) {
  std::vector<user_ptr> removed;
  std::unique_lock lock(m_);
  for (auto name : names) {
    if (name == "default") continue;
    auto it = users_.find(name);
    if (it == users_.end()) continue;
    removed.push_back(it->second);
    users_.erase(it);
  }
  if (!removed.empty()) publish();
  return removed;
}

std::vector<user_ptr> registry::replace_all(std::vector<user> fresh) {
  std::unique_lock lock(m_);
  std::vector<user_ptr> replaced;
  const std::uint64_t default_uid = users_.at("default")->uid;
  for (auto& [name, u] : users_)
    if (name != "default") replaced.push_back(u);
  users_.clear();
  bool have_default = false;
  for (auto& u : fresh) {
    const bool is_default = u.name == "default";
    have_default |= is_default;
    u.uid = is_default ? default_uid : next_uid_++;
    u.finish();
    auto snapshot = std::make_shared<const user>(std::move(u));
    users_.insert_or_assign(snapshot->name, std::move(snapshot));
  }
  if (!have_default) {
    user d = make_default_user();
    d.uid = default_uid;
    d.finish();
    users_.insert_or_assign("default", std::make_shared<const user>(std::move(d)));
  }
  publish();
  return replaced;
}

void registry::set_default_password(std::string_view password) {
  std::unique_lock lock(m_);
  user d = *users_.at("default");
  d.apply("resetpass", false);
  if (password.empty())
    d.apply("nopass", false);
  else
    d.apply(">" + std::string(password), false);
  store(std::move(d));
  publish();
}

void registry::log_add(log_entry e, std::size_t max_len) {
  std::lock_guard lock(log_m_);
  // Only the ten most recent entries are looked at for a match.
  for (std::size_t i = 0; i < log_.size() && i < 10; ++i) {
    if (!same_event(log_[i], e)) continue;
    log_entry match = std::move(log_[i]);
    log_.erase(log_.begin() + static_cast<std::ptrdiff_t>(i));
    match.count++;
    match.ctime_ms = e.ctime_ms;
    match.client_info = std::move(e.client_info);
    log_.push_front(std::move(match));
    return;
  }
  log_.push_front(std::move(e));
  while (log_.size() > max_len) log_.pop_back();
}

std::vector<log_entry> registry::log_recent(std::size_t count) const {
  std::lock_guard lock(log_m_);
  return {log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(std::min(count, log_.size()))};
}

std::size_t registry::log_size() const {
  std::lock_guard lock(log_m_);
  return log_.size();
}

void registry::log_reset() {
  std::lock_guard lock(log_m_);
  log_.clear();
}

}  // namespace shrike::acl
