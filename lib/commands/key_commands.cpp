// Keyspace: DEL, EXISTS, TYPE, RENAME, COPY, MOVE, KEYS, SCAN, RANDOMKEY,
// TOUCH, the EXPIRE and TTL families, PERSIST, OBJECT, and database-wide
// commands (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, SELECT).
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "commands/scan_args.hpp"
#include "store/access_stamp.hpp"
#include "util/glob.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;

const char* type_name(value_type t) {
  switch (t) {
    case value_type::string: return "string";
    case value_type::list: return "list";
    case value_type::set: return "set";
    case value_type::zset: return "zset";
    case value_type::hash: return "hash";
    case value_type::stream: return "stream";
  }
  return "none";
}

const char* encoding_name(const entry* e) {
  if (e->holds_object()) return e->object()->encoding_name();
  switch (e->type) {
    case value_type::set: return "intset";
    case value_type::hash:
    case value_type::zset: return "listpack";
    default: break;
  }
  switch (static_cast<store::string_encoding>(e->encoding)) {
    case store::string_encoding::integer: return "int";
    case store::string_encoding::embstr: return "embstr";
    case store::string_encoding::raw: return "raw";
  }
  return "raw";
}

// A stream leaving its name ends the wait of XREADGROUP clients blocked on
// it (Redis signals deleted streams as ready keys).
void signal_stream_gone(command_context& ctx, std::size_t db, std::string_view key, value_type type) {
  if (type == value_type::stream) signal_key_ready(ctx, db, key);
}

void delete_generic(command_context& ctx) {
  std::int64_t deleted = 0;
  for (std::size_t j = 1; j < ctx.argc(); ++j) {
    auto& db = ctx.db(ctx.arg(j));
    entry* e = db.lookup(ctx.arg(j), ctx.now_ms);
    if (!e) continue;
    const value_type type = e->type;
    if (db.erase(ctx.arg(j))) {
      ++deleted;
      signal_stream_gone(ctx, ctx.client.db, ctx.arg(j), type);
      notify_event(ctx, notify::generic, "del", ctx.arg(j));
    }
  }
  ctx.out.integer(deleted);
}

void cmd_exists(command_context& ctx) {
  std::int64_t count = 0;
  for (std::size_t j = 1; j < ctx.argc(); ++j)
    if (read_key(ctx, ctx.db(ctx.arg(j)), ctx.arg(j))) ++count;
  ctx.out.integer(count);
}

void cmd_touch(command_context& ctx) {
  std::int64_t count = 0;
  for (std::size_t j = 1; j < ctx.argc(); ++j) {
    if (ctx.db(ctx.arg(j)).touch(ctx.arg(j), ctx.now_ms))
      ++count;
    else
      notify_keymiss(ctx, ctx.arg(j));
  }
  ctx.out.integer(count);
}

void cmd_type(command_context& ctx) {
  entry* e = ctx.db(ctx.arg(1)).lookup(ctx.arg(1), ctx.now_ms);
  if (!e) notify_keymiss(ctx, ctx.arg(1));
  ctx.out.simple(e ? type_name(e->type) : "none");
}

// A list, sorted set or stream that appears under a new name (RENAME, MOVE, COPY) may
// serve clients blocked on that name, as Redis's dbAdd signals.
void signal_new_value(command_context& ctx, std::size_t db, std::string_view key, value_type type) {
  if (type == value_type::list || type == value_type::zset || type == value_type::stream)
    signal_key_ready(ctx, db, key);
}

