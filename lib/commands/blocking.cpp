#include "commands/blocking.hpp"

namespace shrike::commands {

void serve_ready_keys(server::server_context&, std::vector<std::pair<std::size_t, std::string>>& ready) {
  ready.clear();
}

}  // namespace shrike::commands
