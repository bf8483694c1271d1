// List commands (t_list.c of Redis 7.0), including the blocking pops.
#include <boost/asio/awaitable.hpp>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "store/list_value.hpp"
#include "util/clock.hpp"

namespace shrike::commands {

namespace {

namespace asio = boost::asio;
using store::database;
using store::entry;
using store::list_value;
using store::value_type;

// getPositiveLongFromObjectOrReply.
bool positive_arg(command_context& ctx, std::size_t i, std::int64_t& v, std::string_view message) {
  return ranged_int_arg(ctx, i, 0, INT64_MAX, v, message);
}

// LEFT/RIGHT (getListPositionFromObjectOrReply).
bool side_arg(command_context& ctx, std::size_t i, bool& left) {
  if (iequals(ctx.arg(i), "left")) {
    left = true;
  } else if (iequals(ctx.arg(i), "right")) {
    left = false;
  } else {
    ctx.out.error(errors::syntax);
    return false;
  }
  return true;
}

std::string pop_one(list_value& l, bool left) {
  std::string v;
  if (left) {
    v = std::move(l.items.front());
    l.items.pop_front();
  } else {
    v = std::move(l.items.back());
    l.items.pop_back();
  }
  return v;
}

// The list at `key` of database `index` (`db`): where its events go.
struct list_key {
  server::server_context& srv;
  std::size_t index;
  database& db;
  std::string_view key;  // never the entry's own key: it outlives the entry
};

// listElementsRemoved: the pop event, then the key goes when its list became
// empty (Redis never keeps empty lists), with its "del".
void elements_removed(const list_key& k, entry* e, bool left) {
  notify_event(k.srv, notify::list, left ? "lpop" : "rpop", k.key, k.index);
  if (!store::as_list(e)->items.empty()) return;
  k.db.erase_entry(e);
  notify_event(k.srv, notify::generic, "del", k.key, k.index);
}

// lmoveHandlePush: pushes `value` at one end of the list at `key`, creating
// it; `e` is the key's current entry (nullptr when absent).
void push_one(const list_key& k, std::int64_t now_ms, entry* e, std::string_view value, bool left) {
  if (!e) {
    e = k.db.add_object(k.key, value_type::list, new list_value, now_ms);
    notify_event(k.srv, notify::new_key, "new", k.key, k.index);
  }
  auto& items = store::as_list(e)->items;
  if (left)
    items.emplace_front(value);
  else
    items.emplace_back(value);
  notify_event(k.srv, notify::list, left ? "lpush" : "rpush", k.key, k.index);
}

// addListRangeReply: elements start..end (negative = from the tail), reversed
// for pops from the tail.
void write_range(resp::reply_writer& out, const list_value& l, std::int64_t start, std::int64_t end, bool reverse) {
  const auto llen = static_cast<std::int64_t>(l.items.size());
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) {
    out.array(0);
    return;
  }
  if (end >= llen) end = llen - 1;
  out.array(static_cast<std::size_t>(end - start + 1));
  if (reverse) {
    for (auto i = end; i >= start; --i) out.bulk(l.items[static_cast<std::size_t>(i)]);
  } else {
    for (auto i = start; i <= end; ++i) out.bulk(l.items[static_cast<std::size_t>(i)]);
  }
}

// Pops up to `count` elements from one end, replying as a range (LPOP key count).
void pop_range(resp::reply_writer& out, const list_key& k, entry* e, bool left, std::int64_t count) {
  auto& l = *store::as_list(e);
  const auto llen = static_cast<std::int64_t>(l.items.size());
  const auto n = count > llen ? llen : count;
  write_range(out, l, left ? 0 : -n, left ? n - 1 : -1, !left);
  if (left)
    l.items.erase(l.items.begin(), l.items.begin() + n);
  else
    l.items.erase(l.items.end() - n, l.items.end());
  elements_removed(k, e, left);
}

// listPopRangeAndReplyWithKey: [key, [elements]] (LMPOP, BLMPOP).
void pop_range_with_key(resp::reply_writer& out, const list_key& k, entry* e, bool left, std::int64_t count) {
  out.array(2);
  out.bulk(k.key);
  pop_range(out, k, e, left, count);
}

// --- pushes ---

void push_generic(command_context& ctx, bool left, bool only_existing) {
  auto key = ctx.arg(1);
  database& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (e && !check_type(ctx, e, value_type::list)) return;
  if (!e && only_existing) return ctx.out.integer(0);
  if (!e) {
    e = db.add_object(key, value_type::list, new list_value, ctx.now_ms);
    notify_new(ctx, key);
  }
  auto& items = store::as_list(e)->items;
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    if (left)
      items.emplace_front(ctx.arg(i));
    else
      items.emplace_back(ctx.arg(i));
  }
  ctx.out.integer(static_cast<std::int64_t>(items.size()));
  notify_event(ctx, notify::list, left ? "lpush" : "rpush", key);
  signal_key_ready(ctx, key);
}

