// MODULE: Shrike does not implement Redis's module API (a module is a shared
// object built against redismodule.h and calls back into Redis's own
// functions), so no module is ever loaded. The commands still answer as
// Redis 7.0 does for that state: LIST is empty, LOAD and LOADEX fail with
// Redis's error after logging why, UNLOAD finds no such module.
#include <string>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "util/log.hpp"

namespace shrike::commands {
namespace {

void cmd_module_list(command_context& ctx) { ctx.out.array(0); }

void cmd_module_load(command_context& ctx) {
  util::log_warning("Module " + std::string(ctx.arg(2)) +
                    " failed to load: Shrike does not support Redis modules");
  ctx.out.error("Error loading the extension. Please check the server logs.");
}

void cmd_module_unload(command_context& ctx) { ctx.out.error("Error unloading module: no such module with that name"); }

void cmd_module_help(command_context& ctx) {
  write_help(ctx, {
                      "LIST",
                      "    Return a list of loaded modules.",
                      "LOAD <path> [<arg> ...]",
                      "    Load a module library from <path>, passing to it any optional arguments.",
                      "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
                      "    Load a module library from <path>, while passing it module configurations and optional "
                      "arguments.",
                      "UNLOAD <name>",
                      "    Unload a module.",
                  });
}

}  // namespace

void register_module_commands(command_table& t) {
  t.add("module|list", exec_kind::local, cmd_module_list);
  t.add("module|load", exec_kind::local, cmd_module_load);
  t.add("module|loadex", exec_kind::local, cmd_module_load);
  t.add("module|unload", exec_kind::local, cmd_module_unload);
  t.add("module|help", exec_kind::local, cmd_module_help);
}

}  // namespace shrike::commands
