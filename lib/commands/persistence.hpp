#pragma once
// What persistence takes from the server: where the RDB file lives, the save
// and load options the configuration implies, and the startup load. Shared
// by SAVE, DUMP and RESTORE (persistence_commands.cpp), the server's startup
// and, next, BGSAVE.
#include <cstdint>
#include <string>
#include <string_view>

#include "persistence/rdb_reader.hpp"
#include "persistence/rdb_writer.hpp"
#include "server/server_context.hpp"

namespace shrike::commands {

// The refusal of a client's write (and of PING, as Redis) while saves fail
// (server_context::writes_denied_by_disk_error).
inline constexpr std::string_view misconf_error =
    "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that "
    "may modify the data set are disabled, because this instance is configured to report errors during writes if RDB "
    "snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB "
    "error.";

// `dir`/`dbfilename`.
std::string rdb_path(server::server_context& srv);
// A temp file next to it for a save in progress (Redis: temp-<pid>.rdb).
std::string rdb_temp_path(server::server_context& srv, std::string_view tag);
// rdbcompression, rdbchecksum, list-max-listpack-size, an LRU maxmemory-policy.
persistence::rdb_save_options rdb_save_options_for(server::server_context& srv);
// The *-max-listpack-* / set-max-intset-entries limits in force.
persistence::load_limits rdb_load_limits(server::server_context& srv);
// The AUX fields of a save made now (used-mem is the allocator's count).
persistence::aux_fields rdb_aux_fields(std::int64_t now_ms);

// Loads `dir`/`dbfilename` into the shards (not running yet), logging as
// Redis does. A missing file is an empty dataset; false on a file that does
// not load (logged with the file name and byte offset; the server exits 1).
bool load_rdb_at_startup(server::server_context& srv);

}  // namespace shrike::commands
