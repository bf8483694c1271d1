// Sorted sets: ZADD and friends, the range family (ZRANGE, ZRANGESTORE and
// the older BY*/REV forms), removals, pops, set algebra (ZUNION/ZINTER/ZDIFF
// and their *STORE forms, ZINTERCARD), ZRANDMEMBER and ZSCAN. Semantics,
// reply shapes and error texts follow Redis 7.0's t_zset.c; the values
// themselves live in store/zset_value.hpp.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/scan_args.hpp"
#include "commands/zset_shared.hpp"
#include "store/set_value.hpp"
#include "store/zset_value.hpp"
#include "util/glob.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;
namespace zset = store::zset;

zset::limits limits_of(command_context& ctx) {
  auto clamp = [](std::int64_t v) { return static_cast<std::size_t>(v < 0 ? 0 : v); };
  return {clamp(ctx.srv.zset_max_listpack_entries.load(std::memory_order_relaxed)),
          clamp(ctx.srv.zset_max_listpack_value.load(std::memory_order_relaxed))};
}

bool resp3(command_context& ctx) { return ctx.out.protocol() >= 3; }

// Element count of a reply of n members: RESP2 flattens member,score pairs,
// RESP3 nests them (as Redis does, to keep the order a map would lose).
std::size_t reply_len(command_context& ctx, std::size_t n, bool withscores) {
  return withscores && !resp3(ctx) ? 2 * n : n;
}

void reply_member(command_context& ctx, std::string_view member, double score, bool withscores) {
  if (withscores && resp3(ctx)) ctx.out.array(2);
  ctx.out.bulk(member);
  if (withscores) ctx.out.double_value(score);
}

// Replaces whatever `key` holds by `items` (sorted, unique), or deletes it
// when there are none: how the *STORE commands write their destination.
// `event`: the command's notification ("zunionstore", ...).
void store_result(command_context& ctx, std::string_view key, const std::vector<zset::owned_item>& items,
                  std::string_view event) {
  auto& db = ctx.db(key);
  entry* old = db.lookup(key, ctx.now_ms);
  const bool existed = old != nullptr;
  if (old) db.erase_entry(old);
  if (items.empty()) {
    if (existed) notify_event(ctx, notify::generic, "del", key);
    ctx.out.integer(0);
    return;
  }
  zset::store_sorted(db, key, items, limits_of(ctx), ctx.now_ms);
  if (!existed) notify_new(ctx, key);
  notify_event(ctx, notify::zset, event, key);
  ctx.out.integer(static_cast<std::int64_t>(items.size()));
  signal_key_ready(ctx, key);
}

bool item_less(const zset::owned_item& a, const zset::owned_item& b) {
  return store::zsl::less(a.score, a.member, b.score, b.member);
}

// ---- ZADD, ZINCRBY ----

void zadd_generic(command_context& ctx, unsigned flags) {
  std::size_t idx = 2;
  bool ch = false;
  for (; idx < ctx.argc(); ++idx) {
    std::string_view opt = ctx.arg(idx);
    if (iequals(opt, "nx")) flags |= zset::add_nx;
    else if (iequals(opt, "xx")) flags |= zset::add_xx;
    else if (iequals(opt, "ch")) ch = true;
    else if (iequals(opt, "incr")) flags |= zset::add_incr;
    else if (iequals(opt, "gt")) flags |= zset::add_gt;
    else if (iequals(opt, "lt")) flags |= zset::add_lt;
    else break;
  }
  const bool incr = flags & zset::add_incr, nx = flags & zset::add_nx, xx = flags & zset::add_xx;
  const bool gt = flags & zset::add_gt, lt = flags & zset::add_lt;
  std::size_t elements = ctx.argc() - idx;
  if (elements % 2 || elements == 0) return ctx.out.error(errors::syntax);
  elements /= 2;
  if (nx && xx) return ctx.out.error("XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt))
    return ctx.out.error("GT, LT, and/or NX options at the same time are not compatible");
  if (incr && elements > 1) return ctx.out.error("INCR option supports a single increment-element pair");

  // Every score is checked before anything is written: all or nothing.
  std::vector<double> scores(elements);
  for (std::size_t j = 0; j < elements; ++j)
    if (!util::parse_double(ctx.arg(idx + 2 * j), scores[j])) return ctx.out.error(errors::not_float);
  zadd_members(ctx, ctx.arg(1), flags, ch, scores, idx + 1, 2);
}

void cmd_zadd(command_context& ctx) { zadd_generic(ctx, 0); }
void cmd_zincrby(command_context& ctx) { zadd_generic(ctx, zset::add_incr); }

// ---- ZREM, ZREMRANGEBY* ----

void cmd_zrem(command_context& ctx) {
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::zset)) return;
  std::int64_t deleted = 0;
  bool key_removed = false;
  for (std::size_t j = 2; j < ctx.argc(); ++j) {
    if (zset::erase(db, e, ctx.arg(j))) ++deleted;
    if (zset::size(e) == 0) {
      db.erase_entry(e);
      key_removed = true;
      break;
    }
  }
  if (deleted) {
    notify_event(ctx, notify::zset, "zrem", key);
    if (key_removed) notify_event(ctx, notify::generic, "del", key);
  }
  ctx.out.integer(deleted);
}

