#pragma once
// The server's configuration: every Redis 7.0 parameter plus Shrike's own,
// with Redis 7.0's rules for CONFIG GET, CONFIG SET, startup values and
// CONFIG REWRITE.
//
// The Redis parameters (names, aliases, types, bounds, enum values, defaults,
// flags) are data: server/config_params.json, generated from Redis's config.c
// by tools/gen_config_params.py and embedded in the binary
// (shrike::embedded::config_params_json). Shrike adds two immutable ones:
// `threads` and `shards` (default: the CPUs this process may run on; `shards`
// follows `threads` unless set itself).
//
// Values are kept as CONFIG GET shows them (memory values in bytes, "yes"/"no",
// enum names, "10%" for percentages) and, for numeric ones, as the number Redis
// stores (a percentage as its negative, as Redis does). The store only records
// values: what a change means (rebinding, resizing...) is up to the callbacks
// the server registers. Two deliberate differences from Redis: setting `dir`
// checks the directory and stores its absolute path but does not chdir(), and
// DENY_LOADING configs are not refused (the store knows nothing of loading).
//
// Thread-safe: readers take a shared lock; CONFIG SETs are serialised.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace shrike::server {

// What the outside needs to know about one parameter (see params()).
struct config_param_info {
  std::string name;
  std::string alias;        // "" when there is none (e.g. "slaveof" for "replicaof")
  bool modifiable = true;   // false: startup only (CONFIG SET says "can't set immutable config")
  bool multi_arg = false;   // the value is a list of words (save, bind, replicaof...)
  bool sensitive = false;   // CONFIG SET values must not be logged (requirepass, masterauth...)
  bool hidden = false;      // not matched by CONFIG GET patterns, only by its exact name
};

class config_store {
 public:
  // Every parameter at its default. Throws std::logic_error if the embedded
  // parameter table is unusable (a build problem, not a user error).
  config_store();
  ~config_store();
  config_store(const config_store&) = delete;
  config_store& operator=(const config_store&) = delete;

  // CONFIG GET p1 p2 ...: name/value pairs of every parameter matching any of
  // the patterns, each name once. As in Redis: a pattern without '*', '?' or
  // '[' is an exact, case-insensitive name (hidden parameters included) and is
  // reported as written; a glob (nocase) matches the names and aliases of the
  // non-hidden parameters, so `*` reports both "replicaof" and "slaveof".
  // Order: the patterns' order, then the table's (Redis's is hash order).
  std::vector<std::pair<std::string, std::string>> get(std::span<const std::string_view> patterns) const;
  // The value of one parameter by exact name or alias (case-insensitive).
  std::optional<std::string> get_one(std::string_view name) const;
  // Numeric parameters (integer, memory, percent, octal). A percentage is
  // negative (-10 for "10%"); unsigned values above INT64_MAX read as INT64_MAX.
  // Throws std::out_of_range for an unknown name, std::invalid_argument for a
  // parameter that is not numeric.
  std::int64_t get_int(std::string_view name) const;
  // Bool parameters; throws like get_int.
  bool get_bool(std::string_view name) const;
  // What a special parameter's text parsed to, when that is a number
  // (notify-keyspace-events: its class bits, which the shown text may not
  // carry in full). Throws std::out_of_range for an unknown name.
  std::int64_t get_special_number(std::string_view name) const;

  bool exists(std::string_view name) const;
  // Every parameter in table order (Redis's, then threads and shards).
  std::vector<config_param_info> params() const;
  // The parameter (primary name) that `name` or an alias designates.
  std::optional<config_param_info> find(std::string_view name) const;

  // CONFIG SET n1 v1 n2 v2 ...: all or nothing. On failure returns false with
  // Redis 7.0's error text without the "ERR " prefix, e.g.
  //   Unknown option or number of arguments for CONFIG SET - 'foo'
  //   CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer
  // Names are checked first, in order (unknown, "can't set immutable config",
  // "can't set protected config", "duplicate parameter": the argument as
  // written), then values, in order (the parameter's name, or the alias used).
  // A name and its alias are not duplicates (the last one wins), as in Redis.
  // Protected parameters (dir, dbfilename) need enable-protected-configs yes,
  // or `local` with client_is_local. Multi-word values split on single spaces.
  // As Redis's apply functions do, hz is capped to 1..500 and a
  // repl-backlog-size below 16kb is raised to 16kb. Then the appliers of the
  // changed parameters run (see on_apply); if one fails every value is
  // restored and its error is reported. Then the on_change callbacks of the
  // changed parameters run. Calls are serialised: appliers and callbacks may
  // read the store but must not call set().
  bool set(std::span<const std::pair<std::string_view, std::string_view>> pairs, std::string& error,
           bool client_is_local = false);

