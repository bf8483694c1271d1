#pragma once
// ACL as the server uses it: who a connection is (authentication), whether it
// may run a command (permission checks, Redis 7.0's processCommand order and
// error texts), the ACL LOG, and the aclfile / `user` configuration.
//
// The permission check is one function, check_command(), for every place a
// command can come from: the session (before running or queueing a command),
// EXEC (queued commands are checked again) and scripts (redis.call). Each
// place words its own error, as Redis does:
//   toplevel: -NOPERM this user has no permissions to run the 'get' command
//   EXEC:     -NOPERM ACLs rules changed between the moment the transaction ...
//   scripts:  The user executing the script can't run this command or subcommand
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acl/registry.hpp"
#include "acl/user.hpp"
#include "commands/command_metadata.hpp"
#include "server/client_state.hpp"
#include "server/server_context.hpp"

namespace shrike::acl {

// The outcome of a permission check; `pos` is the argv index of the key or
// channel that was refused.
struct verdict {
  denial reason = denial::none;
  int pos = 0;
  bool ok() const { return reason == denial::none; }
};

// ACLCheckAllUserCommandPerm: may `u` run this call? argv[0] is the command
// name (argv[1] the subcommand for a subcommand's info).
verdict check(const user& u, const commands::command_info& cmd, std::span<const std::string_view> argv);

// The user a client runs as, refreshed from the registry when ACLs changed
// since its last look. A deleted (or reloaded) user turns the client back
// into the unauthenticated default user, as Redis does before closing it.
// Must run where the client's own fields may be touched (its session).
const user& client_user(server::server_context& srv, server::client_state& c);
// ACLUserCheckCmdWithUnrestrictedKeyAccess with CMD_KEY_ACCESS: one selector
// of the client's user allows this call and reading every key (SORT's BY and
// GET patterns name keys no key spec can list).
bool may_read_any_key(server::server_context& srv, server::client_state& c, const commands::command_info& cmd,
                      std::span<const std::string_view> argv);
// clientSetDefaultAuth: the default user, authenticated when it needs no password.
void set_default_auth(server::server_context& srv, server::client_state& c);
// authRequired.
bool auth_required(server::server_context& srv, const server::client_state& c);
// ACLAuthenticateUser: on success the client becomes `username`; on failure
// the attempt is logged (reason auth, object `command_word` as sent).
bool authenticate(server::server_context& srv, server::client_state& c, std::string_view username,
                  std::string_view password, std::string_view command_word);

// processCommand's NOAUTH and ACL checks, in that order, for a command about
// to run or be queued: false when it may go on; true with Redis's error in
// `error` when refused (an ACL refusal is logged, context multi while the
// client is in MULTI). A command that MULTI refuses anyway (no-multi flag) is
// left to the transaction code, as Redis checks that first.
bool refuse(server::server_context& srv, server::client_state& c, const commands::command_info& cmd,
            std::span<const std::string_view> argv, std::string& error);

// The check with logging, for EXEC (context multi) and scripts (context lua).
verdict check_command(server::server_context& srv, server::client_state& c, const commands::command_info& cmd,
                      std::span<const std::string_view> argv, log_context context);
// The error texts of a refusal (reason != none).
std::string toplevel_error(const verdict& v, const commands::command_info& cmd);  // "-NOPERM ..."
std::string exec_error(const verdict& v);                                          // "-NOPERM ACLs rules changed ..."
std::string script_error(const verdict& v);  // "The user executing the script can't ..." (getAclErrorMessage)
// addACLLogEntry for a refused command.
void log_denial(server::server_context& srv, server::client_state& c, const verdict& v, log_context context,
                const commands::command_info& cmd, std::span<const std::string_view> argv);

// Disconnects the clients authenticated as one of these users (DELUSER,
// LOAD); the calling client, if among them, is not touched (the caller
// closes it after its reply). Returns whether the caller was among them.
bool kill_clients_of(server::server_context& srv, std::span<const user_ptr> users, const server::client_state* caller);
// ACLKillPubsubClientsIfNeeded: after `before` became `after`, closes that
// user's subscribers whose channels or patterns are no longer allowed.
// Returns whether the caller is one of them.
bool kill_revoked_subscribers(server::server_context& srv, const user& before, const user& after,
                              const server::client_state* caller);

// acl-pubsub-default is allchannels.
bool pubsub_all_default(server::server_context& srv);

// The arguments as SLOWLOG and MONITOR show them: Redis replaces passwords
// and ACL rules with "(redacted)" (AUTH, HELLO's AUTH, ACL SETUSER, CONFIG
// SET of sensitive parameters). Returns `argv` itself, or a copy in `scratch`.
std::span<const std::string_view> shown_args(server::server_context& srv, const commands::command_info& cmd,
                                             std::span<const std::string_view> argv,
                                             std::vector<std::string_view>& scratch);

// --- configuration --------------------------------------------------------------

// A `user` line of the configuration (the words after "user"): checked as
// Redis checks redis.conf's; false with the reason. `seen` collects names
// (a user may be declared once).
bool validate_user_line(std::span<const std::string> words, std::vector<std::string>& seen, std::string& error);
// At startup: requirepass, then the `user` lines, then the aclfile. False
// with the reason when the server must not start.
bool load_at_startup(server::server_context& srv, std::string& error);
// ACL LOAD from the aclfile: empty on success, else Redis's error text
// (nothing changes then). ACL SAVE: false on an I/O error (logged).
std::string load_file(server::server_context& srv, const std::string& path,
                      std::vector<user_ptr>* replaced = nullptr);
bool save_file(server::server_context& srv, const std::string& path);

}  // namespace shrike::acl
