// Stream commands (t_stream.c of Redis 7.0) on store::stream_value.
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
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

constexpr std::string_view invalid_id = "Invalid stream ID specified as stream command argument";

stream_value* as_stream(entry* e) { return static_cast<stream_value*>(e->object()); }

bool id_arg(command_context& ctx, std::string_view s, stream_id& id, std::uint64_t missing_seq, bool strict,
            bool* seq_given = nullptr) {
  if (store::parse_stream_id(s, id, missing_seq, strict, seq_given)) return true;
  ctx.out.error(invalid_id);
  return false;
}

void write_id(resp::reply_writer& out, const stream_id& id) { out.bulk(id.str()); }

void write_entry(resp::reply_writer& out, const stream_id& id, std::span<const std::string_view> fv) {
  out.array(2);
  write_id(out, id);
  out.array(fv.size());
  for (auto s : fv) out.bulk(s);
}

// streamReplyWithRange without groups: an array of entries.
void reply_range(resp::reply_writer& out, const stream_value& s, const stream_id& start, const stream_id& end,
                 std::size_t count, bool rev) {
  const std::size_t marker = out.begin_deferred();
  const std::size_t n = s.range(start, end, count, rev, [&](const stream_id& id, std::span<const std::string_view> fv) {
    write_entry(out, id, fv);
  });
  out.end_deferred_array(marker, n);
}

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
    // Redis bounds approximate trimming to 100 nodes of work.
    a.trim.limit = a.trim.approx ? 100 * static_cast<std::int64_t>(stream_value::chunk_max_entries) : 0;
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
  if (fresh) db.add_object(key, value_type::stream, fresh, ctx.now_ms);
  s->append(id, std::span<const std::string_view>(ctx.argv.begin() + static_cast<std::ptrdiff_t>(field_pos),
                                                  ctx.argv.end()));
  write_id(ctx.out, id);
  if (a.trim.how != stream_trim_args::strategy::none) s->trim(a.trim);
  signal_key_ready(ctx, key);
}

void cmd_xlen(command_context& ctx) {
  const std::string_view key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = read_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::stream)) return;
  ctx.out.integer(static_cast<std::int64_t>(as_stream(e)->length));
}

// streamParseIntervalIDOrReply: "(" makes the bound exclusive.
bool interval_arg(command_context& ctx, std::string_view s, stream_id& id, bool& exclusive, std::uint64_t missing_seq) {
  exclusive = s.size() > 1 && s[0] == '(';
  if (exclusive) return id_arg(ctx, s.substr(1), id, missing_seq, true);
  return id_arg(ctx, s, id, missing_seq, false);
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
  ctx.out.integer(as_stream(e)->trim(a.trim));
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

// The parsed XREAD call; shared by the attempts and the waiter, so a `$`
// resolved by the first attempt keeps its meaning when the command runs again.
struct xread_state {
  std::vector<std::string_view> keys;
  std::vector<std::string> id_args;
  std::vector<stream_id> ids;
  bool resolved = false;
  std::int64_t count = 0;
  bool block = false;
};

// One stream's part of an XREAD reply: [key, entries] (a map pair in RESP3).
void write_stream_part(resp::reply_writer& out, int resp, std::string_view key, const stream_value& s,
                       stream_id gt, std::int64_t count) {
  if (resp == 2) out.array(2);
  out.bulk(key);
  gt.incr();
  reply_range(out, s, gt, stream_id::max(), static_cast<std::size_t>(count), false);
}

bool xread_attempt(command_context& ctx, xread_state& st) {
  // Types and ids are checked against the data first, as Redis does.
  std::vector<stream_value*> streams(st.keys.size(), nullptr);
  for (std::size_t i = 0; i < st.keys.size(); ++i) {
    database& db = ctx.db(st.keys[i]);
    entry* e = read_key(ctx, db, st.keys[i]);
    if (e && !check_type(ctx, e, value_type::stream)) return true;
    if (e) streams[i] = as_stream(e);
    if (st.resolved) continue;
    if (st.id_args[i] == "$") {
      st.ids[i] = e ? streams[i]->last_id : stream_id{};
    } else if (st.id_args[i] == ">") {
      ctx.out.error("The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
      return true;
    } else if (!id_arg(ctx, st.id_args[i], st.ids[i], 0, true)) {
      return true;
    }
  }
  st.resolved = true;
  std::size_t parts = 0;
  std::size_t marker = 0;
  for (std::size_t i = 0; i < st.keys.size(); ++i) {
    stream_value* s = streams[i];
    if (!s || !s->length || s->last_live() <= st.ids[i]) continue;
    if (parts++ == 0) marker = ctx.out.begin_deferred();
    write_stream_part(ctx.out, ctx.client.resp, st.keys[i], *s, st.ids[i], st.count);
  }
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

  void serve(server::server_context&, store::shard& sh, std::string_view key, ready_list&) override {
    entry* e = sh.db(db).lookup(key, util::now_ms());
    const stream_value& s = *as_stream(e);
    std::size_t i = 0;
    while (st_->keys[i] != key) ++i;
    if (s.last_id <= st_->ids[i]) {
      outcome = block_outcome::retry;  // a recreated stream with older ids: wait again
      return;
    }
    resp::reply_writer out(reply);
    out.set_protocol(resp);
    if (resp == 2)
      out.array(1);
    else
      out.map(1);
    // Redis serves a blocked reader 1000 entries at most unless it set COUNT.
    write_stream_part(out, resp, key, s, st_->ids[i], st_->count ? st_->count : 1000);
    outcome = block_outcome::served;
  }

 private:
  std::shared_ptr<xread_state> st_;
};

// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
bool prepare_xread(command_context& ctx, blocking_call& call) {
  auto st = std::make_shared<xread_state>();
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
      ctx.out.error("The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      return false;
    } else if (iequals(o, "noack")) {
      ctx.out.error("The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      return false;
    } else {
      ctx.out.error(errors::syntax);
      return false;
    }
  }
  if (streams_arg == 0) {
    ctx.out.error(errors::syntax);
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
  }
  if (t.s->groups.contains(ctx.arg(3))) return ctx.out.error("-BUSYGROUP Consumer Group name already exists");
  auto& g = t.s->groups[std::string(ctx.arg(3))];
  g.last_id = id;
  g.entries_read = t.entries_read;
  ctx.out.ok();
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
}

void cmd_xgroup_destroy(command_context& ctx) {
  xgroup_target t = xgroup_prologue(ctx, false, false, false);
  if (!t.ok) return;
  if (!t.g) return ctx.out.integer(0);
  t.s->groups.erase(std::string(ctx.arg(3)));
  ctx.out.integer(1);
  // Readers blocked on the group learn that it is gone.
  signal_key_ready(ctx, ctx.arg(2));
}

void cmd_xgroup_createconsumer(command_context& ctx) {
  xgroup_target t = xgroup_prologue(ctx, false, false, true);
  if (!t.ok) return;
  if (t.g->find_consumer(ctx.arg(4))) return ctx.out.integer(0);
  t.g->create_consumer(ctx.arg(4), ctx.now_ms);
  ctx.out.integer(1);
}

void cmd_xgroup_delconsumer(command_context& ctx) {
  xgroup_target t = xgroup_prologue(ctx, false, false, true);
  if (!t.ok) return;
  ctx.out.integer(static_cast<std::int64_t>(t.g->delete_consumer(ctx.arg(4))));
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
    it->second.owner->pel.erase(id);
    g->pel.erase(it);
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
}

}  // namespace shrike::commands
