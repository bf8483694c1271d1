#include "commands/command_metadata.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "util/numbers.hpp"

namespace shrike::embedded {
extern const std::string_view command_specs_json;
}

namespace shrike::commands {

namespace {

using json = nlohmann::json;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

template <typename Flag>
struct flag_name {
  Flag flag;
  std::string_view name;
};

// Spelling in the specs file -> bit, in the order COMMAND INFO lists flags.
constexpr flag_name<std::uint64_t> command_flag_names[] = {
    {flag_write, "write"},
    {flag_readonly, "readonly"},
    {flag_denyoom, "denyoom"},
    {flag_module, "module"},
    {flag_admin, "admin"},
    {flag_pubsub, "pubsub"},
    {flag_noscript, "noscript"},
    {flag_blocking, "blocking"},
    {flag_loading, "loading"},
    {flag_stale, "stale"},
    {flag_skip_monitor, "skip_monitor"},
    {flag_skip_slowlog, "skip_slowlog"},
    {flag_asking, "asking"},
    {flag_fast, "fast"},
    {flag_no_auth, "no_auth"},
    {flag_may_replicate, "may_replicate"},
    {flag_sentinel, "sentinel"},
    {flag_only_sentinel, "only_sentinel"},
    {flag_no_mandatory_keys, "no_mandatory_keys"},
    {flag_protected, "protected"},
    {flag_no_async_loading, "no_async_loading"},
    {flag_no_multi, "no_multi"},
    {flag_movablekeys, "movablekeys"},
    {flag_allow_busy, "allow_busy"},
    {flag_touches_arbitrary_keys, "touches_arbitrary_keys"},
};

// Flags COMMAND INFO never shows.
constexpr std::uint64_t hidden_command_flags =
    flag_may_replicate | flag_sentinel | flag_only_sentinel | flag_protected | flag_touches_arbitrary_keys;

constexpr std::array<std::string_view, 21> category_names = {
    "keyspace", "read",  "write",     "set",        "sortedset",   "list",      "hash",
    "string",   "bitmap", "hyperloglog", "geo",     "stream",      "pubsub",    "admin",
    "fast",     "slow",  "blocking",  "dangerous",  "connection",  "transaction", "scripting",
};

// Key-spec flags: spelling in the specs file, spelling in replies, in reply order.
struct key_flag_name {
  std::uint32_t flag;
  std::string_view spec_name;
  std::string_view reply_name;
};
constexpr key_flag_name key_flag_names[] = {
    {key_ro, "RO", "RO"},
    {key_rw, "RW", "RW"},
    {key_ow, "OW", "OW"},
    {key_rm, "RM", "RM"},
    {key_access, "ACCESS", "access"},
    {key_update, "UPDATE", "update"},
    {key_insert, "INSERT", "insert"},
    {key_delete, "DELETE", "delete"},
    {key_not_key, "NOT_KEY", "not_key"},
    {key_incomplete, "INCOMPLETE", "incomplete"},
    {key_variable_flags, "VARIABLE_FLAGS", "variable_flags"},
};

constexpr flag_name<std::uint32_t> doc_flag_names[] = {
    {doc_deprecated, "deprecated"},
    {doc_syscmd, "syscmd"},
};

[[noreturn]] void bad_spec(const std::string& what) {
  throw std::runtime_error("command_specs.json: " + what);
}

std::string string_field(const json& j, const char* field) {
  auto it = j.find(field);
  return it == j.end() ? std::string() : it->get<std::string>();
}

int int_field(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) bad_spec(std::string("missing field ") + field);
  return it->get<int>();
}

// ---------------------------------------------------------------- parsing

key_spec parse_key_spec(const json& j) {
  key_spec spec;
  spec.notes = string_field(j, "notes");
  for (const auto& f : j.at("flags")) {
    const auto& name = f.get_ref<const std::string&>();
    auto it = std::find_if(std::begin(key_flag_names), std::end(key_flag_names),
                           [&](const key_flag_name& k) { return k.spec_name == name; });
    if (it == std::end(key_flag_names)) bad_spec("unknown key spec flag " + name);
    spec.flags |= it->flag;
  }
  const json& bs = j.at("begin_search");
  const auto& bs_type = bs.at("type").get_ref<const std::string&>();
  if (bs_type == "index") {
    spec.begin_search = key_spec::begin_search_type::index;
    spec.index = int_field(bs, "index");
  } else if (bs_type == "keyword") {
    spec.begin_search = key_spec::begin_search_type::keyword;
    spec.keyword = string_field(bs, "keyword");
    spec.startfrom = int_field(bs, "startfrom");
  } else if (bs_type != "unknown") {
    bad_spec("unknown begin_search type " + bs_type);
  }
  const json& fk = j.at("find_keys");
  const auto& fk_type = fk.at("type").get_ref<const std::string&>();
  if (fk_type == "range") {
    spec.find_keys = key_spec::find_keys_type::range;
    spec.lastkey = int_field(fk, "lastkey");
    spec.keystep = int_field(fk, "keystep");
    spec.limit = int_field(fk, "limit");
  } else if (fk_type == "keynum") {
    spec.find_keys = key_spec::find_keys_type::keynum;
    spec.keynumidx = int_field(fk, "keynumidx");
    spec.firstkey = int_field(fk, "firstkey");
    spec.keystep = int_field(fk, "keystep");
  } else if (fk_type != "unknown") {
    bad_spec("unknown find_keys type " + fk_type);
  }
  return spec;
}

command_arg parse_arg(const json& j) {
  command_arg arg;
  arg.name = string_field(j, "name");
  arg.type = string_field(j, "type");
  if (auto it = j.find("key_spec_index"); it != j.end()) arg.key_spec_index = it->get<int>();
  if (auto it = j.find("token"); it != j.end()) arg.token = it->get<std::string>();
  arg.summary = string_field(j, "summary");
  arg.since = string_field(j, "since");
  arg.deprecated_since = string_field(j, "deprecated_since");
  arg.display_text = string_field(j, "display_text");
  arg.value = string_field(j, "value");
  arg.optional = j.value("optional", false);
  arg.multiple = j.value("multiple", false);
  arg.multiple_token = j.value("multiple_token", false);
  if (auto it = j.find("arguments"); it != j.end())
    for (const auto& sub : *it) arg.arguments.push_back(parse_arg(sub));
  return arg;
}

// setImplicitACLCategories.
void add_implicit_categories(command_info& c) {
  if (c.flags & flag_write) c.acl_categories |= acl_write;
  // Scripting commands are not @read even when read-only.
  if ((c.flags & flag_readonly) && !(c.acl_categories & acl_scripting)) c.acl_categories |= acl_read;
  if (c.flags & flag_admin) c.acl_categories |= acl_admin | acl_dangerous;
  if (c.flags & flag_pubsub) c.acl_categories |= acl_pubsub;
  if (c.flags & flag_fast) c.acl_categories |= acl_fast;
  if (c.flags & flag_blocking) c.acl_categories |= acl_blocking;
  if (!(c.acl_categories & acl_fast)) c.acl_categories |= acl_slow;
}

// populateCommandLegacyRangeSpec: the (first, last, step) triple COMMAND INFO
// shows, and movablekeys when that triple cannot cover every key.
void derive_legacy_range(command_info& c) {
  using bs_type = key_spec::begin_search_type;
  using fk_type = key_spec::find_keys_type;
  c.first_key = c.last_key = c.key_step = 0;
  if (c.key_specs.empty()) return;

  auto plain_range = [](const key_spec& s) {
    return s.begin_search == bs_type::index && s.find_keys == fk_type::range;
  };
  // lastkey relative to first (range spec form), converted to the absolute
  // form COMMAND INFO shows.
  auto set_range = [&](int first, int relative_last, int step) {
    c.first_key = first;
    c.last_key = relative_last >= 0 ? relative_last + first : relative_last;
    c.key_step = step;
  };

  if (c.key_specs.size() == 1 && plain_range(c.key_specs[0])) {
    const key_spec& s = c.key_specs[0];
    set_range(s.index, s.lastkey, s.keystep);
    if (s.flags & key_incomplete) c.flags |= flag_movablekeys;
    return;
  }

  int first = INT_MAX;
  int last = 0;
  int prev_last = 0;
  for (const key_spec& s : c.key_specs) {
    if (!plain_range(s)) {
      c.flags |= flag_movablekeys;
      continue;
    }
    if (s.keystep != 1 || (prev_last && prev_last != s.index - 1)) {
      c.flags |= flag_movablekeys;
      continue;
    }
    if (s.flags & key_incomplete) c.flags |= flag_movablekeys;
    first = std::min(first, s.index);
    int abs_last = s.lastkey >= 0 ? s.lastkey + s.index : s.lastkey;
    // Compared as unsigned, so that a negative (from the end) last key wins.
    if (static_cast<unsigned>(abs_last) > static_cast<unsigned>(last)) last = abs_last;
    prev_last = last;
  }
  if (first == INT_MAX) {
    c.flags |= flag_movablekeys;
    return;
  }
  set_range(first, last < 0 ? last : last - first, 1);
}

void parse_command(const json& j, command_info& c) {
  c.name = j.at("name").get<std::string>();
  auto bar = c.name.find('|');
  c.declared_name = bar == std::string::npos ? c.name : c.name.substr(bar + 1);
  c.arity = j.at("arity").get<int>();
  if (auto it = j.find("command_flags"); it != j.end()) {
    for (const auto& f : *it) {
      const auto& name = f.get_ref<const std::string&>();
      auto found = std::find_if(std::begin(command_flag_names), std::end(command_flag_names),
                                [&](const auto& n) { return n.name == name; });
      if (found == std::end(command_flag_names)) bad_spec("unknown command flag " + name);
      c.flags |= found->flag;
    }
  }
  if (auto it = j.find("acl_categories"); it != j.end()) {
    for (const auto& cat : *it) {
      std::uint64_t bit = acl_category_from_name(cat.get_ref<const std::string&>());
      if (!bit) bad_spec("unknown ACL category " + cat.get<std::string>());
      c.acl_categories |= bit;
    }
  }
  if (auto it = j.find("key_specs"); it != j.end())
    for (const auto& s : *it) c.key_specs.push_back(parse_key_spec(s));
  c.has_get_keys_function = j.value("get_keys_function", false);
  if (auto it = j.find("command_tips"); it != j.end())
    for (const auto& t : *it) c.tips.push_back(t.get<std::string>());
  c.group = string_field(j, "group");
  c.since = string_field(j, "since");
  c.complexity = string_field(j, "complexity");
  c.summary = string_field(j, "summary");
  if (auto it = j.find("doc_flags"); it != j.end()) {
    for (const auto& f : *it) {
      const auto& name = f.get_ref<const std::string&>();
      auto found = std::find_if(std::begin(doc_flag_names), std::end(doc_flag_names),
                                [&](const auto& n) { return n.name == name; });
      if (found == std::end(doc_flag_names)) bad_spec("unknown doc flag " + name);
      c.doc_flags |= found->flag;
    }
  }
  c.deprecated_since = string_field(j, "deprecated_since");
  c.replaced_by = string_field(j, "replaced_by");
  if (auto it = j.find("history"); it != j.end())
    for (const auto& h : *it) c.history.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
  if (auto it = j.find("arguments"); it != j.end())
    for (const auto& a : *it) c.arguments.push_back(parse_arg(a));

  add_implicit_categories(c);
  derive_legacy_range(c);
}

// ---------------------------------------------------------------- replies

template <typename Flags, typename Table>
void write_flag_set(resp::reply_writer& w, Flags flags, const Table& table) {
  std::size_t n = 0;
  for (const auto& f : table)
    if (flags & f.flag) ++n;
  w.set(n);
  for (const auto& f : table)
    if (flags & f.flag) w.simple(f.name);
}

void write_categories(resp::reply_writer& w, std::uint64_t categories) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < category_names.size(); ++i)
    if (categories & (1ULL << i)) ++n;
  w.set(n);
  std::string text;
  for (std::size_t i = 0; i < category_names.size(); ++i) {
    if (!(categories & (1ULL << i))) continue;
    text.assign("@");
    text.append(category_names[i]);
    w.simple(text);
  }
}

