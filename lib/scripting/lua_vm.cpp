#include "scripting/lua_vm.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "acl/acl.hpp"
#include "commands/command_context.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "scripting/call.hpp"
#include "scripting/convert.hpp"
#include "scripting/sha1.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/version.hpp"

namespace shrike::scripting {

using commands::iequals;

namespace {

constexpr const char* vm_registry_key = "shrike.vm";
constexpr int hook_instructions = 100000;  // the count hook's period, as Redis's

// Redis's allow list of globals (script_lua.c); everything else the
// libraries define is removed.
constexpr const char* allowed_globals[] = {
    "string", "cjson",   "bit",        "cmsgpack", "math",         "table",         "struct",   "redis",
    "xpcall", "tostring", "setmetatable", "next",   "assert",       "tonumber",      "rawequal", "collectgarbage",
    "getmetatable", "rawset", "pcall", "coroutine", "type",         "_G",            "select",   "unpack",
    "gcinfo", "pairs",   "rawget",     "loadstring", "ipairs",      "_VERSION",      "load",     "error",
};

// --- small helpers (no C++ object may be alive when they raise) -------------

lua_vm* vm_of(lua_State* L) { return static_cast<lua_vm*>(lua_touserdata(L, lua_upvalueindex(1))); }

lua_vm* vm_from_registry(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, vm_registry_key);
  auto* vm = static_cast<lua_vm*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return vm;
}

// Pushes Redis's error table for `text` and raises it.
int raise_error_table(lua_State* L, const char* text) {
  push_error_table(L, text);
  return lua_error(L);
}

// Raises `text` as a plain error without position (what an error raised
// inside a C function looks like in Redis's patched Lua).
int raise_plain(lua_State* L, const char* text) {
  lua_pushstring(L, text);
  return lua_error(L);
}

void set_function(lua_State* L, const char* name, lua_CFunction fn, lua_vm* vm) {
  lua_pushlightuserdata(L, vm);
  lua_pushcclosure(L, fn, 1);
  lua_setfield(L, -2, name);
}

void set_number(lua_State* L, const char* name, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, name);
}

// --- text-only chunk loading ---------------------------------------------------

// Lua picks the bytecode loader when a chunk starts with ESC; Redis 7.0's
// loader parses everything as text. A leading space keeps the parser (and
// the line numbers) and makes a binary chunk the syntax error it is there.
struct chunk_reader {
  std::string_view data;
  int step = 0;
};

const char* read_chunk(lua_State*, void* ud, std::size_t* size) {
  auto* r = static_cast<chunk_reader*>(ud);
  if (r->step == 0) {
    r->step = 1;
    if (!r->data.empty() && r->data[0] == '\033') {
      *size = 1;
      return " ";
    }
  }
  if (r->step == 1) {
    r->step = 2;
    *size = r->data.size();
    return r->data.data();
  }
  *size = 0;
  return nullptr;
}

int load_text(lua_State* L, const char* data, std::size_t len, const char* chunk_name) {
  chunk_reader r{std::string_view(data, len)};
  return lua_load(L, read_chunk, &r, chunk_name);
}

