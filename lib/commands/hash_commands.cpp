#include "commands/command_table.hpp"

namespace shrike::commands {

void register_hash_commands(command_table&) {}

}  // namespace shrike::commands