enum class range_kind { automatic, rank, score, lex };
enum class direction { automatic, forward, reverse };

void zremrange_generic(command_context& ctx, range_kind kind) {
  std::int64_t start = 0, end = 0;
  zset::score_range sr;
  zset::lex_range lr;
  if (kind == range_kind::rank) {
    if (!int_arg(ctx, 2, start) || !int_arg(ctx, 3, end)) return;
  } else if (kind == range_kind::score) {
    if (!zset::parse_score_range(ctx.arg(2), ctx.arg(3), sr)) return ctx.out.error("min or max is not a float");
  } else if (!zset::parse_lex_range(ctx.arg(2), ctx.arg(3), lr)) {
    return ctx.out.error("min or max not valid string range item");
  }
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::zset)) return;
  std::size_t deleted;
  if (kind == range_kind::rank) {
    const auto len = static_cast<std::int64_t>(zset::size(e));
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) return ctx.out.integer(0);
    if (end >= len) end = len - 1;
    deleted = zset::erase_rank_range(db, e, static_cast<std::size_t>(start), static_cast<std::size_t>(end));
  } else if (kind == range_kind::score) {
    deleted = zset::erase_score_range(db, e, sr);
  } else {
    deleted = zset::erase_lex_range(db, e, lr);
  }
  const bool key_removed = zset::size(e) == 0;
  if (key_removed) db.erase_entry(e);
  if (deleted) {
    notify_event(ctx, notify::zset,
                 kind == range_kind::rank ? "zremrangebyrank"
                                          : kind == range_kind::score ? "zremrangebyscore" : "zremrangebylex",
                 key);
    if (key_removed) notify_event(ctx, notify::generic, "del", key);
  }
  ctx.out.integer(static_cast<std::int64_t>(deleted));
}

void cmd_zremrangebyrank(command_context& ctx) { zremrange_generic(ctx, range_kind::rank); }
void cmd_zremrangebyscore(command_context& ctx) { zremrange_generic(ctx, range_kind::score); }
void cmd_zremrangebylex(command_context& ctx) { zremrange_generic(ctx, range_kind::lex); }

// ---- the range family ----

// Where ZRANGE's results go (Redis's zrange_result_handler): the client, or
// a destination key for ZRANGESTORE.
class range_sink {
 public:
  range_sink(command_context& ctx, bool withscores, std::string_view dst, bool store)
      : ctx_(ctx), withscores_(withscores), dst_(dst), store_(store) {}

  // `length`: the result size when known up front, else -1.
  void begin(std::int64_t length) {
    if (store_) {
      // zrangeResultBeginStore: a known length past the limit starts a skiplist.
      skiplist_ = length > static_cast<std::int64_t>(limits_of(ctx_).max_entries);
      return;
    }
    if (length > 0) {
      ctx_.out.array(reply_len(ctx_, static_cast<std::size_t>(length), withscores_));
    } else {
      deferred_ = true;
      marker_ = ctx_.out.begin_deferred();
    }
  }
  void emit(std::string_view member, double score) {
    if (store_)
      items_.push_back({std::string(member), score});
    else
      reply_member(ctx_, member, score, withscores_);
  }
  void finish(std::size_t n) {
    if (store_) return store();
    if (deferred_) ctx_.out.end_deferred_array(marker_, reply_len(ctx_, n, withscores_));
  }

 private:
  // The destination is built by adding the members one by one to a new
  // sorted set, as Redis does, so it converts (or not) at the same point.
  void store() {
    auto& db = ctx_.db(dst_);
    entry* old = db.lookup(dst_, ctx_.now_ms);
    const bool existed = old != nullptr;
    if (old) db.erase_entry(old);
    if (items_.empty()) {
      if (existed) notify_event(ctx_, notify::generic, "del", dst_);
      return ctx_.out.integer(0);
    }
    const auto lim = limits_of(ctx_);
    entry* e = zset::create(db, dst_, skiplist_, ctx_.now_ms);
    for (const auto& it : items_) {
      unsigned out;
      double ignored;
      zset::add(db, e, it.score, it.member, 0, out, ignored, lim);
    }
    if (!existed) notify_new(ctx_, dst_);
    notify_event(ctx_, notify::zset, "zrangestore", dst_);
    ctx_.out.integer(static_cast<std::int64_t>(items_.size()));
    signal_key_ready(ctx_, dst_);
  }

