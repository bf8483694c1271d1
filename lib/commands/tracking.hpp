#pragma once
// CLIENT TRACKING on the command path (server/tracking_table.hpp holds the
// table): what a command tells the table after it ran.
#include <span>
#include <string_view>

#include "server/client_state.hpp"
#include "server/server_context.hpp"

namespace shrike::commands {

struct command_row;

// A write must be reported (note_write): a client watches or tracks keys.
inline bool key_changes_wanted(server::server_context& srv) {
  return srv.watches().active() || srv.tracking().active();
}

// After a command (in a transaction or a script too): a read-only command
// of a tracking client in default mode remembers the keys it read for that
// client. `client` is the caller (for a script's calls, the script's caller).
void note_read(server::server_context& srv, server::client_state& client, const command_row& row,
               std::span<const std::string_view> argv);

// After a top-level command: CLIENT CACHING's choice is spent by the next
// command (a whole transaction when it is MULTI), except by CLIENT's own
// subcommands, as in Redis.
void tracking_command_done(server::client_state& client, const command_row& row);

}  // namespace shrike::commands
