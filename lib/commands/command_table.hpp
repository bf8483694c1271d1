#pragma once
// THE command table: every command the server implements, looked up by name.
//
// A row joins Redis's metadata for the command (arity, flags, key specs, docs:
// command_metadata, generated from Redis 7.0's command specs) with our handler
// and how the dispatcher must run it. The same rows drive dispatch, arity
// errors, COMMAND's replies (implemented commands only), key -> shard routing,
// and (later) propagation and ACL checks. A name without a row gets Redis's
// unknown-command error.
#include <boost/asio/awaitable.hpp>
#include <algorithm>
#include <bit>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "commands/command_metadata.hpp"
#include "server/server_context.hpp"
#include "util/striped_counter.hpp"

namespace shrike::commands {

struct command_context;

// How the dispatcher runs a command.
enum class exec_kind : std::uint8_t {
  keyed,       // touches the keys at its key positions: run on their shards (gated when several)
  local,       // touches no keyspace data: runs wherever the batch runs
  all_shards,  // keyspace-wide (FLUSHALL, DBSIZE, KEYS...): every shard gated
  session,     // runs as a coroutine of the session (may suspend: DEBUG SLEEP, SHUTDOWN, ...)
};

using sync_handler = void (*)(command_context&);
using async_handler = boost::asio::awaitable<void> (*)(command_context&);
// Picks the shard of a command whose shard is not a key's (SCAN: from the cursor).
using route_handler = std::size_t (*)(server::server_context&, std::span<const std::string_view> argv);

// Per-command call counters (INFO commandstats).
// Striped per thread: every command bumps them, so one shared atomic per
// counter would make the pool threads fight over its cache line.
class command_stat {
 public:
  // LATENCY HISTOGRAM's buckets: bucket k counts calls that took less than
  // 1024 * 2^k ns (k = 0: under 1.024 us), as Redis's histogram iterated
  // from 1024 ns in steps of 2; the last bucket takes everything longer.
  static constexpr std::size_t latency_buckets = 36;

  void record_call(std::uint64_t usec) {
    c_.add(calls_i, 1);
    c_.add(usec_i, usec);
  }
  // With latency-tracking on.
  void record_latency(std::uint64_t usec) {
    const std::size_t k = static_cast<std::size_t>(std::bit_width(usec * 1000 / 1024));
    c_.add(bucket0_i + std::min(k, latency_buckets - 1), 1);
  }
  std::uint64_t latency_bucket(std::size_t k) const { return c_.load(bucket0_i + k); }
  void record_failure() { c_.add(failed_i, 1); }
  void record_rejection() { c_.add(rejected_i, 1); }
  std::uint64_t calls() const { return c_.load(calls_i); }
  std::uint64_t usec() const { return c_.load(usec_i); }
  std::uint64_t rejected_calls() const { return c_.load(rejected_i); }
  std::uint64_t failed_calls() const { return c_.load(failed_i); }
  void reset() { c_.reset(); }

 private:
  enum : std::size_t { calls_i, usec_i, rejected_i, failed_i, bucket0_i };
  util::striped_counters<bucket0_i + latency_buckets> c_;
};

struct command_row {
  const command_info* info = nullptr;
  exec_kind kind = exec_kind::keyed;
  sync_handler run = nullptr;          // keyed/local/all_shards; for session rows: the non-blocking form
  async_handler run_async = nullptr;
  route_handler route = nullptr;
  // Container commands (CONFIG, CLIENT, OBJECT...): rows of the subcommands.
  std::unordered_map<std::string, command_row> subcommands;
  bool is_container() const { return !subcommands.empty(); }
  bool simple_key_range = false;  // keys follow (first,last,step) exactly: no spec walk needed
  mutable command_stat stat;
};

class command_table {
 public:
  static command_table& instance();

  // Registration (at startup, single-threaded). `name` is "get" or "config|get".
  void add(std::string_view name, exec_kind kind, sync_handler handler, route_handler route = nullptr);
  // `nonblocking`: what the command does where it may not suspend (inside
  // MULTI/EXEC): a blocking pop's non-blocking form.
  void add_async(std::string_view name, async_handler handler, sync_handler nonblocking = nullptr);

  // Lookup as Redis's lookupCommand: the subcommand row when argv[0] is a
  // container and argv has a second word; the container row itself when not.
  // On failure returns nullptr and sets `error` to Redis's text.
  const command_row* lookup(std::span<const std::string_view> argv, std::string& error) const;
  const command_row* find(std::string_view name) const;

  // Implemented top-level commands, for COMMAND COUNT/LIST/INFO/DOCS.
  std::vector<const command_row*> rows() const;
  bool implemented(const command_info& info) const;

  // Key positions of a call (argv indexes).
  static void key_positions(const command_row& row, std::span<const std::string_view> argv, std::vector<int>& out);

 private:
  command_row& row_for(std::string_view name);
  std::unordered_map<std::string, command_row> rows_;
};

// A call that took `usec`: the row's counters, its latency histogram (with
// latency-tracking on) and the latency monitor's "command"/"fast-command"
// events (past latency-monitor-threshold).
void note_call(server::server_context& srv, const command_row& row, std::uint64_t usec);

// Registers every family's handlers into the table (idempotent).
void register_all_commands();
void register_connection_commands(command_table& t);
void register_tracking_commands(command_table& t);  // commands/tracking_commands.cpp
void register_migrate_command(command_table& t);    // commands/migrate_command.cpp
void register_string_commands(command_table& t);
void register_bit_commands(command_table& t);
void register_key_commands(command_table& t);
void register_sort_commands(command_table& t);  // commands/sort_command.cpp
void register_geo_commands(command_table& t);   // commands/geo_commands.cpp
void register_hll_commands(command_table& t);   // commands/hll_commands.cpp
void register_server_commands(command_table& t);
void register_list_commands(command_table& t);
void register_hash_commands(command_table& t);
void register_set_commands(command_table& t);
void register_zset_commands(command_table& t);
void register_zset_blocking_commands(command_table& t);
void register_transaction_commands(command_table& t);
void register_stream_commands(command_table& t);
void register_pubsub_commands(command_table& t);
void register_background_save_commands(command_table& t);
void register_persistence_commands(command_table& t);
void register_script_commands(command_table& t);    // commands/script_commands.cpp
void register_function_commands(command_table& t);  // commands/function_commands.cpp
void register_replication_commands(command_table& t);
void register_acl_commands(command_table& t);
void register_module_commands(command_table& t);  // commands/module_commands.cpp
void register_lolwut_command(command_table& t);    // commands/lolwut_command.cpp
void register_memory_commands(command_table& t);  // commands/memory_commands.cpp
void register_latency_commands(command_table& t);  // commands/latency_commands.cpp

}  // namespace shrike::commands
