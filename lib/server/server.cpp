#include "server/server.hpp"

#include <sched.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "acl/acl.hpp"
#include "commands/background_save.hpp"
#include "commands/command_table.hpp"
#include "commands/keyspace_notify.hpp"
#include "commands/maxmemory.hpp"
#include "commands/persistence.hpp"
#include "persistence/rdb_file.hpp"
#include "replication/failover.hpp"
#include "replication/replication_state.hpp"
#include "server/io_threads.hpp"
#include "server/keyspace_events.hpp"
#include "server/server_context.hpp"
#include "server/session.hpp"
#include "store/access_stamp.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "server/memory_report.hpp"
#include "util/version.hpp"

namespace shrike::server {

namespace asio = boost::asio;
using asio::ip::tcp;

std::size_t available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

namespace {

void log_exception(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    util::log_warning(std::string(what) + ": " + ex.what());
  } catch (...) {
    util::log_warning(std::string(what) + ": unknown exception");
  }
}

asio::awaitable<void> accept_loop(server_context& srv, tcp::acceptor& acceptor, io_threads& threads) {
  for (;;) {
    boost::system::error_code ec;
    // The session lives on one thread's context: whatever other threads post
    // to it (CLIENT KILL, pub/sub wake-ups, shard completions) is serialized
    // with it without a strand.
    tcp::socket socket =
        co_await acceptor.async_accept(threads.next_for_session(), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // EMFILE and friends: keep serving the clients we have
    }
    srv.stats().total_connections.fetch_add(1, std::memory_order_relaxed);
    if (static_cast<std::int64_t>(srv.client_count()) >= srv.max_clients.load()) {
      srv.stats().rejected_connections.fetch_add(1, std::memory_order_relaxed);
      static const char msg[] = "-ERR max number of clients reached\r\n";
      asio::write(socket, asio::buffer(msg, sizeof(msg) - 1), ec);
      continue;
    }
    auto ex = socket.get_executor();
    auto s = std::make_shared<session>(srv, std::move(socket));
    // The lambda keeps the session alive until its coroutine starts (on
    // another thread's context, later).
    asio::co_spawn(ex, [s] { return s->run(); }, [](std::exception_ptr e) { log_exception(e, "session"); });
  }
}

// The crons' step: waits one period; false once the server shuts down.
asio::awaitable<bool> next_tick(asio::steady_timer& timer, server_context& srv, std::chrono::milliseconds period) {
  timer.expires_after(period);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec && !srv.shutting_down();
}

// Closes clients idle for longer than `timeout` seconds (Redis's
// clientsCronHandleTimeout), checked once a second on an awaitable timer.
asio::awaitable<void> idle_client_reaper(server_context& srv) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    if (!co_await next_tick(timer, srv, std::chrono::seconds(1))) co_return;
    const std::int64_t timeout_s = srv.idle_timeout_s.load();
    if (timeout_s <= 0) continue;
    const std::int64_t now = util::now_ms();
    for (auto& c : srv.clients()) {
      // A blocked client waits on its command's own timeout, and pub/sub
      // clients never time out (as Redis).
      const bool subscribed = c->sub_count.load() + c->psub_count.load() + c->ssub_count.load() > 0;
      const bool replication_link = c->role.load() != peer_role::normal;  // repl-timeout's business
      if (now - c->last_interaction_ms.load() > timeout_s * 1000 && c->kill && !c->blocked.load() && !subscribed &&
          !replication_link) {
        util::log_verbose("Closing idle client");
        c->kill();
      }
    }
  }
}

// "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
// (the canonical form config_store keeps) into the per-class limits.
void apply_output_buffer_limits(server_context& srv, std::string_view value) {
  std::istringstream in{std::string(value)};
  std::string name;
  std::uint64_t hard = 0, soft = 0;
  std::int64_t seconds = 0;
  while (in >> name >> hard >> soft >> seconds) {
    const int cls = name == "normal" ? 0 : name == "pubsub" ? 2 : 1;
    srv.output_limits[cls].hard = hard;
    srv.output_limits[cls].soft = soft;
    srv.output_limits[cls].soft_seconds = seconds;
  }
}

