// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, and what commands
// tell the tracking table after they ran (commands/tracking.hpp).
#include <string>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/tracking.hpp"

namespace shrike::commands {

void note_read(server::server_context& srv, server::client_state& client, const command_row& row,
               std::span<const std::string_view> argv) {
  if (!client.tracking.load(std::memory_order_relaxed) || client.tracking_bcast.load(std::memory_order_relaxed))
    return;
  const auto flags = row.info->flags;
  // Shard channels count as keys for cluster routing only; the read-only
  // script commands are tracked through the commands the script calls.
  if (!(flags & flag_readonly) || (flags & flag_pubsub)) return;
  const std::string& name = row.info->name;
  if (name == "eval_ro" || name == "evalsha_ro" || name == "fcall_ro") return;
  std::vector<int> positions;
  command_table::key_positions(row, argv, positions);
  if (positions.empty()) return;
  std::vector<std::string_view> keys;
  keys.reserve(positions.size());
  for (int p : positions) keys.push_back(argv[static_cast<std::size_t>(p)]);
  srv.tracking().remember(client, keys);
}

void tracking_command_done(server::client_state& client, const command_row& row) {
  if (!client.tracking_caching || client.in_multi) return;
  const auto* top = row.info->parent ? row.info->parent : row.info;
  if (top->name != "client") client.tracking_caching = false;
}

namespace {

// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
void cmd_client_tracking(command_context& ctx) {
  server::tracking_mode mode;
  // The options are parsed (and REDIRECT's target looked up) before ON/OFF
  // is looked at, as Redis does: OFF with a bad option fails too.
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    const auto opt = ctx.arg(j);
    if (iequals(opt, "redirect") && more) {
      ++j;
      if (mode.redirect != 0) return ctx.out.error("A client can only redirect to a single other client");
      std::int64_t id;
      if (!util::parse_int64(ctx.arg(j), id)) return ctx.out.error(errors::not_integer);
      if (id <= 0 || !ctx.srv.find_client(static_cast<std::uint64_t>(id)))
        return ctx.out.error("The client ID you want redirect to does not exist");
      mode.redirect = static_cast<std::uint64_t>(id);
    } else if (iequals(opt, "bcast")) {
      mode.bcast = true;
    } else if (iequals(opt, "optin")) {
      mode.optin = true;
    } else if (iequals(opt, "optout")) {
      mode.optout = true;
    } else if (iequals(opt, "noloop")) {
      mode.noloop = true;
    } else if (iequals(opt, "prefix") && more) {
      mode.prefixes.emplace_back(ctx.arg(++j));
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  auto& table = ctx.srv.tracking();
  if (iequals(ctx.arg(2), "on")) {
    if (std::string error = table.check(ctx.client.id, mode); !error.empty()) return ctx.out.error(error);
    auto self = ctx.srv.find_client(ctx.client.id);
    if (!self) return ctx.out.error("client is not registered");  // not reachable from a session
    table.enable(self, mode);
  } else if (iequals(ctx.arg(2), "off")) {
    table.disable(ctx.client);
  } else {
    return ctx.out.error(errors::syntax);
  }
  ctx.out.ok();
  // RESP3 invalidations arrive as pushes between replies: the connection
  // writes through its outbox from now on.
  if (ctx.client.tracking && ctx.client.resp > 2 && ctx.session) ctx.session->enter_pubsub();
}

// CLIENT CACHING YES|NO
void cmd_client_caching(command_context& ctx) {
  if (!ctx.client.tracking)
    return ctx.out.error(
        "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
  const auto opt = ctx.arg(2);
  if (iequals(opt, "yes")) {
    if (!ctx.client.tracking_optin)
      return ctx.out.error("CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
  } else if (iequals(opt, "no")) {
    if (!ctx.client.tracking_optout)
      return ctx.out.error("CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
  } else {
    return ctx.out.error(errors::syntax);
  }
  ctx.client.tracking_caching = true;
  ctx.out.ok();
}

void cmd_client_getredir(command_context& ctx) { ctx.out.integer(ctx.client.tracking_redirect.load()); }

void cmd_client_trackinginfo(command_context& ctx) {
  const auto mode = ctx.srv.tracking().mode_of(ctx.client.id);
  std::vector<const char*> flags{mode ? "on" : "off"};
  if (mode) {
    if (mode->bcast) flags.push_back("bcast");
    if (mode->optin) flags.push_back("optin");
    if (mode->optin && ctx.client.tracking_caching) flags.push_back("caching-yes");
    if (mode->optout) flags.push_back("optout");
    if (mode->optout && ctx.client.tracking_caching) flags.push_back("caching-no");
    if (mode->noloop) flags.push_back("noloop");
    if (ctx.client.tracking_broken) flags.push_back("broken_redirect");
  }
  ctx.out.map(3);
  ctx.out.bulk("flags");
  ctx.out.set(flags.size());
  for (const char* f : flags) ctx.out.bulk(f);
  ctx.out.bulk("redirect");
  ctx.out.integer(mode ? static_cast<std::int64_t>(mode->redirect) : -1);
  ctx.out.bulk("prefixes");
  ctx.out.array(mode ? mode->prefixes.size() : 0);
  if (mode)
    for (const auto& p : mode->prefixes) ctx.out.bulk(p);
}

}  // namespace

void register_tracking_commands(command_table& t) {
  t.add("client|tracking", exec_kind::local, cmd_client_tracking);
  t.add("client|caching", exec_kind::local, cmd_client_caching);
  t.add("client|getredir", exec_kind::local, cmd_client_getredir);
  t.add("client|trackinginfo", exec_kind::local, cmd_client_trackinginfo);
}

}  // namespace shrike::commands