  command_context& ctx_;
  bool withscores_;
  std::string_view dst_;
  bool store_;
  bool skiplist_ = false;
  bool deferred_ = false;
  std::size_t marker_ = 0;
  std::vector<zset::owned_item> items_;
};

// genericZrangebyrankCommand.
void range_by_rank(const entry* e, std::int64_t start, std::int64_t end, bool reverse, range_sink& sink) {
  std::size_t n = zset::with_view(e, [&](auto& v) -> std::size_t {
    const auto len = static_cast<std::int64_t>(v.size());
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) {
      sink.begin(0);
      return 0;
    }
    if (end >= len) end = len - 1;
    const auto count = static_cast<std::size_t>(end - start + 1);
    sink.begin(static_cast<std::int64_t>(count));
    auto p = v.at_rank(static_cast<std::size_t>(reverse ? len - 1 - start : start));
    for (std::size_t i = 0; i < count; ++i) {
      sink.emit(v.member(p), v.score(p));
      p = reverse ? v.prev(p) : v.next(p);
    }
    return count;
  });
  sink.finish(n);
}

// genericZrangebyscoreCommand / genericZrangebylexCommand. A negative offset
// skips everything and a negative limit means no limit, as Redis's
// `while (x && offset--)` loops do.
template <class Range>
void range_by(const entry* e, const Range& r, std::int64_t offset, std::int64_t limit, bool reverse,
              range_sink& sink) {
  sink.begin(-1);
  std::size_t n = zset::with_view(e, [&](auto& v) -> std::size_t {
    if (offset > 0 && static_cast<std::size_t>(offset) >= v.size()) return 0;
    auto p = reverse ? v.last_in(r) : v.first_in(r);
    auto advance = [&](auto q) { return reverse ? v.prev(q) : v.next(q); };
    while (p != v.end() && offset-- != 0) p = advance(p);
    std::size_t count = 0;
    while (p != v.end() && limit-- != 0) {
      bool in;
      if constexpr (std::is_same_v<Range, zset::score_range>)
        in = reverse ? r.gte_min(v.score(p)) : r.lte_max(v.score(p));
      else
        in = reverse ? r.gte_min(v.member(p)) : r.lte_max(v.member(p));
      if (!in) break;
      sink.emit(v.member(p), v.score(p));
      ++count;
      p = advance(p);
    }
    return count;
  });
  sink.finish(n);
}

// zrangeGenericCommand: ZRANGE and ZRANGESTORE with every option, and the
// older forms with their range kind and direction fixed.
void zrange_generic(command_context& ctx, std::size_t key_idx, bool store, range_kind kind, direction dir) {
  std::size_t min_idx = key_idx + 1, max_idx = key_idx + 2;
  bool withscores = false;
  std::int64_t offset = 0, limit = -1;
  for (std::size_t j = key_idx + 3; j < ctx.argc(); ++j) {
    const std::size_t left = ctx.argc() - j - 1;
    std::string_view opt = ctx.arg(j);
    if (!store && iequals(opt, "withscores")) {
      withscores = true;
    } else if (iequals(opt, "limit") && left >= 2) {
      if (!int_arg(ctx, j + 1, offset) || !int_arg(ctx, j + 2, limit)) return;
      j += 2;
    } else if (dir == direction::automatic && iequals(opt, "rev")) {
      dir = direction::reverse;
    } else if (kind == range_kind::automatic && iequals(opt, "bylex")) {
      kind = range_kind::lex;
    } else if (kind == range_kind::automatic && iequals(opt, "byscore")) {
      kind = range_kind::score;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  if (dir == direction::automatic) dir = direction::forward;
  if (kind == range_kind::automatic) kind = range_kind::rank;
  if (limit != -1 && kind == range_kind::rank)
    return ctx.out.error("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  if (withscores && kind == range_kind::lex)
    return ctx.out.error("syntax error, WITHSCORES not supported in combination with BYLEX");
  const bool reverse = dir == direction::reverse;
  if (reverse && kind != range_kind::rank) std::swap(min_idx, max_idx);  // given as max, min

  std::int64_t start = 0, end = 0;
  zset::score_range sr;
  zset::lex_range lr;
  if (kind == range_kind::rank) {
    if (!int_arg(ctx, min_idx, start) || !int_arg(ctx, max_idx, end)) return;
  } else if (kind == range_kind::score) {
    if (!zset::parse_score_range(ctx.arg(min_idx), ctx.arg(max_idx), sr))
      return ctx.out.error("min or max is not a float");
  } else if (!zset::parse_lex_range(ctx.arg(min_idx), ctx.arg(max_idx), lr)) {
    return ctx.out.error("min or max not valid string range item");
  }

  std::string_view key = ctx.arg(key_idx);
  range_sink sink(ctx, withscores || store, store ? ctx.arg(1) : std::string_view{}, store);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) {
    if (!store) return ctx.out.array(0);
    sink.begin(-1);
    return sink.finish(0);
  }
  if (!check_type(ctx, e, value_type::zset)) return;
  if (kind == range_kind::rank)
    range_by_rank(e, start, end, reverse, sink);
  else if (kind == range_kind::score)
    range_by(e, sr, offset, limit, reverse, sink);
  else
    range_by(e, lr, offset, limit, reverse, sink);
}

void cmd_zrange(command_context& ctx) { zrange_generic(ctx, 1, false, range_kind::automatic, direction::automatic); }
void cmd_zrangestore(command_context& ctx) {
  zrange_generic(ctx, 2, true, range_kind::automatic, direction::automatic);
}
void cmd_zrevrange(command_context& ctx) { zrange_generic(ctx, 1, false, range_kind::rank, direction::reverse); }
void cmd_zrangebyscore(command_context& ctx) {
  zrange_generic(ctx, 1, false, range_kind::score, direction::forward);
}
void cmd_zrevrangebyscore(command_context& ctx) {
  zrange_generic(ctx, 1, false, range_kind::score, direction::reverse);
}
void cmd_zrangebylex(command_context& ctx) { zrange_generic(ctx, 1, false, range_kind::lex, direction::forward); }
void cmd_zrevrangebylex(command_context& ctx) { zrange_generic(ctx, 1, false, range_kind::lex, direction::reverse); }

void cmd_zcount(command_context& ctx) {
  zset::score_range r;
  if (!zset::parse_score_range(ctx.arg(2), ctx.arg(3), r)) return ctx.out.error("min or max is not a float");
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::zset)) return;
  ctx.out.integer(static_cast<std::int64_t>(zset::with_view(e, [&](auto& v) { return v.count_in(r); })));
}

