// Consumer-group introspection and ownership commands of Redis 7.0
// (t_stream.c): XPENDING, XCLAIM, XAUTOCLAIM, XINFO. XREADGROUP lives with
// XREAD in stream_commands.cpp.
#include <climits>
#include <string>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/stream_helpers.hpp"
#include "store/stream_value.hpp"
#include "util/numbers.hpp"

namespace shrike::commands::streams {

namespace {

using store::database;
using store::entry;
using store::stream_consumer;
using store::stream_group;
using store::stream_id;
using store::stream_value;
using store::value_type;

// The stream at `key` and its group `group`, or the NOGROUP error (the texts
// of XPENDING, XCLAIM and XAUTOCLAIM). Null after an error reply.
struct group_target {
  stream_value* s = nullptr;
  stream_group* g = nullptr;
};

// The same on the entry `e` read before (null: `key` is missing).
group_target resolve_group(command_context& ctx, entry* e, std::string_view key, std::string_view group) {
  group_target t;
  if (e) {
    if (!check_type(ctx, e, value_type::stream)) return t;
    auto it = as_stream(e)->groups.find(group);
    if (it != as_stream(e)->groups.end()) {
      t.s = as_stream(e);
      t.g = &it->second;
      return t;
    }
  }
  ctx.out.error("-NOGROUP No such key '" + std::string(key) + "' or consumer group '" + std::string(group) + "'");
  return t;
}

group_target lookup_group(command_context& ctx, std::string_view key, std::string_view group) {
  return resolve_group(ctx, read_key(ctx, ctx.db(key), key), key, group);
}

// getLongLongFromObjectOrReply with a message of its own.
bool int_arg_or(command_context& ctx, std::size_t i, std::int64_t& v, std::string_view message) {
  if (util::parse_int64(ctx.arg(i), v)) return true;
  ctx.out.error(message);
  return false;
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
void cmd_xpending(command_context& ctx) {
  const std::size_t argc = ctx.argc();
  const bool summary = argc == 3;
  if (argc != 3 && (argc < 6 || argc > 9)) return ctx.out.error(errors::syntax);
  stream_id start, end;
  std::int64_t count = 0;
  std::int64_t min_idle = 0;
  std::string_view consumer_name;
  bool with_consumer = false;
  // The range is parsed first: syntax errors come before any other.
  if (!summary) {
    std::size_t at = 3;
    if (iequals(ctx.arg(3), "idle")) {
      if (!int_arg(ctx, 4, min_idle)) return;
      if (argc < 8) return ctx.out.error(errors::syntax);
      at += 2;
    }
    if (!int_arg(ctx, at + 2, count)) return;
    if (count < 0) count = 0;
    bool startex, endex;
    if (!interval_arg(ctx, ctx.arg(at), start, startex, 0)) return;
    if (startex && !start.incr()) return ctx.out.error("invalid start ID for the interval");
    if (!interval_arg(ctx, ctx.arg(at + 1), end, endex, UINT64_MAX)) return;
    if (endex && !end.decr()) return ctx.out.error("invalid end ID for the interval");
    if (at + 3 < argc) {
      with_consumer = true;
      consumer_name = ctx.arg(at + 3);
    }
  }
  const group_target t = lookup_group(ctx, ctx.arg(1), ctx.arg(2));
  if (!t.g) return;
  const stream_group& g = *t.g;

  if (summary) {
    // [count, smallest id, greatest id, [[consumer, its count], ...]]
    ctx.out.array(4);
    ctx.out.integer(static_cast<std::int64_t>(g.pel.size()));
    if (g.pel.empty()) {
      ctx.out.null();
      ctx.out.null();
      ctx.out.null_array();
      return;
    }
    write_id(ctx.out, g.pel.begin()->first);
    write_id(ctx.out, g.pel.rbegin()->first);
    const std::size_t marker = ctx.out.begin_deferred();
    std::size_t n = 0;
    for (const auto& [name, c] : g.consumers) {
      if (c.pel.empty()) continue;
      ctx.out.array(2);
      ctx.out.bulk(name);
      ctx.out.bulk(std::to_string(c.pel.size()));
      ++n;
    }
    ctx.out.end_deferred_array(marker, n);
    return;
  }

  // [[id, consumer, idle ms, deliveries], ...] of the group or of one consumer.
  const stream_consumer* only = nullptr;
  if (with_consumer) {
    auto it = g.consumers.find(consumer_name);
    if (it == g.consumers.end()) return ctx.out.array(0);
    only = &it->second;
  }
  const std::int64_t now = ctx.now_ms;
  const std::size_t marker = ctx.out.begin_deferred();
  std::size_t n = 0;
  auto emit = [&](const stream_id& id, const store::stream_nack& nack) {
    const std::int64_t idle = now - nack.delivery_time;
    if (min_idle && idle < min_idle) return;
    ++n;
    --count;
    ctx.out.array(4);
    write_id(ctx.out, id);
    ctx.out.bulk(nack.owner->name);
    ctx.out.integer(idle < 0 ? 0 : idle);
    ctx.out.integer(static_cast<std::int64_t>(nack.delivery_count));
  };
  if (only) {
    for (auto it = only->pel.lower_bound(start); count && it != only->pel.end() && *it <= end; ++it)
      emit(*it, g.pel.find(*it)->second);
  } else {
    for (auto it = g.pel.lower_bound(start); count && it != g.pel.end() && it->first <= end; ++it)
      emit(it->first, it->second);
  }
  ctx.out.end_deferred_array(marker, n);
}

// One claimed entry in the reply of XCLAIM / XAUTOCLAIM.
void write_claimed(resp::reply_writer& out, const stream_value& s, const stream_id& id, bool justid) {
  if (justid)
    write_id(out, id);
  else
    write_entry_if_present(out, s, id);  // present: the caller checked
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
//        [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
void cmd_xclaim(command_context& ctx) {
  const group_target t = lookup_group(ctx, ctx.arg(1), ctx.arg(2));
  if (!t.g) return;
  stream_value& s = *t.s;
  stream_group& g = *t.g;
  std::int64_t min_idle;
  if (!int_arg_or(ctx, 4, min_idle, "Invalid min-idle-time argument for XCLAIM")) return;
  if (min_idle < 0) min_idle = 0;
  // The ids come first (the command is all or nothing, so everything is
  // parsed before anything is claimed); the first non-id starts the options.
  std::vector<stream_id> ids;
  std::size_t j = 5;
  for (; j < ctx.argc(); ++j) {
    stream_id id;
    if (!store::parse_stream_id(ctx.arg(j), id, 0, true, nullptr)) break;
    ids.push_back(id);
  }
  const std::int64_t now = ctx.now_ms;
  std::int64_t delivery_time = -1;  // -1: neither IDLE nor TIME
  std::int64_t retry_count = -1;    // -1: no RETRYCOUNT
  bool force = false, justid = false;
  stream_id last_id;
  for (; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    const std::string_view opt = ctx.arg(j);
    if (iequals(opt, "force")) {
      force = true;
    } else if (iequals(opt, "justid")) {
      justid = true;
    } else if (iequals(opt, "idle") && more) {
      std::int64_t idle;
      if (!int_arg_or(ctx, ++j, idle, "Invalid IDLE option argument for XCLAIM")) return;
      // Two's-complement wrap, as the C arithmetic Redis does in practice.
      delivery_time = static_cast<std::int64_t>(static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(idle));
    } else if (iequals(opt, "time") && more) {
      if (!int_arg_or(ctx, ++j, delivery_time, "Invalid TIME option argument for XCLAIM")) return;
    } else if (iequals(opt, "retrycount") && more) {
      if (!int_arg_or(ctx, ++j, retry_count, "Invalid RETRYCOUNT option argument for XCLAIM")) return;
    } else if (iequals(opt, "lastid") && more) {
      if (!id_arg(ctx, ctx.arg(++j), last_id, 0, true)) return;
    } else {
      return ctx.out.error("Unrecognized XCLAIM option '" + std::string(opt) + "'");
    }
  }
  if (last_id > g.last_id) g.last_id = last_id;
  // A bogus time (negative, or in the future) means now.
  if (delivery_time < 0 || delivery_time > now) delivery_time = now;

  stream_consumer* consumer = nullptr;
  const std::size_t marker = ctx.out.begin_deferred();
  std::size_t n = 0;
  for (const auto& id : ids) {
    auto it = g.pel.find(id);
    if (!s.contains(id)) {
      // Deleted from the stream meanwhile: it leaves the PEL too.
      if (it != g.pel.end()) g.remove_pending(it);
      continue;
    }
    if (it == g.pel.end()) {
      if (!force) continue;
      it = g.add_unowned(id, now);
    } else if (min_idle && now - it->second.delivery_time < min_idle) {
      continue;
    }
    if (!consumer) consumer = &touch_consumer(ctx.srv, ctx.client.db, ctx.arg(1), g, ctx.arg(3), now);
    store::stream_nack& nack = it->second;
    nack.delivery_time = delivery_time;
    if (retry_count >= 0)
      nack.delivery_count = static_cast<std::uint64_t>(retry_count);
    else if (!justid)
      ++nack.delivery_count;
    g.transfer(it, *consumer);
    write_claimed(ctx.out, s, id, justid);
    ++n;
  }
  ctx.out.end_deferred_array(marker, n);
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
void cmd_xautoclaim(command_context& ctx) {
  // Redis reads the key before parsing anything (a "keymiss" even when the
  // arguments turn out wrong), and checks its type after.
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  std::int64_t min_idle;
  if (!int_arg_or(ctx, 4, min_idle, "Invalid min-idle-time argument for XAUTOCLAIM")) return;
  if (min_idle < 0) min_idle = 0;
  stream_id start;
  bool startex;
  if (!interval_arg(ctx, ctx.arg(5), start, startex, 0)) return;
  if (startex && !start.incr()) return ctx.out.error("invalid start ID for the interval");
  // Redis bounds COUNT so that count * 10 attempts and its buffer of count
  // deleted ids fit a long.
  constexpr std::int64_t attempts_factor = 10;
  constexpr std::int64_t max_count = LONG_MAX / 16;
  std::int64_t count = 100;
  bool justid = false;
  for (std::size_t j = 6; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    if (iequals(ctx.arg(j), "count") && more) {
      if (!ranged_int_arg(ctx, ++j, 1, max_count, count, "COUNT must be > 0")) return;
    } else if (iequals(ctx.arg(j), "justid")) {
      justid = true;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  const group_target t = resolve_group(ctx, e, ctx.arg(1), ctx.arg(2));
  if (!t.g) return;
  // Redis allocates room for `count` deleted ids up front and reports a
  // failed allocation, which on x86-64 Linux happens from 64 TB on (the
  // address space is 128 TB); we allocate nothing up front and answer alike.
  if (count >= (std::int64_t{1} << 46) / 16)
    return ctx.out.error("Insufficient memory, failed allocating transient memory, COUNT too high.");
  stream_value& s = *t.s;
  stream_group& g = *t.g;
  const std::int64_t now = ctx.now_ms;
  std::int64_t attempts = count * attempts_factor;
  stream_consumer* consumer = nullptr;
  std::vector<stream_id> deleted;

  ctx.out.array(3);
  std::string claimed;  // reply[1], written after reply[0] (the cursor) is known
  resp::reply_writer entries(claimed);
  entries.set_protocol(ctx.client.resp);
  std::size_t n = 0;
  auto it = g.pel.lower_bound(start);
  while (attempts-- > 0 && count > 0 && it != g.pel.end()) {
    const stream_id id = it->first;
    if (!s.contains(id)) {
      // Deleted from the stream: cleared from the PEL and reported.
      it = g.remove_pending(it);
      deleted.push_back(id);
      --count;
      continue;
    }
    if (min_idle && now - it->second.delivery_time < min_idle) {
      ++it;
      continue;
    }
    if (!consumer) consumer = &touch_consumer(ctx.srv, ctx.client.db, ctx.arg(1), g, ctx.arg(3), now);
    it->second.delivery_time = now;
    if (!justid) ++it->second.delivery_count;
    g.transfer(it, *consumer);
    write_claimed(entries, s, id, justid);
    ++n;
    --count;
    ++it;
  }
  // The cursor: the next pending id, 0-0 once the PEL is done.
  write_id(ctx.out, it == g.pel.end() ? stream_id{} : it->first);
  ctx.out.array(n);
  ctx.out.buffer() += claimed;
  ctx.out.array(deleted.size());
  for (const auto& id : deleted) write_id(ctx.out, id);
}

// XINFO STREAM key [FULL [COUNT count]]
void cmd_xinfo_stream(command_context& ctx) {
  const std::string_view key = ctx.arg(2);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.error(errors::no_such_key);
  if (!check_type(ctx, e, value_type::stream)) return;
  const stream_value& s = *as_stream(e);
  bool full = false;
  std::int64_t count = 10;  // FULL's default, so that a big stream cannot block the server
  const std::size_t optc = ctx.argc() - 3;
  if (optc) {
    if ((optc != 1 && optc != 3) || !iequals(ctx.arg(3), "full")) return subcommand_syntax_error(ctx);
    if (optc == 3) {
      if (!iequals(ctx.arg(4), "count")) return subcommand_syntax_error(ctx);
      if (!int_arg(ctx, 5, count)) return;
      if (count < 0) count = 10;
    }
    full = true;
  }
  auto& out = ctx.out;
  out.map(full ? 9 : 10);
  out.bulk("length");
  out.integer(static_cast<std::int64_t>(s.length));
  out.bulk("radix-tree-keys");
  out.integer(static_cast<std::int64_t>(s.radix_tree_keys()));
  out.bulk("radix-tree-nodes");
  out.integer(static_cast<std::int64_t>(s.radix_tree_nodes()));
  out.bulk("last-generated-id");
  write_id(out, s.last_id);
  out.bulk("max-deleted-entry-id");
  write_id(out, s.max_deleted_id);
  out.bulk("entries-added");
  out.integer(static_cast<std::int64_t>(s.entries_added));
  out.bulk("recorded-first-entry-id");
  write_id(out, s.first_id);
  auto write_lag = [&](const stream_group& g) {
    const auto lag = s.group_lag(g);
    lag ? out.integer(*lag) : out.null();
  };
  auto write_entries_read = [&](const stream_group& g) {
    g.entries_read != -1 ? out.integer(g.entries_read) : out.null();
  };

  if (!full) {
    out.bulk("groups");
    out.integer(static_cast<std::int64_t>(s.groups.size()));
    for (const bool rev : {false, true}) {
      out.bulk(rev ? "last-entry" : "first-entry");
      const std::size_t emitted =
          s.range({0, 0}, stream_id::max(), 1, rev,
                  [&](const stream_id& id, std::span<const std::string_view> fv) { write_entry(out, id, fv); });
      if (!emitted) out.null();
    }
    return;
  }

  const auto limit = static_cast<std::size_t>(count);  // 0: everything
  out.bulk("entries");
  reply_range(out, s, {0, 0}, stream_id::max(), limit, false);
  out.bulk("groups");
  out.array(s.groups.size());
  for (const auto& [name, g] : s.groups) {
    out.map(7);
    out.bulk("name");
    out.bulk(name);
    out.bulk("last-delivered-id");
    write_id(out, g.last_id);
    out.bulk("entries-read");
    write_entries_read(g);
    out.bulk("lag");
    write_lag(g);
    out.bulk("pel-count");
    out.integer(static_cast<std::int64_t>(g.pel.size()));
    out.bulk("pending");
    std::size_t n = 0;
    std::size_t marker = out.begin_deferred();
    for (auto it = g.pel.begin(); it != g.pel.end() && (!limit || n < limit); ++it, ++n) {
      out.array(4);
      write_id(out, it->first);
      out.bulk(it->second.owner->name);
      out.integer(it->second.delivery_time);
      out.integer(static_cast<std::int64_t>(it->second.delivery_count));
    }
    out.end_deferred_array(marker, n);
    out.bulk("consumers");
    out.array(g.consumers.size());
    for (const auto& [cname, c] : g.consumers) {
      out.map(4);
      out.bulk("name");
      out.bulk(cname);
      out.bulk("seen-time");
      out.integer(c.seen_time);
      out.bulk("pel-count");
      out.integer(static_cast<std::int64_t>(c.pel.size()));
      out.bulk("pending");
      n = 0;
      marker = out.begin_deferred();
      for (auto it = c.pel.begin(); it != c.pel.end() && (!limit || n < limit); ++it, ++n) {
        const auto& nack = g.pel.find(*it)->second;
        out.array(3);
        write_id(out, *it);
        out.integer(nack.delivery_time);
        out.integer(static_cast<std::int64_t>(nack.delivery_count));
      }
      out.end_deferred_array(marker, n);
    }
  }
}

// XINFO GROUPS key
void cmd_xinfo_groups(command_context& ctx) {
  const std::string_view key = ctx.arg(2);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.error(errors::no_such_key);
  if (!check_type(ctx, e, value_type::stream)) return;
  const stream_value& s = *as_stream(e);
  ctx.out.array(s.groups.size());
  for (const auto& [name, g] : s.groups) {
    ctx.out.map(6);
    ctx.out.bulk("name");
    ctx.out.bulk(name);
    ctx.out.bulk("consumers");
    ctx.out.integer(static_cast<std::int64_t>(g.consumers.size()));
    ctx.out.bulk("pending");
    ctx.out.integer(static_cast<std::int64_t>(g.pel.size()));
    ctx.out.bulk("last-delivered-id");
    write_id(ctx.out, g.last_id);
    ctx.out.bulk("entries-read");
    g.entries_read != -1 ? ctx.out.integer(g.entries_read) : ctx.out.null();
    ctx.out.bulk("lag");
    const auto lag = s.group_lag(g);
    lag ? ctx.out.integer(*lag) : ctx.out.null();
  }
}

// XINFO CONSUMERS key group
void cmd_xinfo_consumers(command_context& ctx) {
  const std::string_view key = ctx.arg(2);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.error(errors::no_such_key);
  if (!check_type(ctx, e, value_type::stream)) return;
  const stream_value& s = *as_stream(e);
  auto it = s.groups.find(ctx.arg(3));
  if (it == s.groups.end())
    return ctx.out.error("-NOGROUP No such consumer group '" + std::string(ctx.arg(3)) + "' for key name '" +
                         std::string(key) + "'");
  ctx.out.array(it->second.consumers.size());
  for (const auto& [name, c] : it->second.consumers) {
    const std::int64_t idle = ctx.now_ms - c.seen_time;
    ctx.out.map(3);
    ctx.out.bulk("name");
    ctx.out.bulk(name);
    ctx.out.bulk("pending");
    ctx.out.integer(static_cast<std::int64_t>(c.pel.size()));
    ctx.out.bulk("idle");
    ctx.out.integer(idle < 0 ? 0 : idle);
  }
}

void cmd_xinfo_help(command_context& ctx) {
  write_help(ctx, {
                      "CONSUMERS <key> <groupname>",
                      "    Show consumers of <groupname>.",
                      "GROUPS <key>",
                      "    Show the stream consumer groups.",
                      "STREAM <key> [FULL [COUNT <count>]",
                      "    Show information about the stream.",
                  });
}

}  // namespace

void register_stream_group_commands(command_table& t) {
  t.add("xpending", exec_kind::keyed, cmd_xpending);
  t.add("xclaim", exec_kind::keyed, cmd_xclaim);
  t.add("xautoclaim", exec_kind::keyed, cmd_xautoclaim);
  t.add("xinfo|stream", exec_kind::keyed, cmd_xinfo_stream);
  t.add("xinfo|groups", exec_kind::keyed, cmd_xinfo_groups);
  t.add("xinfo|consumers", exec_kind::keyed, cmd_xinfo_consumers);
  t.add("xinfo|help", exec_kind::local, cmd_xinfo_help);
}

}  // namespace shrike::commands::streams
