#pragma once
// CLIENT TRACKING, the server side of client-side caching (Redis's
// tracking.c): which clients may hold which keys in a local cache, and the
// "invalidate" messages that tell them a key changed.
//
// Default mode: a read-only command run by a tracking client remembers its
// keys (key -> client ids, keys of every database in one namespace, as
// Redis). The next change of such a key sends "invalidate [key]" to those
// clients and forgets them. BCAST mode: the client names key prefixes
// instead ("" = every key) and hears of every change under them, batched
// per prefix until broadcast() runs.
//
// A message goes to the client itself as a RESP3 push, or to the client it
// redirects to: a RESP3 push there too, or, to a RESP2 client subscribed to
// anything, a message on __redis__:invalidate. A RESP2 client without a
// redirect hears nothing (RESP2 has no pushes), as in Redis.
//
// One table for the whole server behind one mutex; a write pays one atomic
// load while no client tracks. Messages are appended to the receivers'
// outboxes under that mutex, so they keep the order of the changes.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/client_state.hpp"

namespace shrike::server {

struct tracking_mode {
  bool bcast = false, optin = false, optout = false, noloop = false;
  std::uint64_t redirect = 0;  // 0: none
  std::vector<std::string> prefixes;  // BCAST: in byte order
};

class tracking_table {
 public:
  using client_lookup = std::function<std::shared_ptr<client_state>(std::uint64_t)>;
  // `lookup` finds a connected client by id (redirect targets).
  explicit tracking_table(client_lookup lookup);

  bool active() const { return clients_.load(std::memory_order_relaxed) > 0; }
  std::size_t client_count() const { return static_cast<std::size_t>(clients_.load()); }

  // CLIENT TRACKING ON: `mode` replaces the client's flags and redirect; in
  // BCAST mode its prefixes are added to those it had. The caller has checked
  // the combination (client_tracking_error).
  void enable(const std::shared_ptr<client_state>& c, const tracking_mode& mode);
  // CLIENT TRACKING OFF, RESET, disconnection.
  void disable(client_state& c);
  std::optional<tracking_mode> mode_of(std::uint64_t id) const;
  // The error CLIENT TRACKING ON with `mode` gets from client `id`, or "".
  std::string check(std::uint64_t id, const tracking_mode& mode) const;

  // After a read-only command of a tracking client (default mode): remember
  // `keys` unless OPTIN/OPTOUT and CLIENT CACHING say not to.
  void remember(const client_state& c, const std::vector<std::string_view>& keys);
  // signalModifiedKey: `key` changed, by client `by` (null: the server, e.g.
  // expiry). Invalidations for `by` itself are queued in its
  // tracking_pending, to follow its reply.
  void invalidate(std::string_view key, client_state* by);
  // The keys of one command: its BCAST changes are sent together.
  void invalidate_keys(std::span<const std::string_view> keys, client_state* by);
  // FLUSHDB / FLUSHALL: a null invalidation to every tracking client, and
  // the table forgets every key.
  void invalidate_all(client_state* by);
  // Sends the BCAST changes gathered since the last call (Redis does this
  // once per event-loop pass). True when it sent anything.
  bool broadcast();
  // Called (under the table's lock) when BCAST changes start to gather:
  // it should arrange for broadcast() to run soon.
  void on_broadcast_due(std::function<void()> fn) { schedule_broadcast_ = std::move(fn); }

  // tracking-table-max-keys (0: no limit). Past it, remembered keys are
  // invalidated until the table is under the limit again.
  void set_max_keys(std::size_t n) { max_keys_.store(n, std::memory_order_relaxed); }

  // INFO stats: keys remembered, (key, client) pairs, BCAST prefixes.
  std::size_t total_keys() const;
  std::size_t total_items() const;
  std::size_t total_prefixes() const;

 private:
  struct tracker {
    std::weak_ptr<client_state> client;
    tracking_mode mode;
  };
  struct prefix_state {
    std::map<std::string, std::uint64_t> changed;  // key -> id of the client that changed it last (0: server)
    std::unordered_set<std::uint64_t> clients;
  };

  // Under m_. `to_bcast`: also report the change to BCAST clients.
  void invalidate_locked(std::string_view key, client_state* by, bool to_bcast);
  // One invalidation (`payload`: the keys array, or a null) to tracking
  // client `c`, through its redirect if it has one.
  void send(const tracker& t, client_state& c, std::string_view payload, client_state* by);
  void limit_keys_locked();

  client_lookup lookup_;
  std::function<void()> schedule_broadcast_;
  mutable std::mutex m_;
  std::unordered_map<std::uint64_t, tracker> trackers_;
  std::unordered_map<std::string, std::unordered_set<std::uint64_t>> keys_;
  std::size_t items_ = 0;
  std::map<std::string, prefix_state> prefixes_;
  std::atomic<int> clients_{0};
  std::atomic<bool> bcast_pending_{false};
  bool bcast_changed_ = false;  // under m_: invalidate_locked recorded a BCAST change
  std::atomic<std::size_t> max_keys_{1000000};
};

}  // namespace shrike::server
