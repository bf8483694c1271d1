#pragma once
// What the rest of the server takes from the replication commands.
#include <string>

#include "server/server_context.hpp"

namespace shrike::commands {

// The lines of INFO's replication section (without its title).
std::string replication_info_text(server::server_context& srv);

}  // namespace shrike::commands
