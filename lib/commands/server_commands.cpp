// Server: COMMAND, CONFIG, INFO, TIME, LASTSAVE, SLOWLOG, DEBUG, SHUTDOWN.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/version.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/replication.hpp"
#include "replication/replication_state.hpp"
#include "scripting/info.hpp"
#include "server/memory_report.hpp"
#include "util/clock.hpp"
#include "util/glob.hpp"
#include "util/version.hpp"

#ifndef SHRIKE_VERSION
#define SHRIKE_VERSION "0.1.0"
#endif

namespace shrike::commands {

namespace {

// --- COMMAND ------------------------------------------------------------------

command_filter implemented_filter() {
  return [](const command_info& info) { return command_table::instance().implemented(info); };
}

void cmd_command(command_context& ctx) {
  auto rows = command_table::instance().rows();
  ctx.out.array(rows.size());
  auto filter = implemented_filter();
  for (auto* row : rows) write_command_info(ctx.out, *row->info, filter);
}

void cmd_command_count(command_context& ctx) {
  ctx.out.integer(static_cast<std::int64_t>(command_table::instance().rows().size()));
}

const command_info* implemented_by_full_name(std::string_view name) {
  const command_info* info = command_metadata::instance().find_by_full_name(name);
  if (!info || !command_table::instance().implemented(*info)) return nullptr;
  return info;
}

void cmd_command_info(command_context& ctx) {
  auto filter = implemented_filter();
  if (ctx.argc() == 2) return cmd_command(ctx);
  ctx.out.array(ctx.argc() - 2);
  for (std::size_t j = 2; j < ctx.argc(); ++j) {
    if (auto* info = implemented_by_full_name(ctx.arg(j)))
      write_command_info(ctx.out, *info, filter);
    else
      ctx.out.null();
  }
}

void cmd_command_docs(command_context& ctx) {
  auto filter = implemented_filter();
  std::vector<const command_info*> infos;
  if (ctx.argc() == 2) {
    for (auto* row : command_table::instance().rows()) infos.push_back(row->info);
  } else {
    for (std::size_t j = 2; j < ctx.argc(); ++j)
      if (auto* info = implemented_by_full_name(ctx.arg(j))) infos.push_back(info);
  }
  ctx.out.map(infos.size());
  for (auto* info : infos) {
    ctx.out.bulk(info->name);
    write_command_docs(ctx.out, *info, filter);
  }
}

void cmd_command_list(command_context& ctx) {
  std::string_view pattern, category, module;
  bool by_pattern = false, by_category = false, by_module = false;
  if (ctx.argc() > 2) {
    if (ctx.argc() != 5 || !iequals(ctx.arg(2), "filterby")) return ctx.out.error(errors::syntax);
    auto kind = ctx.arg(3);
    if (iequals(kind, "pattern")) {
      pattern = ctx.arg(4);
      by_pattern = true;
    } else if (iequals(kind, "aclcat")) {
      category = ctx.arg(4);
      by_category = true;
    } else if (iequals(kind, "module")) {
      module = ctx.arg(4);
      by_module = true;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  std::vector<std::string> names;
  auto consider = [&](const command_info& info) {
    if (by_module) return;
    if (by_pattern && !util::glob_match(pattern, info.name, true)) return;
    if (by_category && !(info.acl_categories & acl_category_from_name(category))) return;
    names.push_back(info.name);
  };
  for (auto* row : command_table::instance().rows()) {
    consider(*row->info);
    for (auto* sub : row->info->subcommands)
      if (command_table::instance().implemented(*sub)) consider(*sub);
  }
  ctx.out.array(names.size());
  for (auto& n : names) ctx.out.bulk(n);
}

void getkeys_generic(command_context& ctx, bool with_flags) {
  auto argv = ctx.argv.subspan(2);
  std::string lookup_error;
  const command_row* row = command_table::instance().lookup(argv, lookup_error);
  const command_info* info = row ? row->info : nullptr;
  if (!row) {
    // An unknown command and a bad arity have their own texts here.
    if (lookup_error.rfind("wrong number", 0) == 0)
      return ctx.out.error("Invalid number of arguments specified for command");
    return ctx.out.error("Invalid command specified");
  }
  if (!has_key_arguments(*info)) return ctx.out.error("The command has no key arguments");
  std::vector<int> positions;
  std::vector<std::uint32_t> flags;
  std::string error;
  if (!key_positions(*info, argv, positions, &error, with_flags ? &flags : nullptr)) return ctx.out.error(error);
  ctx.out.array(positions.size());
  for (std::size_t i = 0; i < positions.size(); ++i) {
    if (with_flags) {
      ctx.out.array(2);
      ctx.out.bulk(argv[static_cast<std::size_t>(positions[i])]);
      write_key_flags(ctx.out, flags[i]);
    } else {
      ctx.out.bulk(argv[static_cast<std::size_t>(positions[i])]);
    }
  }
}
void cmd_command_getkeys(command_context& ctx) { getkeys_generic(ctx, false); }
void cmd_command_getkeysandflags(command_context& ctx) { getkeys_generic(ctx, true); }

void cmd_command_help(command_context& ctx) {
  write_help(ctx, {
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "GETKEYSANDFLAGS <full-command>",
      "    Return the keys and the access flags from a full Redis command.",
  });
}

// --- CONFIG -------------------------------------------------------------------

void cmd_config_get(command_context& ctx) {
  auto pairs = ctx.srv.config().get(ctx.argv.subspan(2));
  ctx.out.map(pairs.size());
  for (auto& [k, v] : pairs) {
    ctx.out.bulk(k);
    ctx.out.bulk(v);
  }
}

void cmd_config_set(command_context& ctx) {
  if (ctx.argc() % 2 != 0) return ctx.out.error(errors::syntax);
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (std::size_t j = 2; j + 1 < ctx.argc(); j += 2) pairs.emplace_back(ctx.arg(j), ctx.arg(j + 1));
  std::string error;
  if (!ctx.srv.config().set(pairs, error)) return ctx.out.error(error);
  ctx.out.ok();
}

void cmd_config_resetstat(command_context& ctx) {
  ctx.srv.stats().reset();
  for (auto* row : command_table::instance().rows()) {
    row->stat.reset();
    for (auto& [name, sub] : row->subcommands) sub.stat.reset();
  }
  ctx.srv.slowlog_reset();
  ctx.out.ok();
}

void cmd_config_rewrite(command_context& ctx) {
  std::string error;
  if (!ctx.srv.config().rewrite(error)) return ctx.out.error(error);
  ctx.out.ok();
}

void cmd_config_help(command_context& ctx) {
  write_help(ctx, {
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
  });
}

// --- INFO ---------------------------------------------------------------------

void line(std::string& s, std::string_view key, const std::string& value) {
  s.append(key);
  s.push_back(':');
  s.append(value);
  s.append("\r\n");
}
template <class T>
void line(std::string& s, std::string_view key, T value) {
  line(s, key, std::to_string(value));
}

bool want(const std::set<std::string>& sections, bool all, bool everything, std::string_view name, bool default_on = true) {
  if (everything) return true;
  if (all) return name != "commandstats" && name != "latencystats";
  if (sections.empty()) return default_on;
  return sections.count(std::string(name)) > 0;
}

void cmd_info(command_context& ctx) {
  std::set<std::string> sections;
  bool all = false, everything = false, defaults = false;
  for (std::size_t j = 1; j < ctx.argc(); ++j) {
    std::string s(ctx.arg(j));
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "all") all = true;
    else if (s == "everything") everything = true;
    else if (s == "default") defaults = true;
    else sections.insert(s);
  }
  if (defaults && sections.empty()) sections = {"server", "clients", "memory", "persistence", "stats", "replication",
                                                "cpu", "modules", "errorstats", "cluster", "keyspace"};
  else if (defaults)
    for (auto s : {"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
                   "errorstats", "cluster", "keyspace"})
      sections.insert(s);
  auto& srv = ctx.srv;
  std::string out;
  auto section = [&](std::string_view name, bool default_on = true) {
    if (!want(sections, all, everything, name, default_on)) return false;
    if (!out.empty()) out.append("\r\n");
    std::string title(name);
    title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
    if (name == "cpu") title = "CPU";
    out.append("# " + title + "\r\n");
    return true;
  };
  const std::int64_t now_us = util::now_us();
  const std::int64_t uptime = (ctx.now_ms - srv.start_time_ms()) / 1000;
  if (section("server")) {
    utsname u{};
    uname(&u);
    line(out, "redis_version", std::string(util::redis_version));
    line(out, "shrike_version", std::string(SHRIKE_VERSION));
    line(out, "redis_git_sha1", std::string("00000000"));
    line(out, "redis_git_dirty", 0);
    line(out, "redis_build_id", std::string("0"));
    line(out, "redis_mode", std::string("standalone"));
    line(out, "os", std::string(u.sysname) + " " + u.release + " " + u.machine);
    line(out, "arch_bits", static_cast<int>(sizeof(void*) * 8));
    line(out, "monotonic_clock", std::string("POSIX clock_gettime"));
    line(out, "multiplexing_api", std::string("epoll"));
    line(out, "atomicvar_api", std::string("c11-builtin"));
    line(out, "gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                                 std::to_string(__GNUC_PATCHLEVEL__));
    line(out, "process_id", static_cast<long>(getpid()));
    line(out, "process_supervised", std::string("no"));
    line(out, "run_id", srv.run_id());
    line(out, "tcp_port", srv.port());
    line(out, "server_time_usec", now_us);
    line(out, "uptime_in_seconds", uptime);
    line(out, "uptime_in_days", uptime / 86400);
    line(out, "hz", 10);
    line(out, "configured_hz", 10);
    line(out, "lru_clock", (ctx.now_ms / 1000) & ((1 << 24) - 1));
    line(out, "executable", std::string(""));
    line(out, "config_file", std::string(""));
    line(out, "io_threads_active", 0);
    line(out, "shrike_threads", srv.threads());
    line(out, "shrike_shards", srv.shards().size());
  }
  if (section("clients")) {
    line(out, "connected_clients", srv.client_count());
    line(out, "cluster_connections", 0);
    line(out, "maxclients", srv.max_clients.load());
    line(out, "client_recent_max_input_buffer", 0);
    line(out, "client_recent_max_output_buffer", 0);
    line(out, "blocked_clients", srv.blocked_clients.load());
    line(out, "tracking_clients", srv.tracking().client_count());
    line(out, "clients_in_timeout_table", 0);
  }
  if (section("memory")) {
    const server::memory_figures m = server::collect_memory_figures(srv);
    auto percent = [](double v) {
      char text[32];
      std::snprintf(text, sizeof(text), "%.2f%%", v);
      return std::string(text);
    };
    auto fixed2 = [](double v) {
      char text[32];
      std::snprintf(text, sizeof(text), "%.2f", v);
      return std::string(text);
    };
    line(out, "used_memory", m.total_allocated);
    line(out, "used_memory_human", util::bytes_to_human(m.total_allocated));
    line(out, "used_memory_rss", m.process_rss);
    line(out, "used_memory_rss_human", util::bytes_to_human(m.process_rss));
    line(out, "used_memory_peak", m.peak_allocated);
    line(out, "used_memory_peak_human", util::bytes_to_human(m.peak_allocated));
    line(out, "used_memory_peak_perc", percent(m.peak_perc));
    line(out, "used_memory_overhead", m.overhead_total);
    line(out, "used_memory_startup", m.startup_allocated);
    line(out, "used_memory_dataset", m.dataset);
    line(out, "used_memory_dataset_perc", percent(m.dataset_perc));
    line(out, "allocator_allocated", m.allocator_allocated);
    line(out, "allocator_active", m.allocator_active);
    line(out, "allocator_resident", m.allocator_resident);
    const std::uint64_t system_memory =
        static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    line(out, "total_system_memory", system_memory);
    line(out, "total_system_memory_human", util::bytes_to_human(system_memory));
    scripting::append_info_memory(srv, out);  // used_memory_lua ... used_memory_scripts_human
    line(out, "maxmemory", srv.config().get_int("maxmemory"));
    line(out, "maxmemory_human", util::bytes_to_human(static_cast<std::uint64_t>(srv.config().get_int("maxmemory"))));
    line(out, "maxmemory_policy", srv.config().get_one("maxmemory-policy").value_or("noeviction"));
    line(out, "allocator_frag_ratio", fixed2(m.allocator_frag));
    line(out, "allocator_frag_bytes", m.allocator_frag_bytes);
    line(out, "allocator_rss_ratio", fixed2(m.allocator_rss));
    line(out, "allocator_rss_bytes", m.allocator_rss_bytes);
    line(out, "rss_overhead_ratio", fixed2(m.rss_extra));
    line(out, "rss_overhead_bytes", m.rss_extra_bytes);
    line(out, "mem_fragmentation_ratio", fixed2(m.total_frag));
    line(out, "mem_fragmentation_bytes", m.total_frag_bytes);
    line(out, "mem_not_counted_for_evict", 0);
    line(out, "mem_replication_backlog", m.repl_backlog);
    line(out, "mem_total_replication_buffers", m.repl_backlog + m.clients_replicas);
    line(out, "mem_clients_slaves", m.clients_replicas);
    line(out, "mem_clients_normal", m.clients_normal);
    line(out, "mem_cluster_links", 0);
    line(out, "mem_aof_buffer", 0);
    line(out, "mem_allocator", std::string("libc"));
    line(out, "active_defrag_running", 0);
    line(out, "lazyfree_pending_objects", 0);
    line(out, "lazyfreed_objects", 0);
  }
  if (section("persistence")) {
    line(out, "loading", 0);
    line(out, "async_loading", 0);
    const std::int64_t bg_start = srv.bgsave_started_ms.load();
    const std::uint64_t dirty = srv.dirty.load(), saved = srv.dirty_at_last_save.load();
    // No fork, so no copy-on-write: the cow fields are truly 0.
    line(out, "current_cow_peak", 0);
    line(out, "current_cow_size", 0);
    line(out, "current_cow_size_age", 0);
    line(out, "current_fork_perc", std::string("0.00"));
    line(out, "current_save_keys_processed", static_cast<std::int64_t>(bg_start ? srv.bgsave_keys_saved.load() : 0));
    line(out, "current_save_keys_total", static_cast<std::int64_t>(bg_start ? srv.bgsave_keys_total.load() : 0));
    line(out, "rdb_changes_since_last_save", static_cast<std::int64_t>(dirty > saved ? dirty - saved : 0));
    line(out, "rdb_bgsave_in_progress", bg_start ? 1 : 0);
    line(out, "rdb_last_save_time", srv.lastsave_s.load());
    line(out, "rdb_last_bgsave_status", std::string(srv.last_bgsave_ok.load() ? "ok" : "err"));
    line(out, "rdb_last_bgsave_time_sec", srv.last_bgsave_seconds.load());
    line(out, "rdb_current_bgsave_time_sec", bg_start ? (ctx.now_ms - bg_start) / 1000 : -1);
    line(out, "rdb_saves", static_cast<std::int64_t>(srv.rdb_saves.load()));
    line(out, "rdb_last_cow_size", 0);
    line(out, "rdb_last_load_keys_expired", static_cast<std::int64_t>(srv.last_load_keys_expired.load()));
    line(out, "rdb_last_load_keys_loaded", static_cast<std::int64_t>(srv.last_load_keys_loaded.load()));
    // No AOF and no module forks (yet): Redis's values for a server without them.
    line(out, "aof_enabled", 0);
    line(out, "aof_rewrite_in_progress", 0);
    line(out, "aof_rewrite_scheduled", 0);
    line(out, "aof_last_rewrite_time_sec", -1);
    line(out, "aof_current_rewrite_time_sec", -1);
    line(out, "aof_last_bgrewrite_status", std::string("ok"));
    line(out, "aof_rewrites", 0);
    line(out, "aof_rewrites_consecutive_failures", 0);
    line(out, "aof_last_write_status", std::string("ok"));
    line(out, "aof_last_cow_size", 0);
    line(out, "module_fork_in_progress", 0);
    line(out, "module_fork_last_cow_size", 0);
  }
  if (section("stats")) {
    auto& st = srv.stats();
    line(out, "total_connections_received", st.total_connections.load());
    line(out, "total_commands_processed", st.total_commands.load());
    line(out, "instantaneous_ops_per_sec", 0);
    line(out, "total_net_input_bytes", st.net_input_bytes.load());
    line(out, "total_net_output_bytes", st.net_output_bytes.load());
    line(out, "rejected_connections", st.rejected_connections.load());
    line(out, "sync_full", static_cast<std::int64_t>(srv.repl().sync_full.load()));
    line(out, "sync_partial_ok", static_cast<std::int64_t>(srv.repl().sync_partial_ok.load()));
    line(out, "sync_partial_err", static_cast<std::int64_t>(srv.repl().sync_partial_err.load()));
    std::uint64_t expired = 0;
    for (std::size_t s = 0; s < srv.shards().size(); ++s)
      for (std::size_t d = 0; d < srv.databases(); ++d) expired += srv.shards().at(s).db(d).expired_total();
    line(out, "expired_keys", expired);
    line(out, "evicted_keys", srv.stats().evicted_keys.load());
    line(out, "keyspace_hits", st.keyspace_hits.load());
    line(out, "keyspace_misses", st.keyspace_misses.load());
    line(out, "pubsub_channels", static_cast<std::int64_t>(ctx.srv.pubsub().channel_count(server::channel_kind::global)));
    line(out, "pubsub_patterns", static_cast<std::int64_t>(ctx.srv.pubsub().pattern_count()));
    line(out, "tracking_total_keys", srv.tracking().total_keys());
    line(out, "tracking_total_items", srv.tracking().total_items());
    line(out, "tracking_total_prefixes", srv.tracking().total_prefixes());
    line(out, "total_error_replies", st.error_replies.load());
  }
  if (section("replication")) out += replication_info_text(srv);
  if (section("cpu")) {
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    auto tv = [](const timeval& t) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(t.tv_sec), static_cast<long>(t.tv_usec));
      return std::string(buf);
    };
    line(out, "used_cpu_sys", tv(self.ru_stime));
    line(out, "used_cpu_user", tv(self.ru_utime));
    line(out, "used_cpu_sys_children", std::string("0.000000"));
    line(out, "used_cpu_user_children", std::string("0.000000"));
  }
  if (section("modules")) {
  }
  if (section("commandstats", false)) {
    auto emit = [&](const command_row& row) {
      const auto calls = row.stat.calls();
      if (!calls && !row.stat.rejected_calls() && !row.stat.failed_calls()) return;
      char buf[256];
      const auto usec = row.stat.usec();
      std::snprintf(buf, sizeof(buf), "calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu",
                    static_cast<unsigned long long>(calls), static_cast<unsigned long long>(usec),
                    calls ? static_cast<double>(usec) / static_cast<double>(calls) : 0.0,
                    static_cast<unsigned long long>(row.stat.rejected_calls()),
                    static_cast<unsigned long long>(row.stat.failed_calls()));
      line(out, "cmdstat_" + row.info->name, std::string(buf));
    };
    for (auto* row : command_table::instance().rows()) {
      emit(*row);
      for (auto& [n, sub] : row->subcommands) emit(sub);
    }
  }
  if (section("errorstats")) {
  }
  if (section("latencystats", false)) {
    // latency-tracking-info-percentiles, each from the command's histogram
    // (the upper bound of the bucket that reaches it).
    // As CONFIG GET shows them ("50 99 99.9"), which is how INFO names them.
    std::vector<std::string> percentiles;
    {
      std::istringstream in(srv.config().get_one("latency-tracking-info-percentiles").value_or(""));
      std::string p;
      while (in >> p) percentiles.push_back(p);
    }
    auto emit = [&](const command_row& row) {
      std::uint64_t counts[command_stat::latency_buckets], total = 0;
      for (std::size_t k = 0; k < command_stat::latency_buckets; ++k) total += counts[k] = row.stat.latency_bucket(k);
      if (!total) return;
      std::string text;
      for (std::size_t j = 0; j < percentiles.size(); ++j) {
        const double wanted = std::strtod(percentiles[j].c_str(), nullptr) / 100.0 * static_cast<double>(total);
        std::uint64_t cumulative = 0;
        std::size_t k = 0;
        for (; k + 1 < command_stat::latency_buckets; ++k) {
          cumulative += counts[k];
          if (cumulative > 0 && static_cast<double>(cumulative) >= wanted) break;
        }
        char buf[96];
        std::snprintf(buf, sizeof(buf), "%s%s=%.3f", j ? ",p" : "p", percentiles[j].c_str(),
                      static_cast<double>(std::uint64_t{1024} << k) / 1000.0);
        text += buf;
      }
      line(out, "latency_percentiles_usec_" + row.info->name, text);
    };
    for (auto* row : command_table::instance().rows()) {
      emit(*row);
      for (auto& [n, sub] : row->subcommands) emit(sub);
    }
  }
  if (section("cluster")) {
    line(out, "cluster_enabled", 0);
  }
  if (section("keyspace")) {
    for (std::size_t d = 0; d < srv.databases(); ++d) {
      std::size_t keys = 0, expires = 0;
      for (std::size_t s = 0; s < srv.shards().size(); ++s) {
        keys += srv.shards().at(s).db(d).size();
        expires += srv.shards().at(s).db(d).expires_count();
      }
      if (keys)
        line(out, "db" + std::to_string(d),
             "keys=" + std::to_string(keys) + ",expires=" + std::to_string(expires) + ",avg_ttl=0");
    }
  }
  ctx.out.verbatim(out);
}

// --- misc ---------------------------------------------------------------------

void cmd_time(command_context& ctx) {
  const std::int64_t us = util::now_us();
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(us / 1000000));
  ctx.out.bulk(std::to_string(us % 1000000));
}

void cmd_lastsave(command_context& ctx) { ctx.out.integer(ctx.srv.lastsave_s.load()); }

void cmd_slowlog_get(command_context& ctx) {
  std::int64_t count = 10;
  if (ctx.argc() > 3) return subcommand_syntax_error(ctx);
  if (ctx.argc() == 3) {
    if (!util::parse_int64(ctx.arg(2), count) || count < -1)
      return ctx.out.error("count should be greater than or equal to -1");
    if (count == -1) count = INT64_MAX;
  }
  auto entries = ctx.srv.slowlog_get(static_cast<std::size_t>(count));
  ctx.out.array(entries.size());
  for (auto& e : entries) {
    ctx.out.array(6);
    ctx.out.integer(static_cast<std::int64_t>(e.id));
    ctx.out.integer(e.time_s);
    ctx.out.integer(e.duration_us);
    ctx.out.array(e.argv.size());
    for (auto& a : e.argv) ctx.out.bulk(a);
    ctx.out.bulk(e.addr);
    ctx.out.bulk(e.name);
  }
}
void cmd_slowlog_len(command_context& ctx) { ctx.out.integer(static_cast<std::int64_t>(ctx.srv.slowlog_len())); }
void cmd_slowlog_reset(command_context& ctx) {
  ctx.srv.slowlog_reset();
  ctx.out.ok();
}
void cmd_slowlog_help(command_context& ctx) {
  write_help(ctx, {
      "GET [<count>]",
      "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
      "    Entries are made of:",
      "    id, timestamp, time in microseconds, arguments array, client IP and port,",
      "    client name",
      "LEN",
      "    Return the length of the slowlog.",
      "RESET",
      "    Reset the slowlog.",
  });
}

// DEBUG's subcommands that do not wait: also its form inside MULTI/EXEC.
void cmd_debug_now(command_context& ctx) {
  if (iequals(ctx.arg(1), "sleep") && ctx.argc() == 3) {  // (in a transaction: no wait)
    double seconds = 0;
    if (!util::parse_double(ctx.arg(2), seconds)) return ctx.out.error(errors::not_float);
    return ctx.out.ok();
  }
  if (iequals(ctx.arg(1), "set-active-expire") && ctx.argc() == 3) return ctx.out.ok();
  if (iequals(ctx.arg(1), "error") && ctx.argc() == 3) {  // the text as an error reply (client tests)
    std::string text(ctx.arg(2));
    for (auto& c : text)
      if (c == '\r' || c == '\n') c = ' ';
    return ctx.out.error("-" + text);
  }
  subcommand_syntax_error(ctx);
}

boost::asio::awaitable<void> cmd_debug(command_context& ctx) {
  if (iequals(ctx.arg(1), "sleep") && ctx.argc() == 3) {
    double seconds = 0;
    if (!util::parse_double(ctx.arg(2), seconds)) {
      ctx.out.error(errors::not_float);
      co_return;
    }
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6)));
    co_await timer.async_wait(boost::asio::use_awaitable);
    ctx.out.ok();
    co_return;
  }
  cmd_debug_now(ctx);
  co_return;
}

