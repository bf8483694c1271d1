// Stream commands (t_stream.c of Redis 7.0) on store::stream_value.
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "replication/replication_state.hpp"
#include "commands/stream_helpers.hpp"
#include "store/stream_value.hpp"
#include "util/clock.hpp"
#include "util/numbers.hpp"

namespace shrike::commands {

namespace {

namespace asio = boost::asio;
using store::database;
using store::entry;
using store::stream_id;
using store::stream_trim_args;
using store::stream_value;
using store::value_type;
using streams::as_stream;
using streams::id_arg;
using streams::interval_arg;
using streams::reply_range;
using streams::write_entry;
using streams::write_id;

// streamParseAddOrTrimArgsOrReply: returns the index of XADD's id (or of the
// first unparsed argument), -1 after an error reply.
struct add_args {
  stream_trim_args trim;
  bool no_mkstream = false;
  bool id_given = false;
  bool seq_given = false;
  stream_id id;
};

int parse_add_or_trim(command_context& ctx, add_args& a, bool xadd) {
  std::size_t i = 2;
  bool limit_given = false;
  const std::size_t argc = ctx.argc();
  for (; i < argc; ++i) {
    const std::size_t more = argc - 1 - i;
    const std::string_view opt = ctx.arg(i);
    if (xadd && opt == "*") break;
    if ((iequals(opt, "maxlen") || iequals(opt, "minid")) && more) {
      const bool maxlen = iequals(opt, "maxlen");
      if (a.trim.how != stream_trim_args::strategy::none) {
        ctx.out.error("syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
      }
      a.trim.approx = false;
      const std::string_view next = ctx.arg(i + 1);
      if (more >= 2 && next == "~") {
        a.trim.approx = true;
        ++i;
      } else if (more >= 2 && next == "=") {
        ++i;
      }
      if (maxlen) {
        if (!int_arg(ctx, i + 1, a.trim.maxlen)) return -1;
        if (a.trim.maxlen < 0) {
          ctx.out.error("The MAXLEN argument must be >= 0.");
          return -1;
        }
        a.trim.how = stream_trim_args::strategy::maxlen;
      } else {
        if (!id_arg(ctx, ctx.arg(i + 1), a.trim.minid, 0, true)) return -1;
        a.trim.how = stream_trim_args::strategy::minid;
      }
      ++i;
    } else if (iequals(opt, "limit") && more) {
      if (!int_arg(ctx, i + 1, a.trim.limit)) return -1;
      if (a.trim.limit < 0) {
        ctx.out.error("The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = true;
      ++i;
    } else if (xadd && iequals(opt, "nomkstream")) {
      a.no_mkstream = true;
    } else if (xadd) {
      if (!id_arg(ctx, opt, a.id, 0, true, &a.seq_given)) return -1;
      a.id_given = true;
      break;
    } else {
      ctx.out.error(errors::syntax);
      return -1;
    }
  }
  if (a.trim.limit && a.trim.how == stream_trim_args::strategy::none) {
    ctx.out.error("syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && a.trim.how == stream_trim_args::strategy::none) {
    ctx.out.error("syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (limit_given) {
    if (!a.trim.approx) {
      ctx.out.error("syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else {
    // Redis bounds approximate trimming to 100 nodes of work (clamped to
    // [10000 when not positive, 1000000]).
    if (a.trim.approx) {
      const std::int64_t node = ctx.srv.stream_node_max_entries.load(std::memory_order_relaxed);
      a.trim.limit = node > 10000 ? 1000000 : 100 * node;
      if (a.trim.limit <= 0) a.trim.limit = 10000;
    } else {
      a.trim.limit = 0;
    }
  }
  return static_cast<int>(i);
}

// XADD key [NOMKSTREAM] [(MAXLEN|MINID) [=|~] threshold [LIMIT count]] *|id field value ...
void cmd_xadd(command_context& ctx) {
  add_args a;
  const int idpos = parse_add_or_trim(ctx, a, true);
  if (idpos < 0) return;
  const std::size_t field_pos = static_cast<std::size_t>(idpos) + 1;
  if (field_pos > ctx.argc() || ctx.argc() - field_pos < 2 || (ctx.argc() - field_pos) % 2 == 1) {
    ctx.out.error(wrong_arity_text("xadd"));
    return;
  }
  if (a.id_given && a.seq_given && a.id.is_zero()) {
    ctx.out.error("The ID specified in XADD must be greater than 0-0");
    return;
  }
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (e && !check_type(ctx, e, value_type::stream)) return;
  if (!e && a.no_mkstream) {
    ctx.out.null();
    return;
  }
  stream_value* fresh = nullptr;
  stream_value* s;
  if (e) {
    s = as_stream(e);
  } else {
    fresh = new stream_value;
    s = fresh;
  }
  // Validate before creating the key so a failed XADD leaves no empty stream.
  auto fail = [&](std::string_view msg) {
    delete fresh;
    ctx.out.error(msg);
  };
  if (s->last_id == stream_id::max()) {
    fail("The stream has exhausted the last possible ID, unable to add more items");
    return;
  }
  stream_id id;
  if (!a.id_given) {
    const auto now = static_cast<std::uint64_t>(util::now_ms());
    id = now > s->last_id.ms ? stream_id{now, 0} : s->last_id;
    if (now <= s->last_id.ms) id.incr();
  } else if (!a.seq_given && s->last_id.ms == a.id.ms) {
    if (s->last_id.seq == UINT64_MAX) {
      fail("The ID specified in XADD is equal or smaller than the target stream top item");
      return;
    }
    id = s->last_id;
    ++id.seq;
  } else {
    id = a.id;
  }
  if (id <= s->last_id) {
    fail("The ID specified in XADD is equal or smaller than the target stream top item");
    return;
  }
  if (fresh) {
    db.add_object(key, value_type::stream, fresh, ctx.now_ms);
    notify_new(ctx, key);
  }
  const store::stream_node_limits node_limits{ctx.srv.stream_node_max_entries.load(std::memory_order_relaxed),
                                              ctx.srv.stream_node_max_bytes.load(std::memory_order_relaxed)};
  s->append(id,
            std::span<const std::string_view>(ctx.argv.begin() + static_cast<std::ptrdiff_t>(field_pos),
                                              ctx.argv.end()),
            node_limits);
  write_id(ctx.out, id);
  notify_event(ctx, notify::stream, "xadd", key);
  if (a.trim.how != stream_trim_args::strategy::none && s->trim(a.trim))
    notify_event(ctx, notify::stream, "xtrim", key);
  signal_key_ready(ctx, key);
  // Replicas get the id this XADD chose and, for an approximate trim
  // (whose result depends on how entries are grouped in memory), the
  // exact length it left.
  if (ctx.effects && (!a.id_given || !a.seq_given || a.trim.approx)) {
    std::vector<std::string> v{"XADD", std::string(key)};
    if (a.no_mkstream) v.emplace_back("NOMKSTREAM");
    if (a.trim.approx) {
      v.insert(v.end(), {"MAXLEN", "=", std::to_string(s->length)});
    } else if (a.trim.how != stream_trim_args::strategy::none) {
      v.insert(v.end(), {a.trim.how == stream_trim_args::strategy::maxlen ? "MAXLEN" : "MINID", "=",
                         a.trim.how == stream_trim_args::strategy::maxlen ? std::to_string(a.trim.maxlen)
                                                                          : a.trim.minid.str()});
    }
    v.push_back(id.str());
    v.insert(v.end(), ctx.argv.begin() + static_cast<std::ptrdiff_t>(field_pos), ctx.argv.end());
    propagate_as(ctx, std::move(v));
  }
}

void cmd_xlen(command_context& ctx) {
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = read_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::stream)) return;
  ctx.out.integer(static_cast<std::int64_t>(as_stream(e)->length));
}

void xrange_generic(command_context& ctx, bool rev) {
  stream_id start, end;
  bool startex, endex;
  if (!interval_arg(ctx, ctx.arg(rev ? 3 : 2), start, startex, 0)) return;
  if (startex && !start.incr()) return ctx.out.error("invalid start ID for the interval");
  if (!interval_arg(ctx, ctx.arg(rev ? 2 : 3), end, endex, UINT64_MAX)) return;
  if (endex && !end.decr()) return ctx.out.error("invalid end ID for the interval");
  std::int64_t count = -1;
  for (std::size_t j = 4; j < ctx.argc(); ++j) {
    if (iequals(ctx.arg(j), "count") && j + 1 < ctx.argc()) {
      if (!int_arg(ctx, ++j, count)) return;
      if (count < 0) count = 0;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = read_key(ctx, db, key);
  if (!e) return ctx.out.array(0);
  if (!check_type(ctx, e, value_type::stream)) return;
  if (count == 0) return ctx.out.null_array();
  reply_range(ctx.out, *as_stream(e), start, end, count < 0 ? 0 : static_cast<std::size_t>(count), rev);
}

void cmd_xrange(command_context& ctx) { xrange_generic(ctx, false); }
void cmd_xrevrange(command_context& ctx) { xrange_generic(ctx, true); }

void cmd_xdel(command_context& ctx) {
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::stream)) return;
  // All ids are checked first: the command runs all or nothing.
  std::vector<stream_id> ids(ctx.argc() - 2);
  for (std::size_t j = 2; j < ctx.argc(); ++j)
    if (!id_arg(ctx, ctx.arg(j), ids[j - 2], 0, true)) return;
  stream_value* s = as_stream(e);
  std::int64_t deleted = 0;
  bool first_deleted = false;
  for (const auto& id : ids) {
    if (!s->remove(id)) continue;
    if (id == s->first_id) first_deleted = true;
    if (id > s->max_deleted_id) s->max_deleted_id = id;
    ++deleted;
  }
  if (deleted) {
    if (s->length == 0)
      s->first_id = {};
    else if (first_deleted)
      s->first_id = s->first_live();
    notify_event(ctx, notify::stream, "xdel", key);
  }
  ctx.out.integer(deleted);
}

void cmd_xtrim(command_context& ctx) {
  add_args a;
  if (parse_add_or_trim(ctx, a, false) < 0) return;
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::stream)) return;
  const std::int64_t deleted = as_stream(e)->trim(a.trim);
  if (deleted) notify_event(ctx, notify::stream, "xtrim", key);
  ctx.out.integer(deleted);
  if (a.trim.approx) propagate_as(ctx, {"XTRIM", key, "MAXLEN", "=", std::to_string(as_stream(e)->length)});
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
void cmd_xsetid(command_context& ctx) {
  stream_id id, max_xdel;
  std::int64_t entries_added = -1;
  if (!id_arg(ctx, ctx.arg(2), id, 0, true)) return;
  for (std::size_t i = 3; i < ctx.argc();) {
    const bool more = i + 1 < ctx.argc();
    if (iequals(ctx.arg(i), "entriesadded") && more) {
      if (!int_arg(ctx, i + 1, entries_added)) return;
      if (entries_added < 0) return ctx.out.error("entries_added must be positive");
    } else if (iequals(ctx.arg(i), "maxdeletedid") && more) {
      if (!id_arg(ctx, ctx.arg(i + 1), max_xdel, 0, true)) return;
      if (id < max_xdel)
        return ctx.out.error("The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
    } else {
      return ctx.out.error(errors::syntax);
    }
    i += 2;
  }
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.error(errors::no_such_key);
  if (!check_type(ctx, e, value_type::stream)) return;
  stream_value* s = as_stream(e);
  if (s->length > 0) {
    if (id < s->last_live())
      return ctx.out.error("The ID specified in XSETID is smaller than the target stream top item");
    if (entries_added != -1 && s->length > static_cast<std::uint64_t>(entries_added))
      return ctx.out.error("The entries_added specified in XSETID is smaller than the target stream length");
  }
  s->last_id = id;
  if (entries_added != -1) s->entries_added = static_cast<std::uint64_t>(entries_added);
  if (!max_xdel.is_zero()) s->max_deleted_id = max_xdel;
  ctx.out.ok();
  notify_event(ctx, notify::stream, "xsetid", key);
}


// getTimeoutFromObjectOrReply in milliseconds (XREAD BLOCK).
bool parse_block_ms(command_context& ctx, std::size_t i, std::int64_t& deadline_ms) {
  std::int64_t ms;
  if (!util::parse_int64(ctx.arg(i), ms)) {
    ctx.out.error("timeout is not an integer or out of range");
    return false;
  }
  if (ms < 0) {
    ctx.out.error("timeout is negative");
    return false;
  }
  deadline_ms = ms > 0 ? ctx.now_ms + ms : 0;
  return true;
}

// The parsed XREAD / XREADGROUP call; shared by the attempts and the waiter,
// so a `$` resolved by the first attempt keeps its meaning when the command
// runs again.
struct xread_state {
  std::vector<std::string_view> keys;
  std::vector<std::string> id_args;
  std::vector<stream_id> ids;  // XREADGROUP: stream_id::max() stands for `>`, as in Redis
  bool resolved = false;
  std::int64_t count = 0;
  bool block = false;
  // XREADGROUP
  bool with_group = false;
  bool noack = false;
  std::string group;
  std::string consumer;

  std::size_t index_of(std::string_view key) const {
    std::size_t i = 0;
    while (keys[i] != key) ++i;
    return i;
  }
};

constexpr std::string_view blocked_key_gone = "-UNBLOCKED the stream key no longer exists";
constexpr std::string_view blocked_group_gone =
    "-NOGROUP the consumer group this client was blocked on no longer exists";

store::stream_group* find_group(stream_value& s, std::string_view name) {
  auto it = s.groups.find(name);
  return it == s.groups.end() ? nullptr : &it->second;
}

// New entries for a group (XREADGROUP `>`): entries after `after`, each one
// advancing the group and, unless NOACK, becoming pending for `c`.
void reply_group_new(resp::reply_writer& out, stream_value& s, store::stream_group& g, store::stream_consumer& c,
                     stream_id after, std::int64_t count, bool noack, std::int64_t now_ms,
                     std::vector<stream_id>* delivered) {
  const std::size_t marker = out.begin_deferred();
  after.incr();
  const std::size_t n = s.range(after, stream_id::max(), static_cast<std::size_t>(count), false,
                                [&](const stream_id& id, std::span<const std::string_view> fv) {
                                  if (id > g.last_id) s.advance_group(g, id);
                                  write_entry(out, id, fv);
                                  if (!noack) g.deliver(id, c, now_ms);
                                  if (delivered) delivered->push_back(id);
                                });
  out.end_deferred_array(marker, n);
}

// A consumer's history (XREADGROUP with an id): its pending entries after
// `after`, each delivered once more; an entry deleted since is [id, nil].
void reply_group_history(resp::reply_writer& out, const stream_value& s, store::stream_group& g,
                         const store::stream_consumer& c, stream_id after, std::int64_t count, std::int64_t now_ms,
                         std::vector<stream_id>* delivered) {
  const std::size_t marker = out.begin_deferred();
  after.incr();
  std::size_t n = 0;
  for (auto it = c.pel.lower_bound(after); it != c.pel.end() && (count == 0 || n < static_cast<std::size_t>(count));
       ++it, ++n) {
    if (streams::write_entry_if_present(out, s, *it)) {
      auto& nack = g.pel.find(*it)->second;
      nack.delivery_time = now_ms;
      ++nack.delivery_count;
      if (delivered) delivered->push_back(*it);
    } else {
      out.array(2);
      write_id(out, *it);
      out.null_array();
    }
  }
  out.end_deferred_array(marker, n);
}

// One stream's part of a reply: [key, entries] (a map pair in RESP3).
// `after` is the id the entries must follow; `g` is the group of XREADGROUP.
// A consumer that XREADGROUP creates is notified in db `db`. With `effects`,
// what replicas must apply is added there, as Redis 7.0 propagates a group
// read: the consumer's creation, an XCLAIM ... FORCE JUSTID per delivered
// entry (with its delivery time and count), and the group's new last id.
void write_stream_part(server::server_context& srv, std::size_t db, resp::reply_writer& out, int resp,
                       std::string_view key, stream_value& s, stream_id after, const xread_state& st,
                       std::int64_t count, store::stream_group* g, bool history, std::int64_t now_ms,
                       std::vector<std::vector<std::string>>* effects) {
  if (resp == 2) out.array(2);
  out.bulk(key);
  if (!g) {
    after.incr();
    reply_range(out, s, after, stream_id::max(), static_cast<std::size_t>(count), false);
    return;
  }
  const std::string k(key);
  if (effects && !g->find_consumer(st.consumer))
    effects->push_back({"XGROUP", "CREATECONSUMER", k, st.group, st.consumer});
  store::stream_consumer& c = streams::touch_consumer(srv, db, key, *g, st.consumer, now_ms);
  std::vector<stream_id> delivered;
  std::vector<stream_id>* track = effects ? &delivered : nullptr;
  if (history)
    reply_group_history(out, s, *g, c, after, count, now_ms, track);
  else
    reply_group_new(out, s, *g, c, after, count, st.noack, now_ms, track);
  if (!effects || delivered.empty()) return;
  const std::string last = g->last_id.str();
  for (const auto& id : delivered) {
    auto nack = g->pel.find(id);
    if (nack == g->pel.end()) continue;  // NOACK
    effects->push_back({"XCLAIM", k, st.group, st.consumer, "0", id.str(), "TIME", std::to_string(nack->second.delivery_time),
                        "RETRYCOUNT", std::to_string(nack->second.delivery_count), "FORCE", "JUSTID", "LASTID", last});
  }
  if (!history) effects->push_back({"XGROUP", "SETID", k, st.group, last, "ENTRIESREAD", std::to_string(g->entries_read)});
}

bool xread_attempt(command_context& ctx, xread_state& st) {
  // Types, groups and ids are checked against the data first, key by key, as Redis does.
  const std::size_t n = st.keys.size();
  std::vector<stream_value*> streams(n, nullptr);
  std::vector<store::stream_group*> groups(n, nullptr);
  for (std::size_t i = 0; i < n; ++i) {
    database& db = ctx.db(st.keys[i]);
    entry* e = read_key(ctx, db, st.keys[i]);
    if (e && !check_type(ctx, e, value_type::stream)) return true;
    if (e) streams[i] = as_stream(e);
    if (st.with_group) {
      if (e) groups[i] = find_group(*streams[i], st.group);
      if (!groups[i]) {
        ctx.out.error("-NOGROUP No such key '" + std::string(st.keys[i]) + "' or consumer group '" + st.group +
                      "' in XREADGROUP with GROUP option");
        return true;
      }
    }
    if (st.resolved) continue;
    if (st.id_args[i] == "$") {
      if (st.with_group) {
        ctx.out.error(
            "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by "
            "specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result "
            "set.");
        return true;
      }
      st.ids[i] = e ? streams[i]->last_id : stream_id{};
    } else if (st.id_args[i] == ">") {
      if (!st.with_group) {
        ctx.out.error(
            "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
        return true;
      }
      st.ids[i] = stream_id::max();
    } else if (!id_arg(ctx, st.id_args[i], st.ids[i], 0, true)) {
      return true;
    }
  }
  st.resolved = true;
  std::size_t parts = 0;
  std::size_t marker = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // Redis looks each key up again to serve it: a second "keymiss" (and
    // hit or miss) for every key.
    read_key(ctx, ctx.db(st.keys[i]), st.keys[i]);
    stream_value* s = streams[i];
    if (!s) continue;
    stream_id after = st.ids[i];
    bool history = false;
    if (st.with_group) {
      // An id other than `>` reads the consumer's history, always at once.
      history = after != stream_id::max();
      if (!history) {
        if (!s->length || s->last_live() <= groups[i]->last_id) continue;
        after = groups[i]->last_id;
      }
    } else if (!s->length || s->last_live() <= after) {
      continue;
    }
    if (parts++ == 0) marker = ctx.out.begin_deferred();
    std::vector<std::vector<std::string>> effects;
    write_stream_part(ctx.srv, ctx.client.db, ctx.out, ctx.client.resp, st.keys[i], *s, after, st, st.count,
                      groups[i], history, ctx.now_ms, ctx.effects && st.with_group ? &effects : nullptr);
    for (auto& e : effects) propagate_as(ctx, std::move(e));
  }
  if (st.with_group) propagate_nothing(ctx);  // what it did, if anything, is recorded above
  if (parts) {
    if (ctx.client.resp == 2)
      ctx.out.end_deferred_array(marker, parts);
    else
      ctx.out.end_deferred_map(marker, parts);
    return true;
  }
  if (st.block) return false;
  ctx.out.null_array();
  return true;
}

class xread_waiter final : public key_waiter {
 public:
  xread_waiter(asio::any_io_executor ex, std::size_t db, int resp, std::shared_ptr<xread_state> st)
      : key_waiter(ex, db, resp, value_type::stream), st_(std::move(st)) {}

  // Entries past the id waited for. XREADGROUP also ends (with an error)
  // when its key or its group is gone, as Redis unblocks such readers.
  bool accepts(store::entry* e, std::string_view key) const override {
    const bool is_stream = e && e->type == value_type::stream;
    if (!st_->with_group) return is_stream && as_stream(e)->last_id > st_->ids[st_->index_of(key)];
    if (!is_stream) return true;
    store::stream_group* g = find_group(*as_stream(e), st_->group);
    return !g || as_stream(e)->last_id > g->last_id;
  }

  void serve(server::server_context& srv, store::shard& sh, std::string_view key, ready_list&) override {
    const std::int64_t now = util::now_ms();
    entry* e = sh.db(db).lookup(key, now);
    resp::reply_writer out(reply);
    out.set_protocol(resp);
    outcome = block_outcome::served;
    if (!e || e->type != value_type::stream) return out.error(blocked_key_gone);
    stream_value& s = *as_stream(e);
    stream_id after = st_->ids[st_->index_of(key)];
    store::stream_group* g = nullptr;
    if (st_->with_group) {
      g = find_group(s, st_->group);
      if (!g) return out.error(blocked_group_gone);
      after = g->last_id;
    }
    if (resp == 2)
      out.array(1);
    else
      out.map(1);
    // Redis serves a blocked reader 1000 entries at most unless it set COUNT.
    std::vector<std::vector<std::string>> effects;
    const bool propagate = g && srv.repl().propagating();
    write_stream_part(srv, db, out, resp, key, s, after, *st_, st_->count ? st_->count : 1000, g, false, now,
                      propagate ? &effects : nullptr);
    if (!effects.empty()) {
      std::vector<std::pair<std::size_t, std::vector<std::string>>> tx;
      for (auto& e : effects) tx.emplace_back(db, std::move(e));
      srv.repl().feed_transaction(tx);
    }
  }

 private:
  std::shared_ptr<xread_state> st_;
};

// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
bool prepare_xread(command_context& ctx, blocking_call& call) {
  auto st = std::make_shared<xread_state>();
  const bool xreadgroup = iequals(ctx.arg(0), "xreadgroup");
  std::size_t streams_arg = 0;
  std::int64_t deadline = 0;
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const bool more = i + 1 < ctx.argc();
    const std::string_view o = ctx.arg(i);
    if (iequals(o, "block") && more) {
      if (!parse_block_ms(ctx, ++i, deadline)) return false;
      st->block = true;
    } else if (iequals(o, "count") && more) {
      if (!int_arg(ctx, ++i, st->count)) return false;
      if (st->count < 0) st->count = 0;
    } else if (iequals(o, "streams") && more) {
      streams_arg = i + 1;
      if ((ctx.argc() - streams_arg) % 2 != 0) {
        ctx.out.error("Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return false;
      }
      break;
    } else if (iequals(o, "group") && i + 2 < ctx.argc()) {
      if (!xreadgroup) {
        ctx.out.error("The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return false;
      }
      st->with_group = true;
      st->group = std::string(ctx.arg(i + 1));
      st->consumer = std::string(ctx.arg(i + 2));
      i += 2;
    } else if (iequals(o, "noack")) {
      if (!xreadgroup) {
        ctx.out.error("The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return false;
      }
      st->noack = true;
    } else {
      ctx.out.error(errors::syntax);
      return false;
    }
  }
  if (streams_arg == 0) {
    ctx.out.error(errors::syntax);
    return false;
  }
  if (xreadgroup && !st->with_group) {
    ctx.out.error("Missing GROUP option for XREADGROUP");
    return false;
  }
  const std::size_t n = (ctx.argc() - streams_arg) / 2;
  for (std::size_t i = 0; i < n; ++i) {
    st->keys.push_back(ctx.arg(streams_arg + i));
    st->id_args.emplace_back(ctx.arg(streams_arg + n + i));
  }
  st->ids.resize(n);
  call.gate_keys = st->keys;
  call.wait_keys = st->keys;
  call.deadline_ms = deadline;
  call.attempt = [st](command_context& c) { return xread_attempt(c, *st); };
  call.make_waiter = [&ctx, st](asio::any_io_executor ex) {
    return std::static_pointer_cast<key_waiter>(
        std::make_shared<xread_waiter>(ex, ctx.client.db, ctx.client.resp, st));
  };
  call.timeout_reply = [](command_context& c) { c.out.null_array(); };
  return true;
}

// XGROUP's common prologue (xgroupCommand): options after the id, the key
// (which must exist unless MKSTREAM), the group (which SETID, CREATECONSUMER
// and DELCONSUMER need). Null stream after an error reply.
struct xgroup_target {
  bool ok = false;
  bool mkstream = false;
  std::int64_t entries_read = -1;
  entry* e = nullptr;
  stream_value* s = nullptr;
  store::stream_group* g = nullptr;
};

xgroup_target xgroup_prologue(command_context& ctx, bool create, bool setid, bool needs_group) {
  xgroup_target t;
  for (std::size_t i = 5; i < ctx.argc();) {
    if (create && iequals(ctx.arg(i), "mkstream")) {
      t.mkstream = true;
      ++i;
    } else if ((create || setid) && iequals(ctx.arg(i), "entriesread") && i + 1 < ctx.argc()) {
      if (!int_arg(ctx, i + 1, t.entries_read)) return t;
      if (t.entries_read < 0 && t.entries_read != -1) {
        ctx.out.error("value for ENTRIESREAD must be positive or -1");
        return t;
      }
      i += 2;
    } else {
      subcommand_syntax_error(ctx);
      return t;
    }
  }
  const std::string_view key = ctx.arg(2);
  database& db = ctx.db(key);
  t.e = write_key(ctx, db, key);
  if (t.e) {
    if (!check_type(ctx, t.e, value_type::stream)) return t;
    t.s = as_stream(t.e);
  }
  if (!t.mkstream) {
    if (!t.s) {
      ctx.out.error(
          "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM "
          "option to create an empty stream automatically.");
      return t;
    }
    auto it = t.s->groups.find(ctx.arg(3));
    if (it != t.s->groups.end()) t.g = &it->second;
    if (!t.g && needs_group) {
      ctx.out.error("-NOGROUP No such consumer group '" + std::string(ctx.arg(3)) + "' for key name '" +
                    std::string(key) + "'");
      return t;
    }
  }
  t.ok = true;
  return t;
}

void cmd_xgroup_create(command_context& ctx) {
  if (ctx.argc() > 8) return subcommand_syntax_error(ctx);
  xgroup_target t = xgroup_prologue(ctx, true, false, false);
  if (!t.ok) return;
  stream_id id;
  if (ctx.arg(4) == "$") {
    id = t.s ? t.s->last_id : stream_id{};
  } else if (!id_arg(ctx, ctx.arg(4), id, 0, true)) {
    return;
  }
  if (!t.s) {
    t.s = new stream_value;
    ctx.db(ctx.arg(2)).add_object(ctx.arg(2), value_type::stream, t.s, ctx.now_ms);
    notify_new(ctx, ctx.arg(2));
  }
  if (t.s->groups.contains(ctx.arg(3))) return ctx.out.error("-BUSYGROUP Consumer Group name already exists");
  auto& g = t.s->groups[std::string(ctx.arg(3))];
  g.last_id = id;
  g.entries_read = t.entries_read;
  ctx.out.ok();
  notify_event(ctx, notify::stream, "xgroup-create", ctx.arg(2));
}

void cmd_xgroup_setid(command_context& ctx) {
  if (ctx.argc() != 5 && ctx.argc() != 7) return subcommand_syntax_error(ctx);
  xgroup_target t = xgroup_prologue(ctx, false, true, true);
  if (!t.ok) return;
  stream_id id;
  if (ctx.arg(4) == "$") {
    id = t.s->last_id;
  } else if (!id_arg(ctx, ctx.arg(4), id, 0, false)) {
    return;
  }
  t.g->last_id = id;
  t.g->entries_read = t.entries_read;
  ctx.out.ok();
  notify_event(ctx, notify::stream, "xgroup-setid", ctx.arg(2));
}

void cmd_xgroup_destroy(command_context& ctx) {
  xgroup_target t = xgroup_prologue(ctx, false, false, false);
  if (!t.ok) return;
  if (!t.g) return ctx.out.integer(0);
  t.s->groups.erase(std::string(ctx.arg(3)));
  ctx.out.integer(1);
  notify_event(ctx, notify::stream, "xgroup-destroy", ctx.arg(2));
  // Readers blocked on the group learn that it is gone.
  signal_key_ready(ctx, ctx.arg(2));
}

void cmd_xgroup_createconsumer(command_context& ctx) {
  xgroup_target t = xgroup_prologue(ctx, false, false, true);
  if (!t.ok) return;
  if (t.g->find_consumer(ctx.arg(4))) return ctx.out.integer(0);
  t.g->create_consumer(ctx.arg(4), ctx.now_ms);
  ctx.out.integer(1);
  notify_event(ctx, notify::stream, "xgroup-createconsumer", ctx.arg(2));
}

void cmd_xgroup_delconsumer(command_context& ctx) {
  xgroup_target t = xgroup_prologue(ctx, false, false, true);
  if (!t.ok) return;
  if (!t.g->find_consumer(ctx.arg(4))) return ctx.out.integer(0);
  ctx.out.integer(static_cast<std::int64_t>(t.g->delete_consumer(ctx.arg(4))));
  notify_event(ctx, notify::stream, "xgroup-delconsumer", ctx.arg(2));
}

void cmd_xgroup_help(command_context& ctx) {
  write_help(ctx, {
                      "CREATE <key> <groupname> <id|$> [option]",
                      "    Create a new consumer group. Options are:",
                      "    * MKSTREAM",
                      "      Create the empty stream if it does not exist.",
                      "    * ENTRIESREAD entries_read",
                      "      Set the group's entries_read counter (internal use).",
                      "CREATECONSUMER <key> <groupname> <consumer>",
                      "    Create a new consumer in the specified group.",
                      "DELCONSUMER <key> <groupname> <consumer>",
                      "    Remove the specified consumer.",
                      "DESTROY <key> <groupname>",
                      "    Remove the specified group.",
                      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                      "    Set the current group ID and entries_read counter.",
                  });
}

// XACK key group id [id ...]: all ids are validated before any is acked.
void cmd_xack(command_context& ctx) {
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = read_key(ctx, db, key);
  store::stream_group* g = nullptr;
  if (e) {
    if (!check_type(ctx, e, value_type::stream)) return;
    auto it = as_stream(e)->groups.find(ctx.arg(2));
    if (it != as_stream(e)->groups.end()) g = &it->second;
  }
  if (!g) return ctx.out.integer(0);
  std::vector<stream_id> ids(ctx.argc() - 3);
  for (std::size_t j = 3; j < ctx.argc(); ++j)
    if (!id_arg(ctx, ctx.arg(j), ids[j - 3], 0, true)) return;
  std::int64_t acked = 0;
  for (const auto& id : ids) {
    auto it = g->pel.find(id);
    if (it == g->pel.end()) continue;
    g->remove_pending(it);
    ++acked;
  }
  ctx.out.integer(acked);
}

}  // namespace

void register_stream_commands(command_table& t) {
  t.add("xadd", exec_kind::keyed, cmd_xadd);
  t.add("xlen", exec_kind::keyed, cmd_xlen);
  t.add("xrange", exec_kind::keyed, cmd_xrange);
  t.add("xrevrange", exec_kind::keyed, cmd_xrevrange);
  t.add("xdel", exec_kind::keyed, cmd_xdel);
  t.add("xtrim", exec_kind::keyed, cmd_xtrim);
  t.add("xsetid", exec_kind::keyed, cmd_xsetid);
  t.add("xgroup|create", exec_kind::keyed, cmd_xgroup_create);
  t.add("xgroup|setid", exec_kind::keyed, cmd_xgroup_setid);
  t.add("xgroup|destroy", exec_kind::keyed, cmd_xgroup_destroy);
  t.add("xgroup|createconsumer", exec_kind::keyed, cmd_xgroup_createconsumer);
  t.add("xgroup|delconsumer", exec_kind::keyed, cmd_xgroup_delconsumer);
  t.add("xgroup|help", exec_kind::local, cmd_xgroup_help);
  t.add("xack", exec_kind::keyed, cmd_xack);
  t.add_async("xread", blocking_command<prepare_xread>, nonblocking_form<prepare_xread>);
  t.add_async("xreadgroup", blocking_command<prepare_xread>, nonblocking_form<prepare_xread>);
  streams::register_stream_group_commands(t);
}

}  // namespace shrike::commands
