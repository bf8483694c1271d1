#include "acl/user.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <stdexcept>

#include "util/sha256.hpp"
#include "util/text.hpp"

namespace shrike::acl {

namespace {

using commands::command_info;

using util::iequals;

std::size_t category_count() { return commands::acl_category_names().size(); }

}  // namespace

// --- command_index -----------------------------------------------------------

const command_index& command_index::instance() {
  static const command_index index;
  return index;
}

command_index::command_index() {
  const auto& meta = commands::command_metadata::instance();
  for (const command_info* cmd : meta.all()) {
    const std::size_t id = entries_.size();
    entries_.push_back({cmd, 0, 0, {}});
    for (const command_info* sub : cmd->subcommands) entries_.push_back({sub, 0, 0, {}});
    entries_[id].sub_begin = id + 1;
    entries_[id].sub_end = entries_.size();
  }
  if (entries_.size() >= future_commands_bit) throw std::logic_error("too many commands for the ACL bitmaps");
  for (std::size_t id = 0; id < entries_.size(); ++id) {
    ids_[entries_[id].info] = id;
    const std::string& n = entries_[id].info->name;
    auto& ch = entries_[id].channels;
    if (n == "subscribe" || n == "ssubscribe") ch = {channel_subscribe, -1};
    else if (n == "unsubscribe" || n == "sunsubscribe") ch = {channel_unsubscribe, -1};
    else if (n == "psubscribe") ch = {channel_pattern | channel_subscribe, -1};
    else if (n == "punsubscribe") ch = {channel_pattern | channel_unsubscribe, -1};
    else if (n == "publish" || n == "spublish") ch = {channel_publish, 1};
  }
  categories_.resize(category_count());
  changed_.resize(category_count());
  // Commands newer than Redis 7.0 (CLIENT SETINFO, for clients that send
  // it) belong to no category: ACL CAT and the rules users describe
  // themselves with stay those of 7.0.
  auto newer_than_7_0 = [](const command_info& cmd) {
    int major = 0, minor = 0;
    return std::sscanf(cmd.since.c_str(), "%d.%d", &major, &minor) == 2 && (major > 7 || (major == 7 && minor > 0));
  };
  for (std::size_t c = 0; c < category_count(); ++c) {
    for (std::size_t id = 0; id < entries_.size(); ++id) {
      if (!(entries_[id].info->acl_categories & (1ULL << c)) || newer_than_7_0(*entries_[id].info)) continue;
      categories_[c].set(id);
      changed_[c].set(id);
      for (std::size_t s = entries_[id].sub_begin; s < entries_[id].sub_end; ++s) changed_[c].set(s);
    }
  }
}

std::size_t command_index::id_of(const command_info& cmd) const {
  auto it = ids_.find(&cmd);
  return it == ids_.end() ? entries_.size() : it->second;
}

const command_info* command_index::lookup(std::string_view full_name) const {
  return commands::command_metadata::instance().find_by_full_name(full_name);
}

// --- rules ---------------------------------------------------------------------

std::string_view error_text(rule_error e) {
  switch (e) {
    case rule_error::unknown_name: return "Unknown command or category name in ACL";
    case rule_error::syntax: return "Syntax error";
    case rule_error::key_after_all:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
             "effect. Try 'resetkeys' to start with an empty list of patterns";
    case rule_error::channel_after_all:
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any "
             "effect. Try 'resetchannels' to start with an empty list of channels";
    case rule_error::no_such_password: return "The password you are trying to remove from the user does not exist";
    case rule_error::bad_hash:
      return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case rule_error::duplicate_user: return "Duplicate user found. A user can only be defined once in config files";
    case rule_error::first_arg_of_subcommand: return "Allowing first-arg of a subcommand is not supported";
    case rule_error::none: break;
  }
  return "Wrong format";
}

bool has_spaces(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == 0 || std::isspace(static_cast<unsigned char>(c)); });
}

std::string hash_password(std::string_view clear) { return util::sha256_hex(clear); }

namespace {

bool valid_hash(std::string_view h) {
  return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
         });
}

