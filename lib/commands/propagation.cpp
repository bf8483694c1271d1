#include "commands/propagation.hpp"

#include "commands/command_table.hpp"
#include "replication/replication_state.hpp"

namespace shrike::commands {

void propagate_command(server::server_context& srv, std::size_t db, const command_row& row,
                       std::span<const std::string_view> argv, const replication::effects& fx) {
  auto& repl = srv.repl();
  if (fx.replaced) {
    if (fx.commands.size() == 1)
      repl.feed(fx.commands[0].first, fx.commands[0].second);
    else if (!fx.commands.empty())
      repl.feed_transaction(fx.commands);
    return;
  }
  const auto flags = row.info->flags;
  if ((flags & flag_write) && !(flags & flag_blocking)) repl.feed(db, argv);
}

void flush_effects(command_context& ctx) {
  if (!ctx.effects || ctx.effects->commands.empty()) return;
  auto& repl = ctx.srv.repl();
  if (ctx.effects->commands.size() == 1)
    repl.feed(ctx.effects->commands[0].first, ctx.effects->commands[0].second);
  else
    repl.feed_transaction(ctx.effects->commands);
}

void propagate_effect(server::server_context& srv, std::size_t db, std::initializer_list<std::string_view> argv) {
  if (!srv.repl().propagating()) return;
  std::vector<std::string_view> v(argv);
  srv.repl().feed(db, std::span<const std::string_view>(v));
}

void propagate_effect(server::server_context& srv, std::size_t db, const std::vector<std::string>& argv) {
  if (srv.repl().propagating()) srv.repl().feed(db, argv);
}

std::vector<std::string> pop_effect(std::string_view command, std::string_view key, std::int64_t count) {
  std::vector<std::string> argv{std::string(command), std::string(key)};
  if (count >= 0) argv.push_back(std::to_string(count));
  return argv;
}

}  // namespace shrike::commands
