#include "acl/acl.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "commands/client_info.hpp"
#include "util/clock.hpp"
#include "util/glob.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace shrike::acl {

namespace {

using commands::command_info;

using util::iequals;

// Compares two equally long digests in time independent of where they differ.
bool same_digest(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The key arguments of a call, found once and shared by the selectors.
struct key_cache {
  bool ready = false;
  std::vector<int> positions;
  std::vector<std::uint32_t> flags;
};

// ACLSelectorCheckKey.
bool key_allowed(const selector& s, std::string_view key, std::uint32_t spec_flags) {
  if (s.flags & selector::all_keys) return true;
  std::uint8_t needed = 0;
  if (spec_flags & commands::key_access) needed |= perm_read;
  if (spec_flags & (commands::key_insert | commands::key_delete | commands::key_update)) needed |= perm_write;
  for (const auto& k : s.keys) {
    if ((k.perms & needed) != needed) continue;
    if (util::glob_match(k.pattern, key)) return true;
  }
  return false;
}

// ACLCheckChannelAgainstList: a pattern (PSUBSCRIBE) must be one of the
// allowed patterns literally; a channel may match them as globs.
bool channel_allowed(std::span<const std::string> allowed, std::string_view channel, bool is_pattern) {
  for (const auto& p : allowed) {
    if (is_pattern ? p == channel : util::glob_match(p, channel)) return true;
  }
  return false;
}

// ACLSelectorCheckCmd.
denial check_selector(const selector& s, const command_info& cmd, std::size_t id, std::span<const std::string_view> argv,
                      key_cache& keys, int& pos) {
  const auto& index = command_index::instance();
  if (!(s.flags & selector::all_commands) && !(cmd.flags & commands::flag_no_auth)) {
    if (id >= index.size() || !s.allowed.test(id)) {
      // Maybe allowed with this first argument only (+select|0).
      auto it = s.first_args.find(id);
      if (argv.size() < 2 || it == s.first_args.end()) return denial::command;
      const std::string_view first = argv[cmd.parent && argv.size() > 2 ? 2 : 1];
      if (std::none_of(it->second.begin(), it->second.end(), [&](const std::string& a) { return iequals(a, first); }))
        return denial::command;
    }
  }
  if (!(s.flags & selector::all_keys) && commands::has_key_arguments(cmd)) {
    if (!keys.ready) {
      commands::key_positions(cmd, argv, keys.positions, nullptr, &keys.flags);
      keys.ready = true;
    }
    for (std::size_t j = 0; j < keys.positions.size(); ++j) {
      const int p = keys.positions[j];
      if (!key_allowed(s, argv[static_cast<std::size_t>(p)], j < keys.flags.size() ? keys.flags[j] : 0)) {
        pos = p;
        return denial::key;
      }
    }
  }
  if (id < index.size() && !(s.flags & selector::all_channels)) {
    const auto& spec = index.channels(id);
    if (spec.flags & (channel_publish | channel_subscribe)) {
      const std::size_t stop = spec.count < 0 ? argv.size() : std::min(argv.size(), std::size_t{1} + spec.count);
      for (std::size_t i = 1; i < stop; ++i) {
        if (!channel_allowed(s.channels, argv[i], spec.flags & channel_pattern)) {
          pos = static_cast<int>(i);
          return denial::channel;
        }
      }
    }
  }
  return denial::none;
}

void set_user_name(server::client_state& c, const std::string& name) {
  std::lock_guard lock(c.info_mutex);
  if (c.user_name != name) c.user_name = name;
}

}  // namespace

verdict check(const user& u, const command_info& cmd, std::span<const std::string_view> argv) {
  if (u.unrestricted) return {};
  const std::size_t id = command_index::instance().id_of(cmd);
  key_cache keys;
  // With several selectors refusing, report the most specific reason
  // (channel > key > command), and for equal reasons the last argument.
  denial relevant = denial::command;
  int pos = 0, last_pos = 0;
  for (const selector& s : u.selectors) {
    const denial d = check_selector(s, cmd, id, argv, keys, pos);
    if (d == denial::none) return {};
    if (d > relevant || (d == relevant && pos > last_pos)) {
      relevant = d;
      last_pos = pos;
    }
  }
  return {relevant, last_pos};
}

const user& client_user(server::server_context& srv, server::client_state& c) {
  auto& reg = srv.acl();
  const std::uint64_t epoch = reg.epoch();
  if (c.user && c.acl_epoch == epoch) return *c.user;
  user_ptr current = c.user ? reg.find(c.user->name) : nullptr;
  if (current && current->uid == c.user->uid) {
    c.user = std::move(current);
  } else {
    // No user yet, or its user was deleted (or replaced by ACL LOAD): the
    // client is the default user again and must authenticate.
    if (c.user) c.authenticated = false;
    c.user = reg.default_user();
    set_user_name(c, c.user->name);
  }
  c.acl_epoch = epoch;
  return *c.user;
}

bool may_read_any_key(server::server_context& srv, server::client_state& c, const command_info& cmd,
                      std::span<const std::string_view> argv) {
  if (c.role.load(std::memory_order_relaxed) == server::peer_role::master) return true;
  const user& u = client_user(srv, c);
  if (u.unrestricted) return true;
  const std::size_t id = command_index::instance().id_of(cmd);
  key_cache keys;
  for (const selector& s : u.selectors) {
    int pos = 0;
    if (check_selector(s, cmd, id, argv, keys, pos) != denial::none) continue;
    if (s.flags & selector::all_keys) return true;
    for (const key_pattern& k : s.keys)
      if ((k.perms & perm_read) && k.pattern == "*") return true;
  }
  return false;
}

void set_default_auth(server::server_context& srv, server::client_state& c) {
  auto& reg = srv.acl();
  c.acl_epoch = reg.epoch();
  c.user = reg.default_user();
  c.authenticated = (c.user->flags & user::nopass) && !(c.user->flags & user::disabled);
  set_user_name(c, c.user->name);
}

bool auth_required(server::server_context& srv, const server::client_state& c) {
  return !c.authenticated && srv.acl().default_requires_auth();
}

bool authenticate(server::server_context& srv, server::client_state& c, std::string_view username,
                  std::string_view password, std::string_view command_word) {
  auto& reg = srv.acl();
  const std::uint64_t epoch = reg.epoch();  // before the lookup: a change in between refreshes later
  user_ptr u = reg.find(username);
  bool ok = u && !(u->flags & user::disabled);
  if (ok && !(u->flags & user::nopass)) {
    const std::string hashed = hash_password(password);
    ok = std::any_of(u->passwords.begin(), u->passwords.end(),
                     [&](const std::string& p) { return same_digest(p, hashed); });
  }
  if (!ok) {
    log_entry e;
    e.reason = denial::auth;
    e.context = c.in_multi ? log_context::multi : log_context::toplevel;
    e.object = std::string(command_word);
    e.username = std::string(username);
    e.ctime_ms = util::now_ms();
    e.client_info = commands::client_line(c, e.ctime_ms);
    reg.log_add(std::move(e), static_cast<std::size_t>(srv.config().get_int("acllog-max-len")));
    return false;
  }
  c.authenticated = true;
  c.user = std::move(u);
  c.acl_epoch = epoch;
  set_user_name(c, c.user->name);
  return true;
}

bool refuse(server::server_context& srv, server::client_state& c, const command_info& cmd,
            std::span<const std::string_view> argv, std::string& error) {
  // The master's link runs whatever the master sends (Redis: a client without a user).
  if (c.role.load(std::memory_order_relaxed) == server::peer_role::master) return false;
  if (auth_required(srv, c) && !(cmd.flags & commands::flag_no_auth)) {
    error = "-NOAUTH Authentication required.";
    return true;
  }
  if (c.in_multi && (cmd.flags & commands::flag_no_multi)) return false;
  const user& u = client_user(srv, c);
  if (u.unrestricted) return false;
  const verdict v = check(u, cmd, argv);
  if (v.ok()) return false;
  log_denial(srv, c, v, c.in_multi ? log_context::multi : log_context::toplevel, cmd, argv);
  error = toplevel_error(v, cmd);
  return true;
}

verdict check_command(server::server_context& srv, server::client_state& c, const command_info& cmd,
                      std::span<const std::string_view> argv, log_context context) {
  if (c.role.load(std::memory_order_relaxed) == server::peer_role::master) return {};
  const user& u = client_user(srv, c);
  if (u.unrestricted) return {};
  const verdict v = check(u, cmd, argv);
  if (!v.ok()) log_denial(srv, c, v, context, cmd, argv);
  return v;
}

std::string toplevel_error(const verdict& v, const command_info& cmd) {
  switch (v.reason) {
    case denial::command: return "-NOPERM this user has no permissions to run the '" + cmd.name + "' command";
    case denial::key: return "-NOPERM this user has no permissions to access one of the keys used as arguments";
    case denial::channel:
      return "-NOPERM this user has no permissions to access one of the channels used as arguments";
    default: return "no permission";
  }
}

std::string exec_error(const verdict& v) {
  std::string_view reason = "no permission";
  if (v.reason == denial::command) reason = "no permission to execute the command or subcommand";
  else if (v.reason == denial::key) reason = "no permission to touch the specified keys";
  else if (v.reason == denial::channel) reason = "no permission to access one of the channels used as arguments";
  return "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. "
         "This command is no longer allowed for the following reason: " +
         std::string(reason);
}

std::string script_error(const verdict& v) {
  std::string_view why = "lacking the permissions for the command";
  if (v.reason == denial::command) why = "can't run this command or subcommand";
  else if (v.reason == denial::key) why = "can't access at least one of the keys mentioned in the command arguments";
  else if (v.reason == denial::channel) why = "can't publish to the channel mentioned in the command";
  return "The user executing the script " + std::string(why);
}

void log_denial(server::server_context& srv, server::client_state& c, const verdict& v, log_context context,
                const command_info& cmd, std::span<const std::string_view> argv) {
  log_entry e;
  e.reason = v.reason;
  e.context = context;
  if (v.reason == denial::command)
    e.object = cmd.name;
  else if (v.pos >= 0 && static_cast<std::size_t>(v.pos) < argv.size())
    e.object = std::string(argv[static_cast<std::size_t>(v.pos)]);
  e.username = client_user(srv, c).name;
  e.ctime_ms = util::now_ms();
  e.client_info = commands::client_line(c, e.ctime_ms);
  srv.acl().log_add(std::move(e), static_cast<std::size_t>(srv.config().get_int("acllog-max-len")));
}

bool kill_clients_of(server::server_context& srv, std::span<const user_ptr> users, const server::client_state* caller) {
  if (users.empty()) return false;
  bool caller_hit = false;
  for (auto& c : srv.clients()) {
    bool theirs = false;
    {
      std::lock_guard lock(c->info_mutex);
      theirs = std::any_of(users.begin(), users.end(), [&](const user_ptr& u) { return u->name == c->user_name; });
    }
    if (!theirs) continue;
    if (c.get() == caller) {
      caller_hit = true;
    } else if (c->kill) {
      c->kill();
    }
  }
  return caller_hit;
}

bool kill_revoked_subscribers(server::server_context& srv, const user& before, const user& after,
                              const server::client_state* caller) {
  // Nothing to do while some selector still allows every channel, or when
  // every channel pattern allowed before is still allowed.
  for (const auto& s : after.selectors)
    if (s.flags & selector::all_channels) return false;
  std::vector<std::string> upcoming;
  for (const auto& s : after.selectors) upcoming.insert(upcoming.end(), s.channels.begin(), s.channels.end());
  bool superset = true;
  for (const auto& s : before.selectors) {
    if (s.flags & selector::all_channels) {
      superset = false;
      break;
    }
    for (const auto& ch : s.channels)
      if (std::find(upcoming.begin(), upcoming.end(), ch) == upcoming.end()) superset = false;
  }
  if (superset) return false;

  bool caller_hit = false;
  for (auto& c : srv.clients()) {
    if (c->sub_count.load() + c->psub_count.load() + c->ssub_count.load() == 0) continue;
    {
      std::lock_guard lock(c->info_mutex);
      if (c->user_name != after.name) continue;
    }
    const auto subs = srv.pubsub().subscriptions_of(c->id);
    bool revoked = std::any_of(subs.patterns.begin(), subs.patterns.end(),
                               [&](const std::string& p) { return !channel_allowed(upcoming, p, true); });
    for (const auto* list : {&subs.channels, &subs.shard_channels})
      revoked = revoked || std::any_of(list->begin(), list->end(), [&](const std::string& ch) {
                  return !channel_allowed(upcoming, ch, false);
                });
    if (!revoked) continue;
    if (c.get() == caller)
      caller_hit = true;
    else if (c->kill)
      c->kill();
  }
  return caller_hit;
}

bool pubsub_all_default(server::server_context& srv) {
  return srv.config().get_one("acl-pubsub-default").value_or("") == "allchannels";
}

std::span<const std::string_view> shown_args(server::server_context& srv, const command_info& cmd,
                                             std::span<const std::string_view> argv,
                                             std::vector<std::string_view>& scratch) {
  static const auto& meta = commands::command_metadata::instance();
  static const command_info* auth = meta.find_by_full_name("auth");
  static const command_info* hello = meta.find_by_full_name("hello");
  static const command_info* setuser = meta.find_by_full_name("acl|setuser");
  static const command_info* config_set = meta.find_by_full_name("config|set");
  if (&cmd != auth && &cmd != hello && &cmd != setuser && &cmd != config_set) return argv;
  constexpr std::string_view hidden = "(redacted)";
  scratch.assign(argv.begin(), argv.end());
  if (&cmd == auth) {
    if (argv.size() <= 3)
      for (std::size_t i = 1; i < scratch.size(); ++i) scratch[i] = hidden;
  } else if (&cmd == setuser) {
    for (std::size_t i = 2; i < scratch.size(); ++i) scratch[i] = hidden;
  } else if (&cmd == hello) {
    // As HELLO reads its options: AUTH <user> <pass>, SETNAME <name>.
    for (std::size_t j = 2; j < argv.size(); ++j) {
      const std::size_t more = argv.size() - 1 - j;
      if (iequals(argv[j], "auth") && more >= 2) {
        scratch[j + 1] = scratch[j + 2] = hidden;
        j += 2;
      } else if (iequals(argv[j], "setname") && more >= 1) {
        ++j;
      } else {
        break;
      }
    }
  } else {
    for (std::size_t j = 2; j + 1 < argv.size(); j += 2) {
      auto param = srv.config().find(argv[j]);
      if (param && param->sensitive) scratch[j + 1] = hidden;
    }
  }
  return scratch;
}

// --- configuration --------------------------------------------------------------

bool validate_user_line(std::span<const std::string> words, std::vector<std::string>& seen, std::string& error) {
  if (words.empty()) {
    error = "a user declaration needs a username";
    return false;
  }
  const std::string& name = words[0];
  if (has_spaces(name)) {
    error = "Spaces not allowed in ACL usernames";
    return false;
  }
  if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
    error = "Error in user declaration '" + name + "': " + std::string(error_text(rule_error::duplicate_user));
    return false;
  }
  std::vector<std::string_view> rules(words.begin() + 1, words.end());
  std::vector<std::string> merged;
  std::size_t bad = 0;
  if (!merge_selector_args(rules, merged, bad)) {
    error = "Unmatched parenthesis in acl selector starting at '" + std::string(rules[bad]) + "'.";
    return false;
  }
  user fake(name, false);
  for (const auto& op : merged) {
    if (auto e = fake.apply(op, false); e != rule_error::none) {
      error = "Error in user declaration '" + op + "': " + std::string(error_text(e));
      return false;
    }
  }
  seen.push_back(name);
  return true;
}

