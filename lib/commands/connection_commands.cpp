// Connection: PING, ECHO, QUIT, HELLO, AUTH, RESET, CLIENT.
#include <optional>
#include <string>

#include "acl/acl.hpp"
#include "commands/blocking.hpp"
#include "commands/client_info.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "replication/replication_state.hpp"
#include "util/clock.hpp"
#include "util/version.hpp"

namespace shrike::commands {

namespace {

void cmd_ping(command_context& ctx) {
  if (ctx.argc() > 2) return ctx.out.error(wrong_arity_text("ping"));
  if (ctx.client.resp == 2 && ctx.client.subscriptions() > 0) {  // subscribed mode: a push-shaped pong
    ctx.out.array(2);
    ctx.out.bulk("pong");
    ctx.out.bulk(ctx.argc() == 1 ? std::string_view() : ctx.arg(1));
    return;
  }
  if (ctx.argc() == 1)
    ctx.out.simple("PONG");
  else
    ctx.out.bulk(ctx.arg(1));
}

void cmd_echo(command_context& ctx) { ctx.out.bulk(ctx.arg(1)); }

void cmd_quit(command_context& ctx) {
  ctx.out.ok();
  if (ctx.session) ctx.session->close_after_reply();
}

// ACLAuthenticateUser (acl/acl.hpp): failures go to the ACL LOG.
bool authenticate(command_context& ctx, std::string_view user, std::string_view pass) {
  return acl::authenticate(ctx.srv, ctx.client, user, pass, ctx.arg(0));
}

constexpr std::string_view wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.";

void cmd_auth(command_context& ctx) {
  if (ctx.argc() > 3) return ctx.out.error(errors::syntax);
  std::string_view user = "default", pass;
  if (ctx.argc() == 2) {
    if (ctx.srv.acl().default_nopass())
      return ctx.out.error(
          "AUTH <password> called without any password configured for the default user. Are you sure your "
          "configuration is correct?");
    pass = ctx.arg(1);
  } else {
    user = ctx.arg(1);
    pass = ctx.arg(2);
  }
  if (authenticate(ctx, user, pass))
    ctx.out.ok();
  else
    ctx.out.error(wrongpass);
}

bool valid_client_name(std::string_view name) {
  for (char c : name)
    if (c < '!' || c > '~') return false;
  return true;
}

constexpr std::string_view bad_name = "Client names cannot contain spaces, newlines or special characters.";

void set_name(command_context& ctx, std::string_view name) {
  std::lock_guard lock(ctx.client.info_mutex);
  ctx.client.name = std::string(name);
}

void cmd_hello(command_context& ctx) {
  std::int64_t ver = 0;
  std::size_t next = 1;
  if (ctx.argc() >= 2) {
    if (!util::parse_int64(ctx.arg(next++), ver))
      return ctx.out.error("Protocol version is not an integer or out of range");
    if (ver < 2 || ver > 3) return ctx.out.error("-NOPROTO unsupported protocol version");
  }
  std::string_view user, pass, name;
  bool has_auth = false, has_name = false;
  for (std::size_t j = next; j < ctx.argc(); ++j) {
    const std::size_t more = ctx.argc() - 1 - j;
    if (iequals(ctx.arg(j), "auth") && more >= 2) {
      user = ctx.arg(j + 1);
      pass = ctx.arg(j + 2);
      has_auth = true;
      j += 2;
    } else if (iequals(ctx.arg(j), "setname") && more) {
      name = ctx.arg(j + 1);
      if (!valid_client_name(name)) return ctx.out.error(bad_name);
      has_name = true;
      ++j;
    } else {
      std::string opt(ctx.arg(j));
      return ctx.out.error("Syntax error in HELLO option '" + std::string(opt.c_str()) + "'");
    }
  }
  if (has_auth && !authenticate(ctx, user, pass)) return ctx.out.error(wrongpass);
  if (!ctx.client.authenticated)
    return ctx.out.error(
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
        "<user> <pass> option can be used to authenticate the client and select the RESP protocol version at the "
        "same time");
  if (has_name) set_name(ctx, name);
  if (ver) {
    ctx.client.resp = static_cast<int>(ver);
    ctx.out.set_protocol(ctx.client.resp);
  }
  ctx.out.map(7);
  ctx.out.bulk("server");
  ctx.out.bulk("redis");
  ctx.out.bulk("version");
  ctx.out.bulk(util::redis_version);
  ctx.out.bulk("proto");
  ctx.out.integer(ctx.client.resp);
  ctx.out.bulk("id");
  ctx.out.integer(static_cast<std::int64_t>(ctx.client.id));
  ctx.out.bulk("mode");
  ctx.out.bulk("standalone");
  ctx.out.bulk("role");
  ctx.out.bulk(ctx.srv.repl().is_replica() ? "replica" : "master");
  ctx.out.bulk("modules");
  ctx.out.array(0);
  // A tracking client that switches to RESP3 gets its invalidations as pushes.
  if (ctx.client.tracking && ctx.client.resp > 2 && ctx.session) ctx.session->enter_pubsub();
}

void cmd_monitor(command_context& ctx) {
  if (ctx.session && ctx.session->become_monitor()) ctx.out.ok();
}

void cmd_reset(command_context& ctx) {
  if (ctx.session) ctx.session->reset_connection();
  ctx.out.set_protocol(ctx.client.resp);
  ctx.out.simple("RESET");
}

}  // namespace

// --- CLIENT -----------------------------------------------------------------

std::string client_line(const server::client_state& c, std::int64_t now_ms) {
  std::string name, cmd, lib_name, lib_ver, user;
  {
    std::lock_guard lock(c.info_mutex);
    name = c.name;
    lib_name = c.lib_name;
    lib_ver = c.lib_ver;
    user = c.user_name;
    cmd = c.last_command.load(std::memory_order_relaxed);
  }
  const std::int64_t now_s = now_ms / 1000;
  const int sub = c.sub_count.load(), psub = c.psub_count.load(), ssub = c.ssub_count.load();
  std::string flags;
  if (c.role.load() == server::peer_role::master) flags += 'M';
  if (c.role.load() == server::peer_role::replica) flags += 'S';
  if (sub + psub + ssub > 0) flags += 'P';
  if (c.blocked.load()) flags += 'b';
  if (c.tracking.load()) flags += 't';
  if (c.tracking_broken.load()) flags += 'R';
  if (c.tracking_bcast.load()) flags += 'B';
  if (flags.empty()) flags = "N";
  const std::size_t omem = c.box ? c.box->pending() : 0;
  std::string line = "id=" + std::to_string(c.id) + " addr=" + c.addr + " laddr=" + c.laddr +
                     " fd=" + std::to_string(c.fd) + " name=" + name +
                     " age=" + std::to_string(now_s - c.created_ms / 1000) +
                     " idle=" + std::to_string(now_s - c.last_interaction_ms.load() / 1000) + " flags=" + flags +
                     " db=" + std::to_string(c.db_shown.load()) + " sub=" + std::to_string(sub) +
                     " psub=" + std::to_string(psub) + " ssub=" + std::to_string(ssub) + " multi=-1" +
                     " qbuf=" + std::to_string(c.query_buffer.load()) + " qbuf-free=0 argv-mem=0 multi-mem=0" +
                     " rbs=1024 rbp=0 obl=0 oll=0 omem=" + std::to_string(omem) +
                     " tot-mem=" + std::to_string(c.query_buffer.load() + 1024 + omem) +
                     " events=r cmd=" + cmd + " user=" + user +
                     " redir=" + std::to_string(c.tracking_redirect.load()) + " resp=" + std::to_string(c.resp) +
                     " lib-name=" + lib_name + " lib-ver=" + lib_ver;
  return line;
}

namespace {

void cmd_client_id(command_context& ctx) { ctx.out.integer(static_cast<std::int64_t>(ctx.client.id)); }

void cmd_client_setname(command_context& ctx) {
  if (!valid_client_name(ctx.arg(2))) return ctx.out.error(bad_name);
  set_name(ctx, ctx.arg(2));
  ctx.out.ok();
}

// CLIENT SETINFO (Redis 7.2; redis-py 5 sends it on connect): the library
// name and version shown by CLIENT LIST/INFO.
void cmd_client_setinfo(command_context& ctx) {
  auto attr = ctx.arg(2);
  std::string* slot = nullptr;
  if (iequals(attr, "lib-name"))
    slot = &ctx.client.lib_name;
  else if (iequals(attr, "lib-ver"))
    slot = &ctx.client.lib_ver;
  else
    return ctx.out.error("Unrecognized option '" + std::string(attr) + "'");
  for (char c : ctx.arg(3)) {
    if (c < '!' || c > '~')
      return ctx.out.error(std::string(attr) + " cannot contain spaces, newlines or special characters.");
  }
  {
    std::lock_guard lock(ctx.client.info_mutex);
    slot->assign(ctx.arg(3));
  }
  ctx.out.ok();
}

void cmd_client_unblock(command_context& ctx) {
  if (ctx.argc() > 4) return subcommand_syntax_error(ctx);
  bool with_error = false;
  if (ctx.argc() == 4) {
    if (iequals(ctx.arg(3), "error"))
      with_error = true;
    else if (!iequals(ctx.arg(3), "timeout"))
      return ctx.out.error("CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  }
  std::int64_t id;
  if (!int_arg(ctx, 2, id)) return;
  ctx.out.integer(unblock_client(ctx.srv, static_cast<std::uint64_t>(id), with_error) ? 1 : 0);
}

void cmd_client_getname(command_context& ctx) {
  std::string name;
  {
    std::lock_guard lock(ctx.client.info_mutex);
    name = ctx.client.name;
  }
  if (name.empty())
    ctx.out.null();
  else
    ctx.out.bulk(name);
}

// A client's class for TYPE filters: our master's link, a replica's link,
// pubsub while it has subscriptions (Redis's CLIENT_PUBSUB), else normal.
std::string_view client_type(const server::client_state& c) {
  if (c.role.load() == server::peer_role::master) return "master";
  if (c.role.load() == server::peer_role::replica) return "replica";
  return c.sub_count.load() + c.psub_count.load() + c.ssub_count.load() > 0 ? "pubsub" : "normal";
}

void cmd_client_list(command_context& ctx) {
  std::vector<std::uint64_t> ids;
  std::string type;
  for (std::size_t j = 2; j < ctx.argc(); ++j) {
    if (iequals(ctx.arg(j), "type") && j + 1 < ctx.argc()) {
      auto t = ctx.arg(j + 1);
      if (!iequals(t, "normal") && !iequals(t, "master") && !iequals(t, "replica") && !iequals(t, "slave") &&
          !iequals(t, "pubsub")) {
        std::string s(t);
        return ctx.out.error("Unknown client type '" + std::string(s.c_str()) + "'");
      }
      type = iequals(t, "slave") ? "replica" : std::string(t);
      for (auto& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      ++j;
    } else if (iequals(ctx.arg(j), "id") && j + 1 < ctx.argc()) {
      for (++j; j < ctx.argc(); ++j) {
        std::int64_t id;
        if (!util::parse_int64(ctx.arg(j), id) || id <= 0) return ctx.out.error("Invalid client ID");
        ids.push_back(static_cast<std::uint64_t>(id));
      }
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  std::string text;
  for (auto& c : ctx.srv.clients()) {
    if (c->kill_requested.load()) continue;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), c->id) == ids.end()) continue;
    if (!type.empty() && client_type(*c) != type) continue;
    text += client_line(*c, ctx.now_ms);
    text += '\n';
  }
  ctx.out.verbatim(text);
}

void cmd_client_info(command_context& ctx) { ctx.out.verbatim(client_line(ctx.client, ctx.now_ms) + "\n"); }

void cmd_client_kill(command_context& ctx) {
  // Old form: CLIENT KILL addr:port. New form: filters, replies the count.
  std::string_view addr, laddr;
  std::string type;
  std::optional<std::string> user;
  std::int64_t id = 0;
  bool skipme = true, filtered = false;
  if (ctx.argc() == 3) {
    addr = ctx.arg(2);
  } else {
    if ((ctx.argc() - 2) % 2) return ctx.out.error(errors::syntax);
    filtered = true;
    for (std::size_t j = 2; j + 1 < ctx.argc(); j += 2) {
      auto opt = ctx.arg(j), val = ctx.arg(j + 1);
      if (iequals(opt, "id")) {
        if (!util::parse_int64(val, id) || id <= 0) return ctx.out.error("client-id should be greater than 0");
      } else if (iequals(opt, "addr")) {
        addr = val;
      } else if (iequals(opt, "laddr")) {
        laddr = val;
      } else if (iequals(opt, "type")) {
        if (!iequals(val, "normal") && !iequals(val, "master") && !iequals(val, "replica") &&
            !iequals(val, "slave") && !iequals(val, "pubsub")) {
          std::string s(val);
          return ctx.out.error("Unknown client type '" + std::string(s.c_str()) + "'");
        }
        type = iequals(val, "slave") ? "replica" : std::string(val);
        for (auto& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      } else if (iequals(opt, "user")) {
        if (!ctx.srv.acl().find(val)) return ctx.out.error("No such user '" + std::string(val) + "'");
        user = std::string(val);
      } else if (iequals(opt, "skipme")) {
        if (iequals(val, "yes"))
          skipme = true;
        else if (iequals(val, "no"))
          skipme = false;
        else
          return ctx.out.error(errors::syntax);
      } else if (iequals(opt, "maxage")) {
        std::int64_t v;
        if (!util::parse_int64(val, v)) return ctx.out.error(errors::not_integer);
      } else {
        return ctx.out.error(errors::syntax);
      }
    }
  }
  std::int64_t killed = 0;
  for (auto& c : ctx.srv.clients()) {
    if (c->kill_requested.load()) continue;
    if (!addr.empty() && c->addr != addr) continue;
    if (!laddr.empty() && c->laddr != laddr) continue;
    if (id && c->id != static_cast<std::uint64_t>(id)) continue;
    if (!type.empty() && client_type(*c) != type) continue;
    if (user) {
      std::lock_guard lock(c->info_mutex);
      if (c->user_name != *user) continue;
    }
    if (c->id == ctx.client.id) {
      if (filtered && skipme) continue;
      if (ctx.session) ctx.session->close_after_reply();
      ++killed;
      continue;
    }
    c->kill_requested = true;
    if (c->kill) c->kill();
    ++killed;
  }
  if (!filtered) {
    if (killed == 0) return ctx.out.error("No such client");
    return ctx.out.ok();
  }
  ctx.out.integer(killed);
}

void cmd_client_reply(command_context& ctx) {
  auto mode = ctx.arg(2);
  if (iequals(mode, "on")) {
    ctx.client.replies = server::reply_mode::on;
    ctx.out.ok();
  } else if (iequals(mode, "off")) {
    ctx.client.replies = server::reply_mode::off;
  } else if (iequals(mode, "skip")) {
    if (ctx.client.replies == server::reply_mode::on) ctx.client.replies = server::reply_mode::skip_next;
  } else {
    ctx.out.error(errors::syntax);
  }
}

void on_off(command_context& ctx, bool& flag) {
  if (iequals(ctx.arg(2), "on")) {
    flag = true;
    ctx.out.ok();
  } else if (iequals(ctx.arg(2), "off")) {
    flag = false;
    ctx.out.ok();
  } else {
    ctx.out.error(errors::syntax);
  }
}
void cmd_client_no_evict(command_context& ctx) { on_off(ctx, ctx.client.no_evict); }

// CLIENT PAUSE timeout [WRITE|ALL] (server/pause_gate.hpp).
void cmd_client_pause(command_context& ctx) {
  auto m = server::pause_gate::mode::all;
  if (ctx.argc() == 4) {
    if (iequals(ctx.arg(3), "write")) {
      m = server::pause_gate::mode::write;
    } else if (!iequals(ctx.arg(3), "all")) {
      return ctx.out.error("CLIENT PAUSE mode must be WRITE or ALL");
    }
  } else if (ctx.argc() != 3) {
    return subcommand_syntax_error(ctx);
  }
  std::int64_t ms;
  if (!util::parse_int64(ctx.arg(2), ms)) return ctx.out.error("timeout is not an integer or out of range");
  if (ms < 0) return ctx.out.error("timeout is negative");
  if (ms > 0) ms += util::now_ms();
  ctx.srv.pause().pause(server::pause_gate::purpose::client_command, m, ms);
  ctx.out.ok();
}

void cmd_client_unpause(command_context& ctx) {
  ctx.srv.pause().unpause(server::pause_gate::purpose::client_command);
  ctx.out.ok();
}

void cmd_client_help(command_context& ctx) {
  write_help(ctx, {
      "CACHING (YES|NO)",
      "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
      "GETREDIR",
      "    Return the client ID we are redirecting to when tracking is enabled.",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Kill connections by type.",
      "    * USER <username>",
      "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)",
      "      Skip killing current connection (default: yes).",
      "LIST [options ...]",
      "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Return clients of specified type.",
      "UNPAUSE",
      "    Stop the current client pause, resuming traffic.",
      "PAUSE <timeout> [WRITE|ALL]",
      "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "REPLY (ON|OFF|SKIP)",
      "    Control the replies sent to the current connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
      "         [OPTIN] [OPTOUT] [NOLOOP]",
      "    Control server assisted client side caching.",
      "TRACKINGINFO",
      "    Report tracking status for the current connection.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
  });
}

}  // namespace

void register_connection_commands(command_table& t) {
  t.add("ping", exec_kind::local, cmd_ping);
  t.add("echo", exec_kind::local, cmd_echo);
  t.add("quit", exec_kind::local, cmd_quit);
  t.add("auth", exec_kind::local, cmd_auth);
  t.add("hello", exec_kind::local, cmd_hello);
  t.add("reset", exec_kind::local, cmd_reset);
  t.add("monitor", exec_kind::local, cmd_monitor);
  t.add("client|id", exec_kind::local, cmd_client_id);
  t.add("client|setname", exec_kind::local, cmd_client_setname);
  t.add("client|getname", exec_kind::local, cmd_client_getname);
  t.add("client|list", exec_kind::local, cmd_client_list);
  t.add("client|info", exec_kind::local, cmd_client_info);
  t.add("client|kill", exec_kind::local, cmd_client_kill);
  t.add("client|reply", exec_kind::local, cmd_client_reply);
  t.add("client|no-evict", exec_kind::local, cmd_client_no_evict);
  t.add("client|help", exec_kind::local, cmd_client_help);
  t.add("client|setinfo", exec_kind::local, cmd_client_setinfo);
  t.add("client|unblock", exec_kind::local, cmd_client_unblock);
  t.add("client|pause", exec_kind::local, cmd_client_pause);
  t.add("client|unpause", exec_kind::local, cmd_client_unpause);
}

}  // namespace shrike::commands
