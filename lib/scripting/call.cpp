#include "scripting/call.hpp"

#include <chrono>
#include <new>

#include "acl/acl.hpp"
#include "commands/background_save.hpp"
#include "commands/command_context.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/maxmemory.hpp"
#include "commands/persistence.hpp"
#include "commands/tracking.hpp"
#include "commands/transaction.hpp"
#include "replication/replication_state.hpp"
#include "resp/reply_writer.hpp"
#include "util/clock.hpp"
#include "util/numbers.hpp"

namespace shrike::scripting {

using commands::command_row;

namespace {

using commands::iequals;

// XREAD / XREADGROUP ... BLOCK: the stream commands refuse BLOCK from a
// script while they parse their options (Redis's wording, with argv[0] as
// typed). Options before STREAMS are walked as the commands walk them.
bool refuses_block(const command_row& row, std::span<const std::string_view> argv) {
  const auto& name = row.info->name;
  const bool group = name == "xreadgroup";
  if (name != "xread" && !group) return false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::size_t more = argv.size() - i - 1;
    const auto a = argv[i];
    if (iequals(a, "block") && more) return true;
    if (iequals(a, "count") && more) {
      std::int64_t n;
      if (!util::parse_int64(argv[++i], n)) return false;  // the command reports the count first
    } else if (iequals(a, "streams") && more) {
      return false;
    } else if (group && iequals(a, "group") && more >= 2) {
      i += 2;
    } else if (!(group && iequals(a, "noack"))) {
      return false;
    }
  }
  return false;
}

}  // namespace

call_status call_command(scripting_state& st, run_context& run, std::span<const std::string_view> argv,
                         std::string& reply, std::string& error) {
  auto& srv = st.srv();
  commands::command_context& caller = *run.caller;
  std::string lookup_error;
  const command_row* row = commands::command_table::instance().lookup(argv, lookup_error);
  auto refuse = [&](std::string text) {
    error = std::move(text);
    if (row) row->stat.record_rejection();
    srv.stats().error_replies.fetch_add(1, std::memory_order_relaxed);
    return call_status::refused;
  };
  if (!row) {
    row = nullptr;
    // Redis's lookupCommand finds a container without its subcommand, whose
    // arity then fails; anything else is unknown.
    if (lookup_error.rfind("wrong number of arguments", 0) == 0)
      return refuse("Wrong number of args calling Redis command from script");
    return refuse("Unknown Redis command called from script");
  }
  const auto flags = row->info->flags;
  // Session-only commands have no form that runs here (all are noscript).
  if ((flags & commands::flag_noscript) || !row->run) return refuse("This Redis command is not allowed from script");

  // A replica: stale commands, writes (its master's stream excepted).
  auto& repl = srv.repl();
  const bool replica = repl.is_replica() && !run.from_master;
  if (replica && !repl.serve_stale_data.load() && repl.link.load() != replication::link_state::connected &&
      !(flags & commands::flag_stale))
    return refuse("Can not execute the command on a stale replica");
  // ACL: the caller's user must be allowed this command, its keys and
  // channels (logged with context lua), as Redis checks after staleness.
  if (const acl::verdict allowed = acl::check_command(srv, caller.client, *row->info, argv, acl::log_context::lua);
      !allowed.ok())
    return refuse(acl::script_error(allowed));
  if (run.read_only && (flags & (commands::flag_write | commands::flag_may_replicate)))
    return refuse("Write commands are not allowed from read-only scripts.");
  if ((flags & commands::flag_write) && replica && repl.read_only.load() && !st.wrote())
    return refuse("-READONLY You can't write against a read only replica.");
  // scriptVerifyOOM: a command that grows memory, before the script wrote,
  // while the check before it found memory over the limit.
  if ((flags & commands::flag_denyoom) && !run.allow_oom && !st.wrote() && !run.from_master &&
      commands::maxmemory_set(srv) && srv.oom_state.load(std::memory_order_relaxed))
    return refuse(std::string(commands::oom_error));
  // The script's first write, as Redis checks it: not while saves fail, not
  // on a master short of min-replicas-to-write.
  if ((flags & commands::flag_write) && !st.wrote()) {
    if (srv.writes_denied_by_disk_error()) return refuse(std::string(commands::misconf_error));
    const int wanted = repl.min_replicas_to_write.load(std::memory_order_relaxed);
    if (!repl.is_replica() && wanted > 0 && repl.good_replicas() < wanted)
      return refuse("-NOREPLICAS Not enough good replicas to write.");
  }
  if (flags & commands::flag_write) {
    // From the first write on, SCRIPT KILL can no longer stop the script;
    // a kill that came first wins and the write does not happen.
    if (!st.begin_write()) {
      error = "Script killed by user with SCRIPT KILL...";
      return call_status::killed;
    }
  }

  server::client_state& client = *run.client;
  reply.clear();
  resp::reply_writer out(reply);
  out.set_protocol(client.resp);
  commands::command_context ctx{srv, client, out, argv, run.now_ms, row, nullptr, caller.ready_keys};
  ctx.script_caller = &caller.client;
  // Replication: a script propagates its effects (the writes it made, as one
  // MULTI/EXEC), not itself; they go into the caller's effects unless
  // redis.set_repl turned replicas off. (Hook for replication.)
  replication::effects fx;
  const bool propagate = caller.effects && (run.repl_flags & repl_replica);
  if (propagate) ctx.effects = &fx;
  const std::size_t errors_before = out.errors_written();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    commands::save_before_write(srv, client.db, *row, argv);
    if (refuses_block(*row, argv))
      out.error(std::string(argv[0]) + " command is not allowed with BLOCK option from scripts");
    else
      row->run(ctx);
  } catch (const std::bad_alloc&) {
    reply.clear();
    out.error("-OOM command not allowed when used memory > 'maxmemory'.");
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  commands::note_call(srv, *row, static_cast<std::uint64_t>(us));
  srv.stats().total_commands.fetch_add(1, std::memory_order_relaxed);
  const bool failed = out.errors_written() != errors_before;
  if (failed) {
    row->stat.record_failure();
    srv.stats().error_replies.fetch_add(1, std::memory_order_relaxed);
  }
  if (flags & commands::flag_write) srv.dirty.fetch_add(1);
  // Tracking: the keys a script reads are remembered for its caller, and
  // its writes count as the caller's (Redis's current_client).
  if (!failed && commands::key_changes_wanted(srv))
    commands::note_write(srv, &caller.client, client.db, *row, argv, reply);
  if (caller.client.tracking.load(std::memory_order_relaxed)) commands::note_read(srv, caller.client, *row, argv);
  if (propagate && (!failed || fx.replaced)) {
    if (fx.replaced) {
      for (auto& e : fx.commands) caller.effects->add(e.first, std::move(e.second));
      caller.effects->replaced = true;
    } else if ((flags & commands::flag_write)) {
      caller.effects->add(client.db, std::vector<std::string>(argv.begin(), argv.end()));
    }
  }
  if (srv.has_monitors() && !(flags & (commands::flag_skip_monitor | commands::flag_admin)))
    srv.feed_monitors(util::now_us(), client.db, client, argv);
  return call_status::ran;
}

}  // namespace shrike::scripting
