// shrike-server: parses the command line / JSON config, then runs the server.
#include <iostream>

#include "server/config_store.hpp"
#include "server/launch_options.hpp"
#include "server/server.hpp"

int main(int argc, char** argv) {
  shrike::server::config_store config;
  auto launch = shrike::server::parse_launch_options(argc, argv, config);
  if (launch.exit_now || launch.exit_code != 0) {
    (launch.exit_code ? std::cerr : std::cout) << launch.output << (launch.output.empty() ? "" : "\n");
    return launch.exit_code;
  }
  return shrike::server::run_server(config);
}
