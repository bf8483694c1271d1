#pragma once
// MULTI/EXEC/DISCARD/WATCH/UNWATCH (multi.c of Redis 7.0).
//
// While a client is in MULTI, the session hands each request to
// queue_in_multi() instead of running it. EXEC then runs the queue with the
// gates of every shard its commands touch held, so no other client observes
// part of a transaction; the WATCH check is made under the same gates.
//
// WATCH: a command with the `write` flag that did not fail marks the watchers
// of its keys dirty (note_write), unless it is one of the commands whose zero
// or null reply says nothing changed (DEL of a missing key, SET NX that did
// not set, ...). Elsewhere it errs on the safe side: a write that changed
// nothing (HSET of the same value) fails a watcher's EXEC, where Redis would
// let it pass. Flushes mark every watcher of their db.
#include <cstddef>
#include <span>
#include <string_view>

#include "commands/command_context.hpp"

namespace shrike::commands {

struct command_row;

// True when the request was queued (or refused) because the client is in
// MULTI: the reply (+QUEUED or the error) is written. `error` is the
// dispatcher's lookup error for the request (unknown command, arity...).
bool queue_in_multi(command_context& ctx, const command_row* row, std::string_view error);

// After a command ran (`reply`: the bytes it wrote), Redis's
// signalModifiedKey for the keys it wrote: marks their watchers dirty and
// invalidates them for tracking clients (`by`: the client that ran it).
void note_write(server::server_context& srv, server::client_state* by, std::size_t db, const command_row& row,
                std::span<const std::string_view> argv, std::string_view reply);

// Forgets the client's transaction and watched keys (DISCARD, RESET, EXEC,
// disconnection).
void discard_transaction(server::server_context& srv, server::client_state& client);
void unwatch_all(server::server_context& srv, server::client_state& client);

}  // namespace shrike::commands