// `save "3600 1 300 100 60 10000"`: (seconds, changes) pairs.
std::vector<std::pair<std::int64_t, std::int64_t>> save_points(config_store& config) {
  std::vector<std::pair<std::int64_t, std::int64_t>> points;
  std::istringstream in(config.get_one("save").value_or(""));
  std::int64_t seconds = 0, changes = 0;
  while (in >> seconds >> changes) points.emplace_back(seconds, changes);
  return points;
}

// serverCron's save points: a BGSAVE when some point's changes happened
// within its seconds since the last save; after a failed one, 5 s between
// attempts (CONFIG_BGSAVE_RETRY_DELAY).
asio::awaitable<void> save_point_cron(server_context& srv) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    if (!co_await next_tick(timer, srv, std::chrono::milliseconds(100))) co_return;
    if (srv.bgsave_started_ms.load() != 0) continue;
    const std::int64_t now_s = util::now_ms() / 1000;
    const std::uint64_t dirty = srv.dirty.load(), saved = srv.dirty_at_last_save.load();
    const std::uint64_t changes = dirty > saved ? dirty - saved : 0;
    if (!srv.last_bgsave_ok.load() && now_s - srv.last_bgsave_try_s.load() <= 5) continue;
    for (auto [seconds, needed] : save_points(srv.config())) {
      if (changes >= static_cast<std::uint64_t>(needed) && now_s - srv.lastsave_s.load() > seconds) {
        util::log_notice(std::to_string(needed) + " changes in " + std::to_string(seconds) + " seconds. Saving...");
        srv.last_bgsave_try_s = now_s;
        co_await commands::start_background_save(srv);
        break;
      }
    }
  }
}

// The allocation peak (used_memory_peak), sampled as often as Redis's
// serverCron samples it.
asio::awaitable<void> memory_peak_cron(server_context& srv) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    if (!co_await next_tick(timer, srv, std::chrono::milliseconds(100))) co_return;
    allocated_bytes();
  }
}

// The master's keepalive: a PING in the stream every repl-ping-replica-period
// seconds while replicas are attached (it also moves their offsets, which
// is how they notice a silent master); replicas silent for repl-timeout go.
asio::awaitable<void> replication_cron(server_context& srv) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::int64_t last_ping_ms = util::now_ms();
  for (;;) {
    if (!co_await next_tick(timer, srv, std::chrono::seconds(1))) co_return;
    const std::int64_t now = util::now_ms();
    const std::int64_t period_ms = srv.config().get_int("repl-ping-replica-period") * 1000;
    if (now - last_ping_ms >= period_ms) {
      last_ping_ms = now;
      // (Not while a FAILOVER with a timeout waits: the PING would move the
      // offset its replica must reach, as Redis holds it back then.)
      if (!srv.repl().is_replica() && !srv.failover().holds_pings()) srv.repl().feed_ping();
    }
    srv.repl().drop_timed_out_replicas();
  }
}

// FAILOVER's progress (replication/failover.hpp), checked every 100 ms as
// Redis runs its replication cron that often while a failover is on.
asio::awaitable<void> failover_cron(server_context& srv) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    if (!co_await next_tick(timer, srv, std::chrono::milliseconds(100))) co_return;
    srv.failover().check(util::now_ms());
  }
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

