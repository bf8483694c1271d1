// ACL: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, LOG, GENPASS,
// DRYRUN, LOAD, SAVE, HELP (Redis 7.0's aclCommand). The users, the checks
// and the aclfile format live in lib/acl.
#include <random>
#include <string>
#include <vector>

#include "acl/acl.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "util/clock.hpp"

namespace shrike::commands {

namespace {

using acl::user;

constexpr std::string_view no_aclfile =
    "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER "
    "command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store "
    "users in the Redis configuration.";

// addReplyErrorSdsSafe: an error text may not break the protocol.
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

std::vector<std::string_view> args_from(const command_context& ctx, std::size_t first) {
  return {ctx.argv.begin() + static_cast<std::ptrdiff_t>(std::min(first, ctx.argc())), ctx.argv.end()};
}

void cmd_acl_setuser(command_context& ctx) {
  const auto name = ctx.arg(2);
  if (acl::has_spaces(name)) return ctx.out.error("Usernames can't contain spaces or null characters");
  const auto rules = args_from(ctx, 3);
  acl::user_ptr before, after;
  const std::string error =
      ctx.srv.acl().set_user(name, rules, acl::pubsub_all_default(ctx.srv), &before, &after);
  if (!error.empty()) return ctx.out.error(one_line(error));
  // Subscribers of this user whose channels are no longer allowed go away.
  if (before && acl::kill_revoked_subscribers(ctx.srv, *before, *after, &ctx.client) && ctx.session)
    ctx.session->close_after_reply();
  ctx.out.ok();
}

void cmd_acl_deluser(command_context& ctx) {
  const auto names = args_from(ctx, 2);
  for (auto n : names)
    if (n == "default") return ctx.out.error("The 'default' user cannot be removed");
  const auto removed = ctx.srv.acl().delete_users(names);
  if (acl::kill_clients_of(ctx.srv, removed, &ctx.client) && ctx.session) ctx.session->close_after_reply();
  ctx.out.integer(static_cast<std::int64_t>(removed.size()));
}

void write_selector(command_context& ctx, const acl::selector& s) {
  ctx.out.bulk("commands");
  ctx.out.bulk(acl::describe_commands(s));
  ctx.out.bulk("keys");
  ctx.out.bulk(acl::describe_keys(s));
  ctx.out.bulk("channels");
  ctx.out.bulk(acl::describe_channels(s));
}

void cmd_acl_getuser(command_context& ctx) {
  const auto u = ctx.srv.acl().find(ctx.arg(2));
  if (!u) return ctx.out.null();
  ctx.out.map(6);
  ctx.out.bulk("flags");
  static constexpr std::pair<std::uint32_t, std::string_view> flag_names[] = {
      {user::enabled, "on"},
      {user::disabled, "off"},
      {user::nopass, "nopass"},
      {user::skip_sanitize_payload, "skip-sanitize-payload"},
      {user::sanitize_payload, "sanitize-payload"},
  };
  std::size_t nflags = 0;
  for (auto [bit, word] : flag_names) nflags += (u->flags & bit) != 0;
  ctx.out.set(nflags);
  for (auto [bit, word] : flag_names)
    if (u->flags & bit) ctx.out.bulk(word);
  ctx.out.bulk("passwords");
  ctx.out.array(u->passwords.size());
  for (const auto& p : u->passwords) ctx.out.bulk(p);
  write_selector(ctx, u->selectors.front());
  ctx.out.bulk("selectors");
  ctx.out.array(u->selectors.size() - 1);
  for (std::size_t i = 1; i < u->selectors.size(); ++i) {
    ctx.out.map(3);
    write_selector(ctx, u->selectors[i]);
  }
}

void cmd_acl_list(command_context& ctx) {
  const auto users = ctx.srv.acl().users();
  ctx.out.array(users.size());
  for (const auto& u : users) ctx.out.bulk("user " + u->name + " " + u->describe());
}

void cmd_acl_users(command_context& ctx) {
  const auto users = ctx.srv.acl().users();
  ctx.out.array(users.size());
  for (const auto& u : users) ctx.out.bulk(u->name);
}

void cmd_acl_whoami(command_context& ctx) { ctx.out.bulk(acl::client_user(ctx.srv, ctx.client).name); }

void cmd_acl_cat(command_context& ctx) {
  const auto names = acl_category_names();
  if (ctx.argc() == 2) {
    ctx.out.array(names.size());
    for (auto n : names) ctx.out.bulk(n);
    return;
  }
  if (ctx.argc() != 3) return subcommand_syntax_error(ctx);
  const std::uint64_t bit = acl_category_from_name(ctx.arg(2));
  if (!bit) {
    std::string name(ctx.arg(2).substr(0, 128));
    return ctx.out.error("Unknown category '" + one_line(std::string(name.c_str())) + "'");
  }
  const auto& index = acl::command_index::instance();
  std::size_t category = 0;
  while (!(bit & (1ULL << category))) ++category;
  std::vector<const std::string*> found;
  for (std::size_t id = 0; id < index.size(); ++id)
    if (index.in_category(category).test(id)) found.push_back(&index.at(id).name);
  ctx.out.array(found.size());
  for (const auto* n : found) ctx.out.bulk(*n);
}

void cmd_acl_genpass(command_context& ctx) {
  if (ctx.argc() > 3) return subcommand_syntax_error(ctx);
  std::int64_t bits = 256;
  if (ctx.argc() == 3 && !int_arg(ctx, 2, bits)) return;
  constexpr std::int64_t max_bits = 4096;
  if (bits <= 0 || bits > max_bits)
    return ctx.out.error(
        "ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
  static const char digits[] = "0123456789abcdef";
  std::random_device rd;  // the kernel's generator
  std::string pass(static_cast<std::size_t>((bits + 3) / 4), '0');
  for (std::size_t i = 0; i < pass.size(); i += 8) {
    std::uint32_t r = rd();
    for (std::size_t j = i; j < pass.size() && j < i + 8; ++j, r >>= 4) pass[j] = digits[r & 15];
  }
  ctx.out.bulk(pass);
}

std::string_view reason_word(acl::denial d) {
  switch (d) {
    case acl::denial::command: return "command";
    case acl::denial::key: return "key";
    case acl::denial::channel: return "channel";
    case acl::denial::auth: return "auth";
    default: return "unknown";
  }
}

std::string_view context_word(acl::log_context c) {
  switch (c) {
    case acl::log_context::toplevel: return "toplevel";
    case acl::log_context::multi: return "multi";
    case acl::log_context::lua: return "lua";
    case acl::log_context::module: return "module";
  }
  return "unknown";
}

void cmd_acl_log(command_context& ctx) {
  if (ctx.argc() > 3) return subcommand_syntax_error(ctx);
  std::int64_t count = 10;
  if (ctx.argc() == 3) {
    if (iequals(ctx.arg(2), "reset")) {
      ctx.srv.acl().log_reset();
      return ctx.out.ok();
    }
    if (!int_arg(ctx, 2, count)) return;
    if (count < 0) count = 0;
  }
  const auto entries = ctx.srv.acl().log_recent(static_cast<std::size_t>(count));
  const std::int64_t now = util::now_ms();
  ctx.out.array(entries.size());
  for (const auto& e : entries) {
    ctx.out.map(7);
    ctx.out.bulk("count");
    ctx.out.integer(static_cast<std::int64_t>(e.count));
    ctx.out.bulk("reason");
    ctx.out.bulk(reason_word(e.reason));
    ctx.out.bulk("context");
    ctx.out.bulk(context_word(e.context));
    ctx.out.bulk("object");
    ctx.out.bulk(e.object);
    ctx.out.bulk("username");
    ctx.out.bulk(e.username);
    ctx.out.bulk("age-seconds");
    ctx.out.double_value(static_cast<double>(now - e.ctime_ms) / 1000);
    ctx.out.bulk("client-info");
    ctx.out.bulk(e.client_info);
  }
}

void cmd_acl_dryrun(command_context& ctx) {
  const auto u = ctx.srv.acl().find(ctx.arg(2));
  if (!u) return ctx.out.error("User '" + std::string(ctx.arg(2)) + "' not found");
  const auto argv = ctx.argv.subspan(3);
  const command_info* cmd = command_metadata::instance().lookup(argv);
  if (!cmd) return ctx.out.error("Command '" + std::string(argv[0]) + "' not found");
  if (!cmd->arity_accepts(argv.size())) return ctx.out.error(wrong_arity_text(cmd->name));
  const acl::verdict v = acl::check(*u, *cmd, argv);
  switch (v.reason) {
    case acl::denial::none: return ctx.out.ok();
    case acl::denial::command:
      return ctx.out.bulk("This user has no permissions to run the '" + cmd->name + "' command");
    case acl::denial::key:
      return ctx.out.bulk("This user has no permissions to access the '" +
                          std::string(argv[static_cast<std::size_t>(v.pos)]) + "' key");
    default:
      return ctx.out.bulk("This user has no permissions to access the '" +
                          std::string(argv[static_cast<std::size_t>(v.pos)]) + "' channel");
  }
}

std::string aclfile(const command_context& ctx) { return ctx.srv.config().get_one("aclfile").value_or(""); }

void cmd_acl_load(command_context& ctx) {
  const std::string path = aclfile(ctx);
  if (path.empty()) return ctx.out.error(no_aclfile);
  std::vector<acl::user_ptr> replaced;
  const std::string errors = acl::load_file(ctx.srv, path, &replaced);
  if (!errors.empty()) return ctx.out.error(one_line(errors));
  // Every client of a replaced user is disconnected (the default user stays).
  if (acl::kill_clients_of(ctx.srv, replaced, &ctx.client) && ctx.session) ctx.session->close_after_reply();
  ctx.out.ok();
}

void cmd_acl_save(command_context& ctx) {
  const std::string path = aclfile(ctx);
  if (path.empty()) return ctx.out.error(no_aclfile);
  if (!acl::save_file(ctx.srv, path))
    return ctx.out.error(
        "There was an error trying to save the ACLs. Please check the server logs for more information");
  ctx.out.ok();
}

void cmd_acl_help(command_context& ctx) {
  write_help(ctx, {
                      "CAT [<category>]",
                      "    List all commands that belong to <category>, or all command categories",
                      "    when no category is specified.",
                      "DELUSER <username> [<username> ...]",
                      "    Delete a list of users.",
                      "DRYRUN <username> <command> [<arg> ...]",
                      "    Returns whether the user can execute the given command without executing the command.",
                      "GETUSER <username>",
                      "    Get the user's details.",
                      "GENPASS [<bits>]",
                      "    Generate a secure 256-bit user password. The optional `bits` argument can",
                      "    be used to specify a different size.",
                      "LIST",
                      "    Show users details in config file format.",
                      "LOAD",
                      "    Reload users from the ACL file.",
                      "LOG [<count> | RESET]",
                      "    Show the ACL log entries.",
                      "SAVE",
                      "    Save the current config to the ACL file.",
                      "SETUSER <username> <attribute> [<attribute> ...]",
                      "    Create or modify a user with the specified attributes.",
                      "USERS",
                      "    List all the registered usernames.",
                      "WHOAMI",
                      "    Return the current connection username.",
                  });
}

}  // namespace

void register_acl_commands(command_table& t) {
  t.add("acl|setuser", exec_kind::local, cmd_acl_setuser);
  t.add("acl|getuser", exec_kind::local, cmd_acl_getuser);
  t.add("acl|deluser", exec_kind::local, cmd_acl_deluser);
  t.add("acl|list", exec_kind::local, cmd_acl_list);
  t.add("acl|users", exec_kind::local, cmd_acl_users);
  t.add("acl|whoami", exec_kind::local, cmd_acl_whoami);
  t.add("acl|cat", exec_kind::local, cmd_acl_cat);
  t.add("acl|genpass", exec_kind::local, cmd_acl_genpass);
  t.add("acl|log", exec_kind::local, cmd_acl_log);
  t.add("acl|dryrun", exec_kind::local, cmd_acl_dryrun);
  t.add("acl|load", exec_kind::local, cmd_acl_load);
  t.add("acl|save", exec_kind::local, cmd_acl_save);
  t.add("acl|help", exec_kind::local, cmd_acl_help);
}

}  // namespace shrike::commands