void cmd_lpush(command_context& ctx) { push_generic(ctx, true, false); }
void cmd_rpush(command_context& ctx) { push_generic(ctx, false, false); }
void cmd_lpushx(command_context& ctx) { push_generic(ctx, true, true); }
void cmd_rpushx(command_context& ctx) { push_generic(ctx, false, true); }

void cmd_linsert(command_context& ctx) {
  bool after;
  if (iequals(ctx.arg(2), "after"))
    after = true;
  else if (iequals(ctx.arg(2), "before"))
    after = false;
  else
    return ctx.out.error(errors::syntax);
  database& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::list)) return;
  auto& items = store::as_list(e)->items;
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (*it == ctx.arg(3)) {
      items.emplace(after ? it + 1 : it, ctx.arg(4));
      notify_event(ctx, notify::list, "linsert", ctx.arg(1));
      return ctx.out.integer(static_cast<std::int64_t>(items.size()));
    }
  }
  ctx.out.integer(-1);
}

// --- reads ---

void cmd_llen(command_context& ctx) {
  database& db = ctx.db(ctx.arg(1));
  entry* e = read_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::list)) return;
  ctx.out.integer(static_cast<std::int64_t>(store::as_list(e)->items.size()));
}

void cmd_lindex(command_context& ctx) {
  database& db = ctx.db(ctx.arg(1));
  entry* e = read_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::list)) return;
  std::int64_t index;
  if (!int_arg(ctx, 2, index)) return;
  const auto& items = store::as_list(e)->items;
  const auto llen = static_cast<std::int64_t>(items.size());
  if (index < 0) index += llen;
  if (index < 0 || index >= llen) return ctx.out.null();
  ctx.out.bulk(items[static_cast<std::size_t>(index)]);
}

void cmd_lrange(command_context& ctx) {
  std::int64_t start, end;
  if (!int_arg(ctx, 2, start) || !int_arg(ctx, 3, end)) return;
  database& db = ctx.db(ctx.arg(1));
  entry* e = read_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.array(0);
  if (!check_type(ctx, e, value_type::list)) return;
  write_range(ctx.out, *store::as_list(e), start, end, false);
}

void cmd_lpos(command_context& ctx) {
  std::int64_t rank = 1, count = -1, maxlen = 0;  // count -1: no COUNT option
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    if (iequals(ctx.arg(j), "rank") && more) {
      if (!int_arg(ctx, ++j, rank)) return;
      if (rank == 0)
        return ctx.out.error(
            "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to "
            "start from the end of the list");
    } else if (iequals(ctx.arg(j), "count") && more) {
      if (!positive_arg(ctx, ++j, count, "COUNT can't be negative")) return;
    } else if (iequals(ctx.arg(j), "maxlen") && more) {
      if (!positive_arg(ctx, ++j, maxlen, "MAXLEN can't be negative")) return;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  const bool from_tail = rank < 0;
  // Redis negates the rank as a long: -LONG_MIN wraps to itself (every match
  // then qualifies). Wrapping arithmetic below reproduces that.
  if (rank < 0) rank = static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(rank));
  database& db = ctx.db(ctx.arg(1));
  entry* e = read_key(ctx, db, ctx.arg(1));
  if (!e) return count != -1 ? ctx.out.array(0) : ctx.out.null();
  if (!check_type(ctx, e, value_type::list)) return;
  const auto& items = store::as_list(e)->items;
  const auto llen = static_cast<std::int64_t>(items.size());
  const auto element = ctx.arg(2);
  std::size_t marker = 0;
  std::size_t found = 0;
  if (count != -1) marker = ctx.out.begin_deferred();
  std::int64_t matches = 0, match_index = -1;
  for (std::int64_t i = 0; i < llen && (maxlen == 0 || i < maxlen); ++i) {
    const std::int64_t index = from_tail ? llen - 1 - i : i;
    if (items[static_cast<std::size_t>(index)] != element) continue;
    ++matches;
    if (matches < rank) continue;
    if (count == -1) {
      match_index = index;
      break;
    }
    ctx.out.integer(index);
    ++found;
    const auto taken = static_cast<std::int64_t>(static_cast<std::uint64_t>(matches) - static_cast<std::uint64_t>(rank) + 1);
    if (count != 0 && taken >= count) break;
  }
  if (count != -1) return ctx.out.end_deferred_array(marker, found);
  if (match_index != -1)
    ctx.out.integer(match_index);
  else
    ctx.out.null();
}

