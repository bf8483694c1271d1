// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT (LOAD, EXISTS, FLUSH, KILL, HELP,
// and DEBUG NO: there is no Lua debugger).
//
// Scripts run with every shard's gate held (exec_kind::all_shards): a script
// may touch any key, declared in KEYS or not, as Redis allows outside
// cluster mode, and it is atomic for every other client. The cost: while a
// script runs no other command touches the keyspace (as in Redis), and each
// call takes every gate, one hop per shard when they are not on this thread.
// SCRIPT KILL runs without the gates (exec_kind::local), from another pool
// thread; see scripting/scripting_state.hpp.
#include <string>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "scripting/scripting_state.hpp"
#include "util/clock.hpp"

namespace shrike::commands {

namespace {

constexpr std::string_view noscript_error = "-NOSCRIPT No matching script. Please use EVAL.";

void eval_generic(command_context& ctx, bool evalsha, bool ro) {
  auto& st = scripting::state(ctx.srv);
  // The script's own commands are fed to MONITOR after it (EVAL itself is
  // skip_monitor, as in Redis, which feeds it here explicitly).
  if (ctx.srv.has_monitors()) ctx.srv.feed_monitors(util::now_us(), ctx.client.db, ctx.client, ctx.argv);
  if (evalsha && ctx.arg(1).size() != 40) return ctx.out.error(noscript_error);
  std::int64_t numkeys;
  if (!int_arg(ctx, 2, numkeys)) return;
  if (numkeys > static_cast<std::int64_t>(ctx.argc()) - 3)
    return ctx.out.error("Number of keys can't be greater than number of args");
  if (numkeys < 0) return ctx.out.error("Number of keys can't be negative");

  scripting::cached_script* script = nullptr;
  if (evalsha) {
    script = st.find_script(ctx.arg(1));
    if (!script) return ctx.out.error(noscript_error);
  } else {
    std::string sha, error;
    script = st.create_script(ctx.arg(1), sha, error);
    if (!script) return ctx.out.error(error);
  }
  const bool compat = script->flags & scripting::flag_eval_compat;
  std::string error;
  if (!scripting::may_run(ctx, script->flags, ro, error)) return ctx.out.error(error);

  scripting::run_context run;
  run.caller = &ctx;
  run.name = script->sha;
  run.eval = true;
  run.read_only = ro || (!compat && (script->flags & scripting::flag_no_writes));
  run.allow_oom = !compat && (script->flags & scripting::flag_allow_oom);
  run.now_ms = ctx.now_ms;
  run.from_master = ctx.client.role.load() == server::peer_role::master;
  const auto n = static_cast<std::size_t>(numkeys);
  st.run_eval(run, *script, ctx.argv.subspan(3, n), ctx.argv.subspan(3 + n));
}

void cmd_eval(command_context& ctx) { eval_generic(ctx, false, false); }
void cmd_evalsha(command_context& ctx) { eval_generic(ctx, true, false); }
void cmd_eval_ro(command_context& ctx) { eval_generic(ctx, false, true); }
void cmd_evalsha_ro(command_context& ctx) { eval_generic(ctx, true, true); }

void cmd_script_load(command_context& ctx) {
  std::string sha, error;
  if (!scripting::state(ctx.srv).create_script(ctx.arg(2), sha, error)) return ctx.out.error(error);
  ctx.out.bulk(sha);
}

void cmd_script_exists(command_context& ctx) {
  auto& st = scripting::state(ctx.srv);
  ctx.out.array(ctx.argc() - 2);
  for (std::size_t j = 2; j < ctx.argc(); ++j) ctx.out.integer(st.find_script(ctx.arg(j)) ? 1 : 0);
}

void cmd_script_flush(command_context& ctx) {
  // ASYNC and SYNC free the same way here: a new interpreter either way.
  if (ctx.argc() > 3 || (ctx.argc() == 3 && !iequals(ctx.arg(2), "sync") && !iequals(ctx.arg(2), "async")))
    return ctx.out.error("SCRIPT FLUSH only support SYNC|ASYNC option");
  scripting::state(ctx.srv).flush_scripts();
  ctx.out.ok();
}

void cmd_script_kill(command_context& ctx) { scripting::state(ctx.srv).kill(ctx, true); }

// The Lua debugger (LDB) is not implemented: debugging can only be off.
void cmd_script_debug(command_context& ctx) {
  if (iequals(ctx.arg(2), "no")) return ctx.out.ok();
  if (iequals(ctx.arg(2), "yes") || iequals(ctx.arg(2), "sync"))
    return ctx.out.error("SCRIPT DEBUG YES/SYNC is not supported: this server has no Lua debugger");
  ctx.out.error("Use SCRIPT DEBUG YES/SYNC/NO");
}

void cmd_script_help(command_context& ctx) {
  write_help(ctx, {
                      "DEBUG (YES|SYNC|NO)",
                      "    Set the debug mode for subsequent scripts executed.",
                      "EXISTS <sha1> [<sha1> ...]",
                      "    Return information about the existence of the scripts in the script cache.",
                      "FLUSH [ASYNC|SYNC]",
                      "    Flush the Lua scripts cache. Very dangerous on replicas.",
                      "    When called without the optional mode argument, the behavior is determined by the",
                      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                      "    * ASYNC: Asynchronously flush the scripts cache.",
                      "    * SYNC: Synchronously flush the scripts cache.",
                      "KILL",
                      "    Kill the currently executing Lua script.",
                      "LOAD <script>",
                      "    Load a script into the scripts cache without executing it.",
                  });
}

}  // namespace

void register_script_commands(command_table& t) {
  t.add("eval", exec_kind::all_shards, cmd_eval);
  t.add("evalsha", exec_kind::all_shards, cmd_evalsha);
  t.add("eval_ro", exec_kind::all_shards, cmd_eval_ro);
  t.add("evalsha_ro", exec_kind::all_shards, cmd_evalsha_ro);
  t.add("script|load", exec_kind::all_shards, cmd_script_load);
  t.add("script|exists", exec_kind::all_shards, cmd_script_exists);
  t.add("script|flush", exec_kind::all_shards, cmd_script_flush);
  t.add("script|kill", exec_kind::local, cmd_script_kill);
  t.add("script|debug", exec_kind::local, cmd_script_debug);
  t.add("script|help", exec_kind::local, cmd_script_help);
}

}  // namespace shrike::commands