  // A startup value (command line or config file): no immutability or
  // protection check, same validation, no callbacks; false + the bare reason
  // (e.g. "argument couldn't be parsed into an integer"). As in redis.conf, a
  // multi-word parameter given one non-empty word splits it on blanks (quotes
  // allowed: "a b" 'c'); one-word parameters need exactly one argument
  // ("wrong number of arguments"). Setting `threads` also sets `shards` until
  // `shards` is set itself.
  bool set_startup(std::string_view name, std::string_view value, std::string& error);
  bool set_startup(std::string_view name, std::span<const std::string> args, std::string& error);

  // Runs fn(new value) after each successful runtime SET that changed `name`
  // (or its alias), outside the store's lock (fn may read the store). Throws
  // std::out_of_range for an unknown name.
  void on_change(std::string_view name, std::function<void(std::string_view value)> fn);
  // Runs during CONFIG SET, after the new values are stored and before the
  // on_change callbacks: returning false (with a message, e.g. "Unable to
  // listen on this port. Check server logs.") restores the previous values
  // and fails the SET, as Redis's apply functions do (port, bind, maxclients).
  void on_apply(std::string_view name, std::function<bool(std::string_view value, std::string& error)> fn);

  // CONFIG REWRITE: rewrites the JSON config file the server started with.
  // Keys of the file that are parameters get the current values (an alias key
  // becomes the parameter's name; an empty replicaof is removed); parameters
  // that differ from their defaults are added, and `dir` and `save` always
  // are, as Redis does; other keys stay. A key keeps its JSON type when it can
  // (bool, number, array); new keys are booleans, numbers or strings. Written
  // atomically (temporary file + rename). Errors: "The server is running
  // without a config file", "Rewriting config file: <reason>".
  bool rewrite(std::string& error);
  void set_config_file(std::string path);
  std::string config_file() const;  // "" when none

  // `user` lines (redis.conf's `user` directive: ACL users, acl/acl.hpp):
  // the words of each, the username first, in the order given. Not a
  // parameter CONFIG GET shows.
  void add_user_line(std::vector<std::string> words) {
    std::unique_lock lock(mutex_);
    user_lines_.push_back(std::move(words));
  }
  std::vector<std::vector<std::string>> user_lines() const {
    std::shared_lock lock(mutex_);
    return user_lines_;
  }

  struct param_def;  // the definition and current value of one parameter (config_store.cpp)

 private:
  struct value_state {
    std::string shown;        // as CONFIG GET shows it
    std::int64_t number = 0;  // numeric, bool (0/1) and enum (bits) values
  };
  struct lookup_entry {
    std::size_t index;
    bool via_alias;
  };

  const lookup_entry* lookup(std::string_view name) const;
  bool parse_value(const param_def& p, const value_state& current, std::span<const std::string> argv,
                   value_state& out, std::string& error) const;
  bool validate_string(const param_def& p, const std::string& value, std::string& error) const;
  bool set_startup_locked(const lookup_entry& e, std::span<const std::string> args, std::string& error);

  std::vector<param_def> params_;
  std::unordered_map<std::string, lookup_entry> by_name_;       // lower-case name or alias
  std::vector<std::pair<std::string, std::size_t>> glob_names_;  // names then aliases, table order
  std::size_t threads_index_ = 0;
  std::size_t shards_index_ = 0;
  bool shards_set_ = false;

  mutable std::shared_mutex mutex_;  // values, callbacks, config file
  std::mutex set_mutex_;             // serialises set() (appliers may roll back)
  std::vector<value_state> values_;  // by parameter index
  std::unordered_map<std::size_t, std::vector<std::function<void(std::string_view)>>> change_fns_;
  std::unordered_map<std::size_t, std::vector<std::function<bool(std::string_view, std::string&)>>> apply_fns_;
  std::string config_file_;
  std::vector<std::vector<std::string>> user_lines_;
};

}  // namespace shrike::server