// loadstring(s [, name]) / load(s or f [, name]), text only.
int lua_loadstring(lua_State* L) {
  std::size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const char* name = luaL_optstring(L, 2, s);
  if (load_text(L, s, len, name) == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

// load(f [, name]): Lua 5.1's, a reader function only.
int lua_load_fn(lua_State* L) {
  const char* name = luaL_optstring(L, 2, "=(load)");
  luaL_checktype(L, 1, LUA_TFUNCTION);
  // Collect the pieces the function returns, then compile them as text.
  luaL_Buffer b;
  lua_settop(L, 2);
  luaL_buffinit(L, &b);
  for (;;) {
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
    if (lua_objlen(L, -1) == 0) {
      lua_pop(L, 1);
      break;
    }
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  std::size_t len = 0;
  const char* s = lua_tolstring(L, -1, &len);
  if (load_text(L, s, len, name) == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

// --- read-only proxies ---------------------------------------------------------
// Upvalue 1 of the wrappers below: the table mapping proxy -> real table.

// Pushes the real table behind the proxy at `idx` and returns true, or
// pushes nothing and returns false.
bool push_real(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  lua_pushvalue(L, idx);
  lua_rawget(L, lua_upvalueindex(1));
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return false;
  }
  return true;
}

int readonly_newindex(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

int nonexistent_global(lua_State* L) {
  if (lua_gettop(L) != 2) return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
  if (!lua_isstring(L, -1) && !lua_isnumber(L, -1))
    return luaL_error(L, "Second argument to luaProtectedTableError must be a string or number");
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, -1));
}

// Calls the wrapped original (upvalue 2) with the stack's arguments and
// returns all its results.
int call_original(lua_State* L) {
  const int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

// rawset / setmetatable / table.insert: refuse a
// proxy, else the original (upvalue 2).
int refuse_proxy_then_call(lua_State* L) {
  if (push_real(L, 1)) return raise_plain(L, "Attempt to modify a readonly table");
  return call_original(L);
}

// rawget / next: the original (upvalue 2) on the real table.
int see_through_then_call(lua_State* L) {
  if (push_real(L, 1)) lua_replace(L, 1);
  return call_original(L);
}

// pairs(t): next, t, nil; for a proxy the see-through next (upvalue 2),
// else Lua's own (upvalue 3, no extra call per step).
int lua_pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (push_real(L, 1)) {
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
  } else {
    lua_pushvalue(L, lua_upvalueindex(3));
  }
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int ipairs_step(lua_State* L) {
  const int i = luaL_checkint(L, 2) + 1;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (push_real(L, 1)) lua_replace(L, 1);
  lua_pushinteger(L, i);
  lua_rawgeti(L, 1, i);
  return lua_isnil(L, -1) ? 0 : 2;
}

int lua_ipairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

// Replaces the real table on the top of the stack by its proxy (made once,
// with every table it reaches, metatables included, made read-only too).
// Stack: the proxy_of and real_of maps at `maps`, `maps`+1.
void make_proxy(lua_State* L, int maps) {
  const int real = lua_gettop(L);
  lua_pushvalue(L, real);
  lua_rawget(L, maps);
  if (!lua_isnil(L, -1)) {
    lua_replace(L, real);
    return;
  }
  lua_pop(L, 1);
  lua_checkstack(L, 8);
  lua_newtable(L);
  const int proxy = lua_gettop(L);
  lua_pushvalue(L, real);
  lua_pushvalue(L, proxy);
  lua_rawset(L, maps);
  lua_pushvalue(L, proxy);
  lua_pushvalue(L, real);
  lua_rawset(L, maps + 1);
  // The tables it holds: their proxies in their place.
  lua_pushnil(L);
  while (lua_next(L, real)) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      make_proxy(L, maps);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, real);
    } else {
      lua_pop(L, 1);
    }
  }
  // The proxy's metatable: reads from the real table, refuses writes, shows
  // the proxy of the real table's metatable (or false).
  lua_newtable(L);
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_newindex);
  lua_setfield(L, -2, "__newindex");
  if (lua_getmetatable(L, real)) {
    make_proxy(L, maps);
  } else {
    lua_pushboolean(L, 0);
  }
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, proxy);
  lua_replace(L, real);
  lua_settop(L, real);
}

// Wraps the function `name` of the table at `table_idx` with `wrapper`
// (upvalues: the real_of map at `real_of`, the original function).
void wrap_field(lua_State* L, int table_idx, const char* name, lua_CFunction wrapper, int real_of) {
  lua_pushvalue(L, real_of);
  lua_getfield(L, table_idx, name);
  lua_pushcclosure(L, wrapper, 2);
  lua_setfield(L, table_idx, name);
}

// --- math.random (Redis's generator) --------------------------------------------

