#pragma once
// The scripting lines of INFO memory, in Redis 7.0's order and names
// (used_memory_lua ... used_memory_scripts_human). Call with every gate held
// (INFO is keyspace-wide): it reads the interpreters.
#include <string>

#include "server/server_context.hpp"

namespace shrike::scripting {

void append_info_memory(server::server_context& srv, std::string& out);

// The script caches' memory, as MEMORY STATS reports it (lua.caches,
// functions.caches); same calling rule.
struct cache_figures {
  std::uint64_t scripts_eval = 0;  // EVAL's script cache
  std::uint64_t functions = 0;     // the function libraries
  std::size_t cached_scripts = 0;
};
cache_figures cache_figures_of(server::server_context& srv);

}  // namespace shrike::scripting
