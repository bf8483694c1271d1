// MULTI, EXEC, DISCARD, WATCH, UNWATCH.
#include <boost/asio/awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <iterator>
#include <new>
#include <vector>

#include "acl/acl.hpp"
#include "commands/background_save.hpp"
#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/tracking.hpp"
#include "commands/transaction.hpp"
#include "replication/replication_state.hpp"
#include "store/expiry_policy.hpp"
#include "util/clock.hpp"

namespace shrike::commands {

namespace {

namespace asio = boost::asio;

// Commands that act on the transaction itself are never queued.
bool runs_in_multi(const command_row* row) {
  if (!row) return false;
  const auto& name = row->info->name;
  return name == "exec" || name == "discard" || name == "multi" || name == "watch" || name == "quit" ||
         name == "reset";
}

void cmd_multi(command_context& ctx) {
  if (ctx.client.in_multi) return ctx.out.error("MULTI calls can not be nested");
  ctx.client.in_multi = true;
  ctx.out.ok();
}

void cmd_discard(command_context& ctx) {
  if (!ctx.client.in_multi) return ctx.out.error("DISCARD without MULTI");
  discard_transaction(ctx.srv, ctx.client);
  ctx.out.ok();
}

void cmd_watch(command_context& ctx) {
  if (ctx.client.in_multi) return ctx.out.error("WATCH inside MULTI is not allowed");
  auto& client = ctx.client;
  if (!client.watch->dirty.load()) {  // no point in watching when already dirty
    for (std::size_t i = 1; i < ctx.argc(); ++i) {
      const auto key = ctx.arg(i);
      const bool known = std::any_of(client.watched.begin(), client.watched.end(), [&](const server::watched_key& w) {
        return w.db == client.db && w.key == key;
      });
      if (known) continue;
      store::entry* e = ctx.db(key).lookup(key, ctx.now_ms);
      client.watched.push_back({client.db, std::string(key), e ? store::database::expire_of(e) : -1});
      ctx.srv.watches().watch(client.db, key, client.watch);
    }
  }
  ctx.out.ok();
}

void cmd_unwatch(command_context& ctx) {
  unwatch_all(ctx.srv, ctx.client);
  ctx.out.ok();
}

// EXEC: the queue runs with the gates of all the shards it touches.
asio::awaitable<void> cmd_exec(command_context& ctx) {
  auto& client = ctx.client;
  auto& srv = ctx.srv;
  if (!client.in_multi) {
    ctx.out.error("EXEC without MULTI");
    co_return;
  }
  if (client.multi_dirty) {
    discard_transaction(srv, client);
    ctx.out.error("-EXECABORT Transaction discarded because of previous errors.");
    co_return;
  }
  std::vector<server::queued_command> queue = std::move(client.multi_queue);
  auto& shards = srv.shards();
  std::vector<std::size_t> ids;
  std::vector<std::vector<std::string_view>> argvs(queue.size());
  std::vector<int> positions;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    for (auto& a : queue[i].args) argvs[i].emplace_back(a);
    const command_row& row = *queue[i].row;
    if (row.kind == exec_kind::all_shards) {
      for (std::size_t s = 0; s < shards.size(); ++s) ids.push_back(s);
    } else if (row.kind == exec_kind::keyed || row.kind == exec_kind::session) {
      if (row.route) {
        ids.push_back(row.route(srv, argvs[i]));
        continue;
      }
      positions.clear();
      command_table::key_positions(row, argvs[i], positions);
      for (int p : positions) ids.push_back(shards.shard_of(argvs[i][static_cast<std::size_t>(p)]));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  ready_list ready;
  auto run_all = [&] {
    const std::int64_t now = util::now_ms();
    bool aborted = client.watch->dirty.load();
    for (const auto& w : client.watched)
      if (w.expire_at_ms >= 0 && w.expire_at_ms <= now) aborted = true;  // the watched key expired
    if (aborted) return ctx.out.null_array();
    ctx.out.array(queue.size());
    // The master's transaction applied on a replica sees keys as the master
    // does (store/expiry_policy.hpp).
    store::expiry_policy::master_stream_scope applying(client.role.load() == server::peer_role::master);
    // The writes' effects, fed as one MULTI/EXEC while the gates are held.
    const bool propagating = client.role.load() == server::peer_role::normal && srv.repl().propagating();
    std::vector<std::pair<std::size_t, std::vector<std::string>>> effects;
    replication::effects fx;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      const command_row& row = *queue[i].row;
      command_context c{srv, client, ctx.out, argvs[i], util::now_ms(), &row, ctx.session, &ready};
      fx.clear();
      if (propagating) c.effects = &fx;
      const auto t0 = std::chrono::steady_clock::now();
      const std::size_t errors_before = ctx.out.errors_written();
      const std::size_t mark = ctx.out.buffer().size();
      // Permissions are checked again: they may have changed since queueing.
      const acl::verdict allowed = acl::check_command(srv, client, *row.info, argvs[i], acl::log_context::multi);
      if (!allowed.ok()) {
        ctx.out.error(acl::exec_error(allowed));
      } else if (!row.run) {
        ctx.out.error("Command not allowed inside a transaction");
      } else {
        try {
          save_before_write(srv, client.db, row, argvs[i]);
          row.run(c);
        } catch (const std::bad_alloc&) {
          ctx.out.error("-OOM command not allowed when used memory > 'maxmemory'.");
        }
      }
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
      note_call(ctx.srv, row, static_cast<std::uint64_t>(us));
      const bool failed = ctx.out.errors_written() != errors_before;
      if (failed) row.stat.record_failure();
      if (propagating && (!failed || fx.replaced)) {
        if (fx.replaced)
          for (auto& e : fx.commands) effects.push_back(std::move(e));
        else if ((row.info->flags & flag_write) && !(row.info->flags & flag_blocking))
          effects.emplace_back(client.db, std::vector<std::string>(queue[i].args.begin(), queue[i].args.end()));
      }
      note_read(srv, client, row, argvs[i]);
      if (!failed && key_changes_wanted(srv))
        // (SUBSCRIBE inside EXEC moves earlier replies to the outbox: the mark may be gone)
        note_write(srv, &client, client.db, row, argvs[i],
                   std::string_view(ctx.out.buffer()).substr(std::min(mark, ctx.out.buffer().size())));
    }
    if (!effects.empty()) {
      srv.repl().feed_transaction(effects);
      client.repl_write_offset = srv.repl().offset();
    }
    if (!ready.empty()) serve_ready_keys(srv, ready);
    // A RESP3 tracking client writes through its outbox: queue the reply
    // while the gates still hold other clients' writes (and the
    // invalidations they cause) behind it.
    if (client.tracking.load(std::memory_order_relaxed) && client.resp > 2 && ctx.session) ctx.session->enter_pubsub();
  };
  if (ids.empty())
    run_all();
  else
    co_await shards.run_gated(std::span<const std::size_t>(ids), run_all);
  discard_transaction(srv, client);
}

}  // namespace

bool queue_in_multi(command_context& ctx, const command_row* row, std::string_view error) {
  auto& client = ctx.client;
  if (!client.in_multi || runs_in_multi(row)) return false;
  if (!error.empty()) {
    client.multi_dirty = true;  // flagTransaction
    ctx.out.error(error);
    return true;
  }
  if (row->info->flags & flag_no_multi) {
    client.multi_dirty = true;
    ctx.out.error("Command not allowed inside a transaction");
    return true;
  }
  server::queued_command q;
  q.row = row;
  q.args.assign(ctx.argv.begin(), ctx.argv.end());
  client.multi_queue.push_back(std::move(q));
  ctx.out.simple("QUEUED");
  return true;
}

namespace {

// Writes whose reply 0 or null means they changed nothing.
bool changed_nothing(const std::string& name, std::string_view reply) {
  static const char* const names[] = {"del",    "unlink", "expire", "pexpire", "expireat", "pexpireat",
                                      "persist", "lpushx", "rpushx", "srem",    "hdel",     "zrem",
                                      "setnx",  "msetnx", "renamenx", "set",    "lpop",     "rpop",
                                      "getdel", "smove",  "hsetnx", "rpoplpush", "lmove",   "spop"};
  if (reply != ":0\r\n" && reply != "$-1\r\n" && reply != "*-1\r\n" && reply != "_\r\n") return false;
  return std::find(std::begin(names), std::end(names), name) != std::end(names) || name == "xdel" ||
         name == "xtrim";
}

// Stream writes that Redis never reports to WATCH (no signalModifiedKey):
// consumer-group bookkeeping, and XGROUP CREATE unless MKSTREAM made the key.
bool stream_write_unwatched(const std::string& name, std::span<const std::string_view> argv) {
  static const char* const names[] = {"xreadgroup",     "xclaim",         "xautoclaim",
                                      "xack",           "xsetid",         "xgroup|setid",
                                      "xgroup|destroy", "xgroup|createconsumer", "xgroup|delconsumer"};
  if (std::find(std::begin(names), std::end(names), name) != std::end(names)) return true;
  if (name != "xgroup|create") return false;
  for (std::size_t i = 5; i < argv.size(); ++i)
    if (iequals(argv[i], "mkstream")) return false;
  return true;
}

}  // namespace

void note_write(server::server_context& srv, server::client_state* by, std::size_t db, const command_row& row,
                std::span<const std::string_view> argv, std::string_view reply) {
  if (!(row.info->flags & flag_write)) return;
  if (changed_nothing(row.info->name, reply) || stream_write_unwatched(row.info->name, argv)) return;
  auto& w = srv.watches();
  auto& tracking = srv.tracking();
  const bool watching = w.active(), tracked = tracking.active();
  const auto& name = row.info->name;
  if (name == "flushall" || name == "flushdb") {
    if (watching) name == "flushall" ? w.touch_all() : w.touch_db(db);
    if (tracked) tracking.invalidate_all(by);
    return;
  }
  if (name == "swapdb") {  // (no tracking invalidation for SWAPDB in Redis 7.0)
    std::int64_t a, b;
    if (watching && util::parse_int64(argv[1], a) && util::parse_int64(argv[2], b)) {
      w.touch_db(static_cast<std::size_t>(a));
      w.touch_db(static_cast<std::size_t>(b));
    }
    return;
  }
  std::vector<int> positions;
  command_table::key_positions(row, argv, positions);
  std::vector<std::string_view> keys;
  for (int p : positions) {
    const std::string_view key = argv[static_cast<std::size_t>(p)];
    if (watching) w.touch(db, key);
    if (tracked) keys.push_back(key);
  }
  if (tracked) tracking.invalidate_keys(keys, by);
  std::int64_t other;
  if (watching && name == "move" && util::parse_int64(argv[2], other)) w.touch(static_cast<std::size_t>(other), argv[1]);
}

void unwatch_all(server::server_context& srv, server::client_state& client) {
  for (const auto& w : client.watched) srv.watches().unwatch(w.db, w.key, client.watch.get());
  client.watched.clear();
  client.watch->dirty.store(false);
}

void discard_transaction(server::server_context& srv, server::client_state& client) {
  client.in_multi = false;
  client.multi_dirty = false;
  client.multi_queue.clear();
  unwatch_all(srv, client);
}

void register_transaction_commands(command_table& t) {
  t.add("multi", exec_kind::local, cmd_multi);
  t.add("discard", exec_kind::local, cmd_discard);
  t.add("watch", exec_kind::keyed, cmd_watch);
  t.add("unwatch", exec_kind::local, cmd_unwatch);
  t.add_async("exec", cmd_exec);
}

}  // namespace shrike::commands