int redis_math_random(lua_State* L) {
  lua_vm* vm = vm_of(L);
  if (!vm->owner().current()) return luaL_error(L, "math.random can only be called inside a script invocation");
  constexpr std::int32_t max = 2147483647;
  const lua_Number r = static_cast<lua_Number>(vm->owner().lrand48() % max) / static_cast<lua_Number>(max);
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      const int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, std::floor(r * u) + 1);
      break;
    }
    case 2: {
      const int l = luaL_checkint(L, 1);
      const int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, std::floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

int redis_math_randomseed(lua_State* L) {
  lua_vm* vm = vm_of(L);
  if (!vm->owner().current()) return luaL_error(L, "math.randomseed can only be called inside a script invocation");
  vm->owner().srand48(luaL_checkint(L, 1));
  return 0;
}

// --- redis.* --------------------------------------------------------------------

enum class call_outcome { value, raise, killed };

// The C++ half of redis.call/pcall: leaves the result (or the error table)
// on the stack.
call_outcome do_redis_call(lua_State* L, lua_vm* vm, bool raise) {
  run_context* run = vm->owner().current();
  if (!run) {
    push_error_table(L, "redis.call/pcall can only be called inside a script invocation");
    return call_outcome::raise;
  }
  const int argc = lua_gettop(L);
  if (argc == 0) {
    push_error_table(L, "Please specify at least one argument for this redis lib call");
    return raise ? call_outcome::raise : call_outcome::value;
  }
  auto& argv = vm->argv_scratch();
  argv.clear();
  for (int j = 1; j <= argc; ++j) {
    if (lua_type(L, j) == LUA_TNUMBER) {
      // Not lua_tostring: Lua's %.14g would lose precision.
      char buf[64];
      const int n = std::snprintf(buf, sizeof(buf), "%.17g", static_cast<double>(lua_tonumber(L, j)));
      lua_pushlstring(L, buf, static_cast<std::size_t>(n));
      lua_replace(L, j);
    } else if (lua_type(L, j) != LUA_TSTRING) {
      lua_settop(L, 0);
      push_error_table(L, "Lua redis lib command arguments must be strings or integers");
      return raise ? call_outcome::raise : call_outcome::value;
    }
    std::size_t len = 0;
    const char* s = lua_tolstring(L, j, &len);
    argv.emplace_back(s, len);
  }
  std::string& reply = vm->reply_scratch();
  std::string error;
  call_status status;
  try {
    status = call_command(vm->owner(), *run, argv, reply, error);
  } catch (const std::exception& e) {
    status = call_status::refused;
    error = e.what();
  }
  argv.clear();
  lua_settop(L, 0);  // the arguments go; their strings are not needed any more
  if (status != call_status::ran) {
    push_error_table(L, error);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "ignore_error_stats_update");
    if (status == call_status::killed) return call_outcome::killed;
    return raise ? call_outcome::raise : call_outcome::value;
  }
  push_reply(L, reply);
  const bool failed = !reply.empty() && reply[0] == '-';
  if (reply.capacity() > 64 * 1024) std::string().swap(reply);
  return raise && failed ? call_outcome::raise : call_outcome::value;
}

void kill_hook(lua_State* L, lua_Debug*);

int redis_generic_call(lua_State* L, bool raise) {
  switch (do_redis_call(L, vm_of(L), raise)) {
    case call_outcome::value:
      return 1;
    case call_outcome::raise:
      return lua_error(L);
    case call_outcome::killed:
      lua_sethook(L, kill_hook, LUA_MASKLINE, 0);
      return lua_error(L);
  }
  return 1;
}

int redis_call(lua_State* L) { return redis_generic_call(L, true); }
int redis_pcall(lua_State* L) { return redis_generic_call(L, false); }

// Redis's pcall: a table error with an `err` field becomes that string.
int redis_protected_call(lua_State* L) {
  const int argc = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) lua_replace(L, -2);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

int redis_sha1hex(lua_State* L) {
  if (lua_gettop(L) != 1) return raise_error_table(L, "wrong number of arguments");
  std::size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  char digest[41];
  {
    const std::string hex = sha1_hex(s ? std::string_view(s, len) : std::string_view());
    std::memcpy(digest, hex.data(), 40);
  }
  digest[40] = '\0';
  lua_pushstring(L, digest);
  return 1;
}

int redis_error_reply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_table(L, "wrong number or type of arguments");
    return 1;
  }
  const char* err = lua_tostring(L, -1);
  if (err[0] != '-') {
    lua_pushstring(L, "-");
    lua_pushvalue(L, -2);
    lua_concat(L, 2);
    err = lua_tostring(L, -1);
  }
  push_error_table(L, err);
  return 1;
}

int redis_status_reply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_table(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "ok");
  return 1;
}

void log_message(int level, const char* text, std::size_t len) {
  util::log(static_cast<util::log_level>(level), std::string_view(text, len));
}

int redis_log(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc < 2) return raise_error_table(L, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, -argc)) return raise_error_table(L, "First argument must be a number (log level).");
  const int level = static_cast<int>(lua_tonumber(L, -argc));
  if (level < 0 || level > 3) return raise_error_table(L, "Invalid debug level.");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  bool first = true;
  for (int j = 2; j <= argc; ++j) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, j, &len);
    if (!s) continue;
    if (!first) luaL_addchar(&b, ' ');
    luaL_addlstring(&b, s, len);
    first = false;
  }
  luaL_pushresult(&b);
  std::size_t len = 0;
  const char* text = lua_tolstring(L, -1, &len);
  log_message(level, text, len);
  return 0;
}