// ACLSetSelectorCommandBit: clearing a bit also drops the all-commands flag.
void set_bit(selector& s, std::size_t id, bool allow) {
  s.allowed.set(id, allow);
  if (!allow) s.flags &= ~selector::all_commands;
}

// ACLChangeSelectorPerm: a command, and all subcommands of a container.
void change_perm(selector& s, std::size_t id, bool allow) {
  const auto& index = command_index::instance();
  set_bit(s, id, allow);
  s.first_args.erase(id);
  for (std::size_t sub = index.sub_begin(id); sub < index.sub_end(id); ++sub) set_bit(s, sub, allow);
}

bool change_category(selector& s, std::string_view name, bool allow) {
  const std::uint64_t bit = commands::acl_category_from_name(name);
  if (!bit) return false;
  std::size_t c = 0;
  while (!((1ULL << c) & bit)) ++c;
  const auto& index = command_index::instance();
  const command_set& changed = index.changed_by_category(c);
  if (allow) {
    s.allowed |= changed;
  } else {
    s.allowed &= ~changed;
    if (changed.any()) s.flags &= ~selector::all_commands;
  }
  const command_set& members = index.in_category(c);
  for (auto it = s.first_args.begin(); it != s.first_args.end();)
    it = members.test(it->first) ? s.first_args.erase(it) : std::next(it);
  return true;
}

void add_first_arg(selector& s, std::size_t id, std::string_view arg) {
  auto& list = s.first_args[id];
  for (const auto& a : list)
    if (iequals(a, arg)) return;
  list.emplace_back(arg);
}

rule_error add_key_pattern(selector& s, std::string_view op) {
  if (s.flags & selector::all_keys) return rule_error::key_after_all;
  std::uint8_t perms = 0;
  std::size_t offset = 1;
  if (op[0] == '%') {
    for (; offset < op.size(); ++offset) {
      const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(op[offset])));
      if (c == 'R' && !(perms & perm_read)) {
        perms |= perm_read;
      } else if (c == 'W' && !(perms & perm_write)) {
        perms |= perm_write;
      } else if (op[offset] == '~') {
        ++offset;
        break;
      } else {
        return rule_error::syntax;
      }
    }
    // Redis accepts "%~x" (no permission at all) and then aborts when it
    // describes the user; refuse it instead.
    if (perms == 0) return rule_error::syntax;
  } else {
    perms = perm_all;
  }
  const std::string_view pattern = op.substr(std::min(offset, op.size()));
  if (has_spaces(pattern)) return rule_error::syntax;
  auto it = std::find_if(s.keys.begin(), s.keys.end(), [&](const key_pattern& k) { return k.pattern == pattern; });
  if (it == s.keys.end())
    s.keys.push_back({std::string(pattern), perms});
  else
    it->perms |= perms;
  s.flags &= ~selector::all_keys;
  return rule_error::none;
}

rule_error add_channel_pattern(selector& s, std::string_view op) {
  if (s.flags & selector::all_channels) return rule_error::channel_after_all;
  const std::string_view pattern = op.substr(1);
  if (has_spaces(pattern)) return rule_error::syntax;
  if (std::find(s.channels.begin(), s.channels.end(), pattern) == s.channels.end()) s.channels.emplace_back(pattern);
  s.flags &= ~selector::all_channels;
  return rule_error::none;
}

rule_error allow_command(selector& s, std::string_view name) {
  const auto& index = command_index::instance();
  const auto bar = name.rfind('|');
  if (bar == std::string_view::npos) {
    const command_info* cmd = index.lookup(name);
    if (!cmd) return rule_error::unknown_name;
    change_perm(s, index.id_of(*cmd), true);
    return rule_error::none;
  }
  const std::string_view base = name.substr(0, bar), sub = name.substr(bar + 1);
  const command_info* cmd = index.lookup(base);
  if (!cmd) return rule_error::unknown_name;
  if (cmd->parent) return rule_error::first_arg_of_subcommand;
  if (sub.empty()) return rule_error::syntax;
  if (cmd->is_container()) {
    const command_info* subcmd = index.lookup(name);
    if (!subcmd) return rule_error::unknown_name;
    change_perm(s, index.id_of(*subcmd), true);
  } else {
    // +select|0: a first argument of an otherwise denied command.
    add_first_arg(s, index.id_of(*cmd), sub);
  }
  return rule_error::none;
}

}  // namespace