int run_server(config_store& config) {
  commands::register_all_commands();
  std::string level = config.get_one("loglevel").value_or("notice");
  util::log_level lv = util::log_level::notice;
  util::parse_log_level(level, lv);
  util::log_configure(lv, config.get_one("logfile").value_or(""));

  const auto threads = static_cast<std::size_t>(std::max<std::int64_t>(1, config.get_int("threads")));
  const auto shards = static_cast<std::size_t>(std::max<std::int64_t>(1, config.get_int("shards")));
  asio::io_context io(1);  // the main context, run by this thread
  server_context srv(io, config, threads, shards);
  io_threads pool(io, threads);  // after srv: its sessions refer to srv
  srv.max_clients = config.get_int("maxclients");
  srv.idle_timeout_s = config.get_int("timeout");
  srv.slowlog_slower_than_us = config.get_int("slowlog-log-slower-than");
  srv.slowlog_max_len = config.get_int("slowlog-max-len");
  config.on_change("maxclients", [&srv, &config](std::string_view) { srv.max_clients = config.get_int("maxclients"); });
  config.on_change("timeout", [&srv, &config](std::string_view) { srv.idle_timeout_s = config.get_int("timeout"); });
  config.on_change("slowlog-log-slower-than", [&srv, &config](std::string_view) {
    srv.slowlog_slower_than_us = config.get_int("slowlog-log-slower-than");
  });
  config.on_change("slowlog-max-len",
                   [&srv, &config](std::string_view) { srv.slowlog_max_len = config.get_int("slowlog-max-len"); });
  const std::pair<const char*, std::atomic<std::int64_t>*> hot_limits[] = {
      {"hash-max-listpack-entries", &srv.hash_max_listpack_entries},
      {"hash-max-listpack-value", &srv.hash_max_listpack_value},
      {"set-max-intset-entries", &srv.set_max_intset_entries},
      {"zset-max-listpack-entries", &srv.zset_max_listpack_entries},
      {"zset-max-listpack-value", &srv.zset_max_listpack_value},
      {"list-max-listpack-size", &srv.list_max_listpack_size},
      {"stream-node-max-entries", &srv.stream_node_max_entries},
      {"stream-node-max-bytes", &srv.stream_node_max_bytes},
      {"latency-monitor-threshold", &srv.latency_monitor_threshold_ms},
      {"proto-max-bulk-len", &srv.proto_max_bulk_len},
      {"tcp-keepalive", &srv.tcp_keepalive_s},
      {"maxmemory", &srv.maxmemory},
      {"maxmemory-samples", &srv.maxmemory_samples},
      {"lfu-log-factor", &store::access_stamp::lfu_log_factor},
      {"lfu-decay-time", &store::access_stamp::lfu_decay_time},
      {"client-query-buffer-limit", &srv.client_query_buffer_limit},
  };
  for (auto [name, slot] : hot_limits) {
    *slot = config.get_int(name);
    config.on_change(name, [slot, name, &config](std::string_view) { *slot = config.get_int(name); });
  }
  srv.stop_writes_on_bgsave_error = config.get_bool("stop-writes-on-bgsave-error");
  config.on_change("stop-writes-on-bgsave-error", [&srv, &config](std::string_view) {
    srv.stop_writes_on_bgsave_error = config.get_bool("stop-writes-on-bgsave-error");
  });
  srv.has_save_points = !save_points(config).empty();
  config.on_change("save", [&srv, &config](std::string_view) { srv.has_save_points = !save_points(config).empty(); });
  // maxmemory-policy: the eviction choice, and whether keys keep LFU data.
  auto apply_policy = [&srv, &config] {
    const auto p = commands::parse_eviction_policy(config.get_one("maxmemory-policy").value_or("noeviction"));
    const auto policy = p.value_or(commands::eviction_policy::noeviction);
    srv.maxmemory_policy = static_cast<int>(policy);
    store::access_stamp::lfu_mode =
        policy == commands::eviction_policy::allkeys_lfu || policy == commands::eviction_policy::volatile_lfu;
  };
  apply_policy();
  config.on_change("maxmemory-policy", [apply_policy](std::string_view) { apply_policy(); });
  srv.latency_tracking = config.get_bool("latency-tracking");
  config.on_change("latency-tracking",
                   [&srv, &config](std::string_view) { srv.latency_tracking = config.get_bool("latency-tracking"); });
  // The parsed bits, not the shown text: "AKEn" shows as "AKE" (as in Redis)
  // but keeps its "new" events.
  srv.keyspace_events = static_cast<int>(config.get_special_number("notify-keyspace-events"));
  config.on_change("notify-keyspace-events", [&srv, &config](std::string_view) {
    srv.keyspace_events = static_cast<int>(config.get_special_number("notify-keyspace-events"));
  });
  // "expired" events of the store's lazy and active expiry (outlives the
  // threads: they are joined before this function returns).
  commands::expiry_notifier expiry_notifier(srv);
  // CLIENT TRACKING BCAST: the changes gathered until the main context's next
  // pass go out together, as Redis sends them once per event-loop pass.
  srv.tracking().on_broadcast_due([&srv] { asio::post(srv.io(), [&srv] { srv.tracking().broadcast(); }); });
  srv.tracking().set_max_keys(static_cast<std::size_t>(config.get_int("tracking-table-max-keys")));
  config.on_change("tracking-table-max-keys", [&srv, &config](std::string_view) {
    srv.tracking().set_max_keys(static_cast<std::size_t>(config.get_int("tracking-table-max-keys")));
  });
  srv.shards().set_key_listener(&expiry_notifier);
  auto& repl = srv.repl();
  repl.read_only = config.get_bool("replica-read-only");
  repl.serve_stale_data = config.get_bool("replica-serve-stale-data");
  repl.resize_backlog(static_cast<std::size_t>(config.get_int("repl-backlog-size")));
  config.on_change("replica-read-only", [&](std::string_view) { repl.read_only = config.get_bool("replica-read-only"); });
  config.on_change("replica-serve-stale-data",
                   [&](std::string_view) { repl.serve_stale_data = config.get_bool("replica-serve-stale-data"); });
  const std::pair<const char*, std::atomic<int>*> repl_ints[] = {
      {"min-replicas-to-write", &repl.min_replicas_to_write},
      {"min-replicas-max-lag", &repl.min_replicas_max_lag},
  };
  for (auto [name, slot] : repl_ints) {
    *slot = static_cast<int>(config.get_int(name));
    config.on_change(name, [slot, name, &config](std::string_view) { *slot = static_cast<int>(config.get_int(name)); });
  }
  repl.timeout_s = config.get_int("repl-timeout");
  config.on_change("repl-timeout", [&](std::string_view) { repl.timeout_s = config.get_int("repl-timeout"); });
  config.on_change("repl-backlog-size", [&](std::string_view) {
    repl.resize_backlog(static_cast<std::size_t>(config.get_int("repl-backlog-size")));
  });
  apply_output_buffer_limits(srv, config.get_one("client-output-buffer-limit").value_or(""));
  config.on_change("client-output-buffer-limit", [&srv](std::string_view value) { apply_output_buffer_limits(srv, value); });

  // ACL users: requirepass, the `user` lines, the aclfile.
  if (std::string acl_error; !acl::load_at_startup(srv, acl_error)) {
    util::log_warning(acl_error);
    return 1;
  }

  // The dataset of the last SAVE, loaded before any client can connect.
  if (!commands::load_rdb_at_startup(srv)) return 1;
  srv.lastsave_s = util::now_ms() / 1000;  // as Redis: the time of start (or of the load)

  // Listeners: every address of `bind` ("-" prefix = optional, as Redis).
  const int port = static_cast<int>(config.get_int("port"));
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  for (auto addr : split_words(config.get_one("bind").value_or("* -::*"))) {
    bool optional = !addr.empty() && addr[0] == '-';
    if (optional) addr.erase(0, 1);
    try {
      asio::ip::address ip;
      if (addr == "*")
        ip = asio::ip::address_v4::any();
      else if (addr == "::*")
        ip = asio::ip::address_v6::any();
      else
        ip = asio::ip::make_address(addr);
      auto acc = std::make_unique<tcp::acceptor>(io);
      tcp::endpoint ep(ip, static_cast<unsigned short>(port));
      acc->open(ep.protocol());
      acc->set_option(tcp::acceptor::reuse_address(true));
      if (ip.is_v6()) acc->set_option(asio::ip::v6_only(true));
      acc->bind(ep);
      acc->listen(static_cast<int>(config.get_int("tcp-backlog")));
      acceptors.push_back(std::move(acc));
    } catch (const std::exception& e) {
      if (optional) continue;
      util::log_warning("Warning: Could not create server TCP listening socket " + addr + ":" +
                        std::to_string(port) + ": " + e.what());
      return 1;
    }
  }
  if (acceptors.empty()) {
    util::log_warning("Failed listening on port " + std::to_string(port) + " (tcp), aborting.");
    return 1;
  }
  srv.set_port(acceptors.front()->local_endpoint().port());

  for (auto& acc : acceptors)
    asio::co_spawn(io, accept_loop(srv, *acc, pool), [](std::exception_ptr e) { log_exception(e, "listener"); });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  srv.on_shutdown([&] {
    asio::post(io, [&] {
      util::log_notice("User requested shutdown...");
      boost::system::error_code ec;
      signals.cancel(ec);
      for (auto& acc : acceptors) acc->close(ec);
      srv.shards().stop();
      srv.repl().stop_link();
      for (auto& c : srv.clients())
        if (c->kill) c->kill();
      pool.release_workers();
      util::log_notice("Redis is now ready to exit, bye bye...");
    });
  });
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    util::log_notice(sig == SIGINT ? "Received SIGINT scheduling shutdown..." : "Received SIGTERM scheduling shutdown...");
    srv.request_shutdown();
  });

  srv.shards().start_expiry(std::chrono::milliseconds(100));
  asio::co_spawn(io, idle_client_reaper(srv), [](std::exception_ptr e) { log_exception(e, "idle reaper"); });
  asio::co_spawn(io, save_point_cron(srv), [](std::exception_ptr e) { log_exception(e, "save points"); });
  asio::co_spawn(io, memory_peak_cron(srv), [](std::exception_ptr e) { log_exception(e, "memory peak"); });
  asio::co_spawn(io, replication_cron(srv), [](std::exception_ptr e) { log_exception(e, "replication cron"); });
  asio::co_spawn(io, failover_cron(srv), [](std::exception_ptr e) { log_exception(e, "failover cron"); });
  // --replicaof "HOST PORT" (or replicaof in the JSON file): the link starts
  // once we listen, so the master learns our real port.
  if (auto words = split_words(config.get_one("replicaof").value_or("")); words.size() == 2)
    repl.replicate(words[0], std::atoi(words[1].c_str()));
  util::log_notice("Shrike server started, Redis version " + std::string(util::redis_version) + " compatible; threads=" + std::to_string(threads) +
                   " shards=" + std::to_string(shards) + " port=" + std::to_string(srv.port()));
  note_startup_memory();
  util::log_notice("Ready to accept connections tcp");

  pool.run();
  // Nothing runs any more: the final save needs no gates.
  const auto mode = srv.shutdown_save.load();
  if (mode == server_context::exit_save::always ||
      (mode == server_context::exit_save::if_save_points && !save_points(config).empty())) {
    util::log_notice("Saving the final RDB snapshot before exiting.");
    std::string error;
    const std::int64_t now = util::now_ms();
    if (!persistence::save_file(commands::rdb_path(srv), commands::rdb_temp_path(srv, "shutdown"), srv.shards(),
                                commands::rdb_save_options_for(srv), commands::rdb_aux_fields(now), now, error)) {
      util::log_warning("Error trying to save the DB, can't exit: " + error);
      return 1;
    }
    util::log_notice("DB saved on disk");
  }
  return 0;
}

}  // namespace shrike::server