int redis_setresp(lua_State* L) {
  run_context* run = vm_of(L)->owner().current();
  if (!run) return raise_error_table(L, "redis.setresp can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return raise_error_table(L, "redis.setresp() requires one argument.");
  const int resp = static_cast<int>(lua_tonumber(L, -1));
  if (resp != 2 && resp != 3) return raise_error_table(L, "RESP version must be 2 or 3.");
  run->client->resp = resp;
  return 0;
}

int redis_set_repl(lua_State* L) {
  run_context* run = vm_of(L)->owner().current();
  if (!run) return raise_error_table(L, "redis.set_repl can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return raise_error_table(L, "redis.set_repl() requires two arguments.");
  const int flags = static_cast<int>(lua_tonumber(L, -1));
  if ((flags & ~(repl_aof | repl_replica)) != 0)
    return raise_error_table(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  run->repl_flags = flags;
  return 0;
}

// redis.acl_check_cmd: whether the caller's user may run the command (no log).
int redis_acl_check_cmd(lua_State* L) {
  lua_vm* vm = vm_of(L);
  run_context* run = vm->owner().current();
  if (!run)
    return raise_error_table(L, "redis.acl_check_cmd can only be called inside a script invocation");
  const int argc = lua_gettop(L);
  if (argc == 0) return raise_error_table(L, "Please specify at least one argument for this redis lib call");
  bool known = true, allowed = true;
  for (int j = 1; j <= argc; ++j)
    if (lua_type(L, j) != LUA_TNUMBER && lua_type(L, j) != LUA_TSTRING)
      return raise_error_table(L, "Lua redis lib command arguments must be strings or integers");
  {
    std::vector<std::string> args;
    for (int j = 1; j <= argc; ++j) {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, j, &len);
      args.emplace_back(s, len);
    }
    std::vector<std::string_view> views(args.begin(), args.end());
    std::string error;
    const commands::command_row* row = commands::command_table::instance().lookup(views, error);
    known = row != nullptr;
    if (known) {
      auto& caller = *run->caller;
      allowed = acl::check(acl::client_user(caller.srv, caller.client), *row->info, views).ok();
    }
  }
  if (!known) return raise_error_table(L, "Invalid command passed to redis.acl_check_cmd()");
  lua_pushboolean(L, allowed ? 1 : 0);
  return 1;
}

int redis_replicate_commands(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}
int redis_breakpoint(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int redis_debug(lua_State*) { return 0; }

// --- redis.register_function (FUNCTION LOAD) -----------------------------------

bool valid_function_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// The C++ half: null on success, else the error to raise.
const char* do_register_function(lua_State* L, lua_vm* vm) {
  auto* load = vm->loading();
  if (!load) return "redis.register_function can only be called on FUNCTION LOAD command";
  const int argc = lua_gettop(L);
  if (argc < 1 || argc > 2) return "wrong number of arguments to redis.register_function";
  lua_vm::registered_function f;
  bool have_name = false, have_callback = false;
  auto release = [&] {
    if (have_callback) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
  };
  if (argc == 1) {
    if (!lua_istable(L, 1))
      return "calling redis.register_function with a single argument is only applicable to Lua table (representing "
             "named arguments).";
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (!lua_isstring(L, -2)) {
        release();
        return "named argument key given to redis.register_function is not a string";
      }
      const std::string_view key = lua_tostring(L, -2);
      auto is = [&](std::string_view want) { return iequals(key, want); };
      if (is("function_name")) {
        if (!lua_isstring(L, -1)) {
          release();
          return "function_name argument given to redis.register_function must be a string";
        }
        std::size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        f.name.assign(s, len);
        have_name = true;
      } else if (is("description")) {
        if (!lua_isstring(L, -1)) {
          release();
          return "description argument given to redis.register_function must be a string";
        }
        std::size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        f.description.emplace(s, len);
      } else if (is("callback")) {
        if (!lua_isfunction(L, -1)) {
          release();
          return "callback argument given to redis.register_function must be a function";
        }
        release();
        f.ref = luaL_ref(L, LUA_REGISTRYINDEX);  // pops the value
        have_callback = true;
        continue;
      } else if (is("flags")) {
        if (!lua_istable(L, -1)) {
          release();
          return "flags argument to redis.register_function must be a table representing function flags";
        }
        std::uint32_t flags = 0;
        for (int j = 1;; ++j) {
          lua_rawgeti(L, -1, j);  // raw: no metamethod may raise past `f`
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
          }
          bool found = false;
          if (lua_isstring(L, -1)) {
            const std::string_view name = lua_tostring(L, -1);
            for (const auto& fl : script_flag_names)
              if (iequals(name, fl.name)) {
                flags |= fl.flag;
                found = true;
              }
          }
          lua_pop(L, 1);
          if (!found) {
            release();
            return "unknown flag given";
          }
        }
        f.flags = flags;
      } else {
        release();
        return "unknown argument given to redis.register_function";
      }
      lua_pop(L, 1);
    }
    if (!have_name) {
      release();
      return "redis.register_function must get a function name argument";
    }
    if (!have_callback) return "redis.register_function must get a callback argument";
  } else {
    if (!lua_isstring(L, 1)) return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2)) return "second argument to redis.register_function must be a function";
    std::size_t len = 0;
    const char* s = lua_tolstring(L, 1, &len);
    f.name.assign(s, len);
    f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
    have_callback = true;
  }
  if (!valid_function_name(f.name)) {
    release();
    return "Library names can only contain letters, numbers, or underscores(_) and must be at least one character "
           "long";
  }
  for (const auto& other : load->functions)
    if (other.name == f.name) {
      release();
      return "Function already exists in the library";
    }
  load->functions.push_back(std::move(f));
  return nullptr;
}

