#pragma once
// State shared by all sessions: configuration, the shard set, statistics,
// the client registry. Everything here is safe to use from any pool thread.
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "server/client_state.hpp"
#include "server/tracking_table.hpp"
#include "server/config_store.hpp"
#include "server/outbox.hpp"
#include "server/pubsub_registry.hpp"
#include "server/latency_monitor.hpp"
#include "server/pause_gate.hpp"
#include "server/watch_table.hpp"
#include "store/shard_set.hpp"
#include "util/striped_counter.hpp"

namespace shrike::persistence {
class snapshot;
}
namespace shrike::replication {
class replication_state;
class failover;
}
namespace shrike::acl {
class registry;
}
namespace shrike::scripting {
class scripting_state;
}

namespace shrike::server {

// Striped per thread (util/striped_counter.hpp): commands bump these on
// every call from every pool thread.
struct server_stats {
  util::striped_counter total_connections;
  util::striped_counter rejected_connections;
  util::striped_counter total_commands;
  util::striped_counter net_input_bytes;
  util::striped_counter net_output_bytes;
  util::striped_counter expired_keys;
  util::striped_counter evicted_keys;
  util::striped_counter keyspace_hits;
  util::striped_counter keyspace_misses;
  util::striped_counter error_replies;
  util::striped_counter unexpected_error_replies;
  void reset();
};

struct slowlog_entry {
  std::uint64_t id;
  std::int64_t time_s;
  std::int64_t duration_us;
  std::vector<std::string> argv;
  std::string addr;
  std::string name;
};

class server_context {
 public:
  server_context(boost::asio::io_context& io, config_store& config, std::size_t threads, std::size_t shards);
  ~server_context();

  boost::asio::io_context& io() { return io_; }
  config_store& config() { return config_; }
  store::shard_set& shards() { return shards_; }
  server_stats& stats() { return stats_; }
  std::size_t threads() const { return threads_; }
  std::size_t databases() const { return shards_.database_count(); }

  const std::string& run_id() const { return run_id_; }
  std::int64_t start_time_ms() const { return start_ms_; }
  int port() const { return port_.load(); }
  void set_port(int p) { port_ = p; }

  // Client registry.
  std::uint64_t next_client_id() { return ++last_client_id_; }
  void register_client(std::shared_ptr<client_state> c);
  void unregister_client(std::uint64_t id);
  std::vector<std::shared_ptr<client_state>> clients() const;
  std::shared_ptr<client_state> find_client(std::uint64_t id) const;  // null when gone
  std::size_t client_count() const;

  // SLOWLOG
  void slowlog_push(slowlog_entry e);
  std::vector<slowlog_entry> slowlog_get(std::size_t count) const;
  std::size_t slowlog_len() const;
  void slowlog_reset();
  std::uint64_t next_slowlog_id() { return slowlog_id_++; }

  std::atomic<std::int64_t> lastsave_s{0};

  // Hot configuration values, refreshed by config_store change callbacks.
  std::atomic<std::int64_t> slowlog_slower_than_us{10000};
  std::atomic<std::int64_t> latency_monitor_threshold_ms{0};  // latency-monitor-threshold
  std::atomic<bool> latency_tracking{true};                   // latency-tracking
  std::atomic<std::int64_t> slowlog_max_len{128};
  std::atomic<std::int64_t> max_clients{10000};
  std::atomic<std::int64_t> idle_timeout_s{0};
  // maxmemory (0: none), maxmemory-policy (commands/maxmemory.hpp's
  // eviction_policy), maxmemory-samples; oom_state: the last check before a
  // batch found memory over the limit with nothing left to evict (scripts'
  // pre_command_oom_state).
  std::atomic<std::int64_t> maxmemory{0};
  std::atomic<int> maxmemory_policy{0};
  std::atomic<std::int64_t> maxmemory_samples{5};
  std::atomic<bool> oom_state{false};
  std::atomic<bool> eviction_running{false};  // a background eviction goes on (commands/maxmemory.cpp)
  // tcp-keepalive: probes after this many idle seconds on new connections (0: off).
  std::atomic<std::int64_t> tcp_keepalive_s{300};
  // Request limits of clients (a master's link has none, as in Redis).
  std::atomic<std::int64_t> proto_max_bulk_len{512ll * 1024 * 1024};             // proto-max-bulk-len
  std::atomic<std::int64_t> client_query_buffer_limit{1024ll * 1024 * 1024};  // client-query-buffer-limit
  // Compact-encoding limits of the collection types (Redis's defaults).
  std::atomic<std::int64_t> hash_max_listpack_entries{512};
  std::atomic<std::int64_t> hash_max_listpack_value{64};
  std::atomic<std::int64_t> set_max_intset_entries{512};
  std::atomic<std::int64_t> zset_max_listpack_entries{128};
  std::atomic<std::int64_t> zset_max_listpack_value{64};
  std::atomic<std::int64_t> list_max_listpack_size{-2};
  std::atomic<std::int64_t> stream_node_max_entries{100};
  std::atomic<std::int64_t> stream_node_max_bytes{4096};
  // Clients waiting in blocking commands (INFO blocked_clients).
  std::atomic<std::int64_t> blocked_clients{0};
  std::string requirepass() const;