boost::asio::awaitable<void> cmd_shutdown(command_context& ctx) {
  for (std::size_t j = 1; j < ctx.argc(); ++j) {
    auto a = ctx.arg(j);
    if (!iequals(a, "nosave") && !iequals(a, "save") && !iequals(a, "now") && !iequals(a, "force") &&
        !iequals(a, "abort")) {
      ctx.out.error(errors::syntax);
      co_return;
    }
    if (iequals(a, "abort")) {
      ctx.out.error("No shutdown in progress.");
      co_return;
    }
  }
  for (std::size_t j = 1; j < ctx.argc(); ++j) {
    if (iequals(ctx.arg(j), "save")) ctx.srv.shutdown_save = server::server_context::exit_save::always;
    if (iequals(ctx.arg(j), "nosave")) ctx.srv.shutdown_save = server::server_context::exit_save::never;
  }
  ctx.srv.request_shutdown();
  if (ctx.session) ctx.session->close_after_reply();
  co_return;
}

}  // namespace

void register_server_commands(command_table& t) {
  t.add("command", exec_kind::local, cmd_command);
  t.add("command|count", exec_kind::local, cmd_command_count);
  t.add("command|info", exec_kind::local, cmd_command_info);
  t.add("command|docs", exec_kind::local, cmd_command_docs);
  t.add("command|list", exec_kind::local, cmd_command_list);
  t.add("command|getkeys", exec_kind::local, cmd_command_getkeys);
  t.add("command|getkeysandflags", exec_kind::local, cmd_command_getkeysandflags);
  t.add("command|help", exec_kind::local, cmd_command_help);
  t.add("config|get", exec_kind::local, cmd_config_get);
  t.add("config|set", exec_kind::local, cmd_config_set);
  t.add("config|resetstat", exec_kind::local, cmd_config_resetstat);
  t.add("config|rewrite", exec_kind::local, cmd_config_rewrite);
  t.add("config|help", exec_kind::local, cmd_config_help);
  t.add("info", exec_kind::all_shards, cmd_info);
  t.add("time", exec_kind::local, cmd_time);
  t.add("lastsave", exec_kind::local, cmd_lastsave);
  t.add("slowlog|get", exec_kind::local, cmd_slowlog_get);
  t.add("slowlog|len", exec_kind::local, cmd_slowlog_len);
  t.add("slowlog|reset", exec_kind::local, cmd_slowlog_reset);
  t.add("slowlog|help", exec_kind::local, cmd_slowlog_help);
  t.add_async("debug", cmd_debug, cmd_debug_now);
  t.add_async("shutdown", cmd_shutdown);
}

void register_all_commands() {
  static bool done = false;
  if (done) return;
  done = true;
  auto& t = command_table::instance();
  register_connection_commands(t);
  register_tracking_commands(t);
  register_migrate_command(t);
  register_string_commands(t);
  register_bit_commands(t);
  register_key_commands(t);
  register_sort_commands(t);
  register_geo_commands(t);
  register_hll_commands(t);
  register_server_commands(t);
  register_list_commands(t);
  register_hash_commands(t);
  register_set_commands(t);
  register_zset_commands(t);
  register_zset_blocking_commands(t);
  register_transaction_commands(t);
  register_stream_commands(t);
  register_pubsub_commands(t);
  register_background_save_commands(t);
  register_persistence_commands(t);
  register_script_commands(t);
  register_function_commands(t);
  register_replication_commands(t);
  register_acl_commands(t);
  register_module_commands(t);
  register_lolwut_command(t);
  register_memory_commands(t);
  register_latency_commands(t);
}

}  // namespace shrike::commands
