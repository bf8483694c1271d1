#pragma once
// BGSAVE's hooks into command execution: while a snapshot is in progress, a
// write command first saves the keys it is about to change (see
// persistence/snapshot.hpp). Called on the command's shard(s); costs one
// relaxed atomic load when no BGSAVE runs.
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "server/server_context.hpp"

namespace shrike::persistence {
class snapshot;
}

namespace shrike::commands {

struct command_row;

// Where a snapshot's bytes go (a file, replicas' sockets); awaited, so a slow
// consumer slows the snapshot down.
using snapshot_sink = std::function<boost::asio::awaitable<void>(std::string_view)>;

// Fixes the point in time of a new snapshot (every gate held) and runs
// `at_begin` within that instant. Null when a snapshot is in progress.
boost::asio::awaitable<std::shared_ptr<persistence::snapshot>> begin_snapshot(server::server_context& srv,
                                                                              const std::function<void()>& at_begin);
// Saves a begun snapshot shard by shard in steps and hands the whole RDB
// (header to checksum) to `sink`. The caller then clears bgsave_started_ms.
boost::asio::awaitable<void> stream_snapshot(server::server_context& srv, std::shared_ptr<persistence::snapshot> snap,
                                             std::int64_t started_ms, const snapshot_sink& sink);

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
