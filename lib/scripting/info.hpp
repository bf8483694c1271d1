#pragma once
// The scripting lines of INFO memory, in Redis 7.0's order and names
// (used_memory_lua ... used_memory_scripts_human). Call with every gate held
// (INFO is keyspace-wide): it reads the interpreters.
#include <string>

#include "server/server_context.hpp"

namespace shrike::scripting {

void append_info_memory(server::server_context& srv, std::string& out);

}  // namespace shrike::scripting
