#pragma once
// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): clients that wait for a key
// to receive elements.
//
// A blocked client registers a waiter on each of its keys, in the shards that
// own them, atomically with its first (empty) look at the keys. A command that
// adds elements calls signal_key_ready(); when the command is done, the
// dispatcher (still on the key's shard) calls serve_ready_keys(), which hands
// elements to the waiters of each ready key in arrival order. A waiter is
// claimed exactly once (served, timed out, unblocked or disconnected), so a
// waiter on several keys in several shards is served at most once, and an
// element is never handed to a waiter that is giving up.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/command_context.hpp"

namespace shrike::commands {

// Records that `key` of database `db` gained list or sorted-set elements.
inline void signal_key_ready(command_context& ctx, std::size_t db, std::string_view key) {
  if (ctx.ready_keys) ctx.ready_keys->emplace_back(db, std::string(key));
}
inline void signal_key_ready(command_context& ctx, std::string_view key) { signal_key_ready(ctx, ctx.client.db, key); }

// Serves the waiters of every ready key (and of keys made ready meanwhile, as
// when a served BLMOVE pushes into another list). Runs on the shards of the
// keys (the command's hop or gates); clears `ready`.
void serve_ready_keys(server::server_context& srv, std::vector<std::pair<std::size_t, std::string>>& ready);

}  // namespace shrike::commands