void write_key_specs(resp::reply_writer& w, const command_info& cmd) {
  using bs_type = key_spec::begin_search_type;
  using fk_type = key_spec::find_keys_type;
  w.set(cmd.key_specs.size());
  for (const key_spec& s : cmd.key_specs) {
    w.map(s.notes.empty() ? 3 : 4);
    if (!s.notes.empty()) {
      w.bulk("notes");
      w.bulk(s.notes);
    }
    w.bulk("flags");
    write_key_flags(w, s.flags);

    w.bulk("begin_search");
    w.map(2);
    w.bulk("type");
    switch (s.begin_search) {
      case bs_type::unknown:
        w.bulk("unknown");
        w.bulk("spec");
        w.map(0);
        break;
      case bs_type::index:
        w.bulk("index");
        w.bulk("spec");
        w.map(1);
        w.bulk("index");
        w.integer(s.index);
        break;
      case bs_type::keyword:
        w.bulk("keyword");
        w.bulk("spec");
        w.map(2);
        w.bulk("keyword");
        w.bulk(s.keyword);
        w.bulk("startfrom");
        w.integer(s.startfrom);
        break;
    }

    w.bulk("find_keys");
    w.map(2);
    w.bulk("type");
    switch (s.find_keys) {
      case fk_type::unknown:
        w.bulk("unknown");
        w.bulk("spec");
        w.map(0);
        break;
      case fk_type::range:
        w.bulk("range");
        w.bulk("spec");
        w.map(3);
        w.bulk("lastkey");
        w.integer(s.lastkey);
        w.bulk("keystep");
        w.integer(s.keystep);
        w.bulk("limit");
        w.integer(s.limit);
        break;
      case fk_type::keynum:
        w.bulk("keynum");
        w.bulk("spec");
        w.map(3);
        w.bulk("keynumidx");
        w.integer(s.keynumidx);
        w.bulk("firstkey");
        w.integer(s.firstkey);
        w.bulk("keystep");
        w.integer(s.keystep);
        break;
    }
  }
}

