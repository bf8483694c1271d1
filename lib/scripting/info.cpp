#include "scripting/info.hpp"

#include <cstdio>

#include "scripting/functions.hpp"
#include "scripting/lua_vm.hpp"
#include "scripting/scripting_state.hpp"
#include "util/numbers.hpp"

namespace shrike::scripting {

namespace {

void line(std::string& out, const char* key, const std::string& value) {
  out.append(key);
  out.push_back(':');
  out.append(value);
  out.append("\r\n");
}

void line(std::string& out, const char* key, std::uint64_t value) { line(out, key, std::to_string(value)); }

}  // namespace

void append_info_memory(server::server_context& srv, std::string& out) {
  auto& st = state(srv);
  const std::uint64_t vm_eval = st.eval_vm().memory();
  const std::uint64_t vm_functions = st.function_vm().memory();
  const std::uint64_t scripts_eval = st.scripts_memory();
  const std::uint64_t functions = st.functions().memory_overhead();
  line(out, "used_memory_lua", vm_eval);
  line(out, "used_memory_vm_eval", vm_eval);
  line(out, "used_memory_lua_human", util::bytes_to_human(vm_eval));
  line(out, "used_memory_scripts_eval", scripts_eval);
  line(out, "number_of_cached_scripts", st.script_count());
  line(out, "number_of_functions", st.functions().function_count());
  line(out, "number_of_libraries", st.functions().libraries().size());
  line(out, "used_memory_vm_functions", vm_functions);
  line(out, "used_memory_vm_total", vm_eval + vm_functions);
  line(out, "used_memory_vm_total_human", util::bytes_to_human(vm_eval + vm_functions));
  line(out, "used_memory_functions", functions);
  line(out, "used_memory_scripts", scripts_eval + functions);
  line(out, "used_memory_scripts_human", util::bytes_to_human(scripts_eval + functions));
}

cache_figures cache_figures_of(server::server_context& srv) {
  auto& st = state(srv);
  return {st.scripts_memory(), st.functions().memory_overhead(), st.script_count()};
}

}  // namespace shrike::scripting