void rename_generic(command_context& ctx, bool nx) {
  std::string_view src = ctx.arg(1), dst = ctx.arg(2);
  auto& sdb = ctx.db(src);
  entry* e = write_key(ctx, sdb, src);
  if (!e) return ctx.out.error(errors::no_such_key);
  if (src == dst) return nx ? ctx.out.integer(0) : ctx.out.ok();
  auto& ddb = ctx.db(dst);
  if (ddb.lookup(dst, ctx.now_ms)) {
    if (nx) return ctx.out.integer(0);
    ddb.erase(dst);
  }
  entry* moved = store::rekey_entry(sdb.detach(src), dst);
  ddb.attach(moved);
  signal_stream_gone(ctx, ctx.client.db, src, moved->type);
  signal_new_value(ctx, ctx.client.db, dst, moved->type);
  // dbAdd's "new" (the destination is always added afresh), then the pair.
  notify_new(ctx, dst);
  notify_event(ctx, notify::generic, "rename_from", src);
  notify_event(ctx, notify::generic, "rename_to", dst);
  nx ? ctx.out.integer(1) : ctx.out.ok();
}
void cmd_rename(command_context& ctx) { rename_generic(ctx, false); }
void cmd_renamenx(command_context& ctx) { rename_generic(ctx, true); }

bool valid_db(command_context& ctx, int id) { return id >= 0 && static_cast<std::size_t>(id) < ctx.srv.databases(); }

void cmd_copy(command_context& ctx) {
  std::size_t dst_db = ctx.client.db;
  bool replace = false;
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    if (iequals(ctx.arg(j), "replace")) {
      replace = true;
    } else if (iequals(ctx.arg(j), "db") && more) {
      int id;
      if (!int32_arg(ctx, j + 1, id)) return;
      if (!valid_db(ctx, id)) return ctx.out.error(errors::db_out_of_range);
      dst_db = static_cast<std::size_t>(id);
      ++j;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  std::string_view src = ctx.arg(1), dst = ctx.arg(2);
  if (dst_db == ctx.client.db && src == dst) return ctx.out.error("source and destination objects are the same");
  auto& sdb = ctx.db(src);
  entry* e = read_key(ctx, sdb, src);
  if (!e) return ctx.out.integer(0);
  auto& ddb = ctx.srv.shards().db_for(dst, dst_db);
  if (ddb.lookup(dst, ctx.now_ms)) {
    if (!replace) return ctx.out.integer(0);
    ddb.erase(dst);
  }
  const std::int64_t expire = store::database::expire_of(e);
  entry* copy = store::copy_entry(e, dst);
  ddb.attach(copy);
  if (expire >= 0) ddb.set_expire(copy, expire);
  signal_new_value(ctx, dst_db, dst, e->type);
  notify_event(ctx.srv, notify::new_key, "new", dst, dst_db);
  notify_event(ctx.srv, notify::generic, "copy_to", dst, dst_db);
  ctx.out.integer(1);
}

void cmd_move(command_context& ctx) {
  int id;
  if (!int32_arg(ctx, 2, id)) return;
  if (!valid_db(ctx, id)) return ctx.out.error(errors::db_out_of_range);
  if (static_cast<std::size_t>(id) == ctx.client.db) return ctx.out.error("source and destination objects are the same");
  std::string_view key = ctx.arg(1);
  auto& sdb = ctx.db(key);
  if (!write_key(ctx, sdb, key)) return ctx.out.integer(0);
  auto& ddb = ctx.srv.shards().db_for(key, static_cast<std::size_t>(id));
  if (ddb.lookup(key, ctx.now_ms)) return ctx.out.integer(0);
  entry* moved = sdb.detach(key);
  ddb.attach(moved);
  signal_stream_gone(ctx, ctx.client.db, key, moved->type);
  signal_new_value(ctx, static_cast<std::size_t>(id), key, moved->type);
  notify_event(ctx.srv, notify::new_key, "new", key, static_cast<std::size_t>(id));
  notify_event(ctx, notify::generic, "move_from", key);
  notify_event(ctx.srv, notify::generic, "move_to", key, static_cast<std::size_t>(id));
  ctx.out.integer(1);
}

// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key time [NX|XX|GT|LT]
enum : unsigned { exp_nx = 1, exp_xx = 2, exp_gt = 4, exp_lt = 8 };

void expire_generic(command_context& ctx, std::int64_t basetime, bool seconds) {
  unsigned flags = 0;
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    auto opt = ctx.arg(j);
    if (iequals(opt, "nx")) flags |= exp_nx;
    else if (iequals(opt, "xx")) flags |= exp_xx;
    else if (iequals(opt, "gt")) flags |= exp_gt;
    else if (iequals(opt, "lt")) flags |= exp_lt;
    else {
      std::string o(opt);
      return ctx.out.error("Unsupported option " + std::string(o.c_str()));
    }
  }
  if ((flags & exp_nx) && (flags & (exp_xx | exp_gt | exp_lt)))
    return ctx.out.error("NX and XX, GT or LT options at the same time are not compatible");
  if ((flags & exp_gt) && (flags & exp_lt)) return ctx.out.error("GT and LT options at the same time are not compatible");
  std::int64_t when;
  if (!int_arg(ctx, 2, when)) return;
  auto invalid = [&] { ctx.out.error("invalid expire time in '" + ctx.row->info->name + "' command"); };
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) return invalid();
    when *= 1000;
  }
  if (when > LLONG_MAX - basetime) return invalid();
  when += basetime;
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (flags) {
    const std::int64_t current = store::database::expire_of(e);
    if ((flags & exp_nx) && current != -1) return ctx.out.integer(0);
    if ((flags & exp_xx) && current == -1) return ctx.out.integer(0);
    if ((flags & exp_gt) && (when <= current || current == -1)) return ctx.out.integer(0);
    if ((flags & exp_lt) && current != -1 && when >= current) return ctx.out.integer(0);
  }
  // Replicas get the absolute instant (or the DEL it amounts to).
  if (when <= ctx.now_ms) {
    db.erase_entry(e);
    notify_event(ctx, notify::generic, "del", key);
    propagate_as(ctx, {"DEL", key});
  } else {
    db.set_expire(e, when);
    notify_event(ctx, notify::generic, "expire", key);
    propagate_as(ctx, {"PEXPIREAT", key, std::to_string(when)});
  }
  ctx.out.integer(1);
}
void cmd_expire(command_context& ctx) { expire_generic(ctx, ctx.now_ms, true); }
void cmd_pexpire(command_context& ctx) { expire_generic(ctx, ctx.now_ms, false); }
void cmd_expireat(command_context& ctx) { expire_generic(ctx, 0, true); }
void cmd_pexpireat(command_context& ctx) { expire_generic(ctx, 0, false); }