void write_args(resp::reply_writer& w, const std::vector<command_arg>& args) {
  w.array(args.size());
  for (const command_arg& a : args) {
    const bool nested = a.type == "oneof" || a.type == "block";
    const bool has_flags = a.optional || a.multiple || a.multiple_token;
    std::size_t fields = 2 + (a.key_spec_index != -1) + a.token.has_value() + !a.summary.empty() +
                         !a.since.empty() + !a.deprecated_since.empty() + has_flags + nested;
    w.map(fields);
    w.bulk("name");
    w.bulk(a.name);
    w.bulk("type");
    w.bulk(a.type);
    if (a.key_spec_index != -1) {
      w.bulk("key_spec_index");
      w.integer(a.key_spec_index);
    }
    if (a.token) {
      w.bulk("token");
      w.bulk(*a.token);
    }
    if (!a.summary.empty()) {
      w.bulk("summary");
      w.bulk(a.summary);
    }
    if (!a.since.empty()) {
      w.bulk("since");
      w.bulk(a.since);
    }
    if (!a.deprecated_since.empty()) {
      w.bulk("deprecated_since");
      w.bulk(a.deprecated_since);
    }
    if (has_flags) {
      w.bulk("flags");
      w.set(std::size_t{a.optional} + a.multiple + a.multiple_token);
      if (a.optional) w.simple("optional");
      if (a.multiple) w.simple("multiple");
      if (a.multiple_token) w.simple("multiple_token");
    }
    if (nested) {
      w.bulk("arguments");
      write_args(w, a.arguments);
    }
  }
}

