#pragma once
// What the dispatcher asks before it sends a command to the shards: is a
// script running past busy-reply-threshold? Then every command but the
// allow-busy ones (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS, SHUTDOWN
// NOSAVE, MULTI, DISCARD, WATCH, ...) is refused with Redis's -BUSY error
// instead of waiting behind the gates the script holds. One relaxed load
// otherwise.
#include <span>
#include <string>
#include <string_view>

#include "commands/command_table.hpp"
#include "server/server_context.hpp"

namespace shrike::scripting {

// Sets `error` (when empty) for a command refused because a script is busy.
inline void refuse_if_busy(server::server_context& srv, const commands::command_row& row,
                           std::span<const std::string_view> argv, std::string& error) {
  const int busy = srv.script_busy.load(std::memory_order_relaxed);
  if (busy == 0 || !error.empty()) return;
  if (row.info->flags & commands::flag_allow_busy) {
    // SHUTDOWN while a script is busy: only SHUTDOWN NOSAVE.
    if (row.info->name != "shutdown") return;
    for (std::size_t i = 1; i < argv.size(); ++i) {
      const auto a = argv[i];
      if (a.size() == 6 && (a[0] | 0x20) == 'n' && (a[1] | 0x20) == 'o' && (a[2] | 0x20) == 's' &&
          (a[3] | 0x20) == 'a' && (a[4] | 0x20) == 'v' && (a[5] | 0x20) == 'e')
        return;
    }
  }
  error = busy == 1 ? "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
                    : "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
}

}  // namespace shrike::scripting
