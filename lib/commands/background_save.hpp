#pragma once
// BGSAVE's hooks into command execution: while a snapshot is in progress, a
// write command first saves the keys it is about to change (see
// persistence/snapshot.hpp). Called on the command's shard(s); costs one
// relaxed atomic load when no BGSAVE runs.
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <span>
#include <string_view>

#include "server/server_context.hpp"

namespace shrike::commands {

struct command_row;

void save_before_write_slow(server::server_context& srv, std::size_t db, const command_row& row,
                            std::span<const std::string_view> argv);
void save_keys_before_write_slow(server::server_context& srv, std::size_t db, std::span<const std::string_view> keys);

// Starts a BGSAVE unless one runs (false then): fixes the point in time and
// leaves the saving to a detached coroutine.
boost::asio::awaitable<bool> start_background_save(server::server_context& srv);

// Before a command runs: if it writes, the keys it names (and, for
// keyspace-wide writes such as FLUSHALL or SWAPDB, every key left) are saved
// into the snapshot in progress.
inline void save_before_write(server::server_context& srv, std::size_t db, const command_row& row,
                              std::span<const std::string_view> argv) {
  if (srv.active_snapshot.load(std::memory_order_relaxed)) save_before_write_slow(srv, db, row, argv);
}

// The same for keys a blocking command or a served waiter writes.
inline void save_keys_before_write(server::server_context& srv, std::size_t db, std::span<const std::string_view> keys) {
  if (srv.active_snapshot.load(std::memory_order_relaxed)) save_keys_before_write_slow(srv, db, keys);
}

}  // namespace shrike::commands