// --- writes ---

void cmd_lset(command_context& ctx) {
  database& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.error(errors::no_such_key);
  if (!check_type(ctx, e, value_type::list)) return;
  std::int64_t index;
  if (!int_arg(ctx, 2, index)) return;
  auto& items = store::as_list(e)->items;
  const auto llen = static_cast<std::int64_t>(items.size());
  if (index < 0) index += llen;
  if (index < 0 || index >= llen) return ctx.out.error("index out of range");
  items[static_cast<std::size_t>(index)] = ctx.arg(3);
  ctx.out.ok();
  notify_event(ctx, notify::list, "lset", ctx.arg(1));
}

void pop_generic(command_context& ctx, bool left) {
  if (ctx.argc() > 3) return ctx.out.error(wrong_arity_text(left ? "lpop" : "rpop"));
  const bool has_count = ctx.argc() == 3;
  std::int64_t count = 0;
  if (has_count && !positive_arg(ctx, 2, count, "value is out of range, must be positive")) return;
  database& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e) return has_count ? ctx.out.null_array() : ctx.out.null();
  if (!check_type(ctx, e, value_type::list)) return;
  if (has_count && count == 0) return ctx.out.array(0);
  const list_key k{ctx.srv, ctx.client.db, db, ctx.arg(1)};
  if (!has_count) {
    ctx.out.bulk(pop_one(*store::as_list(e), left));
    elements_removed(k, e, left);
    return;
  }
  pop_range(ctx.out, k, e, left, count);
}

void cmd_lpop(command_context& ctx) { pop_generic(ctx, true); }
void cmd_rpop(command_context& ctx) { pop_generic(ctx, false); }

void cmd_ltrim(command_context& ctx) {
  std::int64_t start, end;
  if (!int_arg(ctx, 2, start) || !int_arg(ctx, 3, end)) return;
  database& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.ok();
  if (!check_type(ctx, e, value_type::list)) return;
  auto& items = store::as_list(e)->items;
  const auto llen = static_cast<std::int64_t>(items.size());
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  std::int64_t ltrim, rtrim;
  if (start > end || start >= llen) {
    ltrim = llen;
    rtrim = 0;
  } else {
    if (end >= llen) end = llen - 1;
    ltrim = start;
    rtrim = llen - end - 1;
  }
  items.erase(items.end() - rtrim, items.end());
  items.erase(items.begin(), items.begin() + ltrim);
  notify_event(ctx, notify::list, "ltrim", ctx.arg(1));
  if (items.empty()) {
    db.erase_entry(e);
    notify_event(ctx, notify::generic, "del", ctx.arg(1));
  }
  ctx.out.ok();
}