void ttl_generic(command_context& ctx, bool ms, bool absolute) {
  entry* e = ctx.client.no_touch ? ctx.db(ctx.arg(1)).lookup(ctx.arg(1), ctx.now_ms)
                                 : read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) {
    if (ctx.client.no_touch) notify_keymiss(ctx, ctx.arg(1));  // (read_key notifies itself)
    return ctx.out.integer(-2);
  }
  std::int64_t expire = store::database::expire_of(e);
  if (expire == -1) return ctx.out.integer(-1);
  std::int64_t ttl = absolute ? expire : expire - ctx.now_ms;
  if (ttl < 0) ttl = 0;
  ctx.out.integer(ms ? ttl : (ttl + 500) / 1000);
}
void cmd_ttl(command_context& ctx) { ttl_generic(ctx, false, false); }
void cmd_pttl(command_context& ctx) { ttl_generic(ctx, true, false); }
void cmd_expiretime(command_context& ctx) { ttl_generic(ctx, false, true); }
void cmd_pexpiretime(command_context& ctx) { ttl_generic(ctx, true, true); }

void cmd_persist(command_context& ctx) {
  auto& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e || !e->has_expire()) return ctx.out.integer(0);
  db.persist(e);
  notify_event(ctx, notify::generic, "persist", ctx.arg(1));
  ctx.out.integer(1);
}

// OBJECT subcommands (no access-time refresh, as Redis's LOOKUP_NOTOUCH).
entry* object_lookup(command_context& ctx) {
  entry* e = ctx.db(ctx.arg(2)).lookup(ctx.arg(2), ctx.now_ms);
  if (!e) ctx.out.null();
  return e;
}

bool lfu_policy(command_context& ctx) {
  auto policy = ctx.srv.config().get_one("maxmemory-policy").value_or("");
  return policy.find("lfu") != std::string::npos;
}

