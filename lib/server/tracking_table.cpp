#include "server/tracking_table.hpp"

#include <algorithm>
#include <span>
#include <vector>

#include "replication/replication_state.hpp"
#include "util/clock.hpp"

namespace shrike::server {

namespace {

constexpr std::string_view invalidate_push = ">2\r\n$10\r\ninvalidate\r\n";
constexpr std::string_view invalidate_message = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";

// The array of keys an invalidation carries (RESP, as a command is encoded).
std::string key_array(std::span<const std::string_view> keys) {
  std::string out;
  replication::encode_command(keys, out);
  return out;
}

// Redis's null in the tracking client's protocol (it is not converted when
// the message goes to a redirect target).
std::string_view null_for(int resp) { return resp > 2 ? "_\r\n" : "$-1\r\n"; }

bool prefixes_overlap(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  return a.substr(0, n) == b.substr(0, n);
}

}  // namespace

tracking_table::tracking_table(client_lookup lookup) : lookup_(std::move(lookup)) {}

std::string tracking_table::check(std::uint64_t id, const tracking_mode& mode) const {
  if (!mode.bcast && !mode.prefixes.empty()) return "PREFIX option requires BCAST mode to be enabled";
  std::lock_guard lock(m_);
  auto it = trackers_.find(id);
  const tracking_mode* now = it == trackers_.end() ? nullptr : &it->second.mode;
  if (now && now->bcast != mode.bcast)
    return "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling "
           "it with a different mode.";
  if (mode.bcast && (mode.optin || mode.optout)) return "OPTIN and OPTOUT are not compatible with BCAST";
  if (mode.optin && mode.optout) return "You can't specify both OPTIN mode and OPTOUT mode";
  if (now && ((mode.optin && now->optout) || (mode.optout && now->optin)))
    return "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling "
           "it with a different mode.";
  if (!mode.bcast) return "";
  for (std::size_t i = 0; i < mode.prefixes.size(); ++i) {
    const std::string& p = mode.prefixes[i];
    if (now)
      for (const auto& existing : now->prefixes)
        if (prefixes_overlap(existing, p))
          return "Prefix '" + p + "' overlaps with an existing prefix '" + existing +
                 "'. Prefixes for a single client must not overlap.";
    // (Redis 7.0 replies this error and then also +OK when i > 0, which
    // desynchronizes the connection; we reply the error alone.)
    for (std::size_t j = i + 1; j < mode.prefixes.size(); ++j)
      if (prefixes_overlap(p, mode.prefixes[j]))
        return "Prefix '" + p + "' overlaps with another provided prefix '" + mode.prefixes[j] +
               "'. Prefixes for a single client must not overlap.";
  }
  return "";
}

void tracking_table::enable(const std::shared_ptr<client_state>& c, const tracking_mode& mode) {
  std::lock_guard lock(m_);
  auto [it, fresh] = trackers_.try_emplace(c->id);
  tracker& t = it->second;
  if (fresh) clients_.fetch_add(1, std::memory_order_relaxed);
  t.client = c;
  std::vector<std::string> prefixes = std::move(t.mode.prefixes);
  t.mode = mode;
  t.mode.prefixes.clear();
  if (mode.bcast) {
    std::vector<std::string> added = mode.prefixes;
    if (added.empty()) added.emplace_back();  // BCAST without PREFIX: every key
    for (auto& p : added) {
      prefixes_[p].clients.insert(c->id);
      if (std::find(prefixes.begin(), prefixes.end(), p) == prefixes.end()) prefixes.push_back(std::move(p));
    }
    std::sort(prefixes.begin(), prefixes.end());
    t.mode.prefixes = std::move(prefixes);
  }
  c->tracking = true;
  c->tracking_bcast = mode.bcast;
  c->tracking_broken = false;
  c->tracking_redirect = static_cast<std::int64_t>(mode.redirect);
  c->tracking_optin = mode.optin;
  c->tracking_optout = mode.optout;
}

void tracking_table::disable(client_state& c) {
  std::lock_guard lock(m_);
  auto it = trackers_.find(c.id);
  if (it != trackers_.end()) {
    for (const auto& p : it->second.mode.prefixes) {
      auto ps = prefixes_.find(p);
      if (ps == prefixes_.end()) continue;
      ps->second.clients.erase(c.id);
      if (ps->second.clients.empty()) prefixes_.erase(ps);
    }
    trackers_.erase(it);
    clients_.fetch_sub(1, std::memory_order_relaxed);
  }
  c.tracking = false;
  c.tracking_bcast = false;
  c.tracking_broken = false;
  c.tracking_redirect = -1;
  c.tracking_optin = c.tracking_optout = false;
  c.tracking_caching = false;
}

std::optional<tracking_mode> tracking_table::mode_of(std::uint64_t id) const {
  std::lock_guard lock(m_);
  auto it = trackers_.find(id);
  if (it == trackers_.end()) return std::nullopt;
  return it->second.mode;
}

void tracking_table::remember(const client_state& c, const std::vector<std::string_view>& keys) {
  // OPTIN remembers only after CLIENT CACHING YES, OPTOUT unless after CLIENT CACHING NO.
  if ((c.tracking_optin && !c.tracking_caching) || (c.tracking_optout && c.tracking_caching)) return;
  std::lock_guard lock(m_);
  for (auto key : keys) {
    auto it = keys_.find(std::string(key));
    if (it == keys_.end()) it = keys_.emplace(std::string(key), std::unordered_set<std::uint64_t>{}).first;
    if (it->second.insert(c.id).second) ++items_;
  }
  limit_keys_locked();
}

void tracking_table::limit_keys_locked() {
  const std::size_t max = max_keys_.load(std::memory_order_relaxed);
  // Evicted keys are invalidated (their holders drop them) without being
  // reported to BCAST clients: they did not change.
  while (max > 0 && keys_.size() > max) {
    const std::string key = keys_.begin()->first;
    invalidate_locked(key, nullptr, false);
  }
}

void tracking_table::invalidate(std::string_view key, client_state* by) {
  invalidate_keys(std::span<const std::string_view>(&key, 1), by);
}

void tracking_table::invalidate_keys(std::span<const std::string_view> keys, client_state* by) {
  std::lock_guard lock(m_);
  for (std::string_view key : keys) invalidate_locked(key, by, true);
  // Scheduled after the last key: broadcast() takes the lock, so it cannot
  // send the first keys of the command before the others are recorded.
  if (bcast_changed_ && !bcast_pending_.exchange(true) && schedule_broadcast_) schedule_broadcast_();
  bcast_changed_ = false;
}

void tracking_table::invalidate_locked(std::string_view key, client_state* by, bool to_bcast) {
  if (to_bcast && !prefixes_.empty()) {
    for (auto& [prefix, ps] : prefixes_) {
      if (key.substr(0, prefix.size()) != prefix) continue;
      ps.changed[std::string(key)] = by ? by->id : 0;
      bcast_changed_ = true;
    }
  }
  auto it = keys_.find(std::string(key));
  if (it == keys_.end()) return;
  const std::string payload = key_array(std::span<const std::string_view>(&key, 1));
  for (std::uint64_t id : it->second) {
    auto t = trackers_.find(id);
    // A client that switched to BCAST since it read the key hears of it there.
    if (t == trackers_.end() || t->second.mode.bcast) continue;
    if (t->second.mode.noloop && by && by->id == id) continue;
    if (auto c = t->second.client.lock()) send(t->second, *c, payload, by);
  }
  items_ -= it->second.size();
  keys_.erase(it);
}

void tracking_table::invalidate_all(client_state* by) {
  std::lock_guard lock(m_);
  for (auto& [id, t] : trackers_)
    if (auto c = t.client.lock()) send(t, *c, null_for(c->box ? c->box->resp.load() : 2), by);
  keys_.clear();
  items_ = 0;
}

bool tracking_table::broadcast() {
  std::lock_guard lock(m_);
  bcast_pending_ = false;
  bool sent = false;
  for (auto& [prefix, ps] : prefixes_) {
    if (ps.changed.empty()) continue;
    // The keys, once for every client that hears all of them, and once per
    // NOLOOP client without the keys it changed itself.
    std::vector<std::string_view> keys;
    auto frame = [&ps, &keys](std::uint64_t except) {
      keys.clear();
      for (const auto& [key, who] : ps.changed)
        if (except == 0 || who != except) keys.push_back(key);
      return keys.empty() ? std::string() : key_array(keys);
    };
    const std::string all = frame(0);
    for (std::uint64_t id : ps.clients) {
      auto t = trackers_.find(id);
      if (t == trackers_.end()) continue;
      auto c = t->second.client.lock();
      if (!c) continue;
      if (t->second.mode.noloop) {
        const std::string mine = frame(id);
        if (!mine.empty()) send(t->second, *c, mine, nullptr);
      } else {
        send(t->second, *c, all, nullptr);
      }
      sent = true;
    }
    ps.changed.clear();
  }
  return sent;
}

void tracking_table::send(const tracker& t, client_state& c, std::string_view payload, client_state* by) {
  const std::int64_t now = util::now_ms();
  client_state* target = &c;
  std::shared_ptr<client_state> redirect;
  if (t.mode.redirect != 0) {
    redirect = lookup_(t.mode.redirect);
    if (!redirect || !redirect->box) {
      // Tell the tracking client its invalidations have nowhere to go.
      c.tracking_broken = true;
      if (c.box && c.box->resp.load() > 2) {
        std::string frame = ">2\r\n$21\r\ntracking-redir-broken\r\n:" + std::to_string(t.mode.redirect) + "\r\n";
        if (&c == by)
          c.tracking_pending += frame;
        else
          c.box->append(frame, now);
      }
      return;
    }
    target = redirect.get();
  }
  if (!target->box) return;
  std::string frame;
  if (target->box->resp.load() > 2) {
    frame = invalidate_push;
  } else if (redirect && target->sub_count.load() + target->psub_count.load() + target->ssub_count.load() > 0) {
    frame = invalidate_message;
  } else {
    return;  // RESP2 without a subscribed redirect target: nowhere to push
  }
  frame += payload;
  // The client's own write: its reply goes first (Redis's pending
  // invalidations). Through a redirect it goes at once, as Redis sends it.
  if (target == by && !redirect)
    by->tracking_pending += frame;
  else
    target->box->append(frame, now);
}

std::size_t tracking_table::total_keys() const {
  std::lock_guard lock(m_);
  return keys_.size();
}

std::size_t tracking_table::total_items() const {
  std::lock_guard lock(m_);
  return items_;
}

std::size_t tracking_table::total_prefixes() const {
  std::lock_guard lock(m_);
  return prefixes_.size();
}

}  // namespace shrike::server