bool load_at_startup(server::server_context& srv, std::string& error) {
  auto& reg = srv.acl();
  auto& cfg = srv.config();
  // requirepass is the default user's password (CONFIG SET included).
  const std::string pass = cfg.get_one("requirepass").value_or("");
  if (!pass.empty()) reg.set_default_password(pass);
  cfg.on_change("requirepass", [weak = reg.weak_from_this()](std::string_view value) {
    if (auto r = weak.lock()) r->set_default_password(value);
  });

  const std::string aclfile = cfg.get_one("aclfile").value_or("");
  const auto lines = cfg.user_lines();
  if (!aclfile.empty() && !lines.empty()) {
    error =
        "Configuring users with 'user' lines and an ACL file ('aclfile') at the same time is invalid: "
        "define users in one place only.";
    return false;
  }
  const bool pubsub_all = pubsub_all_default(srv);
  for (const auto& words : lines) {
    if (words.empty()) continue;
    std::vector<std::string_view> rules;
    if (words[0] == "default") rules.emplace_back("reset");
    for (std::size_t i = 1; i < words.size(); ++i) rules.emplace_back(words[i]);
    user_ptr after;
    if (auto e = reg.set_user(words[0], rules, pubsub_all, nullptr, &after); !e.empty()) {
      error = "Error loading ACL rules for the user named '" + words[0] + "': " + e;
      return false;
    }
    if (after->flags & user::disabled)
      util::log_notice("The user '" + words[0] +
                       "' is disabled (there is no 'on' modifier in the user description). Make sure this is not a "
                       "configuration error.");
  }
  if (!aclfile.empty()) {
    if (auto errors = load_file(srv, aclfile); !errors.empty()) {
      error = "Aborting Redis startup because of ACL errors: " + errors;
      return false;
    }
  }
  return true;
}