void cmd_zlexcount(command_context& ctx) {
  zset::lex_range r;
  if (!zset::parse_lex_range(ctx.arg(2), ctx.arg(3), r))
    return ctx.out.error("min or max not valid string range item");
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::zset)) return;
  ctx.out.integer(static_cast<std::int64_t>(zset::with_view(e, [&](auto& v) { return v.count_in(r); })));
}

// ---- single members ----

void cmd_zcard(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::zset)) return;
  ctx.out.integer(static_cast<std::int64_t>(zset::size(e)));
}

void cmd_zscore(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::zset)) return;
  double score;
  if (zset::score_of(e, ctx.arg(2), score))
    ctx.out.double_value(score);
  else
    ctx.out.null();
}

void cmd_zmscore(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (e && !check_type(ctx, e, value_type::zset)) return;
  ctx.out.array(ctx.argc() - 2);
  for (std::size_t j = 2; j < ctx.argc(); ++j) {
    double score;
    if (e && zset::score_of(e, ctx.arg(j), score))
      ctx.out.double_value(score);
    else
      ctx.out.null();
  }
}

void zrank_generic(command_context& ctx, bool reverse) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::zset)) return;
  const std::int64_t rank = zset::rank_of(e, ctx.arg(2), reverse);
  if (rank >= 0)
    ctx.out.integer(rank);
  else
    ctx.out.null();
}

void cmd_zrank(command_context& ctx) { zrank_generic(ctx, false); }
void cmd_zrevrank(command_context& ctx) { zrank_generic(ctx, true); }

// ---- pops ----

// genericZpopCommand's reply for one key; `e` holds a non-empty sorted set.
void pop_reply(command_context& ctx, store::database& db, entry* e, bool from_max, std::size_t count, bool nested) {
  const std::size_t n = std::min(count, zset::size(e));
  ctx.out.array(nested ? n : 2 * n);
  zset::pop(db, e, from_max, n, [&](std::string_view member, double score) {
    if (nested) ctx.out.array(2);
    ctx.out.bulk(member);
    ctx.out.double_value(score);
  });
}

void zpop_minmax(command_context& ctx, bool from_max) {
  if (ctx.argc() > 3) return ctx.out.error(errors::syntax);
  std::int64_t count = -1;  // no COUNT: a single pop
  // getPositiveLongFromObjectOrReply: one message for both failures.
  if (ctx.argc() == 3 && !ranged_int_arg(ctx, 2, 0, LLONG_MAX, count, "value is out of range, must be positive"))
    return;
  // RESP3 nests the pairs when a count was given.
  const bool nested = resp3(ctx) && count != -1;
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.array(0);
  if (!check_type(ctx, e, value_type::zset)) return;
  if (count == 0) return ctx.out.array(0);
  const std::size_t n = count == -1 ? 1 : static_cast<std::size_t>(count);
  const bool key_removed = n >= zset::size(e);
  pop_reply(ctx, db, e, from_max, n, nested);
  notify_event(ctx, notify::zset, from_max ? "zpopmax" : "zpopmin", key);
  if (key_removed) notify_event(ctx, notify::generic, "del", key);
}