rule_error apply_selector_rule(selector& s, std::string_view op) {
  if (op.empty()) return rule_error::syntax;
  if (iequals(op, "allkeys") || iequals(op, "~*")) {
    s.flags |= selector::all_keys;
    s.keys.clear();
  } else if (iequals(op, "resetkeys")) {
    s.flags &= ~selector::all_keys;
    s.keys.clear();
  } else if (iequals(op, "allchannels") || iequals(op, "&*")) {
    s.flags |= selector::all_channels;
    s.channels.clear();
  } else if (iequals(op, "resetchannels")) {
    s.flags &= ~selector::all_channels;
    s.channels.clear();
  } else if (iequals(op, "allcommands") || iequals(op, "+@all")) {
    s.allowed.set();
    s.flags |= selector::all_commands;
    s.first_args.clear();
  } else if (iequals(op, "nocommands") || iequals(op, "-@all")) {
    s.allowed.reset();
    s.flags &= ~selector::all_commands;
    s.first_args.clear();
  } else if (op[0] == '~' || op[0] == '%') {
    return add_key_pattern(s, op);
  } else if (op[0] == '&') {
    return add_channel_pattern(s, op);
  } else if (op[0] == '+' && (op.size() < 2 || op[1] != '@')) {
    return allow_command(s, op.substr(1));
  } else if (op[0] == '-' && (op.size() < 2 || op[1] != '@')) {
    const auto& index = command_index::instance();
    const command_info* cmd = index.lookup(op.substr(1));
    if (!cmd) return rule_error::unknown_name;
    change_perm(s, index.id_of(*cmd), false);
  } else if (op[0] == '+' || op[0] == '-') {
    if (!change_category(s, op.substr(2), op[0] == '+')) return rule_error::unknown_name;
  } else {
    return rule_error::syntax;
  }
  return rule_error::none;
}

namespace {

selector new_selector(std::uint32_t flags, bool pubsub_all_default) {
  selector s;
  s.flags = flags | (pubsub_all_default ? selector::all_channels : 0u);
  return s;
}

}  // namespace

user::user(std::string n, bool pubsub_all_default) : name(std::move(n)) {
  selectors.push_back(new_selector(selector::root, pubsub_all_default));
}

rule_error user::apply(std::string_view op, bool pubsub_all_default) {
  if (op.empty()) return rule_error::none;  // a no-op, as in Redis
  if (iequals(op, "on")) {
    flags = (flags | enabled) & ~disabled;
  } else if (iequals(op, "off")) {
    flags = (flags | disabled) & ~enabled;
  } else if (iequals(op, "skip-sanitize-payload")) {
    flags = (flags | skip_sanitize_payload) & ~sanitize_payload;
  } else if (iequals(op, "sanitize-payload")) {
    flags = (flags | sanitize_payload) & ~skip_sanitize_payload;
  } else if (iequals(op, "nopass")) {
    flags |= nopass;
    passwords.clear();
  } else if (iequals(op, "resetpass")) {
    flags &= ~nopass;
    passwords.clear();
  } else if (op[0] == '>' || op[0] == '#') {
    std::string hash;
    if (op[0] == '>') {
      hash = hash_password(op.substr(1));
    } else {
      if (!valid_hash(op.substr(1))) return rule_error::bad_hash;
      hash = std::string(op.substr(1));
    }
    if (std::find(passwords.begin(), passwords.end(), hash) == passwords.end()) passwords.push_back(std::move(hash));
    flags &= ~nopass;
  } else if (op[0] == '<' || op[0] == '!') {
    std::string hash;
    if (op[0] == '<') {
      hash = hash_password(op.substr(1));
    } else {
      if (!valid_hash(op.substr(1))) return rule_error::bad_hash;
      hash = std::string(op.substr(1));
    }
    auto it = std::find(passwords.begin(), passwords.end(), hash);
    if (it == passwords.end()) return rule_error::no_such_password;
    passwords.erase(it);
  } else if (op[0] == '(' && op.back() == ')') {
    selector s = new_selector(0, pubsub_all_default);
    std::vector<std::string> words;
    split_args(op.substr(1, op.size() >= 2 ? op.size() - 2 : 0), words);  // unbalanced quotes: no rules
    for (const auto& w : words)
      if (auto e = apply_selector_rule(s, w); e != rule_error::none) return e;
    selectors.push_back(std::move(s));
  } else if (iequals(op, "clearselectors")) {
    selectors.resize(1);
  } else if (iequals(op, "reset")) {
    apply("resetpass", pubsub_all_default);
    apply("resetkeys", pubsub_all_default);
    apply("resetchannels", pubsub_all_default);
    if (pubsub_all_default) apply("allchannels", pubsub_all_default);
    apply("off", pubsub_all_default);
    apply("sanitize-payload", pubsub_all_default);
    apply("clearselectors", pubsub_all_default);
    apply("-@all", pubsub_all_default);
  } else {
    return apply_selector_rule(selectors.front(), op);
  }
  return rule_error::none;
}

