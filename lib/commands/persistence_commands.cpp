// Persistence: SAVE, DUMP, RESTORE, and the startup load of the RDB file.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "commands/persistence.hpp"
#include "persistence/rdb_file.hpp"
#include "scripting/rdb_functions.hpp"
#include "server/memory_report.hpp"
#include "store/access_stamp.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;

bool lfu_policy(server::server_context& srv) {
  return srv.config().get_one("maxmemory-policy").value_or("").find("lfu") != std::string::npos;
}

// SAVE: the whole keyspace (every shard gated) into dir/dbfilename through a
// temp file, fsync'ed and renamed (rdbSave).
void cmd_save(command_context& ctx) {
  if (ctx.srv.bgsave_started_ms.load() != 0) return ctx.out.error("Background save already in progress");
  const std::string path = rdb_path(ctx.srv);
  std::string error;
  const bool ok = persistence::save_file(path, rdb_temp_path(ctx.srv, std::to_string(::getpid())), ctx.srv.shards(),
                                         rdb_save_options_for(ctx.srv), rdb_aux_fields(ctx.now_ms), ctx.now_ms, error);
  if (!ok) {
    util::log_warning("Write error saving DB on disk: " + error);
    return ctx.out.error("-ERR");  // shared.err
  }
  util::log_notice("DB saved on disk");
  ctx.srv.last_bgsave_ok = true;  // rdbSave: a good save clears a failed BGSAVE's MISCONF
  ctx.srv.lastsave_s = ctx.now_ms / 1000;
  ctx.srv.dirty_at_last_save = ctx.srv.dirty.load();
  ctx.srv.rdb_saves.fetch_add(1);
  ctx.out.ok();
}

