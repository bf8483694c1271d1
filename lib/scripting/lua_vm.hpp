#pragma once
// One Lua interpreter with Redis 7.0's scripting environment.
//
// The environment (what a script sees, checked against redis-server 7.0):
// the base functions of Redis's allow list (no dofile, loadfile, print,
// getfenv, setfenv, newproxy), the string, table, math, coroutine, cjson,
// bit, struct and cmsgpack libraries, and `redis` (call, pcall, log,
// sha1hex, error_reply, status_reply, setresp, set_repl, acl_check_cmd,
// breakpoint, debug, replicate_commands, the LOG_* and REPL_* constants,
// REDIS_VERSION[_NUM]). math.random is Redis's generator.
//
// Sandbox. Redis patches its Lua with read-only tables; stock Lua has none,
// so every table reachable from the globals is reached through a PROXY: an
// empty table whose metatable reads from the real table (__index), refuses
// writes (__newindex: "Attempt to modify a readonly table") and hides itself
// (__metatable). The real globals' own metatable raises "Script attempted to
// access nonexistent global variable". The functions that would bypass a
// metatable (rawset, rawget, next, pairs, ipairs, setmetatable,
// table.insert) are replaced by versions that see through or
// refuse proxies. Scripts cannot get hold of a real table. Chunks are always
// compiled as text (never as bytecode), like Redis 7.0's loader.
//
// The EVAL interpreter's globals are the proxy of the real globals, with
// KEYS and ARGV set in the real table before each call. The FUNCTION
// interpreter's globals are an empty table whose __index is switched, as
// Redis's are: to the library API (redis.register_function, redis.log, the
// LOG_* constants) while FUNCTION LOAD runs the library's code, to the real
// globals while a function runs.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scripting/lua.hpp"
#include "scripting/scripting_state.hpp"

namespace shrike::scripting {

class lua_vm {
 public:
  enum class mode { eval, functions };

  lua_vm(scripting_state& owner, mode m);
  ~lua_vm();
  lua_vm(const lua_vm&) = delete;
  lua_vm& operator=(const lua_vm&) = delete;

  scripting_state& owner() { return owner_; }
  lua_State* state() { return L_; }

  // Compiles `code` as chunk `chunk_name` ("@user_script"); the function's
  // registry reference, or false with Lua's message.
  bool compile(std::string_view code, const char* chunk_name, int& ref, std::string& error);
  void release(int ref);

  // Calls the function `ref` for `run` and writes its reply (or its error)
  // to run.caller->out. EVAL: KEYS and ARGV are globals; FCALL: they are
  // the function's two arguments.
  void call(int ref, run_context& run, std::span<const std::string_view> keys,
            std::span<const std::string_view> args);

  // FUNCTION LOAD (functions mode): runs a library's code with the load-time
  // globals. The functions it registered, or false with Redis's error text.
  struct registered_function {
    std::string name;
    std::optional<std::string> description;
    std::uint32_t flags = 0;
    int ref = 0;
  };
  bool load_library(std::string_view code, std::int64_t timeout_ms, std::vector<registered_function>& out,
                    std::string& error);

  // Bytes the interpreter holds (used_memory_vm_eval / _functions).
  std::size_t memory() const;

  // --- for the C functions of the `redis` table -------------------------
  struct load_context {
    std::vector<registered_function> functions;
    std::int64_t deadline_us = 0;  // 0: none
  };
  load_context* loading() { return loading_; }
  std::vector<std::string_view>& argv_scratch() { return argv_; }
  std::string& reply_scratch() { return reply_; }

 private:
  void open_libraries();
  void install_redis_api();
  void protect_globals();

  scripting_state& owner_;
  mode mode_;
  lua_State* L_ = nullptr;
  int errh_ref_ = 0;           // the error handler
  int real_globals_ref_ = 0;   // the real globals (KEYS/ARGV go there)
  int lib_api_ref_ = 0;        // functions mode: the load-time globals
  int globals_meta_ref_ = 0;   // functions mode: the metatable whose __index is switched
  unsigned calls_ = 0;         // for the incremental GC step every 50 calls
  load_context* loading_ = nullptr;
  std::vector<std::string_view> argv_;
  std::string reply_;
};

}  // namespace shrike::scripting
