#pragma once
// The server's scripting state: the two Lua interpreters (one for EVAL
// scripts, one for FUNCTION libraries, as Redis 7.0 keeps them), the script
// cache, the function libraries, and the script that runs now.
//
// Concurrency. A script runs with the gate of EVERY shard held (EVAL, FCALL
// and the commands that touch an interpreter are exec_kind::all_shards), so
// at most one script runs at a time, it may touch any key -- declared or not,
// as Redis allows outside cluster mode -- and no other client observes part
// of it. Everything here but the fields marked otherwise is used only under
// those gates. SCRIPT KILL, FUNCTION KILL and FUNCTION STATS run without the
// gates while a script runs (from another thread, or nested in the script's
// hook): they use `running_` (a mutex) and the kill state (one atomic word).
//
// Busy scripts. The interpreter's count hook (every 100,000 instructions)
// checks the elapsed time: past busy-reply-threshold it sets
// srv.script_busy, which the dispatcher checks BEFORE it hops to a shard, so
// other clients get -BUSY at once instead of queueing behind the gates (the
// allow-busy commands still run). Meanwhile the hook also runs the handlers
// that are ready on the script's own thread (server::serve_while_blocked, as
// Redis's processEventsWhileBlocked): the clients on that thread get their
// -BUSY and can send SCRIPT KILL, with --threads 1 too.
#include <atomic>
#include <functional>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/client_state.hpp"
#include "server/server_context.hpp"

namespace shrike::commands {
struct command_context;
struct command_row;
}  // namespace shrike::commands

namespace shrike::scripting {

class lua_vm;
class function_registry;

// Flags of a script's shebang line or of redis.register_function.
enum script_flag : std::uint32_t {
  flag_no_writes = 1u << 0,
  flag_allow_oom = 1u << 1,
  flag_allow_stale = 1u << 2,
  flag_no_cluster = 1u << 3,
  flag_allow_cross_slot = 1u << 4,
  flag_eval_compat = 1u << 5,  // an EVAL script without a shebang
};
struct script_flag_name {
  std::uint32_t flag;
  std::string_view name;
};
inline constexpr script_flag_name script_flag_names[] = {
    {flag_no_writes, "no-writes"},     {flag_allow_oom, "allow-oom"},
    {flag_allow_stale, "allow-stale"}, {flag_no_cluster, "no-cluster"},
    {flag_allow_cross_slot, "allow-cross-slot-keys"},
};

// redis.set_repl's flags.
inline constexpr int repl_aof = 1;
inline constexpr int repl_replica = 2;

// One script or function invocation.
struct run_context {
  commands::command_context* caller = nullptr;  // EVAL/FCALL: the caller's client, its reply writer
  server::client_state* client = nullptr;       // the script's own client: its db, RESP version
  std::string_view name;                         // the SHA-1 or the function's name
  bool eval = true;                              // EVAL (else FCALL)
  bool read_only = false;                        // *_RO, or a no-writes script
  bool allow_oom = false;                        // declared allow-oom: no -OOM inside
  std::int64_t now_ms = 0;                       // the time every command of the script sees
  int repl_flags = repl_aof | repl_replica;      // redis.set_repl
  bool from_master = false;                      // run by our master's stream (replicas obey it)
  std::chrono::steady_clock::time_point start;
};

// An EVAL script in the cache.
struct cached_script {
  std::string sha;  // lowercase hex
  std::string body;
  std::uint32_t flags = 0;
  int ref = 0;  // the compiled function in the EVAL interpreter's registry
};

class scripting_state {
 public:
  explicit scripting_state(server::server_context& srv);
  ~scripting_state();
  scripting_state(const scripting_state&) = delete;
  scripting_state& operator=(const scripting_state&) = delete;

  server::server_context& srv() { return srv_; }
  lua_vm& eval_vm() { return *eval_vm_; }
  lua_vm& function_vm() { return *function_vm_; }
  function_registry& functions() { return *functions_; }

  // --- EVAL's script cache ------------------------------------------------
  // The cached script of `sha` (40 hex digits, any case), or null.
  cached_script* find_script(std::string_view sha);
  // Compiles `body` into the cache (luaCreateFunction); on failure returns
  // null with Redis's error text in `error`. `sha` is set either way.
  cached_script* create_script(std::string_view body, std::string& sha, std::string& error);
  // SCRIPT FLUSH: a new interpreter and an empty cache.
  void flush_scripts();
  std::size_t script_count() const { return scripts_.size(); }
  std::size_t scripts_memory() const;  // used_memory_scripts_eval

