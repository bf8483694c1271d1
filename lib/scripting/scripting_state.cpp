#include "scripting/scripting_state.hpp"

#include <cctype>

#include "commands/command_context.hpp"
#include "commands/maxmemory.hpp"
#include "commands/persistence.hpp"
#include "replication/replication_state.hpp"
#include "scripting/functions.hpp"
#include "scripting/lua_vm.hpp"
#include "scripting/sha1.hpp"
#include "server/serve_while_blocked.hpp"
#include "util/log.hpp"
#include "util/split_args.hpp"

namespace shrike::scripting {

namespace {

enum : unsigned {
  kill_running = 1u << 0,
  kill_requested = 1u << 1,
  kill_wrote = 1u << 2,
  kill_function = 1u << 3,
};

}  // namespace

scripting_state::scripting_state(server::server_context& srv) : srv_(srv) {
  script_client_ = std::make_shared<server::client_state>();
  script_client_->addr = "lua";  // MONITOR shows the commands of scripts as "[db lua]"
  script_client_->authenticated = true;
  eval_vm_ = std::make_unique<lua_vm>(*this, lua_vm::mode::eval);
  function_vm_ = std::make_unique<lua_vm>(*this, lua_vm::mode::functions);
  functions_ = std::make_unique<function_registry>(*this);
  auto& config = srv.config();
  busy_threshold_ms_ = config.get_int("busy-reply-threshold");
  config.on_change("busy-reply-threshold",
                   [this, &config](std::string_view) { busy_threshold_ms_ = config.get_int("busy-reply-threshold"); });
}

scripting_state::~scripting_state() = default;

scripting_state& state(server::server_context& srv) {
  std::call_once(srv.scripting_once, [&srv] { srv.scripting = std::make_shared<scripting_state>(srv); });
  return *srv.scripting;
}

// --- script cache ---------------------------------------------------------------

cached_script* scripting_state::find_script(std::string_view sha) {
  if (sha.size() != 40) return nullptr;
  char key[40];
  for (std::size_t i = 0; i < 40; ++i) {
    const char c = sha[i];
    key[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  auto it = scripts_.find(std::string_view(key, 40));
  return it == scripts_.end() ? nullptr : &it->second;
}

namespace {

// evalExtractShebangFlags: the flags of `body`'s "#!lua flags=..." line and
// its length (0 without a shebang); false with Redis's error text.
bool shebang_flags(std::string_view body, std::uint32_t& flags, std::size_t& shebang_len, std::string& error) {
  flags = flag_eval_compat;
  shebang_len = 0;
  if (body.substr(0, 2) != "#!") return true;
  // Redis reads the body as a C string: the line ends at a newline or NUL.
  const std::size_t nl = body.find('\n');
  const std::size_t nul = body.find('\0');
  if (nl == std::string_view::npos || (nul != std::string_view::npos && nul < nl)) {
    error = "Invalid script shebang";
    return false;
  }
  shebang_len = nl;
  std::vector<std::string> parts;
  if (!util::split_args(body.substr(0, nl), parts) || parts.empty()) {
    error = "Invalid engine in script shebang";
    return false;
  }
  if (parts[0] != "#!lua") {
    error = "Unexpected engine in script shebang: " + parts[0];
    return false;
  }
  flags &= ~flag_eval_compat;
  for (std::size_t j = 1; j < parts.size(); ++j) {
    if (parts[j].compare(0, 6, "flags=") != 0) {
      error = "Unknown lua shebang option: " + parts[j];
      return false;
    }
    std::string_view list = std::string_view(parts[j]).substr(6);
    // sdssplitlen on ",": an empty list has no flags at all.
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view name = list.substr(0, comma);
      bool found = false;
      for (const auto& f : script_flag_names)
        if (name == f.name) {
          flags |= f.flag;
          found = true;
        }
      if (!found) {
        error = "Unexpected flag in script shebang: " + std::string(name);
        return false;
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
      if (list.empty()) {  // a trailing comma: an empty flag
        error = "Unexpected flag in script shebang: ";
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool may_run(commands::command_context& ctx, std::uint32_t flags, bool ro, std::string& error) {
  auto& repl = ctx.srv.repl();
  const bool obey = ctx.client.role.load() == server::peer_role::master;
  const bool replica = repl.is_replica();
  const bool stale = replica && !repl.serve_stale_data.load() && repl.link.load() != replication::link_state::connected;
  if (flags & flag_eval_compat) {
    if (stale) error = "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    return error.empty();
  }
  // Declared flags make the call a write (unless no-writes) and deny it on a
  // stale replica (unless allow-stale), and Redis's processCommand refuses it
  // before the script is prepared, with its generic errors in its order; the
  // script-specific texts of scriptPrepareForRun are out of reach from a
  // client. (no-cluster: there is no cluster mode.)
  if (!(flags & (flag_no_writes | flag_allow_oom)) && !obey && ctx.srv.maxmemory.load(std::memory_order_relaxed) > 0 &&
      ctx.srv.oom_state.load(std::memory_order_relaxed)) {
    error = commands::oom_error;
    return false;
  }
  if (!(flags & flag_no_writes) && !obey) {
    if (ctx.srv.writes_denied_by_disk_error()) {
      error = commands::misconf_error;
      return false;
    }
    const int wanted = repl.min_replicas_to_write.load(std::memory_order_relaxed);
    if (!replica && wanted > 0 && repl.good_replicas() < wanted) {
      error = "-NOREPLICAS Not enough good replicas to write.";
      return false;
    }
    if (replica && repl.read_only.load()) {
      error = "-READONLY You can't write against a read only replica.";
      return false;
    }
  }
  if (stale && !(flags & flag_allow_stale)) {
    error = "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    return false;
  }
  if (!(flags & flag_no_writes) && ro) {
    error = "Can not execute a script with write flag using *_ro command.";
    return false;
  }
  return true;
}

bool parse_shebang_flags(std::string_view body, std::uint32_t& flags, std::string& error) {
  std::size_t len = 0;
  return shebang_flags(body, flags, len, error);
}

cached_script* scripting_state::create_script(std::string_view body, std::string& sha, std::string& error) {
  sha = sha1_hex(body);
  if (auto it = scripts_.find(sha); it != scripts_.end()) return &it->second;
  std::uint32_t flags = 0;
  std::size_t shebang_len = 0;
  if (!shebang_flags(body, flags, shebang_len, error)) return nullptr;
  // The shebang line goes, its newline stays: line numbers are the user's.
  int ref = 0;
  std::string lua_error;
  if (!eval_vm_->compile(body.substr(shebang_len), "@user_script", ref, lua_error)) {
    error = "Error compiling script (new function): " + lua_error;
    return nullptr;
  }
  auto& s = scripts_[sha];
  s.sha = sha;
  s.body.assign(body);
  s.flags = flags;
  s.ref = ref;
  scripts_bytes_ += body.size() + sha.size();
  return &s;
}

void scripting_state::flush_scripts() {
  scripts_.clear();
  scripts_bytes_ = 0;
  eval_vm_ = std::make_unique<lua_vm>(*this, lua_vm::mode::eval);
}

std::size_t scripting_state::scripts_memory() const {
  // The bodies and names, plus a rough per-entry overhead as Redis counts
  // its dict entries and structs.
  return scripts_bytes_ + scripts_.size() * 64 + scripts_.bucket_count() * sizeof(void*);
}

// --- running ----------------------------------------------------------------------

void scripting_state::begin_run(run_context& run) {
  run.start = std::chrono::steady_clock::now();
  script_client_->db = run.caller->client.db;
  script_client_->resp = 2;
  run.client = script_client_.get();
  current_ = &run;
  timed_out_ = false;
  {
    std::lock_guard lock(running_mutex_);
    running_argv_ = run.caller->argv;
    running_name_ = run.name;
    running_start_ = run.start;
  }
  kill_state_.store(kill_running | (run.eval ? 0u : kill_function), std::memory_order_release);
}

void scripting_state::end_run() {
  kill_state_.store(0, std::memory_order_release);
  {
    std::lock_guard lock(running_mutex_);
    running_argv_ = {};
    running_name_ = {};
  }
  current_ = nullptr;
  if (timed_out_) {
    srv_.script_busy.store(0, std::memory_order_release);
    timed_out_ = false;
  }
}

void scripting_state::run_eval(run_context& run, const cached_script& script, std::span<const std::string_view> keys,
                               std::span<const std::string_view> args) {
  begin_run(run);
  try {
    eval_vm_->call(script.ref, run, keys, args);
  } catch (...) {
    end_run();
    throw;
  }
  end_run();
}

void scripting_state::run_function(run_context& run, int ref, std::span<const std::string_view> keys,
                                   std::span<const std::string_view> args) {
  begin_run(run);
  try {
    function_vm_->call(ref, run, keys, args);
  } catch (...) {
    end_run();
    throw;
  }
  end_run();
}

bool scripting_state::begin_write() {
  return !(kill_state_.fetch_or(kill_wrote, std::memory_order_acq_rel) & kill_requested);
}

bool scripting_state::wrote() const { return kill_state_.load(std::memory_order_acquire) & kill_wrote; }

bool scripting_state::interrupted() {
  run_context* run = current_;
  if (!run) return false;
  if (!timed_out_) {
    const auto threshold = busy_threshold_ms();
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - run->start).count();
    if (threshold > 0 && elapsed >= threshold) {
      timed_out_ = true;
      util::log_warning("Slow script detected: still in execution after " + std::to_string(elapsed) +
                        " milliseconds. You can try killing the script using the " +
                        (run->eval ? "SCRIPT KILL" : "FUNCTION KILL") +
                        " command. Script name is: " + std::string(run->name) + ".");
      srv_.script_busy.store(run->eval ? 1 : 2, std::memory_order_release);
    }
  }
  // Busy: the clients of this thread get their -BUSY (and their SCRIPT KILL
  // in) now, not when the script ends.
  if (timed_out_) server::serve_while_blocked();
  // SHUTDOWN NOSAVE (or a signal) ends a script in any case: the server
  // cannot stop while one of its threads runs it.
  if (srv_.shutting_down()) return true;
  if (kill_state_.load(std::memory_order_acquire) & kill_requested) {
    util::log_warning("Lua script killed by user with SCRIPT KILL.");
    return true;
  }
  return false;
}

void scripting_state::kill(commands::command_context& ctx, bool eval) {
  unsigned s = kill_state_.load(std::memory_order_acquire);
  for (;;) {
    if (!(s & kill_running)) return ctx.out.error("-NOTBUSY No scripts in execution right now.");
    if (s & kill_wrote)
      return ctx.out.error(
          "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait "
          "the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
    const bool running_function = (s & kill_function) != 0;
    if (eval && running_function)
      return ctx.out.error(
          "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
    if (!eval && !running_function)
      return ctx.out.error("-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
    if (kill_state_.compare_exchange_weak(s, s | kill_requested, std::memory_order_acq_rel)) break;
  }
  ctx.out.ok();
}

scripting_state::running_info scripting_state::running() const {
  running_info info;
  const unsigned s = kill_state_.load(std::memory_order_acquire);
  if (!(s & kill_running)) return info;
  std::lock_guard lock(running_mutex_);
  if (running_name_.empty() && running_argv_.empty()) return info;
  info.running = true;
  info.eval = !(s & kill_function);
  info.name.assign(running_name_);
  for (auto a : running_argv_) info.argv.emplace_back(a);
  info.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - running_start_).count();
  return info;
}

// --- math.random --------------------------------------------------------------------

// drand48's generator (x' = 0x5deece66d x + 0xb mod 2^48, the top 31 bits),
// which is what Redis's redisLrand48 computes.
std::int32_t scripting_state::lrand48() {
  rand_state_ = (0x5deece66dULL * rand_state_ + 0xbULL) & ((1ULL << 48) - 1);
  return static_cast<std::int32_t>(rand_state_ >> 17);
}

void scripting_state::srand48(std::int32_t seed) {
  rand_state_ = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(seed)) << 16) | 0x330eULL;
}

}  // namespace shrike::scripting