void cmd_lrem(command_context& ctx) {
  std::int64_t to_remove;
  if (!int_arg(ctx, 2, to_remove)) return;
  database& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::list)) return;
  auto& items = store::as_list(e)->items;
  const auto element = ctx.arg(3);
  std::int64_t removed = 0;
  if (to_remove < 0) {
    const std::uint64_t limit = 0 - static_cast<std::uint64_t>(to_remove);
    for (std::size_t i = items.size(); i-- > 0;) {
      if (items[i] != element) continue;
      items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
      if (static_cast<std::uint64_t>(++removed) == limit) break;
    }
  } else {
    // One pass that compacts the survivors (LREM key 0 x is O(N), not O(N^2)).
    std::size_t out = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i] == element && (to_remove == 0 || removed < to_remove)) {
        ++removed;
        continue;
      }
      if (out != i) items[out] = std::move(items[i]);
      ++out;
    }
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(out), items.end());
  }
  if (removed) notify_event(ctx, notify::list, "lrem", ctx.arg(1));
  if (items.empty()) {
    db.erase_entry(e);
    notify_event(ctx, notify::generic, "del", ctx.arg(1));
  }
  ctx.out.integer(removed);
}

// lmoveGenericCommand: pops from src, pushes to dst, replies the element.
// True when it replied (always, unless `block_if_missing` and src is absent).
bool move_generic(command_context& ctx, std::string_view src, std::string_view dst, bool from_left, bool to_left,
                  bool block_if_missing) {
  database& sdb = ctx.db(src);
  entry* s = write_key(ctx, sdb, src);
  if (!s) {
    if (block_if_missing) return false;
    ctx.out.null();
    return true;
  }
  if (!check_type(ctx, s, value_type::list)) return true;
  database& ddb = ctx.db(dst);
  entry* d = write_key(ctx, ddb, dst);
  if (d && !check_type(ctx, d, value_type::list)) return true;
  std::string value = pop_one(*store::as_list(s), from_left);
  // Redis's order: the push (and "new") on the destination, then the pop.
  push_one({ctx.srv, ctx.client.db, ddb, dst}, ctx.now_ms, d, value, to_left);
  elements_removed({ctx.srv, ctx.client.db, sdb, src}, s, from_left);
  // BLMOVE/BRPOPLPUSH reach replicas as the move they made.
  if (block_if_missing) propagate_as(ctx, {"LMOVE", src, dst, from_left ? "LEFT" : "RIGHT", to_left ? "LEFT" : "RIGHT"});
  ctx.out.bulk(value);
  signal_key_ready(ctx, dst);
  return true;
}

void cmd_lmove(command_context& ctx) {
  bool from_left, to_left;
  if (!side_arg(ctx, 3, from_left) || !side_arg(ctx, 4, to_left)) return;
  move_generic(ctx, ctx.arg(1), ctx.arg(2), from_left, to_left, false);
}

void cmd_rpoplpush(command_context& ctx) { move_generic(ctx, ctx.arg(1), ctx.arg(2), false, true, false); }

// LMPOP/BLMPOP arguments: numkeys key... LEFT|RIGHT [COUNT n].
struct mpop_args {
  std::vector<std::string_view> keys;
  bool left = true;
  std::int64_t count = 1;
};

bool parse_mpop(command_context& ctx, std::size_t numkeys_index, mpop_args& a) {
  std::int64_t numkeys;
  if (!ranged_int_arg(ctx, numkeys_index, 1, INT64_MAX, numkeys, "numkeys should be greater than 0")) return false;
  if (static_cast<std::uint64_t>(numkeys) >= ctx.argc() - numkeys_index) {
    ctx.out.error(errors::syntax);
    return false;
  }
  const std::size_t where_index = numkeys_index + static_cast<std::size_t>(numkeys) + 1;
  if (!side_arg(ctx, where_index, a.left)) return false;
  bool has_count = false;
  for (std::size_t j = where_index + 1; j < ctx.argc(); ++j) {
    if (!has_count && iequals(ctx.arg(j), "count") && j + 1 < ctx.argc()) {
      ++j;
      if (!ranged_int_arg(ctx, j, 1, INT64_MAX, a.count, "count should be greater than 0")) return false;
      has_count = true;
    } else {
      ctx.out.error(errors::syntax);
      return false;
    }
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(numkeys); ++i) a.keys.push_back(ctx.arg(numkeys_index + 1 + i));
  return true;
}

