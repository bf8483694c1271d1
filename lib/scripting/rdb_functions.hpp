#pragma once
// Function libraries in RDB files: Redis 7.0 writes each library's code as a
// FUNCTION2 record after the AUX fields (persistence::rdb_save_options::
// functions) and loads them back before the keys
// (persistence::load_options::on_function).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/server_context.hpp"

namespace shrike::scripting {

// The code of every library, for an RDB file being written (any thread, no
// gates: a copy published whenever the libraries change); null when none.
std::shared_ptr<const std::vector<std::string>> libraries_for_rdb(server::server_context& srv);

// Loads the libraries of an RDB file into the server (at startup, or with
// every gate held); throws std::runtime_error with Redis's error.
std::function<void(std::string&& code)> rdb_function_loader(server::server_context& srv);

// FUNCTION FLUSH, for a replica about to load its master's RDB (gates held).
void flush_functions(server::server_context& srv);

}  // namespace shrike::scripting