void cmd_zpopmin(command_context& ctx) { zpop_minmax(ctx, false); }
void cmd_zpopmax(command_context& ctx) { zpop_minmax(ctx, true); }

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
void cmd_zmpop(command_context& ctx) {
  std::int64_t numkeys;
  if (!ranged_int_arg(ctx, 1, 1, LLONG_MAX, numkeys, "numkeys should be greater than 0")) return;
  if (static_cast<std::uint64_t>(numkeys) >= ctx.argc() - 2) return ctx.out.error(errors::syntax);
  const std::size_t where_idx = 2 + static_cast<std::size_t>(numkeys);
  bool from_max;
  if (iequals(ctx.arg(where_idx), "min"))
    from_max = false;
  else if (iequals(ctx.arg(where_idx), "max"))
    from_max = true;
  else
    return ctx.out.error(errors::syntax);
  std::int64_t count = -1;
  for (std::size_t j = where_idx + 1; j < ctx.argc(); ++j) {
    if (count == -1 && iequals(ctx.arg(j), "count") && j + 1 < ctx.argc()) {
      ++j;
      if (!ranged_int_arg(ctx, j, 1, LLONG_MAX, count, "count should be greater than 0")) return;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  if (count == -1) count = 1;
  for (std::size_t k = 2; k < where_idx; ++k) {
    std::string_view key = ctx.arg(k);
    auto& db = ctx.db(key);
    entry* e = write_key(ctx, db, key);
    if (!e) continue;
    if (!check_type(ctx, e, value_type::zset)) return;
    ctx.out.array(2);
    ctx.out.bulk(key);
    const bool key_removed = static_cast<std::size_t>(count) >= zset::size(e);
    pop_reply(ctx, db, e, from_max, static_cast<std::size_t>(count), true);
    notify_event(ctx, notify::zset, from_max ? "zpopmax" : "zpopmin", key);
    if (key_removed) notify_event(ctx, notify::generic, "del", key);
    return;
  }
  ctx.out.null_array();
}

// ---- set algebra ----

enum class set_op { unite, intersect, diff };
enum class aggregate { sum, min, max };

// An input of ZUNION & co: a sorted set, or a set whose members score 1.
struct op_source {
  const entry* e = nullptr;  // nullptr: missing key (an empty input)
  double weight = 1.0;
  std::size_t size = 0;
};

std::size_t source_size(const entry* e) {
  if (!e) return 0;
  return e->type == value_type::zset ? zset::size(e) : store::set_size(e);
}

template <class Visit>
void source_for_each(const op_source& s, Visit&& visit) {
  if (!s.e) return;
  if (s.e->type == value_type::set) {
    store::set_for_each(s.e, [&](std::string_view m) { visit(m, 1.0); });
    return;
  }
  // Highest first, as zuiNext.
  zset::with_view(s.e, [&](auto& v) {
    for (auto p = v.last(); p != v.end(); p = v.prev(p)) visit(v.member(p), v.score(p));
  });
}

bool source_find(const op_source& s, std::string_view member, double& score) {
  if (!s.e) return false;
  if (s.e->type == value_type::set) {
    score = 1.0;
    return store::set_contains(s.e, member);
  }
  return zset::score_of(s.e, member, score);
}

// zunionInterAggregate: a sum of inf and -inf counts as 0.
void combine(double& target, double value, aggregate agg) {
  switch (agg) {
    case aggregate::sum:
      target += value;
      if (std::isnan(target)) target = 0.0;
      break;
    case aggregate::min: target = value < target ? value : target; break;
    case aggregate::max: target = value > target ? value : target; break;
  }
}

// zunionInterDiffGenericCommand. `dst`: the destination key index (0 for the
// commands that reply with the result).
void zsetop_generic(command_context& ctx, std::size_t dst, std::size_t numkeys_idx, set_op op, bool card_only) {
  std::int64_t setnum;
  if (!int_arg(ctx, numkeys_idx, setnum)) return;
  if (setnum < 1)
    return ctx.out.error("at least 1 input key is needed for '" + ctx.row->info->name + "' command");
  if (static_cast<std::uint64_t>(setnum) > ctx.argc() - (numkeys_idx + 1)) return ctx.out.error(errors::syntax);

  std::vector<op_source> src(static_cast<std::size_t>(setnum));
  std::size_t j = numkeys_idx + 1;
  for (auto& s : src) {
    std::string_view key = ctx.arg(j++);
    s.e = read_key(ctx, ctx.db(key), key);
    if (s.e && s.e->type != value_type::zset && s.e->type != value_type::set)
      return ctx.out.error(errors::wrong_type);
    s.size = source_size(s.e);
  }

  aggregate agg = aggregate::sum;
  bool withscores = false;
  std::int64_t limit = 0;  // ZINTERCARD: 0 = no limit
  while (j < ctx.argc()) {
    const std::size_t remaining = ctx.argc() - j;
    std::string_view opt = ctx.arg(j);
    if (op != set_op::diff && !card_only && remaining >= src.size() + 1 && iequals(opt, "weights")) {
      ++j;
      for (auto& s : src) {
        if (!util::parse_double(ctx.arg(j++), s.weight)) return ctx.out.error("weight value is not a float");
      }
    } else if (op != set_op::diff && !card_only && remaining >= 2 && iequals(opt, "aggregate")) {
      std::string_view a = ctx.arg(j + 1);
      if (iequals(a, "sum"))
        agg = aggregate::sum;
      else if (iequals(a, "min"))
        agg = aggregate::min;
      else if (iequals(a, "max"))
        agg = aggregate::max;
      else
        return ctx.out.error(errors::syntax);
      j += 2;
    } else if (!dst && !card_only && iequals(opt, "withscores")) {
      withscores = true;
      ++j;
    } else if (card_only && remaining >= 2 && iequals(opt, "limit")) {
      if (!ranged_int_arg(ctx, j + 1, 0, LLONG_MAX, limit, "LIMIT can't be negative")) return;
      j += 2;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }

  // Smallest inputs first (a stable sort, as glibc's qsort here): fewer
  // lookups for ZINTER, and the same summation order as Redis for ZUNION.
  if (op != set_op::diff)
    std::stable_sort(src.begin(), src.end(), [](const op_source& a, const op_source& b) { return a.size < b.size; });

  std::vector<zset::owned_item> result;
  std::size_t cardinality = 0;
  if (op == set_op::intersect) {
    if (src[0].size > 0) {
      bool done = false;
      source_for_each(src[0], [&](std::string_view member, double s) {
        if (done) return;
        double score = src[0].weight * s;
        if (std::isnan(score)) score = 0;
        std::size_t k = 1;
        for (; k < src.size(); ++k) {
          double value;
          if (!source_find(src[k], member, value)) break;
          combine(score, value * src[k].weight, agg);
        }
        if (k < src.size()) return;
        if (card_only) {
          ++cardinality;
          if (limit && cardinality >= static_cast<std::size_t>(limit)) done = true;
        } else {
          result.push_back({std::string(member), score});
        }
      });
    }
  } else if (op == set_op::unite) {
    std::unordered_map<std::string, double> acc;
    acc.reserve(src.back().size);
    for (const auto& s : src) {
      source_for_each(s, [&](std::string_view member, double v) {
        double score = s.weight * v;
        if (std::isnan(score)) score = 0;
        auto [it, fresh] = acc.try_emplace(std::string(member), score);
        if (!fresh) combine(it->second, score, agg);
      });
    }
    result.reserve(acc.size());
    for (auto& [member, score] : acc) result.push_back({member, score});
  } else {
    if (src[0].size > 0) {
      source_for_each(src[0], [&](std::string_view member, double s) {
        for (std::size_t k = 1; k < src.size(); ++k) {
          double ignored;
          if (source_find(src[k], member, ignored)) return;
        }
        result.push_back({std::string(member), s});
      });
    }
  }

  if (card_only) return ctx.out.integer(static_cast<std::int64_t>(cardinality));
  std::sort(result.begin(), result.end(), item_less);
  if (dst)
    return store_result(ctx, ctx.arg(dst), result,
                        op == set_op::unite ? "zunionstore" : op == set_op::intersect ? "zinterstore" : "zdiffstore");
  ctx.out.array(reply_len(ctx, result.size(), withscores));
  for (const auto& it : result) reply_member(ctx, it.member, it.score, withscores);
}

void cmd_zunionstore(command_context& ctx) { zsetop_generic(ctx, 1, 2, set_op::unite, false); }
void cmd_zinterstore(command_context& ctx) { zsetop_generic(ctx, 1, 2, set_op::intersect, false); }
void cmd_zdiffstore(command_context& ctx) { zsetop_generic(ctx, 1, 2, set_op::diff, false); }
void cmd_zunion(command_context& ctx) { zsetop_generic(ctx, 0, 1, set_op::unite, false); }
void cmd_zinter(command_context& ctx) { zsetop_generic(ctx, 0, 1, set_op::intersect, false); }
void cmd_zintercard(command_context& ctx) { zsetop_generic(ctx, 0, 1, set_op::intersect, true); }
void cmd_zdiff(command_context& ctx) { zsetop_generic(ctx, 0, 1, set_op::diff, false); }

// ---- ZRANDMEMBER ----

// A uniformly random member position of a non-empty sorted set.
template <class View>
typename View::pos random_pos(const View& v, std::mt19937_64& rng) {
  if constexpr (std::is_same_v<View, zset::skiplist_view>) {
    return v.object().dict().random_entry(rng);
  } else {
    return v.at_rank(rng() % v.size());
  }
}

void zrandmember_with_count(command_context& ctx, std::int64_t l, bool withscores) {
  std::string_view key = ctx.arg(1);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.array(0);
  if (!check_type(ctx, e, value_type::zset)) return;
  const bool unique = l >= 0;
  const std::uint64_t count = unique ? static_cast<std::uint64_t>(l) : static_cast<std::uint64_t>(-l);
  if (count == 0) return ctx.out.array(0);
  auto& rng = ctx.rng(key);
  zset::with_view(e, [&](auto& v) {
    const std::size_t size = v.size();
    // Negative count (or 1): independent picks, repeats allowed.
    if (!unique || count == 1) {
      ctx.out.array(reply_len(ctx, count, withscores));
      for (std::uint64_t i = 0; i < count; ++i) {
        auto p = random_pos(v, rng);
        reply_member(ctx, v.member(p), v.score(p), withscores);
      }
      return;
    }
    ctx.out.array(reply_len(ctx, std::min<std::uint64_t>(count, size), withscores));
    // The whole set, highest first (Redis's zuiNext walks from the tail).
    if (count >= size) {
      for (auto p = v.last(); p != v.end(); p = v.prev(p)) reply_member(ctx, v.member(p), v.score(p), withscores);
      return;
    }
    // Most of the set: drop random members until `count` are left.
    if (count * 3 > size || std::is_same_v<std::decay_t<decltype(v)>, zset::packed_view>) {
      std::vector<std::size_t> ranks(size);
      std::iota(ranks.begin(), ranks.end(), std::size_t{0});
      std::shuffle(ranks.begin(), ranks.end(), rng);
      ranks.resize(count);
      // A packed set answers in its own order, as lpRandomPairsUnique does.
      if (std::is_same_v<std::decay_t<decltype(v)>, zset::packed_view>) std::sort(ranks.begin(), ranks.end());
      for (std::size_t r : ranks) {
        auto p = v.at_rank(r);
        reply_member(ctx, v.member(p), v.score(p), withscores);
      }
      return;
    }
    // A few members of a large set: random picks, skipping repeats.
    std::unordered_set<std::string_view> seen;
    while (seen.size() < count) {
      auto p = random_pos(v, rng);
      if (!seen.insert(v.member(p)).second) continue;
      reply_member(ctx, v.member(p), v.score(p), withscores);
    }
  });
}

void cmd_zrandmember(command_context& ctx) {
  if (ctx.argc() >= 3) {
    std::int64_t l;
    if (!int_arg(ctx, 2, l)) return;
    if (l == LLONG_MIN)
      return ctx.out.error("value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    if (ctx.argc() > 4 || (ctx.argc() == 4 && !iequals(ctx.arg(3), "withscores"))) return ctx.out.error(errors::syntax);
    const bool withscores = ctx.argc() == 4;
    if (withscores && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) return ctx.out.error("value is out of range");
    return zrandmember_with_count(ctx, l, withscores);
  }
  std::string_view key = ctx.arg(1);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::zset)) return;
  auto& rng = ctx.rng(key);
  zset::with_view(e, [&](auto& v) { ctx.out.bulk(v.member(random_pos(v, rng))); });
}

// ---- ZSCAN ----

// d2string: how a listpack holds a score, hence what ZSCAN shows for a
// packed set.
std::string packed_score_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  if (v >= static_cast<double>(-LLONG_MAX / 2) && v <= static_cast<double>(LLONG_MAX / 2)) {
    const auto ll = static_cast<long long>(v);
    if (static_cast<double>(ll) == v) return util::format_int64(ll);
  }
  return util::format_double(v);
}

// createStringObjectFromLongDouble(score, 0): what ZSCAN shows for a skiplist.
std::string skiplist_score_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.17Lg", static_cast<long double>(v));
  return std::string(buf, static_cast<std::size_t>(n));
}

