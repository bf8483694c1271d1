#pragma once
// Keyspace notifications (notify-keyspace-events) where Redis 7.0 calls
// notifyKeyspaceEvent: in command handlers, when a blocked client is served,
// and when the store expires a key (through store::key_listener).
//
// Every helper tests the event's class against the server's flags with one
// relaxed load first, so with notifications off (the default) a command pays
// nothing more. Events are published synchronously, while the command still
// runs on its shard(s): subscribers get them in command order, each command's
// events in Redis's order, all before the command's reply is written.
#include <cstddef>
#include <string_view>

#include "commands/command_context.hpp"
#include "commands/pubsub.hpp"
#include "replication/replication_state.hpp"
#include "server/keyspace_events.hpp"
#include "server/server_context.hpp"
#include "store/database.hpp"

namespace shrike::commands {

namespace notify = server::notify;

inline bool notify_enabled(server::server_context& srv, int type) {
  return (srv.keyspace_events.load(std::memory_order_relaxed) & type) != 0;
}

// notifyKeyspaceEvent(type, event, key, db).
inline void notify_event(server::server_context& srv, int type, std::string_view event, std::string_view key,
                         std::size_t db) {
  if (notify_enabled(srv, type)) notify_keyspace_event(srv, type, event, key, db);
}

// The same in the client's selected database.
inline void notify_event(command_context& ctx, int type, std::string_view event, std::string_view key) {
  notify_event(ctx.srv, type, event, key, ctx.client.db);
}

// dbAdd's "new": `key` was created.
inline void notify_new(command_context& ctx, std::string_view key) {
  notify_event(ctx, notify::new_key, "new", key);
}

// lookupKeyRead's "keymiss": a read found no `key`.
inline void notify_keymiss(command_context& ctx, std::string_view key) {
  notify_event(ctx, notify::key_miss, "keymiss", key);
}

// setKey's lookupKeyWrite before a command (re)writes `key` whole: expires an
// outdated value (its "expired" event) and tells whether the key is being
// created ("new"). Looks only when one of the two events is enabled; false
// otherwise (nobody hears "new" then).
inline bool creating_key(command_context& ctx, store::database& db, std::string_view key) {
  if (!notify_enabled(ctx.srv, notify::new_key | notify::expired)) return false;
  return db.lookup(key, ctx.now_ms) == nullptr;
}

// The store's hook: for the keys removed by lazy or active expiry, a DEL to
// the replicas, the "expired" event (class x) and the tracking clients'
// invalidations. The server installs one on its shard set.
class expiry_notifier final : public store::key_listener {
 public:
  explicit expiry_notifier(server::server_context& srv) : srv_(srv) {}
  bool wants_expired() const override {
    return notify_enabled(srv_, notify::expired) || srv_.repl().propagating() || srv_.tracking().active();
  }
  // Replicas never expire keys themselves: they get the DEL from here.
  void expired(std::size_t db, std::string_view key) override {
    if (srv_.repl().propagating()) {
      const std::string_view del[] = {"DEL", key};
      srv_.repl().feed(db, del);
    }
    notify_keyspace_event(srv_, notify::expired, "expired", key, db);
    if (srv_.tracking().active()) srv_.tracking().invalidate(key, nullptr);  // signalModifiedKey
  }

 private:
  server::server_context& srv_;
};

}  // namespace shrike::commands
