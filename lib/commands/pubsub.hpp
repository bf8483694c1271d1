#pragma once
// Pub/sub pieces other parts of the server use: dropping a client's
// subscriptions (disconnect, RESET) and publishing keyspace notifications.
#include <cstddef>
#include <string_view>

#include "server/client_state.hpp"
#include "server/server_context.hpp"

namespace shrike::commands {

// Removes every subscription of `client` without confirmations.
void unsubscribe_everything(server::server_context& srv, server::client_state& client);

// Keyspace notification (notifyKeyspaceEvent): publishes `event` on
// __keyspace@<db>__:<key> and `key` on __keyevent@<db>__:<event> when
// notify-keyspace-events enables the class `type` (server/keyspace_events.hpp).
void notify_keyspace_event(server::server_context& srv, int type, std::string_view event, std::string_view key,
                           std::size_t db);

}  // namespace shrike::commands
