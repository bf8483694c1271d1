#pragma once
// redis.call / redis.pcall: running one command from a script.
#include <span>
#include <string>
#include <string_view>

#include "scripting/scripting_state.hpp"

namespace shrike::scripting {

enum class call_status {
  ran,       // the command ran; `reply` holds its reply (maybe an error reply)
  refused,   // refused before running (unknown, arity, noscript, read-only...); `error` says why
  killed,    // the script was killed: the write must not happen
};

// Runs `argv` for the script `run` with the checks Redis makes for scripts
// and the bookkeeping of a client's command (stats, dirty, WATCH, BGSAVE's
// save-before-write, MONITOR, blocked clients served after the script). The
// reply is RESP in the script's protocol (redis.setresp).
call_status call_command(scripting_state& st, run_context& run, std::span<const std::string_view> argv,
                         std::string& reply, std::string& error);

}  // namespace shrike::scripting