  // --- running ------------------------------------------------------------
  // Runs a script (EVAL) or a function (FCALL) with every gate held; the
  // reply (or the error) goes to run.caller->out.
  void run_eval(run_context& run, const cached_script& script, std::span<const std::string_view> keys,
                std::span<const std::string_view> args);
  void run_function(run_context& run, int ref, std::span<const std::string_view> keys,
                    std::span<const std::string_view> args);
  // The script's own client (db and RESP version reset for each run).
  server::client_state& script_client() { return *script_client_; }

  // SCRIPT KILL (eval = true) / FUNCTION KILL; any thread, no gates.
  void kill(commands::command_context& ctx, bool eval);
  // FUNCTION STATS's running_script (any thread).
  struct running_info {
    bool running = false;
    bool eval = true;
    std::string name;
    std::vector<std::string> argv;
    std::int64_t duration_ms = 0;
  };
  running_info running() const;

  // Before a write command runs inside the script: false when the script
  // was killed meanwhile (the write must not happen). Marks it unkillable.
  bool begin_write();
  // Whether the running script has written (so it can no longer be stopped).
  bool wrote() const;
  // Count hook: true when the script must stop (killed or shutting down).
  bool interrupted();
  // The script in progress (null between runs).
  run_context* current() { return current_; }

  // --- math.random: Redis's drand48-style generator, process-wide in Redis
  // (never reseeded but by math.randomseed, not even by SCRIPT FLUSH).
  std::int32_t lrand48();
  void srand48(std::int32_t seed);

  // FUNCTION STATS's counts (libraries, functions), readable without the gates.
  std::pair<std::size_t, std::size_t> function_counts() const {
    return {libraries_count_.load(std::memory_order_relaxed), functions_count_.load(std::memory_order_relaxed)};
  }
  void set_function_counts(std::size_t libraries, std::size_t functions) {
    libraries_count_.store(libraries, std::memory_order_relaxed);
    functions_count_.store(functions, std::memory_order_relaxed);
  }

  // The libraries' code for RDB files (any thread; null when none).
  std::shared_ptr<const std::vector<std::string>> library_codes() const {
    std::lock_guard lock(running_mutex_);
    return library_codes_;
  }
  void set_library_codes(std::shared_ptr<const std::vector<std::string>> codes) {
    std::lock_guard lock(running_mutex_);
    library_codes_ = std::move(codes);
  }

  // busy-reply-threshold in ms (0: no limit), refreshed by CONFIG SET.
  std::int64_t busy_threshold_ms() const { return busy_threshold_ms_.load(std::memory_order_relaxed); }

 private:
  void begin_run(run_context& run);
  void end_run();

  server::server_context& srv_;
  std::unique_ptr<lua_vm> eval_vm_;
  std::unique_ptr<lua_vm> function_vm_;
  std::unique_ptr<function_registry> functions_;
  struct sha_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // By lowercase SHA-1; looked up by string_view (EVALSHA allocates nothing).
  std::unordered_map<std::string, cached_script, sha_hash, std::equal_to<>> scripts_;
  std::size_t scripts_bytes_ = 0;
  std::shared_ptr<server::client_state> script_client_;
  run_context* current_ = nullptr;
  std::uint64_t rand_state_ = 0x1234abcd330eULL;

  bool timed_out_ = false;  // the running script passed busy-reply-threshold

  // Kill state of the running script, one atomic word so that SCRIPT KILL
  // and the script's first write cannot both win: running, kill requested,
  // wrote, is a function.
  std::atomic<unsigned> kill_state_{0};
  // What FUNCTION STATS shows of the running script (other threads).
  mutable std::mutex running_mutex_;
  std::span<const std::string_view> running_argv_;
  std::string_view running_name_;
  std::chrono::steady_clock::time_point running_start_;
  std::atomic<std::int64_t> busy_threshold_ms_{5000};
  std::atomic<std::size_t> libraries_count_{0}, functions_count_{0};
  std::shared_ptr<const std::vector<std::string>> library_codes_;  // under running_mutex_
};

// The checks of a script with `flags` (shebang or function flags) before it
// runs for ctx's client, read-only (`ro`: *_RO) or not: false with Redis's
// error (saves failing, too few replicas, a stale or read-only replica, a
// write script by *_RO).
bool may_run(commands::command_context& ctx, std::uint32_t flags, bool ro, std::string& error);

// The flags of an EVAL script's "#!lua flags=..." line (flag_eval_compat
// without a shebang); false with Redis's error text.
bool parse_shebang_flags(std::string_view body, std::uint32_t& flags, std::string& error);

// The scripting state of `srv`, created on first use.
scripting_state& state(server::server_context& srv);

}  // namespace shrike::scripting
