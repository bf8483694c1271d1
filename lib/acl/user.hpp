#pragma once
// The ACL user model of Redis 7.0 (acl.c): a user has flags, password hashes
// and one or more selectors; a selector grants commands (a bitmap over every
// command and subcommand, plus "first-arg" exceptions such as +select|0), key
// patterns with read/write permissions and channel patterns. The first
// selector is the root one (the rules given outside parentheses); the others
// come from "(...)" rules. A command is allowed when any selector allows it.
//
// Rules are applied as Redis's ACLSetUser does, with the same errors, and a
// user is described back (ACL LIST, ACL GETUSER, the aclfile) with Redis's
// algorithm: start from +@all or -@all, add the best-fitting categories, then
// single commands. Redis walks its command table in hash order there (random
// per process); we walk commands by name, subcommands after their container.
//
// Values here are plain data: the registry (acl/registry.hpp) shares users as
// immutable snapshots (shared_ptr<const user>) and replaces them on change.
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/command_metadata.hpp"

namespace shrike::acl {

// Command ids index the selectors' bitmaps. The last bit is never a command:
// +@all sets it, so a user built from +@all also gets commands added later
// (Redis: module commands), and describes itself starting with +@all.
inline constexpr std::size_t command_bits = 1024;
inline constexpr std::size_t future_commands_bit = command_bits - 1;
using command_set = std::bitset<command_bits>;

// Channel arguments of the pub/sub commands (Redis's commands_with_channels).
enum channel_flag : std::uint8_t {
  channel_subscribe = 1,
  channel_unsubscribe = 2,
  channel_publish = 4,
  channel_pattern = 8,
};

// Every Redis 7.0 command and subcommand, numbered: each container is
// followed by its subcommands (ids in [sub_begin, sub_end)).
class command_index {
 public:
  static const command_index& instance();

  std::size_t size() const { return entries_.size(); }
  const commands::command_info& at(std::size_t id) const { return *entries_[id].info; }
  std::size_t sub_begin(std::size_t id) const { return entries_[id].sub_begin; }
  std::size_t sub_end(std::size_t id) const { return entries_[id].sub_end; }
  // The id of a command or subcommand; size() when unknown.
  std::size_t id_of(const commands::command_info& cmd) const;
  // Redis's ACLLookupCommand: "get" or "config|get", case-insensitive.
  const commands::command_info* lookup(std::string_view full_name) const;
  // Ids in the category (bit of commands::acl_category), and the ids a
  // +@category / -@category rule changes: those plus the subcommands of the
  // containers in it.
  const command_set& in_category(std::size_t category_index) const { return categories_[category_index]; }
  const command_set& changed_by_category(std::size_t category_index) const { return changed_[category_index]; }
  // Where the channels of a call are (start at argv index 1; `count` -1:
  // every remaining argument) and how they are used; flags 0: none.
  struct channel_spec {
    std::uint8_t flags = 0;
    int count = 0;
  };
  const channel_spec& channels(std::size_t id) const { return entries_[id].channels; }

 private:
  command_index();
  struct entry {
    const commands::command_info* info = nullptr;
    std::size_t sub_begin = 0, sub_end = 0;
    channel_spec channels;
  };
  std::vector<entry> entries_;
  std::map<const commands::command_info*, std::size_t> ids_;
  std::vector<command_set> categories_, changed_;
};

// Key permissions of a pattern.
enum key_perm : std::uint8_t { perm_read = 1, perm_write = 2, perm_all = 3 };

struct key_pattern {
  std::string pattern;
  std::uint8_t perms = perm_all;
};

struct selector {
  enum : std::uint32_t { root = 1, all_keys = 2, all_channels = 4, all_commands = 8 };
  std::uint32_t flags = 0;
  command_set allowed;
  // Allowed first arguments of otherwise denied commands (+select|0), by id,
  // in the order they were added.
  std::map<std::size_t, std::vector<std::string>> first_args;
  std::vector<key_pattern> keys;
  std::vector<std::string> channels;
};

// Why a rule was refused (Redis's errno values in ACLSetUser).
enum class rule_error {
  none,
  syntax,                 // EINVAL
  unknown_name,           // ENOENT: command or category
  key_after_all,          // EEXIST
  channel_after_all,      // EISDIR
  no_such_password,       // ENODEV
  bad_hash,               // EBADMSG
  duplicate_user,         // EALREADY
  first_arg_of_subcommand,  // ECHILD
};
// ACLSetUserStringError.
std::string_view error_text(rule_error e);

struct user {
  enum : std::uint32_t {
    enabled = 1,
    disabled = 2,
    nopass = 4,
    skip_sanitize_payload = 8,
    sanitize_payload = 16,
  };

  // A new user as ACLCreateUser makes it: off, no password, a root selector
  // with no permissions (all channels when acl-pubsub-default is allchannels).
  user(std::string name, bool pubsub_all_default);

  std::string name;
  std::uint64_t uid = 0;  // identity of this user's life (set by the registry)
  std::uint32_t flags = disabled;
  std::vector<std::string> passwords;  // SHA-256 hex digests, in order added
  std::vector<selector> selectors;     // [0] is the root selector
  // Derived by finish(): some selector allows every command, key and channel.
  bool unrestricted = false;

  // ACLSetUser: one rule. `pubsub_all_default` is acl-pubsub-default
  // (new selectors and 'reset'). On error the user may be half-changed:
  // callers work on a copy.
  rule_error apply(std::string_view op, bool pubsub_all_default);
  void finish();
  bool enabled_flag() const { return (flags & disabled) == 0 && (flags & enabled) != 0; }
  bool can_login_without_password() const { return (flags & nopass) != 0; }

  // ACLDescribeUser: "on nopass ~* &* +@all" (ACL LIST without "user <name> ").
  std::string describe() const;
};

// ACL rules on one selector (ACLSetSelector).
rule_error apply_selector_rule(selector& s, std::string_view op);
// The selector's command rules ("+@all -debug"), keys+channels+commands.
std::string describe_commands(const selector& s);
std::string describe_selector(const selector& s);
// ACL GETUSER's "keys" and "channels" strings.
std::string describe_keys(const selector& s);
std::string describe_channels(const selector& s);

// ACLMergeSelectorArguments: "(~a" "+get)" -> "(~a +get)". False when a '('
// is never closed; `bad` is then the index of the argument that opened it.
bool merge_selector_args(std::span<const std::string_view> in, std::vector<std::string>& out, std::size_t& bad);
// sdssplitargs: words, "double" (with \n \xHH escapes) and 'single' quotes.
bool split_args(std::string_view line, std::vector<std::string>& out);
// ACLStringHasSpaces.
bool has_spaces(std::string_view s);
// The SHA-256 hex digest a >password rule stores.
std::string hash_password(std::string_view clear);

}  // namespace shrike::acl