void user::finish() {
  constexpr std::uint32_t everything = selector::all_keys | selector::all_channels | selector::all_commands;
  unrestricted = std::any_of(selectors.begin(), selectors.end(),
                             [](const selector& s) { return (s.flags & everything) == everything; });
}

// --- descriptions ----------------------------------------------------------------

std::string describe_commands(const selector& s) {
  const auto& index = command_index::instance();
  const auto names = commands::acl_category_names();
  std::string rules;
  // Rules are replayed on `fake` as they are emitted, so what remains to be
  // said is the difference between it and the selector.
  selector fake;
  const bool additive = !s.allowed.test(future_commands_bit);
  rules = additive ? "-@all " : "+@all ";
  apply_selector_rule(fake, additive ? "-@all" : "+@all");

  // Categories first, best fit each round: more commands in common with the
  // selector than different, fewest differences (ties: most in common).
  selector temp;
  temp.allowed = s.allowed;
  std::vector<bool> applied(names.size(), false);
  for (;;) {
    int best = -1;
    std::size_t min_diff = INT_MAX, max_same = 0;
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (applied[c]) continue;
      const command_set& members = index.in_category(c);
      const std::size_t on = (temp.allowed & members).count();
      const std::size_t off = members.count() - on;
      const std::size_t diff = additive ? off : on, same = additive ? on : off;
      if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = static_cast<int>(c);
        min_diff = diff;
        max_same = same;
      }
    }
    if (best < 0) break;
    const std::string name(names[static_cast<std::size_t>(best)]);
    apply_selector_rule(fake, (additive ? "+@" : "-@") + name);
    apply_selector_rule(temp, (additive ? "-@" : "+@") + name);
    rules += (additive ? "+@" : "-@") + name + " ";
    applied[static_cast<std::size_t>(best)] = true;
  }

  // Then single commands.
  for (std::size_t id = 0; id < index.size(); ++id) {
    const bool mine = s.allowed.test(id);
    if (mine != fake.allowed.test(id)) {
      rules += mine ? "+" : "-";
      rules += index.at(id).name;
      rules += ' ';
      change_perm(fake, id, mine);
    }
    if (!mine) {
      if (auto it = s.first_args.find(id); it != s.first_args.end()) {
        for (const auto& arg : it->second) rules += "+" + index.at(id).name + "|" + arg + " ";
      }
    }
  }
  rules.pop_back();
  return rules;
}

namespace {
void append_pattern(std::string& out, const key_pattern& k) {
  out += k.perms == perm_all ? "~" : k.perms == perm_read ? "%R~" : "%W~";
  out += k.pattern;
}
}  // namespace

std::string describe_keys(const selector& s) {
  if (s.flags & selector::all_keys) return "~*";
  std::string out;
  for (const auto& k : s.keys) {
    if (!out.empty()) out += ' ';
    append_pattern(out, k);
  }
  return out;
}