namespace {

std::string trim(std::string_view s, std::string_view chars) {
  const auto b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(chars);
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_on(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, p - start));
    start = p + 1;
  }
}

}  // namespace

std::string load_file(server::server_context& srv, const std::string& path, std::vector<user_ptr>* replaced) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return "Error loading ACLs, opening file '" + path + "': " + std::strerror(errno);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
  std::fclose(f);

  const bool pubsub_all = pubsub_all_default(srv);
  std::string errors;
  std::vector<user> fresh;
  const auto lines = text.empty() ? std::vector<std::string>{} : split_on(text, '\n');
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string where = path + ":" + std::to_string(i + 1);
    const std::string line = trim(lines[i], " \t\r\n");
    if (line.empty()) continue;
    const auto argv = split_on(line, ' ');
    if (argv[0] != "user" || argv.size() < 2) {
      errors += where + " should start with user keyword followed by the username. ";
      continue;
    }
    if (has_spaces(argv[1])) {
      errors += "'" + where + ": username '" + argv[1] + "' contains invalid characters. ";
      continue;
    }
    if (std::any_of(fresh.begin(), fresh.end(), [&](const user& u) { return u.name == argv[1]; })) {
      errors += "WARNING: Duplicate user '" + argv[1] + "' found on line " + std::to_string(i + 1) + ". ";
      continue;
    }
    fresh.emplace_back(argv[1], pubsub_all);
    user& u = fresh.back();
    std::vector<std::string_view> rules(argv.begin() + 2, argv.end());
    std::vector<std::string> merged;
    std::size_t bad = 0;
    if (!merge_selector_args(rules, merged, bad)) {
      errors += where + ": Unmatched parenthesis in selector definition.";
      merged.clear();
    }
    bool syntax_error = false;
    for (const auto& raw : merged) {
      const std::string op = trim(raw, "\t\r\n");
      const rule_error e = u.apply(op, pubsub_all);
      if (e == rule_error::none) continue;
      if (e == rule_error::unknown_name) {
        errors += where + ": Error in applying operation '" + op + "': " + std::string(error_text(e)) + ". ";
      } else if (!syntax_error) {
        // Only the first other error: it may explain the ones after it.
        errors += where + ": " + std::string(error_text(e)) + ". ";
        syntax_error = true;
      }
    }
  }
  if (!errors.empty())
    return errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
  auto old = srv.acl().replace_all(std::move(fresh));
  if (replaced) *replaced = std::move(old);
  return {};
}

bool save_file(server::server_context& srv, const std::string& path) {
  std::string text;
  for (const auto& u : srv.acl().users()) text += "user " + u->name + " " + u->describe() + "\n";
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(util::now_ms());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) {
    util::log_warning("Opening temp ACL file for ACL SAVE: " + std::string(std::strerror(errno)));
    return false;
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int saved_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    util::log_warning("Writing ACL file for ACL SAVE: " + std::string(std::strerror(written ? errno : saved_errno)));
    std::remove(tmp.c_str());
    return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    util::log_warning("Renaming ACL file for ACL SAVE: " + std::string(std::strerror(errno)));
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace shrike::acl