void cmd_zscan(command_context& ctx) {
  std::uint64_t cursor;
  scan_options opt;
  entry* e = begin_key_scan(ctx, value_type::zset, cursor, opt);
  if (!e) return;

  std::vector<std::pair<std::string_view, std::string>> found;
  auto keep = [&](std::string_view member) { return !opt.use_pattern || util::glob_match(opt.pattern, member); };
  if (zset::is_packed(e)) {
    // A packed set is small: all of it at once, cursor 0 (as Redis).
    zset::packed_view v(e);
    for (std::size_t i = 0; i < v.size(); ++i)
      if (keep(v.member(i))) found.emplace_back(v.member(i), packed_score_text(v.score(i)));
    cursor = 0;
  } else {
    // Steps of the member hash until COUNT pairs were seen or 20*COUNT
    // buckets were visited (scanGenericCommand's bound on sparse tables,
    // counted in elements: two per pair).
    const auto& dict = store::as_zset_object(e).dict();
    const auto want = static_cast<std::uint64_t>(opt.count);
    std::uint64_t steps = want > UINT64_MAX / 20 ? UINT64_MAX : want * 20, seen = 0;
    std::vector<const entry*> nodes;
    do {
      cursor = dict.scan_step(cursor, [&](const entry* n) {
        nodes.push_back(n);
        ++seen;
      });
    } while (cursor && steps-- && seen < want);
    for (const entry* n : nodes)
      if (keep(n->key())) found.emplace_back(n->key(), skiplist_score_text(store::zsl::score(n)));
  }
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(cursor));
  ctx.out.array(2 * found.size());
  for (auto& [member, score] : found) {
    ctx.out.bulk(member);
    ctx.out.bulk(score);
  }
}

}  // namespace