// The first non-empty list among `keys` gives up to `count` elements as
// [key, [elements]]; false when none has any. count -1: one element as
// [key, element] (BLPOP/BRPOP).
bool pop_first_nonempty(command_context& ctx, const std::vector<std::string_view>& keys, bool left,
                        std::int64_t count) {
  for (auto key : keys) {
    database& db = ctx.db(key);
    entry* e = write_key(ctx, db, key);
    if (!e) continue;
    if (!check_type(ctx, e, value_type::list)) return true;
    const list_key k{ctx.srv, ctx.client.db, db, key};
    if (count < 0) {
      ctx.out.array(2);
      ctx.out.bulk(key);
      ctx.out.bulk(pop_one(*store::as_list(e), left));
      elements_removed(k, e, left);
    } else {
      pop_range_with_key(ctx.out, k, e, left, count);
    }
    propagate_as(ctx, pop_effect(left ? "LPOP" : "RPOP", key, count));
    return true;
  }
  return false;
}

void cmd_lmpop(command_context& ctx) {
  mpop_args a;
  if (!parse_mpop(ctx, 1, a)) return;
  if (!pop_first_nonempty(ctx, a.keys, a.left, a.count)) ctx.out.null_array();
}

// --- blocking ---

// A client blocked in BLPOP, BRPOP, BLMPOP, BLMOVE or BRPOPLPUSH.
class list_waiter final : public key_waiter {
 public:
  list_waiter(asio::any_io_executor ex, std::size_t db, int resp) : key_waiter(ex, db, resp, value_type::list) {}

  bool left = true;
  std::int64_t count = -1;  // -1: [key, element]; > 0: [key, [elements]]
  bool move = false;        // BLMOVE / BRPOPLPUSH
  std::string dst;
  bool to_left = true;

  std::string_view also_writes() const override { return move ? std::string_view(dst) : std::string_view(); }

  void serve(server::server_context& srv, store::shard& sh, std::string_view key, ready_list& ready) override {
    database& d = sh.db(db);
    const std::int64_t now = util::now_ms();
    entry* e = d.lookup(key, now);
    resp::reply_writer out(reply);
    out.set_protocol(resp);
    const list_key k{srv, db, d, key};
    if (!move) {
      if (count < 0) {
        out.array(2);
        out.bulk(key);
        out.bulk(pop_one(*store::as_list(e), left));
        elements_removed(k, e, left);
      } else {
        pop_range_with_key(out, k, e, left, count);
      }
      propagate_effect(srv, db, pop_effect(left ? "LPOP" : "RPOP", key, count));
      outcome = block_outcome::served;
      return;
    }
    if (srv.shards().shard_of(dst) != sh.index()) {
      // The destination is another shard's: the client runs LMOVE again with
      // both shards held, which keeps the move atomic.
      outcome = block_outcome::retry;
      return;
    }
    entry* t = d.lookup(dst, now);
    if (t && t->type != value_type::list) {
      out.error(errors::wrong_type);
      outcome = block_outcome::served;
      return;
    }
    std::string value = pop_one(*store::as_list(e), left);
    push_one({srv, db, d, dst}, now, t, value, to_left);
    elements_removed(k, e, left);
    propagate_effect(srv, db, {"LMOVE", key, dst, left ? "LEFT" : "RIGHT", to_left ? "LEFT" : "RIGHT"});
    out.bulk(value);
    ready.emplace_back(db, dst);
    outcome = block_outcome::served;
  }
};

void prepare_pop(command_context& ctx, blocking_call& call, std::vector<std::string_view> keys, bool left,
                 std::int64_t count, std::int64_t deadline_ms) {
  call.gate_keys = keys;
  call.wait_keys = keys;
  call.deadline_ms = deadline_ms;
  call.attempt = [keys, left, count](command_context& c) { return pop_first_nonempty(c, keys, left, count); };
  call.make_waiter = [&ctx, left, count](asio::any_io_executor ex) {
    auto w = std::make_shared<list_waiter>(ex, ctx.client.db, ctx.client.resp);
    w->left = left;
    w->count = count;
    return std::static_pointer_cast<key_waiter>(w);
  };
  call.timeout_reply = [](command_context& c) { c.out.null_array(); };
}

bool prepare_bpop(command_context& ctx, blocking_call& call, bool left) {
  std::int64_t deadline;
  if (!parse_block_timeout(ctx, ctx.argc() - 1, deadline)) return false;
  prepare_pop(ctx, call, std::vector<std::string_view>(ctx.argv.begin() + 1, ctx.argv.end() - 1), left, -1, deadline);
  return true;
}
bool prepare_blpop(command_context& ctx, blocking_call& call) { return prepare_bpop(ctx, call, true); }
bool prepare_brpop(command_context& ctx, blocking_call& call) { return prepare_bpop(ctx, call, false); }