std::vector<const command_info*> selected_subcommands(const command_info& cmd,
                                                      const command_filter& implemented) {
  std::vector<const command_info*> subs;
  for (const command_info* sub : cmd.subcommands)
    if (!implemented || implemented(*sub)) subs.push_back(sub);
  return subs;
}

// ---------------------------------------------------------------- keys

// Redis's getKeysUsingKeySpecs (no partial results, not_key specs skipped):
// false when a spec cannot be applied to this argv or is incomplete.
bool keys_from_specs(const command_info& cmd, std::span<const std::string_view> argv,
                     std::vector<int>& out, std::vector<std::uint32_t>* key_flags) {
  using bs_type = key_spec::begin_search_type;
  using fk_type = key_spec::find_keys_type;
  const int argc = static_cast<int>(argv.size());
  for (const key_spec& s : cmd.key_specs) {
    if (s.flags & key_not_key) continue;

    int first = 0;
    if (s.begin_search == bs_type::index) {
      first = s.index;
    } else if (s.begin_search == bs_type::keyword) {
      // Searches from startfrom towards the end (or, when negative, from the
      // end towards the start); the bound itself is never looked at.
      int start = s.startfrom > 0 ? s.startfrom : argc + s.startfrom;
      int end = s.startfrom > 0 ? argc - 1 : 1;
      for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (iequals(argv[i], s.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (!first) continue;  // keyword absent: this spec has no keys
    } else {
      return false;
    }

    int last = 0;
    int step = 0;
    if (s.find_keys == fk_type::range) {
      step = s.keystep;
      if (s.lastkey >= 0)
        last = first + s.lastkey;
      else if (!s.limit)
        last = argc + s.lastkey;
      else
        last = first + ((argc - first) / s.limit + s.lastkey);
    } else if (s.find_keys == fk_type::keynum) {
      step = s.keystep;
      int at = first + s.keynumidx;
      if (s.keynumidx >= argc || at >= argc) return false;
      std::int64_t numkeys = 0;
      if (!util::parse_int64(argv[at], numkeys) || numkeys < 0 || numkeys > INT_MAX) return false;
      first += s.firstkey;
      last = first + static_cast<int>(numkeys) - 1;
    } else {
      return false;
    }

    if (last >= argc || last < first || first >= argc || step <= 0) return false;
    for (int i = first; i <= last; i += step) {
      out.push_back(i);
      if (key_flags) key_flags->push_back(s.flags);
    }
    if (s.flags & key_incomplete) return false;
  }
  return true;
}

void add_key(std::vector<int>& out, std::vector<std::uint32_t>* key_flags, int pos,
             std::uint32_t flags) {
  out.push_back(pos);
  if (key_flags) key_flags->push_back(flags);
}

// genericGetKeys: [store] numkeys key... with atoi's lenient count.
void keys_with_count(std::span<const std::string_view> argv, int store_pos, int count_pos,
                     int first_pos, std::vector<int>& out, std::vector<std::uint32_t>* key_flags) {
  const int argc = static_cast<int>(argv.size());
  if (count_pos >= argc) return;
  std::string text(argv[count_pos]);
  int num = static_cast<int>(std::strtol(text.c_str(), nullptr, 10));  // atoi
  if (num < 1 || num > argc - first_pos) return;
  for (int i = 0; i < num; ++i) add_key(out, key_flags, first_pos + i, 0);
  if (store_pos) add_key(out, key_flags, store_pos, 0);
}

// SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dest]:
// the sort key and the last STORE destination.
void sort_keys(std::span<const std::string_view> argv, std::vector<int>& out,
               std::vector<std::uint32_t>* key_flags) {
  const int argc = static_cast<int>(argv.size());
  add_key(out, key_flags, 1, key_ro | key_access);
  int store = 0;
  for (int i = 2; i < argc; ++i) {
    if (iequals(argv[i], "limit"))
      i += 2;
    else if (iequals(argv[i], "get") || iequals(argv[i], "by"))
      i += 1;
    else if (iequals(argv[i], "store") && i + 1 < argc)
      store = i + 1;  // the destination itself is scanned next, as Redis does
  }
  if (store) add_key(out, key_flags, store, key_ow | key_update);
}

// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 u pw] [KEYS k...]
void migrate_keys(std::span<const std::string_view> argv, std::vector<int>& out,
                  std::vector<std::uint32_t>* key_flags) {
  const int argc = static_cast<int>(argv.size());
  int first = 3;
  int num = 1;
  for (int i = 6; i < argc; ++i) {
    if (iequals(argv[i], "keys")) {
      if (!argv[3].empty()) {
        num = 0;  // syntax error, left to the command
      } else {
        first = i + 1;
        num = argc - first;
      }
      break;
    }
    if (iequals(argv[i], "auth"))
      i += 1;
    else if (iequals(argv[i], "auth2"))
      i += 2;
  }
  for (int i = 0; i < num; ++i) add_key(out, key_flags, first + i, key_rw | key_access | key_delete);
}

// GEORADIUS[BYMEMBER] key ... [STORE k] [STOREDIST k]: the last store wins.
void georadius_keys(std::span<const std::string_view> argv, std::vector<int>& out,
                    std::vector<std::uint32_t>* key_flags) {
  const int argc = static_cast<int>(argv.size());
  int stored = -1;
  for (int i = 5; i < argc; ++i) {
    if ((iequals(argv[i], "store") || iequals(argv[i], "storedist")) && i + 1 < argc) {
      stored = i + 1;
      ++i;
    }
  }
  add_key(out, key_flags, 1, 0);
  if (stored != -1) add_key(out, key_flags, stored, 0);
}

// XREAD/XREADGROUP: options, then STREAMS key... id...
void xread_keys(std::span<const std::string_view> argv, std::vector<int>& out,
                std::vector<std::uint32_t>* key_flags) {
  const int argc = static_cast<int>(argv.size());
  int streams = -1;
  for (int i = 1; i < argc; ++i) {
    if (iequals(argv[i], "block") || iequals(argv[i], "count")) {
      ++i;
    } else if (iequals(argv[i], "group")) {
      i += 2;
    } else if (iequals(argv[i], "noack")) {
    } else if (iequals(argv[i], "streams")) {
      streams = i;
      break;
    } else {
      break;
    }
  }
  if (streams == -1) return;
  int num = argc - streams - 1;
  if (num == 0 || num % 2 != 0) return;
  num /= 2;
  for (int i = 0; i < num; ++i) add_key(out, key_flags, streams + 1 + i, 0);
}

// SET key value [... GET ...]: read access only with GET.
void set_keys(std::span<const std::string_view> argv, std::vector<int>& out,
              std::vector<std::uint32_t>* key_flags) {
  bool get = false;
  for (std::size_t i = 3; i < argv.size() && !get; ++i) get = iequals(argv[i], "get");
  add_key(out, key_flags, 1, get ? key_rw | key_access | key_update : key_ow | key_update);
}

// BITFIELD key [GET t o] [SET t o v] [INCRBY t o i] [OVERFLOW m]: read-only
// when every operation is a GET.
void bitfield_keys(std::span<const std::string_view> argv, std::vector<int>& out,
                   std::vector<std::uint32_t>* key_flags) {
  const int argc = static_cast<int>(argv.size());
  bool readonly = true;
  for (int i = 2; i < argc; ++i) {
    int remaining = argc - i - 1;
    if (iequals(argv[i], "get") && remaining >= 2) {
      i += 2;
    } else if ((iequals(argv[i], "set") || iequals(argv[i], "incrby")) && remaining >= 3) {
      readonly = false;
      break;
    } else if (iequals(argv[i], "overflow") && remaining >= 1) {
      i += 1;
    } else {
      readonly = false;
      break;
    }
  }
  add_key(out, key_flags, 1, readonly ? key_ro | key_access : key_rw | key_access | key_update);
}

// The commands whose keys Redis finds with a dedicated function when the key
// specs can't (incomplete, variable flags, or a spec that fails on this argv).
void keys_from_special_rules(const command_info& cmd, std::span<const std::string_view> argv,
                             std::vector<int>& out, std::vector<std::uint32_t>* key_flags) {
  const std::string& n = cmd.name;
  if (n == "sort") {
    sort_keys(argv, out, key_flags);
  } else if (n == "sort_ro") {
    add_key(out, key_flags, 1, key_ro | key_access);
  } else if (n == "migrate") {
    migrate_keys(argv, out, key_flags);
  } else if (n == "georadius" || n == "georadiusbymember") {
    georadius_keys(argv, out, key_flags);
  } else if (n == "xread" || n == "xreadgroup") {
    xread_keys(argv, out, key_flags);
  } else if (n == "set") {
    set_keys(argv, out, key_flags);
  } else if (n == "bitfield") {
    bitfield_keys(argv, out, key_flags);
  } else if (n == "zunionstore" || n == "zinterstore" || n == "zdiffstore") {
    keys_with_count(argv, 1, 2, 3, out, key_flags);
  } else if (n == "eval" || n == "eval_ro" || n == "evalsha" || n == "evalsha_ro" ||
             n == "fcall" || n == "fcall_ro" || n == "blmpop" || n == "bzmpop") {
    keys_with_count(argv, 0, 2, 3, out, key_flags);
  } else if (n == "zunion" || n == "zinter" || n == "zdiff" || n == "zintercard" ||
             n == "sintercard" || n == "lmpop" || n == "zmpop") {
    keys_with_count(argv, 0, 1, 2, out, key_flags);
  }
}

}  // namespace

// ---------------------------------------------------------------- public

std::span<const std::string_view> acl_category_names() { return category_names; }

std::uint64_t acl_category_from_name(std::string_view name) {
  for (std::size_t i = 0; i < category_names.size(); ++i)
    if (iequals(category_names[i], name)) return 1ULL << i;
  return 0;
}

std::size_t command_metadata::ci_hash::operator()(std::string_view s) const {
  std::size_t h = 14695981039346656037ULL;  // FNV-1a over the lower-cased bytes
  for (char c : s) {
    h ^= static_cast<unsigned char>(lower(c));
    h *= 1099511628211ULL;
  }
  return h;
}

bool command_metadata::ci_equal::operator()(std::string_view a, std::string_view b) const {
  return iequals(a, b);
}

const command_metadata& command_metadata::instance() {
  static const command_metadata metadata(embedded::command_specs_json);
  return metadata;
}

command_metadata::command_metadata(std::string_view specs_json) {
  const json doc = json::parse(specs_json);
  if (!doc.is_array()) bad_spec("not an array");
  for (const json& entry : doc) {
    auto cmd = std::make_unique<command_info>();
    parse_command(entry, *cmd);
    if (auto it = entry.find("subcommands"); it != entry.end()) {
      for (const json& sub_entry : *it) {
        auto sub = std::make_unique<command_info>();
        parse_command(sub_entry, *sub);
        sub->parent = cmd.get();
        cmd->subcommands.push_back(sub.get());
        storage_.push_back(std::move(sub));
      }
      std::sort(cmd->subcommands.begin(), cmd->subcommands.end(),
                [](const command_info* a, const command_info* b) { return a->name < b->name; });
    }
    if (!by_name_.emplace(cmd->name, cmd.get()).second) bad_spec("duplicate command " + cmd->name);
    all_.push_back(cmd.get());
    storage_.push_back(std::move(cmd));
  }
  std::sort(all_.begin(), all_.end(),
            [](const command_info* a, const command_info* b) { return a->name < b->name; });
}

const command_info* command_metadata::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const command_info* command_metadata::find_subcommand(const command_info& parent,
                                                      std::string_view sub) const {
  for (const command_info* c : parent.subcommands)
    if (iequals(c->declared_name, sub)) return c;
  return nullptr;
}

const command_info* command_metadata::find_by_full_name(std::string_view full_name) const {
  auto bar = full_name.find('|');
  if (bar == std::string_view::npos) return find(full_name);
  std::string_view base = full_name.substr(0, bar);
  std::string_view sub = full_name.substr(bar + 1);
  if (sub.find('|') != std::string_view::npos) return nullptr;  // one level only
  const command_info* container = find(base);
  // "get|x": Redis wants exactly one name for a command without subcommands.
  if (!container || !container->is_container()) return nullptr;
  return find_subcommand(*container, sub);
}

const command_info* command_metadata::lookup(std::span<const std::string_view> argv) const {
  if (argv.empty()) return nullptr;
  const command_info* base = find(argv[0]);
  if (!base || argv.size() == 1 || !base->is_container()) return base;
  return find_subcommand(*base, argv[1]);
}

bool has_key_arguments(const command_info& cmd) {
  if (cmd.has_get_keys_function) return true;
  return std::any_of(cmd.key_specs.begin(), cmd.key_specs.end(),
                     [](const key_spec& s) { return !(s.flags & key_not_key); });
}

bool key_positions(const command_info& cmd, std::span<const std::string_view> argv,
                   std::vector<int>& out, std::string* error,
                   std::vector<std::uint32_t>* key_flags) {
  out.clear();
  if (key_flags) key_flags->clear();
  if (!cmd.arity_accepts(argv.size())) {
    if (error) *error = "Invalid number of arguments specified for command";
    return false;
  }
  if (!has_key_arguments(cmd)) return true;

  // getKeysFromCommandWithSpecs: the specs when they cover the keys with
  // fixed flags, else (or when they fail) the special rules.
  bool usable_specs = false;
  bool variable_flags = false;
  for (const key_spec& s : cmd.key_specs) {
    if (!(s.flags & key_not_key)) usable_specs = true;
    if (s.flags & key_variable_flags) variable_flags = true;
  }
  bool found = false;
  if (usable_specs && !variable_flags) {
    found = keys_from_specs(cmd, argv, out, key_flags);
    if (!found) {
      out.clear();
      if (key_flags) key_flags->clear();
    }
  }
  if (!found && cmd.has_get_keys_function) keys_from_special_rules(cmd, argv, out, key_flags);

  if (out.empty() && !cmd.has(flag_no_mandatory_keys)) {
    if (error) *error = "Invalid arguments specified for command";
    return false;
  }
  return true;
}

void write_key_flags(resp::reply_writer& w, std::uint32_t flags) {
  std::size_t n = 0;
  for (const auto& f : key_flag_names)
    if (flags & f.flag) ++n;
  w.set(n);
  for (const auto& f : key_flag_names)
    if (flags & f.flag) w.simple(f.reply_name);
}

void write_command_info(resp::reply_writer& w, const command_info& cmd,
                        const command_filter& implemented) {
  w.array(10);
  w.bulk(cmd.name);
  w.integer(cmd.arity);
  write_flag_set(w, cmd.flags & ~hidden_command_flags, command_flag_names);
  w.integer(cmd.first_key);
  w.integer(cmd.last_key);
  w.integer(cmd.key_step);
  write_categories(w, cmd.acl_categories);
  w.set(cmd.tips.size());
  for (const std::string& tip : cmd.tips) w.bulk(tip);
  write_key_specs(w, cmd);
  if (!cmd.is_container()) {
    w.set(0);  // Redis: an empty set when there is no subcommand table
  } else {
    auto subs = selected_subcommands(cmd, implemented);
    w.array(subs.size());
    for (const command_info* sub : subs) write_command_info(w, *sub, implemented);
  }
}

void write_command_docs(resp::reply_writer& w, const command_info& cmd,
                        const command_filter& implemented) {
  // Redis also has a "module" field (after "complexity") for module commands;
  // built-in commands never have it.
  std::size_t fields = 1 + !cmd.summary.empty() + !cmd.since.empty() +
                       !cmd.complexity.empty() + (cmd.doc_flags != 0) +
                       !cmd.deprecated_since.empty() + !cmd.replaced_by.empty() +
                       !cmd.history.empty() + !cmd.arguments.empty() + cmd.is_container();
  w.map(fields);
  if (!cmd.summary.empty()) {
    w.bulk("summary");
    w.bulk(cmd.summary);
  }
  if (!cmd.since.empty()) {
    w.bulk("since");
    w.bulk(cmd.since);
  }
  w.bulk("group");
  w.bulk(cmd.group);
  if (!cmd.complexity.empty()) {
    w.bulk("complexity");
    w.bulk(cmd.complexity);
  }
  if (cmd.doc_flags) {
    w.bulk("doc_flags");
    write_flag_set(w, cmd.doc_flags, doc_flag_names);
  }
  if (!cmd.deprecated_since.empty()) {
    w.bulk("deprecated_since");
    w.bulk(cmd.deprecated_since);
  }
  if (!cmd.replaced_by.empty()) {
    w.bulk("replaced_by");
    w.bulk(cmd.replaced_by);
  }
  if (!cmd.history.empty()) {
    w.bulk("history");
    w.set(cmd.history.size());
    for (const auto& [version, change] : cmd.history) {
      w.array(2);
      w.bulk(version);
      w.bulk(change);
    }
  }
  if (!cmd.arguments.empty()) {
    w.bulk("arguments");
    write_args(w, cmd.arguments);
  }
  if (cmd.is_container()) {
    auto subs = selected_subcommands(cmd, implemented);
    w.bulk("subcommands");
    w.map(subs.size());
    for (const command_info* sub : subs) {
      w.bulk(sub->name);
      write_command_docs(w, *sub, implemented);
    }
  }
}

}  // namespace shrike::commands