std::string describe_channels(const selector& s) {
  if (s.flags & selector::all_channels) return "&*";
  std::string out;
  for (const auto& c : s.channels) {
    if (!out.empty()) out += ' ';
    out += '&';
    out += c;
  }
  return out;
}

std::string describe_selector(const selector& s) {
  std::string out;
  if (s.flags & selector::all_keys) {
    out += "~* ";
  } else {
    for (const auto& k : s.keys) {
      append_pattern(out, k);
      out += ' ';
    }
  }
  if (s.flags & selector::all_channels) {
    out += "&* ";
  } else {
    out += "resetchannels ";
    for (const auto& c : s.channels) out += "&" + c + " ";
  }
  out += describe_commands(s);
  return out;
}

std::string user::describe() const {
  static constexpr std::pair<std::uint32_t, std::string_view> flag_names[] = {
      {enabled, "on"},
      {disabled, "off"},
      {nopass, "nopass"},
      {skip_sanitize_payload, "skip-sanitize-payload"},
      {sanitize_payload, "sanitize-payload"},
  };
  std::string out;
  for (auto [bit, word] : flag_names) {
    if (flags & bit) {
      out += word;
      out += ' ';
    }
  }
  for (const auto& p : passwords) out += "#" + p + " ";
  for (const auto& s : selectors) {
    if (s.flags & selector::root)
      out += describe_selector(s);
    else
      out += " (" + describe_selector(s) + ")";
  }
  return out;
}

// --- argument helpers ----------------------------------------------------------------

bool merge_selector_args(std::span<const std::string_view> in, std::vector<std::string>& out, std::size_t& bad) {
  out.clear();
  std::string pending;
  bool open = false;
  std::size_t opened_at = 0;
  for (std::size_t j = 0; j < in.size(); ++j) {
    const std::string_view op = in[j];
    if (!open && !op.empty() && op[0] == '(' && op.back() != ')') {
      pending = std::string(op);
      open = true;
      opened_at = j;
      continue;
    }
    if (open) {
      pending += ' ';
      pending += op;
      if (!op.empty() && op.back() == ')') {
        out.push_back(std::move(pending));
        pending.clear();
        open = false;
      }
      continue;
    }
    out.emplace_back(op);
  }
  if (open) {
    bad = opened_at;
    return false;
  }
  return true;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
}  // namespace

bool split_args(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::size_t i = 0;
  const std::size_t n = line.size();
  auto at = [&](std::size_t k) { return k < n ? line[k] : '\0'; };
  for (;;) {
    while (i < n && is_space(line[i])) ++i;
    if (i >= n) return true;
    std::string current;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      const char c = at(i);
      if (in_double) {
        if (c == '\\' && at(i + 1) == 'x' && hex_value(at(i + 2)) >= 0 && hex_value(at(i + 3)) >= 0) {
          current += static_cast<char>(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3)));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n': current += '\n'; break;
            case 'r': current += '\r'; break;
            case 't': current += '\t'; break;
            case 'b': current += '\b'; break;
            case 'a': current += '\a'; break;
            default: current += line[i];
          }
        } else if (c == '"') {
          if (i + 1 < n && !is_space(line[i + 1])) {
            out.clear();
            return false;  // a closing quote must be followed by a space
          }
          done = true;
        } else if (i >= n) {
          out.clear();
          return false;  // unterminated quotes
        } else {
          current += c;
        }
      } else if (in_single) {
        if (c == '\\' && at(i + 1) == '\'') {
          ++i;
          current += '\'';
        } else if (c == '\'') {
          if (i + 1 < n && !is_space(line[i + 1])) {
            out.clear();
            return false;
          }
          done = true;
        } else if (i >= n) {
          out.clear();
          return false;
        } else {
          current += c;
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0': done = true; break;
          case '"': in_double = true; break;
          case '\'': in_single = true; break;
          default: current += c;
        }
      }
      if (i < n) ++i;
    }
    out.push_back(std::move(current));
  }
}

}  // namespace shrike::acl