void cmd_object_encoding(command_context& ctx) {
  if (entry* e = object_lookup(ctx)) ctx.out.bulk(encoding_name(e));
}

void cmd_object_refcount(command_context& ctx) {
  entry* e = object_lookup(ctx);
  if (!e) return;
  // Small integers are shared objects in Redis (OBJ_SHARED_INTEGERS) unless
  // an LRU/LFU maxmemory policy needs per-object access data.
  std::int64_t v;
  const bool shared = e->type == value_type::string &&
                      e->encoding == static_cast<std::uint8_t>(store::string_encoding::integer) &&
                      util::parse_int64(e->str(), v) && v >= 0 && v < 10000;
  ctx.out.integer(shared ? INT32_MAX : 1);
}

void cmd_object_idletime(command_context& ctx) {
  entry* e = object_lookup(ctx);
  if (!e) return;
  if (lfu_policy(ctx))
    return ctx.out.error(
        "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies "
        "at runtime LRU and LFU data will take some time to adjust.");
  std::int64_t idle = ctx.now_ms / 1000 - static_cast<std::int64_t>(e->lru);
  ctx.out.integer(idle < 0 ? 0 : idle);
}

void cmd_object_freq(command_context& ctx) {
  entry* e = object_lookup(ctx);
  if (!e) return;
  if (!lfu_policy(ctx))
    return ctx.out.error(
        "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching "
        "between policies at runtime LRU and LFU data will take some time to adjust.");
  ctx.out.integer(store::access_stamp::lfu_counter(e->lru, ctx.now_ms));
}

void cmd_object_help(command_context& ctx) {
  write_help(ctx, {"ENCODING <key>",
                   "    Return the kind of internal representation used in order to store the value",
                   "    associated with a <key>.",
                   "FREQ <key>",
                   "    Return the access frequency index of the <key>. The returned integer is",
                   "    proportional to the logarithm of the recent access frequency of the key.",
                   "IDLETIME <key>",
                   "    Return the idle time of the <key>, that is the approximated number of",
                   "    seconds elapsed since the last access to the key.",
                   "REFCOUNT <key>",
                   "    Return the number of references of the value associated with the specified",
                   "    <key>."});
}

// --- keyspace-wide commands: run with every shard gated ---------------------

void cmd_dbsize(command_context& ctx) {
  std::size_t n = 0;
  auto& shards = ctx.srv.shards();
  for (std::size_t s = 0; s < shards.size(); ++s) n += shards.at(s).db(ctx.client.db).size();
  ctx.out.integer(static_cast<std::int64_t>(n));
}

bool flush_flags_ok(command_context& ctx) {
  if (ctx.argc() > 2) {
    ctx.out.error(errors::syntax);
    return false;
  }
  if (ctx.argc() == 2 && !iequals(ctx.arg(1), "sync") && !iequals(ctx.arg(1), "async")) {
    ctx.out.error(errors::syntax);
    return false;
  }
  return true;
}

// Empties database `d` of every shard; keys with blocked clients are
// signalled (XREADGROUP clients learn that their stream is gone).
void flush_db(command_context& ctx, std::size_t d) {
  auto& shards = ctx.srv.shards();
  for (std::size_t s = 0; s < shards.size(); ++s) {
    shards.at(s).db(d).clear();
    shards.at(s).blocked().for_each_key(d, [&](std::string_view key) { signal_key_ready(ctx, d, key); });
  }
}

void cmd_flushdb(command_context& ctx) {
  if (!flush_flags_ok(ctx)) return;
  flush_db(ctx, ctx.client.db);
  ctx.out.ok();
}

void cmd_flushall(command_context& ctx) {
  if (!flush_flags_ok(ctx)) return;
  for (std::size_t d = 0; d < ctx.srv.databases(); ++d) flush_db(ctx, d);
  ctx.out.ok();
}

