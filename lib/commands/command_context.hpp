#pragma once
// What a handler sees: its arguments, the client, the server, and the reply
// writer of the connection. A handler runs either as the owner of the shard
// that holds its key(s) or with the gates of all its shards held, so it may
// touch those shards' databases directly (ctx.db(key)); it must not suspend.
#include <cstdint>
#include <span>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resp/reply_writer.hpp"
#include "server/client_state.hpp"
#include "server/server_context.hpp"
#include "replication/effects.hpp"
#include "store/database.hpp"

namespace shrike::commands {

struct command_row;

// Hooks into the session for the few commands that act on the connection.
class session_hooks {
 public:
  virtual ~session_hooks() = default;
  virtual void close_after_reply() = 0;
  virtual void reset_connection() = 0;  // RESET
  // MONITOR: from now on the connection also receives pushed bytes. False
  // when it already is a monitor (Redis then replies nothing).
  virtual bool become_monitor() = 0;
  // Pub/sub: the connection enters push mode; replies written so far are
  // queued into its outbox first, so what the caller queues there next
  // (subscription confirmations) follows them in order.
  virtual server::outbox& enter_pubsub() = 0;
  // PSYNC/SYNC: the connection is a replica from now on; what it receives
  // (the RDB, the stream) goes through its outbox.
  virtual server::outbox& become_replica() = 0;
  // Blocking commands: waits until `c` is woken (true), its deadline passes
  // (true, after claiming it: the caller sees no outcome recorded) or the peer
  // disconnects (false). Bytes that arrive meanwhile are kept for after the
  // command. deadline_ms: unix ms, 0 = none.
  virtual boost::asio::awaitable<bool> wait_blocked(store::blocked_client& c, std::int64_t deadline_ms) = 0;
};

struct command_context {
  server::server_context& srv;
  server::client_state& client;
  resp::reply_writer& out;
  std::span<const std::string_view> argv;
  std::int64_t now_ms;
  const command_row* row = nullptr;
  session_hooks* session = nullptr;
  // Keys (db, key) that gained list or sorted-set elements during the command:
  // clients blocked on them are served once the command is done.
  std::vector<std::pair<std::size_t, std::string>>* ready_keys = nullptr;
  // Set while this server propagates writes to replicas: what the command
  // propagates if not its own arguments (commands/propagation.hpp).
  replication::effects* effects = nullptr;
  // Called by a script (redis.call): the client that runs the script, whose
  // user the script's commands run as (SORT's ACL check of its patterns).
  server::client_state* script_caller = nullptr;

  std::size_t argc() const { return argv.size(); }
  std::string_view arg(std::size_t i) const { return argv[i]; }

  // The database of the client's selected db in the shard that owns `key`.
  store::database& db(std::string_view key) { return srv.shards().db_for(key, client.db); }
  // The random generator of the shard that owns `key` (SPOP, SRANDMEMBER, ...).
  std::mt19937_64& rng(std::string_view key) { return srv.shards().at(srv.shards().shard_of(key)).rng(); }
};

// Redis's shared error texts (server.c createSharedObjects).
namespace errors {
inline constexpr std::string_view wrong_type = "-WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view syntax = "syntax error";
inline constexpr std::string_view not_integer = "value is not an integer or out of range";
inline constexpr std::string_view not_float = "value is not a valid float";
inline constexpr std::string_view no_such_key = "no such key";
inline constexpr std::string_view db_out_of_range = "DB index is out of range";
inline constexpr std::string_view overflow = "increment or decrement would overflow";
inline constexpr std::string_view out_of_range_offset = "offset is out of range";
}  // namespace errors

}  // namespace shrike::commands
