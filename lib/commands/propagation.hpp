#pragma once
// Feeding executed commands to the replication stream (see
// replication/replication_state.hpp). Commands whose arguments would not
// reproduce their effect on a replica (relative times, randomness, blocking)
// say what to propagate instead with propagate_as().
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/command_context.hpp"
#include "replication/effects.hpp"

namespace shrike::commands {

struct command_row;

// The command propagates `argv` (in the client's db) instead of its own
// arguments; several calls propagate several commands.
inline void propagate_as(command_context& ctx, std::initializer_list<std::string_view> argv) {
  if (ctx.effects) ctx.effects->add(ctx.client.db, argv);
}
inline void propagate_as(command_context& ctx, std::vector<std::string> argv) {
  if (ctx.effects) ctx.effects->add(ctx.client.db, std::move(argv));
}
// The command changed nothing a replica must know of.
inline void propagate_nothing(command_context& ctx) {
  if (ctx.effects) ctx.effects->replaced = true;
}

// After a command of a client ran without an error: its effects, or its
// arguments when it writes and recorded none (blocking commands propagate
// only what they recorded). Several effects go as one MULTI/EXEC.
void propagate_command(server::server_context& srv, std::size_t db, const command_row& row,
                       std::span<const std::string_view> argv, const replication::effects& fx);

// Feeds what `ctx` recorded so far (a blocking command's pop, while it
// still holds its shards); the caller then clears it.
void flush_effects(command_context& ctx);

// The same for a waiter served by another client's push (on the key's shard).
void propagate_effect(server::server_context& srv, std::size_t db, std::initializer_list<std::string_view> argv);
void propagate_effect(server::server_context& srv, std::size_t db, const std::vector<std::string>& argv);

// A pop of `count` elements (-1: one, without a count argument) as its
// non-blocking command: LPOP/RPOP, ZPOPMIN/ZPOPMAX.
std::vector<std::string> pop_effect(std::string_view command, std::string_view key, std::int64_t count);

}  // namespace shrike::commands
