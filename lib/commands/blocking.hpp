#pragma once
// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): clients that wait for a key
// to receive elements.
//
// A blocking command first tries its non-blocking form on the shards of its
// keys; when that finds nothing, it registers a waiter on each key IN THE SAME
// STEP (so no push can slip between the look and the registration) and its
// coroutine waits: a timer with the command's deadline raced against the
// socket (a disconnection ends the wait; pipelined bytes are kept).
//
// A command that adds elements calls signal_key_ready(); once the command is
// done, the dispatcher (still holding the key's shard) calls serve_ready_keys(),
// which hands elements to the waiters of each ready key in arrival order. A
// waiter is claimed exactly once (served, timed out, unblocked or
// disconnected), so a waiter on several keys in several shards is served at
// most once and an element is never handed to a waiter that is giving up.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/command_context.hpp"
#include "store/blocked_keys.hpp"
#include "store/shard.hpp"

namespace shrike::commands {

using ready_list = std::vector<std::pair<std::size_t, std::string>>;

// Records that `key` of database `db` gained elements (list, sorted set,
// stream) or lost its stream (blocked XREADGROUP clients end with an error).
// Costs nothing while no client is blocked anywhere.
inline void signal_key_ready(command_context& ctx, std::size_t db, std::string_view key) {
  if (ctx.ready_keys && ctx.srv.blocked_clients.load(std::memory_order_relaxed) > 0)
    ctx.ready_keys->emplace_back(db, std::string(key));
}
inline void signal_key_ready(command_context& ctx, std::string_view key) { signal_key_ready(ctx, ctx.client.db, key); }

// How a wait ended; set by whoever claimed the waiter, before waking it.
enum class block_outcome { pending, served, retry, timed_out, unblocked_timeout, unblocked_error, role_changed };

// A client waiting on keys. Subclasses know how to serve themselves.
class key_waiter : public store::blocked_client {
 public:
  key_waiter(boost::asio::any_io_executor ex, std::size_t db, int resp, store::value_type type)
      : blocked_client(ex), db(db), resp(resp), type(type) {}

  // Whether the waiter takes its turn now that `key` was signalled; `e` is
  // the key's value (null when the key is gone). Checked on the shard, before
  // the waiter is claimed: a waiter that declines keeps its place in the
  // queue. Default: a value of `type`. (XREAD waits for ids past its own;
  // XREADGROUP also ends when its key or group is deleted.)
  virtual bool accepts(store::entry* e, std::string_view /*key*/) const { return e && e->type == type; }

  // Called on the shard of `key` once accepts() said yes, with the waiter
  // already claimed: pops what the command pops, writes its reply into
  // `reply` (protocol `resp`), signals keys it pushed to. Sets outcome
  // (served, or retry to make the command run again).
  virtual void serve(server::server_context& srv, store::shard& sh, std::string_view key, ready_list& ready) = 0;
  // A key other than the served one that serve() writes (BLMOVE's
  // destination): a BGSAVE in progress saves it first.
  virtual std::string_view also_writes() const { return {}; }

  const std::size_t db;
  const int resp;
  const store::value_type type;
  block_outcome outcome = block_outcome::pending;
  std::string reply;
};

// One blocking call, as the command describes it.
struct blocking_call {
  std::vector<std::string_view> gate_keys;  // keys the attempt touches (their shards are held)
  std::vector<std::string_view> wait_keys;  // keys to wait on, in the command's order
  std::int64_t deadline_ms = 0;             // unix ms; 0 = wait forever
  // The non-blocking form: true when it wrote a reply.
  std::function<bool(command_context&)> attempt;
  std::function<std::shared_ptr<key_waiter>(boost::asio::any_io_executor)> make_waiter;
  // The reply of a timeout (a null array for BLPOP, ...).
  std::function<void(command_context&)> timeout_reply;
  // The reply where the command may not block (MULTI) and finds nothing;
  // when unset, the timeout reply (BLMOVE differs: a null, not a null array).
  std::function<void(command_context&)> empty_reply;
};

boost::asio::awaitable<void> run_blocking(command_context& ctx, blocking_call call);

// A blocking command is written once, as a function that parses its
// arguments into a blocking_call (false after replying an error); these turn
// it into the session coroutine and into the non-blocking form that runs
// inside MULTI/EXEC (the attempt, or the timeout reply when it finds nothing).
using blocking_prepare = bool (*)(command_context&, blocking_call&);

template <blocking_prepare Prepare>
boost::asio::awaitable<void> blocking_command(command_context& ctx) {
  blocking_call call;
  if (!Prepare(ctx, call)) co_return;
  co_await run_blocking(ctx, std::move(call));
}

template <blocking_prepare Prepare>
void nonblocking_form(command_context& ctx) {
  blocking_call call;
  if (!Prepare(ctx, call)) return;
  if (call.attempt(ctx)) return;
  if (call.empty_reply)
    call.empty_reply(ctx);
  else
    call.timeout_reply(ctx);
}

// Redis's getTimeoutFromObjectOrReply in seconds: the deadline in unix ms,
// 0 for "forever"; false after writing the error reply.
bool parse_block_timeout(command_context& ctx, std::size_t index, std::int64_t& deadline_ms);

// Serves the waiters of every ready key (and of keys made ready meanwhile, as
// when a served BLMOVE pushes into another list). Runs on the shards of the
// keys (the command's hop or gates); clears `ready`.
void serve_ready_keys(server::server_context& srv, ready_list& ready);

// CLIENT UNBLOCK: ends the wait of client `id`; false when it is not blocked.
bool unblock_client(server::server_context& srv, std::uint64_t id, bool with_error);
// The server turned replica (REPLICAOF host port, FAILOVER): every client
// blocked on keys gets Redis's -UNBLOCKED error and is disconnected (WAIT
// notices by itself).
void unblock_all_for_role_change(server::server_context& srv);
inline constexpr std::string_view role_change_error =
    "-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";

}  // namespace shrike::commands