int redis_register_function(lua_State* L) {
  const char* error = do_register_function(L, vm_of(L));
  if (error) return raise_error_table(L, error);
  return 0;
}

// --- hooks ------------------------------------------------------------------------

void kill_hook(lua_State* L, lua_Debug*) {
  lua_vm* vm = vm_from_registry(L);
  if (!vm->owner().interrupted()) return;
  // From now on every line raises, so a pcall cannot keep the script alive.
  lua_sethook(L, kill_hook, LUA_MASKLINE, 0);
  raise_error_table(L, "Script killed by user with SCRIPT KILL...");
}

void load_hook(lua_State* L, lua_Debug*) {
  lua_vm* vm = vm_from_registry(L);
  auto* load = vm->loading();
  if (!load || load->deadline_us == 0 || util::now_us() <= load->deadline_us) return;
  lua_sethook(L, load_hook, LUA_MASKLINE, 0);
  raise_error_table(L, "FUNCTION LOAD timeout");
}

// The error handler Redis installs (as Lua code in Redis; here too): the
// error becomes a table {err=..., source=..., line=...} naming where the
// script raised it (the caller of a C function that raised).
constexpr const char* error_handler_code =
    "local getinfo, type, tostring = debug.getinfo, type, tostring\n"
    "return function(err)\n"
    "  local where = getinfo(2, 'nSl')\n"
    "  if where and where.what == 'C' then where = getinfo(3, 'nSl') end\n"
    "  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end\n"
    "  if where then\n"
    "    err['source'] = where.source\n"
    "    err['line'] = where.currentline\n"
    "  end\n"
    "  return err\n"
    "end\n";

}  // namespace

