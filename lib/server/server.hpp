#pragma once
// The server process: io_context + thread pool, listeners, signals, shutdown.
#include <cstddef>

#include "server/config_store.hpp"

namespace shrike::server {

// CPUs this process may run on (sched_getaffinity), at least 1.
std::size_t available_cpus();

// Runs until SHUTDOWN or SIGINT/SIGTERM; returns the process exit code.
int run_server(config_store& config);

}  // namespace shrike::server