void cmd_swapdb(command_context& ctx) {
  int a, b;
  if (!int32_arg(ctx, 1, a, "invalid first DB index") || !int32_arg(ctx, 2, b, "invalid second DB index")) return;
  if (!valid_db(ctx, a) || !valid_db(ctx, b)) return ctx.out.error(errors::db_out_of_range);
  if (a != b) {
    auto& shards = ctx.srv.shards();
    for (std::size_t s = 0; s < shards.size(); ++s) {
      shards.at(s).db(static_cast<std::size_t>(a)).swap(shards.at(s).db(static_cast<std::size_t>(b)));
      // Clients blocked in either db may find their keys filled now.
      for (int id : {a, b})
        shards.at(s).blocked().for_each_key(static_cast<std::size_t>(id), [&](std::string_view key) {
          signal_key_ready(ctx, static_cast<std::size_t>(id), key);
        });
    }
  }
  ctx.out.ok();
}

void cmd_select(command_context& ctx) {
  int id;
  if (!int32_arg(ctx, 1, id)) return;
  if (!valid_db(ctx, id)) return ctx.out.error(errors::db_out_of_range);
  ctx.client.db = static_cast<std::size_t>(id);
  ctx.client.db_shown = ctx.client.db;
  ctx.out.ok();
}

void cmd_keys(command_context& ctx) {
  std::string_view pattern = ctx.arg(1);
  const bool all = pattern == "*";
  const std::size_t marker = ctx.out.begin_deferred();
  std::size_t n = 0;
  std::vector<entry*> expired;
  auto& shards = ctx.srv.shards();
  for (std::size_t s = 0; s < shards.size(); ++s) {
    auto& db = shards.at(s).db(ctx.client.db);
    expired.clear();
    db.for_each([&](entry* e) {
      if (store::database::is_expired(e, ctx.now_ms)) {
        expired.push_back(e);
        return;
      }
      if (all || util::glob_match(pattern, e->key())) {
        ctx.out.bulk(e->key());
        ++n;
      }
    });
    for (entry* e : expired) db.expire_entry(e);
  }
  ctx.out.end_deferred_array(marker, n);
}

void cmd_randomkey(command_context& ctx) {
  auto& shards = ctx.srv.shards();
  std::size_t total = 0;
  for (std::size_t s = 0; s < shards.size(); ++s) total += shards.at(s).db(ctx.client.db).size();
  // Pick a shard weighted by its key count, then a key inside it.
  for (int tries = 0; total > 0 && tries < 100; ++tries) {
    std::size_t pick = shards.at(0).rng()() % total;
    std::size_t s = 0;
    while (pick >= shards.at(s).db(ctx.client.db).size()) pick -= shards.at(s++).db(ctx.client.db).size();
    auto& sh = shards.at(s);
    if (entry* e = sh.db(ctx.client.db).random_key(ctx.now_ms, sh.rng())) return ctx.out.bulk(e->key());
    total = 0;
    for (std::size_t k = 0; k < shards.size(); ++k) total += shards.at(k).db(ctx.client.db).size();
  }
  ctx.out.null();
}

// SCAN's cursor carries the shard in its low bits: a scan walks shard 0's
// table with Redis's reverse-binary cursor, then shard 1's, and so on.
unsigned shard_bits(std::size_t shards) {
  unsigned bits = 0;
  while ((std::size_t{1} << bits) < shards) ++bits;
  return bits;
}