void cmd_dump(command_context& ctx) {
  std::string_view key = ctx.arg(1);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.null();
  ctx.out.bulk(persistence::create_dump_payload(*e, rdb_save_options_for(ctx.srv)));
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
void cmd_restore(command_context& ctx) {
  bool replace = false, absttl = false;
  std::int64_t idle = -1, freq = -1;
  for (std::size_t j = 4; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    if (iequals(ctx.arg(j), "replace")) {
      replace = true;
    } else if (iequals(ctx.arg(j), "absttl")) {
      absttl = true;
    } else if (iequals(ctx.arg(j), "idletime") && more && freq == -1) {
      if (!int_arg(ctx, j + 1, idle)) return;
      if (idle < 0) return ctx.out.error("Invalid IDLETIME value, must be >= 0");
      ++j;
    } else if (iequals(ctx.arg(j), "freq") && more && idle == -1) {
      if (!int_arg(ctx, j + 1, freq)) return;
      if (freq < 0 || freq > 255) return ctx.out.error("Invalid FREQ value, must be >= 0 and <= 255");
      ++j;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  if (!replace && write_key(ctx, db, key)) return ctx.out.error("-BUSYKEY Target key name already exists.");
  std::int64_t ttl;
  if (!int_arg(ctx, 2, ttl)) return;
  if (ttl < 0) return ctx.out.error("Invalid TTL value, must be >= 0");
  std::string_view payload = ctx.arg(3);
  if (!persistence::verify_dump_payload(payload)) return ctx.out.error("DUMP payload version or checksum are wrong");
  persistence::decoded_value v;
  try {
    v = persistence::read_dump_payload(payload, rdb_load_limits(ctx.srv));
  } catch (const persistence::rdb_error&) {
    return ctx.out.error("Bad data format");
  }
  if (v.empty) return ctx.out.error("Bad data format");

  bool deleted = false;
  if (replace) {
    if (entry* old = db.lookup(key, ctx.now_ms)) {
      const value_type old_type = old->type;
      db.erase_entry(old);
      deleted = true;
      // XREADGROUP clients blocked on a stream learn that it is gone.
      if (old_type == value_type::stream) signal_key_ready(ctx, key);
    }
  }
  if (ttl && !absttl) ttl += ctx.now_ms;
  if (ttl && ttl <= ctx.now_ms) {
    // Already expired: nothing is added (the old value, if any, is gone).
    if (deleted) notify_event(ctx, notify::generic, "del", key);
    propagate_as(ctx, {"DEL", key});
    return ctx.out.ok();
  }
  if (ttl && !absttl && ctx.effects) {
    // A relative TTL reaches replicas as the instant it ends (ABSTTL).
    std::vector<std::string> v(ctx.argv.begin(), ctx.argv.end());
    v[2] = std::to_string(ttl);
    v.emplace_back("ABSTTL");
    propagate_as(ctx, std::move(v));
  }
  const value_type type = v.type;
  entry* e = persistence::store_value(db, key, std::move(v), ctx.now_ms);
  if (ttl) e = db.set_expire(e, ttl);
  // objectSetLRUOrLFU: FREQ under an LFU policy, IDLETIME otherwise.
  if (lfu_policy(ctx.srv)) {
    if (freq >= 0) e->lru = store::access_stamp::with_counter(freq, ctx.now_ms);
  } else if (idle >= 0) {
    const std::int64_t at = ctx.now_ms / 1000 - idle;
    e->lru = static_cast<std::uint32_t>(at > 0 ? at : 0);
  }
  if (type == value_type::list || type == value_type::zset || type == value_type::stream) signal_key_ready(ctx, key);
  notify_new(ctx, key);
  notify_event(ctx, notify::generic, "restore", key);
  ctx.out.ok();
}

}  // namespace

std::string rdb_path(server::server_context& srv) {
  std::string dir = srv.config().get_one("dir").value_or(".");
  if (dir.empty()) dir = ".";
  const std::string file = srv.config().get_one("dbfilename").value_or("dump.rdb");
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}

std::string rdb_temp_path(server::server_context& srv, std::string_view tag) {
  std::string dir = srv.config().get_one("dir").value_or(".");
  if (dir.empty()) dir = ".";
  if (dir.back() != '/') dir.push_back('/');
  return dir + "temp-" + std::string(tag) + ".rdb";
}

persistence::rdb_save_options rdb_save_options_for(server::server_context& srv) {
  persistence::rdb_save_options o;
  o.compress = srv.config().get_bool("rdbcompression");
  o.checksum = srv.config().get_bool("rdbchecksum");
  o.list_fill = static_cast<int>(srv.list_max_listpack_size.load());
  o.save_idle = srv.config().get_one("maxmemory-policy").value_or("").find("lru") != std::string::npos;
  o.save_freq = lfu_policy(srv);
  o.functions = scripting::libraries_for_rdb(srv);
  return o;
}

persistence::load_limits rdb_load_limits(server::server_context& srv) {
  auto limit = [](std::int64_t v) { return static_cast<std::size_t>(v < 0 ? 0 : v); };
  persistence::load_limits l;
  l.hash_max_entries = limit(srv.hash_max_listpack_entries.load());
  l.hash_max_value = limit(srv.hash_max_listpack_value.load());
  l.set_max_intset = limit(srv.set_max_intset_entries.load());
  l.zset_max_entries = limit(srv.zset_max_listpack_entries.load());
  l.zset_max_value = limit(srv.zset_max_listpack_value.load());
  return l;
}

persistence::aux_fields rdb_aux_fields(std::int64_t now_ms) {
  return persistence::standard_aux(now_ms / 1000, server::allocated_bytes());
}

bool load_rdb_at_startup(server::server_context& srv) {
  const std::string path = rdb_path(srv);
  const auto started = std::chrono::steady_clock::now();
  persistence::load_options opts;
  opts.databases = srv.databases();
  opts.limits = rdb_load_limits(srv);
  opts.now_ms = util::now_ms();
  opts.verify_checksum = srv.config().get_bool("rdbchecksum");
  opts.on_function = scripting::rdb_function_loader(srv);
  try {
    auto res = persistence::load_file(path, srv.shards(), opts);
    if (!res) return true;
    srv.last_load_keys_loaded = res->keys_loaded;
    srv.last_load_keys_expired = res->keys_expired;
    for (const auto& [k, v] : res->aux) {
      if (k == "redis-ver") {
        util::log_notice("Loading RDB produced by version " + v);
      } else if (k == "ctime") {
        const std::int64_t age = opts.now_ms / 1000 - std::atoll(v.c_str());
        util::log_notice("RDB age " + std::to_string(age < 0 ? 0 : age) + " seconds");
      } else if (k == "used-mem") {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(std::atoll(v.c_str())) / (1024 * 1024));
        util::log_notice(std::string("RDB memory usage when created ") + buf + " Mb");
      }
    }
    if (res->empty_keys_skipped)
      util::log_warning("Done loading RDB, keys loaded: " + std::to_string(res->keys_loaded) +
                        ", keys expired: " + std::to_string(res->keys_expired) +
                        ", empty keys skipped: " + std::to_string(res->empty_keys_skipped) + ".");
    else
      util::log_notice("Done loading RDB, keys loaded: " + std::to_string(res->keys_loaded) +
                       ", keys expired: " + std::to_string(res->keys_expired) + ".");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.3f", secs);
    util::log_notice(std::string("DB loaded from disk: ") + buf + " seconds");
    return true;
  } catch (const persistence::rdb_error& e) {
    util::log_warning(std::string(e.what()));
    util::log_warning("Fatal error loading the DB, check server logs. Exiting.");
    return false;
  }
}

void register_persistence_commands(command_table& t) {
  t.add("save", exec_kind::all_shards, cmd_save);
  t.add("dump", exec_kind::keyed, cmd_dump);
  t.add("restore", exec_kind::keyed, cmd_restore);
}

}  // namespace shrike::commands