lua_vm::lua_vm(scripting_state& owner, mode m) : owner_(owner), mode_(m) {
  L_ = luaL_newstate();
  if (!L_) throw std::bad_alloc();
#if defined(SHRIKE_LUAJIT)
  // Compiled traces never call hooks: a busy script could not be stopped.
  luaJIT_setmode(L_, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
#endif
  lua_pushlightuserdata(L_, this);
  lua_setfield(L_, LUA_REGISTRYINDEX, vm_registry_key);
  open_libraries();
  install_redis_api();
  protect_globals();
  lua_settop(L_, 0);
}

lua_vm::~lua_vm() {
  if (L_) lua_close(L_);
}

void lua_vm::open_libraries() {
  lua_State* L = L_;
  auto open = [L](lua_CFunction fn, const char* name) {
    lua_pushcfunction(L, fn);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
  };
  open(luaopen_base, "");
  open(luaopen_table, LUA_TABLIBNAME);
  open(luaopen_string, LUA_STRLIBNAME);
  open(luaopen_math, LUA_MATHLIBNAME);
  open(luaopen_debug, LUA_DBLIBNAME);
  // cjson returns its table without setting a global.
  lua_pushcfunction(L, luaopen_cjson);
  lua_pushstring(L, "cjson");
  lua_call(L, 1, 1);
  lua_setglobal(L, "cjson");
  lua_pushcfunction(L, open_struct);
  lua_call(L, 0, 1);
  lua_setglobal(L, "struct");
  lua_pushcfunction(L, open_cmsgpack);
  lua_call(L, 0, 1);
  lua_setglobal(L, "cmsgpack");
  open(luaopen_bit, "bit");

  // Only Redis's allow list stays (debug until the error handler has it).
  lua_newtable(L);
  const int keep = lua_gettop(L);
  for (const char* name : allowed_globals) {
    lua_pushboolean(L, 1);
    lua_setfield(L, keep, name);
  }
  lua_pushboolean(L, 1);
  lua_setfield(L, keep, "debug");
  std::vector<std::string> drop;
  lua_pushnil(L);
  while (lua_next(L, LUA_GLOBALSINDEX)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      lua_rawget(L, keep);
      if (lua_isnil(L, -1)) drop.emplace_back(lua_tostring(L, -2));
      lua_pop(L, 1);
    }
  }
  for (const auto& name : drop) {
    lua_pushnil(L);
    lua_setglobal(L, name.c_str());
  }
  lua_settop(L, 0);
}

void lua_vm::install_redis_api() {
  lua_State* L = L_;
  // The maps behind the read-only proxies: proxy_of (real -> proxy) and
  // real_of (proxy -> real), kept in the registry.
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "shrike.proxy_of");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "shrike.real_of");
  lua_getfield(L, LUA_REGISTRYINDEX, "shrike.real_of");
  const int real_of = lua_gettop(L);

  // Base functions that would bypass a proxy's metatable.
  wrap_field(L, LUA_GLOBALSINDEX, "rawset", refuse_proxy_then_call, real_of);
  wrap_field(L, LUA_GLOBALSINDEX, "setmetatable", refuse_proxy_then_call, real_of);
  wrap_field(L, LUA_GLOBALSINDEX, "rawget", see_through_then_call, real_of);
  lua_getglobal(L, "next");  // Lua's own next, for pairs() over plain tables
  const int plain_next = lua_gettop(L);
  wrap_field(L, LUA_GLOBALSINDEX, "next", see_through_then_call, real_of);
  lua_pushvalue(L, real_of);
  lua_getglobal(L, "next");  // the see-through next
  lua_pushvalue(L, plain_next);
  lua_pushcclosure(L, lua_pairs, 3);
  lua_setglobal(L, "pairs");
  lua_pushvalue(L, real_of);
  lua_pushvalue(L, real_of);
  lua_pushcclosure(L, ipairs_step, 1);
  lua_pushcclosure(L, lua_ipairs, 2);
  lua_setglobal(L, "ipairs");
  lua_getglobal(L, "table");
  const int table_lib = lua_gettop(L);
  // (table.remove and table.sort change nothing in a proxy, whose length
  // is 0: Redis's read-only tables of functions have no array part either.)
  wrap_field(L, table_lib, "insert", refuse_proxy_then_call, real_of);
  lua_settop(L, real_of);
  lua_pushcfunction(L, lua_loadstring);
  lua_setglobal(L, "loadstring");
  lua_pushcfunction(L, lua_load_fn);
  lua_setglobal(L, "load");

  // pcall that turns Redis's error tables into their message.
  lua_pushcfunction(L, redis_protected_call);
  lua_setglobal(L, "pcall");

  // math.random / math.randomseed: Redis's generator.
  lua_getglobal(L, "math");
  set_function(L, "random", redis_math_random, this);
  set_function(L, "randomseed", redis_math_randomseed, this);
  lua_pop(L, 1);

  // The `redis` table.
  lua_newtable(L);
  set_function(L, "call", redis_call, this);
  set_function(L, "pcall", redis_pcall, this);
  set_function(L, "log", redis_log, this);
  set_number(L, "LOG_DEBUG", 0);
  set_number(L, "LOG_VERBOSE", 1);
  set_number(L, "LOG_NOTICE", 2);
  set_number(L, "LOG_WARNING", 3);
  set_number(L, "REDIS_VERSION_NUM", util::redis_version_num);
  lua_pushstring(L, util::redis_version);
  lua_setfield(L, -2, "REDIS_VERSION");
  set_function(L, "setresp", redis_setresp, this);
  set_function(L, "sha1hex", redis_sha1hex, this);
  set_function(L, "error_reply", redis_error_reply, this);
  set_function(L, "status_reply", redis_status_reply, this);
  set_function(L, "set_repl", redis_set_repl, this);
  set_number(L, "REPL_NONE", 0);
  set_number(L, "REPL_AOF", repl_aof);
  set_number(L, "REPL_SLAVE", repl_replica);
  set_number(L, "REPL_REPLICA", repl_replica);
  set_number(L, "REPL_ALL", repl_aof | repl_replica);
  set_function(L, "acl_check_cmd", redis_acl_check_cmd, this);
  if (mode_ == mode::eval) {
    set_function(L, "breakpoint", redis_breakpoint, this);
    set_function(L, "debug", redis_debug, this);
    set_function(L, "replicate_commands", redis_replicate_commands, this);
  }
  lua_setglobal(L, "redis");

  // The error handler, then no debug library for scripts.
  if (luaL_loadbuffer(L, error_handler_code, std::strlen(error_handler_code), "@err_handler_def") ||
      lua_pcall(L, 0, 1, 0))
    throw std::runtime_error("scripting: cannot create the error handler");
  if (mode_ == mode::eval) {
    lua_pushvalue(L, -1);
    lua_setglobal(L, "__redis__err__handler");
  }
  errh_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushnil(L);
  lua_setglobal(L, "debug");
  lua_settop(L, 0);
}

