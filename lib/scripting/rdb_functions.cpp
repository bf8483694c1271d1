#include "scripting/rdb_functions.hpp"

#include <stdexcept>

#include "scripting/functions.hpp"
#include "scripting/scripting_state.hpp"

namespace shrike::scripting {

std::shared_ptr<const std::vector<std::string>> libraries_for_rdb(server::server_context& srv) {
  return state(srv).library_codes();
}

std::function<void(std::string&& code)> rdb_function_loader(server::server_context& srv) {
  return [&srv](std::string&& code) {
    std::string name, error;
    if (!state(srv).functions().load(code, false, name, error)) throw std::runtime_error(error);
  };
}

void flush_functions(server::server_context& srv) { state(srv).functions().flush(); }

}  // namespace shrike::scripting