void zadd_members(command_context& ctx, std::string_view key, unsigned flags, bool ch, std::span<const double> scores,
                  std::size_t first_member, std::size_t stride) {
  const bool incr = flags & zset::add_incr, xx = flags & zset::add_xx;
  auto member = [&](std::size_t j) { return ctx.arg(first_member + stride * j); };
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (e && !check_type(ctx, e, value_type::zset)) return;
  const auto lim = limits_of(ctx);
  std::int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  if (!e && !xx) {
    e = zset::create(db, key, lim.max_entries == 0 || lim.max_value < member(0).size(), ctx.now_ms);
    notify_new(ctx, key);
  }
  if (e) {
    for (std::size_t j = 0; j < scores.size(); ++j) {
      unsigned out = 0;
      double newscore = 0;
      if (!zset::add(db, e, scores[j], member(j), flags, out, newscore, lim)) {
        if (zset::size(e) == 0) db.erase_entry(e);
        if (added) signal_key_ready(ctx, key);
        return ctx.out.error("resulting score is not a number (NaN)");
      }
      if (out & zset::added_new) ++added;
      if (out & zset::added_updated) ++updated;
      if (!(out & zset::added_nop)) ++processed;
      score = newscore;
    }
  }
  if (added) signal_key_ready(ctx, key);
  if (added || updated) notify_event(ctx, notify::zset, incr ? "zincr" : "zadd", key);
  if (incr) {
    if (processed)
      ctx.out.double_value(score);
    else
      ctx.out.null();
  } else {
    ctx.out.integer(ch ? added + updated : added);
  }
}