void lua_vm::protect_globals() {
  lua_State* L = L_;
  lua_getfield(L, LUA_REGISTRYINDEX, "shrike.proxy_of");
  lua_getfield(L, LUA_REGISTRYINDEX, "shrike.real_of");
  const int maps = 1;

  // Reading a missing global is an error.
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_newtable(L);
  lua_pushcfunction(L, nonexistent_global);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  real_globals_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);

  if (mode_ == mode::functions) {
    // The load-time globals: `redis` with register_function, log and the
    // constants only; anything else is a missing global.
    lua_newtable(L);  // the library API's globals
    lua_newtable(L);  // its `redis`
    set_function(L, "register_function", redis_register_function, this);
    set_function(L, "log", redis_log, this);
    set_number(L, "LOG_DEBUG", 0);
    set_number(L, "LOG_VERBOSE", 1);
    set_number(L, "LOG_NOTICE", 2);
    set_number(L, "LOG_WARNING", 3);
    set_number(L, "REDIS_VERSION_NUM", util::redis_version_num);
    lua_pushstring(L, util::redis_version);
    lua_setfield(L, -2, "REDIS_VERSION");
    lua_newtable(L);
    lua_pushcfunction(L, nonexistent_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "redis");
    lua_newtable(L);
    lua_pushcfunction(L, nonexistent_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lib_api_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
    // Its tables (the `redis` table) become proxies; the table itself is
    // only ever an __index, never visible.
    lua_pushvalue(L, -1);
    make_proxy(L, maps);
    lua_pop(L, 2);
  }

  // The string metatable's __index becomes the proxy of `string`, and the
  // metatable itself shows as read-only.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  const int string_meta = lua_gettop(L);
  lua_pushvalue(L, string_meta);
  make_proxy(L, maps);
  lua_setfield(L, string_meta, "__metatable");
  lua_settop(L, 3);  // maps, real globals

  // Every table reachable from the globals, then the globals themselves.
  make_proxy(L, maps);  // real globals -> their proxy (real._G is the proxy too)
  if (mode_ == mode::eval) {
    lua_replace(L, LUA_GLOBALSINDEX);
  } else {
    // An empty globals table whose __index is switched between the library
    // API (FUNCTION LOAD) and the real globals (FCALL).
    lua_pop(L, 1);
    lua_newtable(L);  // the new globals
    lua_newtable(L);  // their metatable
    lua_rawgeti(L, LUA_REGISTRYINDEX, real_globals_ref_);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    globals_meta_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setmetatable(L, -2);
    lua_replace(L, LUA_GLOBALSINDEX);
  }
  lua_settop(L, 0);
}

bool lua_vm::compile(std::string_view code, const char* chunk_name, int& ref, std::string& error) {
  if (load_text(L_, code.data(), code.size(), chunk_name)) {
    std::size_t len = 0;
    const char* msg = lua_tolstring(L_, -1, &len);
    error.assign(msg ? msg : "", msg ? len : 0);
    lua_pop(L_, 1);
    return false;
  }
  ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  return true;
}

