// FUNCTION (LOAD, DELETE, FLUSH, LIST, DUMP, RESTORE, STATS, KILL, HELP),
// FCALL, FCALL_RO. Like EVAL, FCALL and the subcommands that touch the
// FUNCTION interpreter run with every shard's gate held; KILL and STATS run
// without them, while a function runs (scripting/scripting_state.hpp).
#include <string>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "scripting/functions.hpp"
#include "scripting/scripting_state.hpp"
#include "util/clock.hpp"
#include "util/glob.hpp"

namespace shrike::commands {

namespace {

void fcall_generic(command_context& ctx, bool ro) {
  auto& st = scripting::state(ctx.srv);
  if (ctx.srv.has_monitors()) ctx.srv.feed_monitors(util::now_us(), ctx.client.db, ctx.client, ctx.argv);
  const scripting::function_info* f = st.functions().find_function(ctx.arg(1));
  if (!f) return ctx.out.error("Function not found");
  std::int64_t numkeys;
  if (!util::parse_int64(ctx.arg(2), numkeys)) return ctx.out.error("Bad number of keys provided");
  if (numkeys > static_cast<std::int64_t>(ctx.argc()) - 3)
    return ctx.out.error("Number of keys can't be greater than number of args");
  if (numkeys < 0) return ctx.out.error("Number of keys can't be negative");
  std::string error;
  if (!scripting::may_run(ctx, f->flags, ro, error)) return ctx.out.error(error);

  scripting::run_context run;
  run.caller = &ctx;
  run.name = f->name;
  run.eval = false;
  run.read_only = ro || (f->flags & scripting::flag_no_writes);
  run.allow_oom = (f->flags & scripting::flag_allow_oom) != 0;
  run.now_ms = ctx.now_ms;
  run.from_master = ctx.client.role.load() == server::peer_role::master;
  const auto n = static_cast<std::size_t>(numkeys);
  st.run_function(run, f->ref, ctx.argv.subspan(3, n), ctx.argv.subspan(3 + n));
}

void cmd_fcall(command_context& ctx) { fcall_generic(ctx, false); }
void cmd_fcall_ro(command_context& ctx) { fcall_generic(ctx, true); }

void cmd_function_load(command_context& ctx) {
  bool replace = false;
  std::size_t pos = 2;
  while (pos < ctx.argc() - 1) {
    const auto opt = ctx.arg(pos++);
    if (iequals(opt, "replace")) {
      replace = true;
      continue;
    }
    std::string text(opt);
    return ctx.out.error("Unknown option given: " + std::string(text.c_str()));
  }
  if (pos >= ctx.argc()) return ctx.out.error("Function code is missing");
  std::string name, error;
  if (!scripting::state(ctx.srv).functions().load(ctx.arg(pos), replace, name, error)) return ctx.out.error(error);
  ctx.srv.dirty.fetch_add(1);
  ctx.out.bulk(name);
}

void cmd_function_delete(command_context& ctx) {
  if (!scripting::state(ctx.srv).functions().remove(ctx.arg(2))) return ctx.out.error("Library not found");
  ctx.srv.dirty.fetch_add(1);
  ctx.out.ok();
}

void cmd_function_flush(command_context& ctx) {
  if (ctx.argc() > 3) return subcommand_syntax_error(ctx);
  if (ctx.argc() == 3 && !iequals(ctx.arg(2), "sync") && !iequals(ctx.arg(2), "async"))
    return ctx.out.error("FUNCTION FLUSH only supports SYNC|ASYNC option");
  scripting::state(ctx.srv).functions().flush();
  ctx.srv.dirty.fetch_add(1);
  ctx.out.ok();
}

void write_flags(command_context& ctx, std::uint32_t flags) {
  std::size_t n = 0;
  for (const auto& f : scripting::script_flag_names)
    if (flags & f.flag) ++n;
  ctx.out.set(n);
  for (const auto& f : scripting::script_flag_names)
    if (flags & f.flag) ctx.out.simple(f.name);
}

void cmd_function_list(command_context& ctx) {
  bool with_code = false;
  bool have_pattern = false;
  std::string_view pattern;
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    const auto a = ctx.arg(i);
    if (!with_code && iequals(a, "withcode")) {
      with_code = true;
      continue;
    }
    if (!have_pattern && iequals(a, "libraryname")) {
      if (i >= ctx.argc() - 1) return ctx.out.error("library name argument was not given");
      pattern = ctx.arg(++i);
      have_pattern = true;
      continue;
    }
    std::string text(a);
    return ctx.out.error("Unknown argument " + std::string(text.c_str()));
  }
  const auto& libs = scripting::state(ctx.srv).functions().libraries();
  std::vector<const scripting::library*> shown;
  for (const auto& [name, lib] : libs)
    if (!have_pattern || util::glob_match(pattern, name, true)) shown.push_back(lib.get());
  ctx.out.array(shown.size());
  for (const auto* lib : shown) {
    ctx.out.map(with_code ? 4 : 3);
    ctx.out.bulk("library_name");
    ctx.out.bulk(lib->name);
    ctx.out.bulk("engine");
    ctx.out.bulk("LUA");
    ctx.out.bulk("functions");
    ctx.out.array(lib->functions.size());
    for (const auto& f : lib->functions) {
      ctx.out.map(3);
      ctx.out.bulk("name");
      ctx.out.bulk(f->name);
      ctx.out.bulk("description");
      if (f->description)
        ctx.out.bulk(*f->description);
      else
        ctx.out.null();
      ctx.out.bulk("flags");
      write_flags(ctx, f->flags);
    }
    if (with_code) {
      ctx.out.bulk("library_code");
      ctx.out.bulk(lib->code);
    }
  }
}

void cmd_function_dump(command_context& ctx) { ctx.out.bulk(scripting::state(ctx.srv).functions().dump()); }

void cmd_function_restore(command_context& ctx) {
  if (ctx.argc() > 4) return subcommand_syntax_error(ctx);
  auto policy = scripting::function_registry::restore_policy::append;
  if (ctx.argc() == 4) {
    const auto p = ctx.arg(3);
    if (iequals(p, "append"))
      policy = scripting::function_registry::restore_policy::append;
    else if (iequals(p, "replace"))
      policy = scripting::function_registry::restore_policy::replace;
    else if (iequals(p, "flush"))
      policy = scripting::function_registry::restore_policy::flush;
    else
      return ctx.out.error("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
  }
  std::string error;
  if (!scripting::state(ctx.srv).functions().restore(ctx.arg(2), policy, error)) return ctx.out.error(error);
  ctx.srv.dirty.fetch_add(1);
  ctx.out.ok();
}

// Runs without the gates (allow-busy: it may run while a function does), so
// it reads only what scripting_state publishes for other threads.
void cmd_function_stats(command_context& ctx) {
  auto& st = scripting::state(ctx.srv);
  if (ctx.srv.script_busy.load() == 1)
    return ctx.out.error("-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
  const auto running = st.running();
  ctx.out.map(2);
  ctx.out.bulk("running_script");
  if (!running.running || running.eval) {
    ctx.out.null();
  } else {
    ctx.out.map(3);
    ctx.out.bulk("name");
    ctx.out.bulk(running.name);
    ctx.out.bulk("command");
    ctx.out.array(running.argv.size());
    for (const auto& a : running.argv) ctx.out.bulk(a);
    ctx.out.bulk("duration_ms");
    ctx.out.integer(running.duration_ms);
  }
  ctx.out.bulk("engines");
  ctx.out.map(1);
  ctx.out.bulk("LUA");
  ctx.out.map(2);
  const auto counts = st.function_counts();
  ctx.out.bulk("libraries_count");
  ctx.out.integer(static_cast<std::int64_t>(counts.first));
  ctx.out.bulk("functions_count");
  ctx.out.integer(static_cast<std::int64_t>(counts.second));
}

void cmd_function_kill(command_context& ctx) { scripting::state(ctx.srv).kill(ctx, false); }

void cmd_function_help(command_context& ctx) {
  write_help(
      ctx,
      {
          "LOAD [REPLACE] <FUNCTION CODE>",
          "    Create a new library with the given library name and code.",
          "DELETE <LIBRARY NAME>",
          "    Delete the given library.",
          "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
          "    Return general information on all the libraries:",
          "    * Library name",
          "    * The engine used to run the Library",
          "    * Library description",
          "    * Functions list",
          "    * Library code (if WITHCODE is given)",
          "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
          "STATS",
          "    Return information about the current function running:",
          "    * Function name",
          "    * Command used to run the function",
          "    * Duration in MS that the function is running",
          "    If no function is running, return nil",
          "    In addition, returns a list of available engines.",
          "KILL",
          "    Kill the current running function.",
          "FLUSH [ASYNC|SYNC]",
          "    Delete all the libraries.",
          "    When called without the optional mode argument, the behavior is determined by the",
          "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
          "    * ASYNC: Asynchronously flush the libraries.",
          "    * SYNC: Synchronously flush the libraries.",
          "DUMP",
          "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
          "RESTORE command",
          "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
          "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
          "    control how to handle existing libraries (default APPEND):",
          "    * FLUSH: delete all existing libraries.",
          "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
          "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
          "      libraries with the new libraries (notice that even on this option there is a chance of failure",
          "      in case of functions name collision with another library).",
      });
}

}  // namespace

void register_function_commands(command_table& t) {
  t.add("fcall", exec_kind::all_shards, cmd_fcall);
  t.add("fcall_ro", exec_kind::all_shards, cmd_fcall_ro);
  t.add("function|load", exec_kind::all_shards, cmd_function_load);
  t.add("function|delete", exec_kind::all_shards, cmd_function_delete);
  t.add("function|flush", exec_kind::all_shards, cmd_function_flush);
  t.add("function|list", exec_kind::all_shards, cmd_function_list);
  t.add("function|dump", exec_kind::all_shards, cmd_function_dump);
  t.add("function|restore", exec_kind::all_shards, cmd_function_restore);
  t.add("function|stats", exec_kind::local, cmd_function_stats);
  t.add("function|kill", exec_kind::local, cmd_function_kill);
  t.add("function|help", exec_kind::local, cmd_function_help);
}

}  // namespace shrike::commands
