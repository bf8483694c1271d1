#pragma once
// The CLIENT LIST / CLIENT INFO line of a client (Redis's catClientInfoString),
// without the trailing newline; also the client-info of ACL LOG entries.
#include <cstdint>
#include <string>

#include "server/client_state.hpp"

namespace shrike::commands {

std::string client_line(const server::client_state& c, std::int64_t now_ms);

}  // namespace shrike::commands