void store_zset_result(command_context& ctx, std::string_view key, const std::vector<zset::owned_item>& items,
                       std::string_view event) {
  store_result(ctx, key, items, event);
}

void register_zset_commands(command_table& t) {
  t.add("zadd", exec_kind::keyed, cmd_zadd);
  t.add("zincrby", exec_kind::keyed, cmd_zincrby);
  t.add("zrem", exec_kind::keyed, cmd_zrem);
  t.add("zremrangebyrank", exec_kind::keyed, cmd_zremrangebyrank);
  t.add("zremrangebyscore", exec_kind::keyed, cmd_zremrangebyscore);
  t.add("zremrangebylex", exec_kind::keyed, cmd_zremrangebylex);
  t.add("zrange", exec_kind::keyed, cmd_zrange);
  t.add("zrangestore", exec_kind::keyed, cmd_zrangestore);
  t.add("zrevrange", exec_kind::keyed, cmd_zrevrange);
  t.add("zrangebyscore", exec_kind::keyed, cmd_zrangebyscore);
  t.add("zrevrangebyscore", exec_kind::keyed, cmd_zrevrangebyscore);
  t.add("zrangebylex", exec_kind::keyed, cmd_zrangebylex);
  t.add("zrevrangebylex", exec_kind::keyed, cmd_zrevrangebylex);
  t.add("zcount", exec_kind::keyed, cmd_zcount);
  t.add("zlexcount", exec_kind::keyed, cmd_zlexcount);
  t.add("zcard", exec_kind::keyed, cmd_zcard);
  t.add("zscore", exec_kind::keyed, cmd_zscore);
  t.add("zmscore", exec_kind::keyed, cmd_zmscore);
  t.add("zrank", exec_kind::keyed, cmd_zrank);
  t.add("zrevrank", exec_kind::keyed, cmd_zrevrank);
  t.add("zpopmin", exec_kind::keyed, cmd_zpopmin);
  t.add("zpopmax", exec_kind::keyed, cmd_zpopmax);
  t.add("zmpop", exec_kind::keyed, cmd_zmpop);
  t.add("zunionstore", exec_kind::keyed, cmd_zunionstore);
  t.add("zinterstore", exec_kind::keyed, cmd_zinterstore);
  t.add("zdiffstore", exec_kind::keyed, cmd_zdiffstore);
  t.add("zunion", exec_kind::keyed, cmd_zunion);
  t.add("zinter", exec_kind::keyed, cmd_zinter);
  t.add("zintercard", exec_kind::keyed, cmd_zintercard);
  t.add("zdiff", exec_kind::keyed, cmd_zdiff);
  t.add("zrandmember", exec_kind::keyed, cmd_zrandmember);
  t.add("zscan", exec_kind::keyed, cmd_zscan);
}

}  // namespace shrike::commands