void cmd_scan(command_context& ctx) {
  std::uint64_t cursor;
  if (!parse_scan_cursor(ctx, 1, cursor)) return;
  scan_options opt;
  if (!parse_scan_options(ctx, 2, true, opt)) return;
  const std::int64_t count = opt.count;
  // SCAN runs with every shard gated (as Redis, one scan step sees one
  // consistent keyspace) and moves on to the next shard within the same call
  // while COUNT is not reached, so a small keyspace comes back in one call.
  auto& shards = ctx.srv.shards();
  const unsigned bits = shard_bits(shards.size());
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  std::size_t s = static_cast<std::size_t>(cursor & mask);
  std::uint64_t v = cursor >> bits;
  std::vector<std::pair<std::size_t, entry*>> found;
  std::int64_t max_iterations = count * 10;
  while (s < shards.size()) {
    auto& shard_db = shards.at(s).db(ctx.client.db);
    do {
      v = shard_db.scan_step(v, [&](entry* e) { found.emplace_back(s, e); });
    } while (v && max_iterations-- && static_cast<std::int64_t>(found.size()) < count);
    if (v != 0) break;
    ++s;
    if (max_iterations <= 0 || static_cast<std::int64_t>(found.size()) >= count) break;
  }
  const std::uint64_t next = s >= shards.size() ? 0 : ((v << bits) | s);
  std::vector<std::string> keys;
  std::vector<entry*> expired;
  std::vector<std::size_t> expired_shard;
  for (auto [shard_index, e] : found) {
    if (opt.use_pattern && !util::glob_match(opt.pattern, e->key())) continue;
    if (store::database::is_expired(e, ctx.now_ms)) {
      expired.push_back(e);
      expired_shard.push_back(shard_index);
      continue;
    }
    if (opt.use_type && !iequals(opt.type, type_name(e->type))) continue;
    keys.emplace_back(e->key());
  }
  // Expired keys go (with their "expired"; with TYPE, Redis's type lookup
  // also reports a "keymiss" for each).
  const bool keymiss = opt.use_type && notify_enabled(ctx.srv, notify::key_miss);
  for (std::size_t i = 0; i < expired.size(); ++i) {
    std::string key = keymiss ? std::string(expired[i]->key()) : std::string();
    shards.at(expired_shard[i]).db(ctx.client.db).expire_entry(expired[i]);
    if (keymiss) notify_keymiss(ctx, key);
  }
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(next));
  ctx.out.array(keys.size());
  for (auto& k : keys) ctx.out.bulk(k);
}

}  // namespace

void register_key_commands(command_table& t) {
  t.add("del", exec_kind::keyed, delete_generic);
  t.add("unlink", exec_kind::keyed, delete_generic);
  t.add("exists", exec_kind::keyed, cmd_exists);
  t.add("touch", exec_kind::keyed, cmd_touch);
  t.add("type", exec_kind::keyed, cmd_type);
  t.add("rename", exec_kind::keyed, cmd_rename);
  t.add("renamenx", exec_kind::keyed, cmd_renamenx);
  t.add("copy", exec_kind::keyed, cmd_copy);
  t.add("move", exec_kind::keyed, cmd_move);
  t.add("expire", exec_kind::keyed, cmd_expire);
  t.add("pexpire", exec_kind::keyed, cmd_pexpire);
  t.add("expireat", exec_kind::keyed, cmd_expireat);
  t.add("pexpireat", exec_kind::keyed, cmd_pexpireat);
  t.add("ttl", exec_kind::keyed, cmd_ttl);
  t.add("pttl", exec_kind::keyed, cmd_pttl);
  t.add("expiretime", exec_kind::keyed, cmd_expiretime);
  t.add("pexpiretime", exec_kind::keyed, cmd_pexpiretime);
  t.add("persist", exec_kind::keyed, cmd_persist);
  t.add("object|encoding", exec_kind::keyed, cmd_object_encoding);
  t.add("object|refcount", exec_kind::keyed, cmd_object_refcount);
  t.add("object|idletime", exec_kind::keyed, cmd_object_idletime);
  t.add("object|freq", exec_kind::keyed, cmd_object_freq);
  t.add("object|help", exec_kind::local, cmd_object_help);
  t.add("dbsize", exec_kind::all_shards, cmd_dbsize);
  t.add("flushdb", exec_kind::all_shards, cmd_flushdb);
  t.add("flushall", exec_kind::all_shards, cmd_flushall);
  t.add("swapdb", exec_kind::all_shards, cmd_swapdb);
  t.add("select", exec_kind::local, cmd_select);
  t.add("keys", exec_kind::all_shards, cmd_keys);
  t.add("randomkey", exec_kind::all_shards, cmd_randomkey);
  t.add("scan", exec_kind::all_shards, cmd_scan);
}

}  // namespace shrike::commands
