#pragma once
// Command metadata: what Redis 7.0 knows about each command besides its
// implementation (arity, flags, ACL categories, key specs, tips, docs), read
// once from the embedded commands/command_specs.json (generated from Redis's
// command JSON files by tools/gen_command_specs.py).
//
// At load time the same derivations Redis does at startup are applied:
//  - implicit ACL categories: write -> @write, readonly -> @read (unless
//    @scripting), admin -> @admin @dangerous, pubsub -> @pubsub,
//    fast -> @fast, blocking -> @blocking, and every command not @fast is @slow;
//  - the legacy (first_key, last_key, key_step) range of COMMAND INFO, derived
//    from the key specs, and the movablekeys flag for commands whose keys that
//    range cannot describe.
//
// Lookups are case-insensitive. Container commands (CONFIG, CLIENT, ...) are
// top-level entries with arity -2 and no handler of their own in Redis; their
// subcommands carry full names such as "config|get" and their own arity,
// counted from the container's name (CONFIG GET x has argc 3).
//
// Everything here is immutable after instance() returns, so any thread may
// read it without locking.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "resp/reply_writer.hpp"

namespace shrike::commands {

// Command flags, one bit each (the names are Redis's, as COMMAND INFO shows
// the visible ones).
enum command_flag : std::uint64_t {
  flag_write = 1ULL << 0,
  flag_readonly = 1ULL << 1,
  flag_denyoom = 1ULL << 2,
  flag_module = 1ULL << 3,
  flag_admin = 1ULL << 4,
  flag_pubsub = 1ULL << 5,
  flag_noscript = 1ULL << 6,
  flag_blocking = 1ULL << 7,
  flag_loading = 1ULL << 8,
  flag_stale = 1ULL << 9,
  flag_skip_monitor = 1ULL << 10,
  flag_skip_slowlog = 1ULL << 11,
  flag_asking = 1ULL << 12,
  flag_fast = 1ULL << 13,
  flag_no_auth = 1ULL << 14,
  flag_may_replicate = 1ULL << 15,  // hidden from COMMAND INFO
  flag_sentinel = 1ULL << 16,       // hidden
  flag_only_sentinel = 1ULL << 17,  // hidden
  flag_no_mandatory_keys = 1ULL << 18,
  flag_protected = 1ULL << 19,  // hidden
  flag_no_async_loading = 1ULL << 20,
  flag_no_multi = 1ULL << 21,
  flag_movablekeys = 1ULL << 22,  // derived from the key specs
  flag_allow_busy = 1ULL << 23,
  flag_touches_arbitrary_keys = 1ULL << 24,  // hidden
};

// ACL categories; bit i is acl_category_names()[i] (Redis's order, which is
// the order COMMAND INFO lists them in).
enum acl_category : std::uint64_t {
  acl_keyspace = 1ULL << 0,
  acl_read = 1ULL << 1,
  acl_write = 1ULL << 2,
  acl_set = 1ULL << 3,
  acl_sortedset = 1ULL << 4,
  acl_list = 1ULL << 5,
  acl_hash = 1ULL << 6,
  acl_string = 1ULL << 7,
  acl_bitmap = 1ULL << 8,
  acl_hyperloglog = 1ULL << 9,
  acl_geo = 1ULL << 10,
  acl_stream = 1ULL << 11,
  acl_pubsub = 1ULL << 12,
  acl_admin = 1ULL << 13,
  acl_fast = 1ULL << 14,
  acl_slow = 1ULL << 15,
  acl_blocking = 1ULL << 16,
  acl_dangerous = 1ULL << 17,
  acl_connection = 1ULL << 18,
  acl_transaction = 1ULL << 19,
  acl_scripting = 1ULL << 20,
};

// "keyspace", "read", ... (without '@'), indexed by bit number.
std::span<const std::string_view> acl_category_names();
// The bit of a category name (case-insensitive, without '@'); 0 if unknown.
std::uint64_t acl_category_from_name(std::string_view name);

// Key-spec flags (how a command uses a key).
enum key_spec_flag : std::uint32_t {
  key_ro = 1U << 0,
  key_rw = 1U << 1,
  key_ow = 1U << 2,
  key_rm = 1U << 3,
  key_access = 1U << 4,
  key_update = 1U << 5,
  key_insert = 1U << 6,
  key_delete = 1U << 7,
  key_not_key = 1U << 8,
  key_incomplete = 1U << 9,
  key_variable_flags = 1U << 10,
};

enum doc_flag : std::uint32_t {
  doc_deprecated = 1U << 0,
  doc_syscmd = 1U << 1,
};

struct key_spec {
  enum class begin_search_type { unknown, index, keyword };
  enum class find_keys_type { unknown, range, keynum };

  std::string notes;  // empty: none
  std::uint32_t flags = 0;

  begin_search_type begin_search = begin_search_type::unknown;
  int index = 0;           // begin_search index: argv position
  std::string keyword;     // begin_search keyword
  int startfrom = 0;       // where the keyword search starts (negative: from the end, backwards)