void lua_vm::release(int ref) { luaL_unref(L_, LUA_REGISTRYINDEX, ref); }

std::size_t lua_vm::memory() const { return static_cast<std::size_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024; }

namespace {

void push_array(lua_State* L, std::span<const std::string_view> items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (std::size_t j = 0; j < items.size(); ++j) {
    lua_pushlstring(L, items[j].data(), items[j].size());
    lua_rawseti(L, -2, static_cast<int>(j + 1));
  }
}

// A field of the error table at the top, as text (numbers too), or empty.
bool error_field(lua_State* L, const char* name, std::string& out) {
  lua_getfield(L, -1, name);
  const bool ok = lua_isstring(L, -1) != 0;
  if (ok) {
    const char* s = lua_tostring(L, -1);
    out.assign(s, std::strlen(s));
  }
  lua_pop(L, 1);
  return ok;
}

}  // namespace

void lua_vm::call(int ref, run_context& run, std::span<const std::string_view> keys,
                  std::span<const std::string_view> args) {
  lua_State* L = L_;
  auto& out = run.caller->out;
  lua_rawgeti(L, LUA_REGISTRYINDEX, errh_ref_);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  const bool hooked = owner_.busy_threshold_ms() > 0;
  if (hooked) lua_sethook(L, kill_hook, LUA_MASKCOUNT, hook_instructions);
  int err;
  if (run.eval) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, real_globals_ref_);
    push_array(L, keys);
    lua_setfield(L, -2, "KEYS");
    push_array(L, args);
    lua_setfield(L, -2, "ARGV");
    lua_pop(L, 1);
    err = lua_pcall(L, 0, 1, -2);
  } else {
    push_array(L, keys);
    push_array(L, args);
    err = lua_pcall(L, 2, 1, -4);
  }
  // An incremental collection step every 50 calls, as Redis does, rather
  // than letting Lua run a full cycle at an unlucky moment.
  if (++calls_ == 50) {
    lua_gc(L, LUA_GCSTEP, 50);
    calls_ = 0;
  }
  if (err) {
    if (!lua_istable(L, -1)) {
      const char* msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
      std::string text = "Error running script " + std::string(run.name) + ", ";
      text.append(std::string_view(msg).substr(0, 100));
      text.push_back('\n');
      out.error(text);
    } else {
      std::string msg, source, line;
      if (!error_field(L, "err", msg)) msg = "ERR unknown error";
      std::string text = "-" + msg;
      if (error_field(L, "line", line) && error_field(L, "source", source)) {
        text += " script: ";
        text += run.name;
        text += ", on ";
        text += source;
        text += ":";
        text += line;
        text += ".";
      }
      out.error(text);
    }
    lua_pop(L, 1);
  } else {
    write_value(L, out, run.client->resp);
  }
  if (hooked) lua_sethook(L, nullptr, 0, 0);
  lua_settop(L, 0);
}

bool lua_vm::load_library(std::string_view code, std::int64_t timeout_ms, std::vector<registered_function>& out,
                          std::string& error) {
  lua_State* L = L_;
  auto set_globals_index = [&](int ref) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, globals_meta_ref_);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
  };
  load_context load;
  if (load_text(L, code.data(), code.size(), "@user_function")) {
    error = "Error compiling function: ";
    const char* msg = lua_tostring(L, -1);
    error += msg ? msg : "";
    lua_settop(L, 0);
    return false;
  }
  set_globals_index(lib_api_ref_);
  load.deadline_us = timeout_ms > 0 ? util::now_us() + timeout_ms * 1000 : 0;
  loading_ = &load;
  lua_sethook(L, load_hook, LUA_MASKCOUNT, hook_instructions);
  const int err = lua_pcall(L, 0, 0, 0);
  lua_sethook(L, nullptr, 0, 0);
  loading_ = nullptr;
  set_globals_index(real_globals_ref_);
  if (err) {
    std::string msg;
    if (lua_isstring(L, -1)) {
      msg = "ERR ";
      msg += lua_tostring(L, -1);
    } else if (lua_istable(L, -1) && !error_field(L, "err", msg)) {
      msg = "(null)";
    }
    error = "Error registering functions: " + msg;
    lua_settop(L, 0);
    for (auto& f : load.functions) release(f.ref);
    return false;
  }
  lua_settop(L, 0);
  out = std::move(load.functions);
  return true;
}

}  // namespace shrike::scripting