bool prepare_blmpop(command_context& ctx, blocking_call& call) {
  mpop_args a;
  if (!parse_mpop(ctx, 2, a)) return false;
  std::int64_t deadline;
  if (!parse_block_timeout(ctx, 1, deadline)) return false;
  prepare_pop(ctx, call, std::move(a.keys), a.left, a.count, deadline);
  return true;
}

void prepare_move(command_context& ctx, blocking_call& call, bool from_left, bool to_left, std::int64_t deadline_ms) {
  const std::string_view src = ctx.arg(1), dst = ctx.arg(2);
  call.gate_keys = {src, dst};
  call.wait_keys = {src};
  call.deadline_ms = deadline_ms;
  call.attempt = [src, dst, from_left, to_left](command_context& c) {
    return move_generic(c, src, dst, from_left, to_left, true);
  };
  call.make_waiter = [&ctx, from_left, to_left, dst](asio::any_io_executor ex) {
    auto w = std::make_shared<list_waiter>(ex, ctx.client.db, ctx.client.resp);
    w->left = from_left;
    w->move = true;
    w->dst = std::string(dst);
    w->to_left = to_left;
    return std::static_pointer_cast<key_waiter>(w);
  };
  call.timeout_reply = [](command_context& c) { c.out.null_array(); };  // as every list timeout
  call.empty_reply = [](command_context& c) { c.out.null(); };
}

bool prepare_blmove(command_context& ctx, blocking_call& call) {
  bool from_left, to_left;
  if (!side_arg(ctx, 3, from_left) || !side_arg(ctx, 4, to_left)) return false;
  std::int64_t deadline;
  if (!parse_block_timeout(ctx, 5, deadline)) return false;
  prepare_move(ctx, call, from_left, to_left, deadline);
  return true;
}

bool prepare_brpoplpush(command_context& ctx, blocking_call& call) {
  std::int64_t deadline;
  if (!parse_block_timeout(ctx, 3, deadline)) return false;
  prepare_move(ctx, call, false, true, deadline);
  return true;
}

}  // namespace

void register_list_commands(command_table& t) {
  t.add("lpush", exec_kind::keyed, cmd_lpush);
  t.add("rpush", exec_kind::keyed, cmd_rpush);
  t.add("lpushx", exec_kind::keyed, cmd_lpushx);
  t.add("rpushx", exec_kind::keyed, cmd_rpushx);
  t.add("linsert", exec_kind::keyed, cmd_linsert);
  t.add("llen", exec_kind::keyed, cmd_llen);
  t.add("lindex", exec_kind::keyed, cmd_lindex);
  t.add("lrange", exec_kind::keyed, cmd_lrange);
  t.add("lpos", exec_kind::keyed, cmd_lpos);
  t.add("lset", exec_kind::keyed, cmd_lset);
  t.add("lpop", exec_kind::keyed, cmd_lpop);
  t.add("rpop", exec_kind::keyed, cmd_rpop);
  t.add("ltrim", exec_kind::keyed, cmd_ltrim);
  t.add("lrem", exec_kind::keyed, cmd_lrem);
  t.add("lmove", exec_kind::keyed, cmd_lmove);
  t.add("rpoplpush", exec_kind::keyed, cmd_rpoplpush);
  t.add("lmpop", exec_kind::keyed, cmd_lmpop);
  t.add_async("blpop", blocking_command<prepare_blpop>, nonblocking_form<prepare_blpop>);
  t.add_async("brpop", blocking_command<prepare_brpop>, nonblocking_form<prepare_brpop>);
  t.add_async("blmpop", blocking_command<prepare_blmpop>, nonblocking_form<prepare_blmpop>);
  t.add_async("blmove", blocking_command<prepare_blmove>, nonblocking_form<prepare_blmove>);
  t.add_async("brpoplpush", blocking_command<prepare_brpoplpush>, nonblocking_form<prepare_brpoplpush>);
}

}  // namespace shrike::commands