  find_keys_type find_keys = find_keys_type::unknown;
  int lastkey = 0;    // range: last key relative to the first (negative: from the end)
  int keystep = 0;    // range and keynum
  int limit = 0;      // range: with lastkey -1, only 1/limit of the remaining args
  int keynumidx = 0;  // keynum: where the key count is, relative to the first
  int firstkey = 0;   // keynum: where the first key is, relative to the first
};

// One argument of a command's syntax (COMMAND DOCS "arguments").
struct command_arg {
  std::string name;
  std::string type;  // "string", "integer", "key", "pure-token", "oneof", "block", ...
  int key_spec_index = -1;
  std::optional<std::string> token;  // may be present and empty (MIGRATE's "")
  // Empty strings below are "absent".
  std::string summary;
  std::string since;
  std::string deprecated_since;
  std::string display_text;  // not used by Redis 7.0 (kept if the JSON has it)
  std::string value;         // idem
  bool optional = false;
  bool multiple = false;
  bool multiple_token = false;
  std::vector<command_arg> arguments;  // for "oneof" and "block"
};

struct command_info {
  std::string name;           // lower case; "config|get" for a subcommand
  std::string declared_name;  // "config" / "get": the word the client sends
  const command_info* parent = nullptr;
  int arity = 0;  // Redis arity: n = exactly n args, -n = at least n (command name included)
  std::uint64_t flags = 0;           // command_flag bits (movablekeys included)
  std::uint64_t acl_categories = 0;  // acl_category bits (implicit ones included)

  // Legacy key range of COMMAND INFO (0, 0, 0 when the specs give none).
  int first_key = 0;
  int last_key = 0;  // absolute; negative counts from the end (-1 = last argument)
  int key_step = 0;

  std::vector<key_spec> key_specs;
  bool has_get_keys_function = false;  // Redis has a special key-finding function
  std::vector<std::string> tips;       // "nondeterministic_output", "request_policy:all_shards", ...

  // Documentation (COMMAND DOCS). Empty strings are "absent".
  std::string group;  // "string", "sorted-set", ...
  std::string since;
  std::string complexity;
  std::string summary;
  std::uint32_t doc_flags = 0;  // doc_flag bits
  std::string deprecated_since;
  std::string replaced_by;
  std::vector<std::pair<std::string, std::string>> history;  // (version, change)
  std::vector<command_arg> arguments;

  std::vector<const command_info*> subcommands;  // sorted by name

  bool has(std::uint64_t flag) const { return (flags & flag) != 0; }
  bool is_container() const { return !subcommands.empty(); }
  // Redis's arity rule for argc arguments (the command name included).
  bool arity_accepts(std::size_t argc) const {
    return arity >= 0 ? argc == static_cast<std::size_t>(arity)
                      : argc >= static_cast<std::size_t>(-arity);
  }
};

class command_metadata {
 public:
  // Parsed once (on first call), thread-safe. Throws if the embedded JSON is
  // malformed (a build defect).
  static const command_metadata& instance();

  // Parses a specs document (what instance() does with the embedded one).
  explicit command_metadata(std::string_view specs_json);
  command_metadata(const command_metadata&) = delete;
  command_metadata& operator=(const command_metadata&) = delete;

  // A top-level command by name, case-insensitive; nullptr if unknown.
  const command_info* find(std::string_view name) const;
  // A subcommand of a container by its declared name ("get"), case-insensitive.
  const command_info* find_subcommand(const command_info& parent, std::string_view sub) const;
  // By full name as COMMAND INFO / DOCS accept it: "get", "config|get"
  // (Redis's lookupCommandBySds: "config" alone is the container).
  const command_info* find_by_full_name(std::string_view full_name) const;
  // The command a call runs (Redis's lookupCommand): argv[0] names the
  // command; for a container with argc > 1, argv[1] names the subcommand
  // (nullptr if unknown). argv must not be empty.
  const command_info* lookup(std::span<const std::string_view> argv) const;

  // Top-level commands in name order.
  const std::vector<const command_info*>& all() const { return all_; }

 private:
  struct ci_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const;
  };
  struct ci_equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };

  std::vector<std::unique_ptr<command_info>> storage_;  // every command and subcommand
  std::vector<const command_info*> all_;
  std::unordered_map<std::string, const command_info*, ci_hash, ci_equal> by_name_;
};

// Whether a command takes keys at all (COMMAND GETKEYS answers "The command
// has no key arguments" otherwise): a key spec that is not not_key, or a
// special key-finding function.
bool has_key_arguments(const command_info& cmd);

// Positions (indexes into argv, argv[0] = command name) of the key arguments
// of a call, like Redis's COMMAND GETKEYS: the key specs (begin_search
// index/keyword, find_keys range/keynum) when they are complete and their
// flags fixed, else the command's special rules (SORT's STORE, MIGRATE's
// KEYS, SET's GET, BITFIELD, ...). For a subcommand call pass the
// subcommand's info and the whole argv ("config", "get", ...).
//
// A command without key arguments yields true and no positions.
// Returns false with the COMMAND GETKEYS error text in *error (without the
// "ERR " prefix) when argc breaks the arity ("Invalid number of arguments
// specified for command") or no keys can be found ("Invalid arguments
// specified for command"); a no_mandatory_keys command (EVAL, FCALL, ...)
// yields true and no positions instead of the latter.
// key_flags, if given, receives the key_spec_flag bits of each key
// (COMMAND GETKEYSANDFLAGS), parallel to out.
bool key_positions(const command_info& cmd, std::span<const std::string_view> argv,
                   std::vector<int>& out, std::string* error = nullptr,
                   std::vector<std::uint32_t>* key_flags = nullptr);

// Which subcommands replies include: all when empty.
using command_filter = std::function<bool(const command_info&)>;

// One element of COMMAND INFO (the 10-element array, subcommands included),
// byte-exact with Redis 7.0 in RESP2 and RESP3. Subcommands are listed in
// name order (Redis's order is its hash table's, random per process).
void write_command_info(resp::reply_writer& w, const command_info& cmd,
                        const command_filter& implemented = {});
// The value of one COMMAND DOCS map entry (the caller writes the name key).
void write_command_docs(resp::reply_writer& w, const command_info& cmd,
                        const command_filter& implemented = {});
// The set of key-spec flag names COMMAND GETKEYSANDFLAGS prints for a key.
void write_key_flags(resp::reply_writer& w, std::uint32_t flags);

}  // namespace shrike::commands