  watch_table& watches() { return watches_; }
  pause_gate& pause() { return pause_; }
  latency_monitor& latency() { return latency_; }
  tracking_table& tracking() { return tracking_; }

  // BGSAVE (persistence/snapshot.hpp): the snapshot in progress, set and
  // cleared with every shard's gate held; write commands save the keys they
  // are about to change into it first.
  std::atomic<persistence::snapshot*> active_snapshot{nullptr};
  std::atomic<bool> bgsave_scheduled{false};
  std::atomic<bool> last_bgsave_ok{true};
  std::atomic<std::int64_t> last_bgsave_seconds{-1};
  std::atomic<std::int64_t> bgsave_started_ms{0};
  std::atomic<std::int64_t> last_bgsave_try_s{0};
  // writeCommandsDeniedByDiskError: after a failed save, with save points set
  // and stop-writes-on-bgsave-error on, clients' writes (and PING) get MISCONF.
  std::atomic<bool> stop_writes_on_bgsave_error{true};
  std::atomic<bool> has_save_points{false};
  bool writes_denied_by_disk_error() const {
    return !last_bgsave_ok.load(std::memory_order_relaxed) &&
           stop_writes_on_bgsave_error.load(std::memory_order_relaxed) &&
           has_save_points.load(std::memory_order_relaxed);
  }
  // Write commands since the last successful save (rdb_changes_since_last_save).
  util::striped_counter dirty;
  std::atomic<std::uint64_t> dirty_at_last_save{0};
  std::atomic<std::uint64_t> bgsave_keys_saved{0};
  std::atomic<std::uint64_t> bgsave_keys_total{0};
  std::atomic<std::uint64_t> rdb_saves{0};  // successful SAVEs and BGSAVEs
  std::atomic<std::uint64_t> last_load_keys_loaded{0}, last_load_keys_expired{0};
  pubsub_registry& pubsub() { return pubsub_; }
  // ACL users and the ACL LOG (acl/registry.hpp).
  acl::registry& acl() { return *acl_; }
  // Replication: the stream to replicas, the link to a master.
  replication::replication_state& repl() { return *repl_; }
  // FAILOVER's state (replication/failover.hpp).
  replication::failover& failover() { return *failover_; }
  // Lua scripts and functions (scripting/scripting_state.hpp), created on
  // first use by scripting::state(srv).
  std::shared_ptr<scripting::scripting_state> scripting;
  std::once_flag scripting_once;
  // Set while a script runs past busy-reply-threshold (1: EVAL, 2: FCALL):
  // the dispatcher refuses other clients' commands with -BUSY.
  std::atomic<int> script_busy{0};
  // client-output-buffer-limit, indexed by client_class.
  output_limit output_limits[3];
  // notify-keyspace-events as flag bits (server/keyspace_events.hpp).
  std::atomic<int> keyspace_events{0};

  // MONITOR: clients that receive every executed command.
  void add_monitor(std::shared_ptr<client_state> c);
  bool has_monitors() const { return monitor_count_.load(std::memory_order_relaxed) > 0; }
  void feed_monitors(std::int64_t now_us, std::size_t db, const client_state& from,
                     std::span<const std::string_view> argv);

  // Shutdown request (SHUTDOWN, signals): set once; the server stops.
  void request_shutdown();
  // How the exit saves: SHUTDOWN SAVE / NOSAVE, or (default) only when save
  // points are configured, as Redis.
  enum class exit_save : int { if_save_points = 0, always = 1, never = 2 };
  std::atomic<exit_save> shutdown_save{exit_save::if_save_points};
  bool shutting_down() const { return shutting_down_.load(); }
  void on_shutdown(std::function<void()> fn) { shutdown_fn_ = std::move(fn); }

 private:
  boost::asio::io_context& io_;
  config_store& config_;
  std::size_t threads_;
  store::shard_set shards_;
  server_stats stats_;
  std::string run_id_;
  std::int64_t start_ms_;
  std::atomic<int> port_{0};

  // Redis 7.0's two internal clients (scripts' and functions' Lua clients)
  // take ids 1 and 2: its first connection is 3, and so is ours.
  std::atomic<std::uint64_t> last_client_id_{2};
  mutable std::mutex clients_mutex_;
  std::map<std::uint64_t, std::shared_ptr<client_state>> clients_;

  mutable std::mutex slowlog_mutex_;
  std::deque<slowlog_entry> slowlog_;
  std::atomic<std::uint64_t> slowlog_id_{0};

  mutable std::mutex monitors_mutex_;
  std::vector<std::weak_ptr<client_state>> monitors_;
  std::atomic<int> monitor_count_{0};

  watch_table watches_;
  pause_gate pause_;
  latency_monitor latency_;
  tracking_table tracking_;
  pubsub_registry pubsub_;
  std::shared_ptr<acl::registry> acl_;
  std::unique_ptr<replication::replication_state> repl_;
  std::unique_ptr<replication::failover> failover_;
  std::function<void()> shutdown_fn_;
  std::atomic<bool> shutting_down_{false};
  std::once_flag shutdown_once_;
};

}  // namespace shrike::server
