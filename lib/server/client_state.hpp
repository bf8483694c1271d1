#pragma once
// Per-connection state that commands read and change (SELECT, HELLO, CLIENT
// SETNAME, AUTH...). Owned by its session; commands touch it while the
// session's coroutine waits for them, so no lock is needed for the session's
// own fields. Fields other clients read (CLIENT LIST, CLIENT KILL) are atomics
// or sit behind `info_mutex`.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "server/outbox.hpp"
#include "server/watch_table.hpp"
#include "store/blocked_keys.hpp"

namespace shrike::commands {
struct command_row;
}
namespace shrike::replication {
struct replica_peer;
}
namespace shrike::acl {
struct user;
}

namespace shrike::server {

enum class reply_mode : std::uint8_t { on, off, skip_next, skip_this };

// What the peer is to this server (CLIENT LIST flags M/S, TYPE master/replica).
enum class peer_role : std::uint8_t { normal, master, replica };

// A command queued by MULTI (owning its arguments: the read buffer moves on).
struct queued_command {
  const commands::command_row* row = nullptr;
  std::vector<std::string> args;
};

struct watched_key {
  std::size_t db;
  std::string key;
  std::int64_t expire_at_ms;  // the key's deadline when watched (-1: none); EXEC fails once it passed
};

struct client_state {
  std::uint64_t id = 0;
  std::size_t db = 0;
  int resp = 2;
  bool authenticated = false;
  // ACL (acl/acl.hpp): the user the connection runs as, an immutable
  // snapshot refreshed when the registry's epoch moves past `acl_epoch`.
  std::shared_ptr<const acl::user> user;
  std::uint64_t acl_epoch = 0;
  reply_mode replies = reply_mode::on;
  bool close_after_reply = false;
  bool no_evict = false;
  bool no_touch = false;

  // MULTI/EXEC and WATCH (the session's own fields).
  bool in_multi = false;
  bool multi_dirty = false;  // a command was refused while queueing: EXEC aborts
  std::vector<queued_command> multi_queue;
  std::vector<watched_key> watched;
  std::shared_ptr<watch_state> watch = std::make_shared<watch_state>();

  // Pub/sub subscriptions (the session's own fields; the counts are for
  // other clients' CLIENT LIST). Patterns keep subscription order, as Redis
  // lists them.
  std::unordered_set<std::string> sub_channels, sub_shard_channels;
  std::vector<std::string> sub_patterns;
  std::atomic<int> sub_count{0}, psub_count{0}, ssub_count{0};
  std::size_t subscriptions() const { return sub_channels.size() + sub_patterns.size() + sub_shard_channels.size(); }

  // Replication: the master's link on a replica, or a replica's link here.
  std::atomic<peer_role> role{peer_role::normal};
  int repl_listening_port = 0;  // REPLCONF listening-port
  std::string repl_ip;          // REPLCONF ip-address
  bool repl_capa_eof = false;   // REPLCONF capa eof
  std::shared_ptr<replication::replica_peer> repl_peer;  // once PSYNC/SYNC made it a replica
  // The stream offset right after this client's last propagated write (WAIT).
  std::uint64_t repl_write_offset = 0;

  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our end
  bool local_peer = false;  // a loopback peer: "local" for enable-debug-command and the like
  int fd = -1;
  std::int64_t created_ms = 0;

  // Read by other clients.
  mutable std::mutex info_mutex;
  std::string name;      // CLIENT SETNAME
  std::string lib_name;  // CLIENT SETINFO LIB-NAME
  std::string lib_ver;   // CLIENT SETINFO LIB-VER
  std::string user_name = "default";  // the ACL user (CLIENT LIST, CLIENT KILL USER, ACL DELUSER)
  // Full name of the last command (points into the command table, which
  // lives as long as the process): an atomic store per command, no lock.
  std::atomic<const char*> last_command{"NULL"};
  std::atomic<std::int64_t> last_interaction_ms{0};
  std::atomic<std::size_t> db_shown{0};
  std::atomic<std::size_t> query_buffer{0};
  std::atomic<std::size_t> output_buffer{0};
  // CLIENT KILL asked the session to close: the client is gone for CLIENT
  // LIST and KILL at once (Redis frees it in the command) while its session
  // closes on its own thread.
  std::atomic<bool> kill_requested{false};
  // Set while the client waits in a blocking command (CLIENT UNBLOCK, the 'b'
  // flag of CLIENT LIST); under info_mutex.
  std::shared_ptr<store::blocked_client> waiter;
  std::atomic<bool> blocked{false};

  // CLIENT TRACKING (server/tracking_table.hpp, which holds the mode). These
  // copies serve CLIENT LIST (other threads) and the command path.
  std::atomic<bool> tracking{false};                // flag t
  std::atomic<bool> tracking_bcast{false};          // flag B
  std::atomic<bool> tracking_broken{false};         // flag R: the redirect target is gone
  std::atomic<std::int64_t> tracking_redirect{-1};  // redir= (-1: off, 0: no redirect)
  bool tracking_optin = false, tracking_optout = false;
  // CLIENT CACHING YES/NO: applies to the next command or transaction.
  bool tracking_caching = false;
  // Invalidations caused by the client's own writes: sent after its reply.
  std::string tracking_pending;

  // Closes the connection from any thread (CLIENT KILL, timeout, shutdown):
  // posts the close to the session's executor. Set once when the session starts.
  std::function<void()> kill;
  // Bytes pushed to the connection from any thread (MONITOR feed, pub/sub
  // messages); set once when the session starts.
  std::shared_ptr<outbox> box;
};

}  // namespace shrike::server
