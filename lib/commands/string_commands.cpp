// Strings: SET and its variants, GET family, counters, ranges, LCS.
#include <charconv>
#include <climits>
#include <cmath>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;

constexpr std::int64_t proto_max_bulk_len = 512ll * 1024 * 1024;

// SET/GETEX option flags (t_string.c OBJ_*).
enum : unsigned {
  opt_nx = 1,
  opt_xx = 2,
  opt_ex = 4,
  opt_px = 8,
  opt_keepttl = 16,
  opt_get = 32,
  opt_exat = 64,
  opt_pxat = 128,
  opt_persist = 256,
};
constexpr unsigned any_expire = opt_ex | opt_px | opt_exat | opt_pxat;

enum class string_command { get, set };

// parseExtendedStringArgumentsOrReply: the same acceptance rules, including
// that a repeated option is fine but a conflicting one is a syntax error.
bool parse_extended(command_context& ctx, unsigned& flags, std::string_view& expire, string_command kind) {
  for (std::size_t j = kind == string_command::get ? 2 : 3; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    const bool has_next = j + 1 < ctx.argc();
    const bool is_set = kind == string_command::set;
    if (iequals(opt, "nx") && !(flags & opt_xx) && is_set) {
      flags |= opt_nx;
    } else if (iequals(opt, "xx") && !(flags & opt_nx) && is_set) {
      flags |= opt_xx;
    } else if (iequals(opt, "get") && is_set) {
      flags |= opt_get;
    } else if (iequals(opt, "keepttl") && !(flags & (opt_persist | any_expire)) && is_set) {
      flags |= opt_keepttl;
    } else if (iequals(opt, "persist") && !is_set && !(flags & (any_expire | opt_keepttl))) {
      flags |= opt_persist;
    } else if (iequals(opt, "ex") && !(flags & (opt_keepttl | opt_persist | opt_exat | opt_px | opt_pxat)) && has_next) {
      flags |= opt_ex;
      expire = ctx.arg(++j);
    } else if (iequals(opt, "px") && !(flags & (opt_keepttl | opt_persist | opt_ex | opt_exat | opt_pxat)) && has_next) {
      flags |= opt_px;
      expire = ctx.arg(++j);
    } else if (iequals(opt, "exat") && !(flags & (opt_keepttl | opt_persist | opt_ex | opt_px | opt_pxat)) && has_next) {
      flags |= opt_exat;
      expire = ctx.arg(++j);
    } else if (iequals(opt, "pxat") && !(flags & (opt_keepttl | opt_persist | opt_ex | opt_exat | opt_px)) && has_next) {
      flags |= opt_pxat;
      expire = ctx.arg(++j);
    } else {
      ctx.out.error(errors::syntax);
      return false;
    }
  }
  return true;
}

void invalid_expire_error(command_context& ctx) {
  ctx.out.error("invalid expire time in '" + std::string(ctx.row->info->name) + "' command");
}

// getExpireMillisecondsOrReply: absolute unix ms of an EX/PX/EXAT/PXAT argument.
bool expire_ms(command_context& ctx, std::string_view text, unsigned flags, std::int64_t& ms) {
  if (!util::parse_int64(text, ms)) {
    ctx.out.error(errors::not_integer);
    return false;
  }
  const bool seconds = flags & (opt_ex | opt_exat);
  if (ms <= 0 || (seconds && ms > LLONG_MAX / 1000)) {
    invalid_expire_error(ctx);
    return false;
  }
  if (seconds) ms *= 1000;
  if (flags & (opt_ex | opt_px)) {
    // Overflow wraps in Redis (signed add in C); detect it the same way.
    ms = static_cast<std::int64_t>(static_cast<std::uint64_t>(ms) + static_cast<std::uint64_t>(ctx.now_ms));
  }
  if (ms <= 0) {
    invalid_expire_error(ctx);
    return false;
  }
  return true;
}

// GET's reply for an existing-or-missing key; false on WRONGTYPE.
bool reply_get(command_context& ctx, store::database& db, std::string_view key) {
  entry* e = read_key(ctx, db, key);
  if (!e) {
    ctx.out.null();
    return true;
  }
  if (!check_type(ctx, e, value_type::string)) return false;
  ctx.out.bulk(e->str());
  return true;
}

// setGenericCommand. integer_replies: SETNX's :1/:0 instead of +OK/nil.
void set_generic(command_context& ctx, unsigned flags, std::string_view key, std::string_view value,
                 std::string_view expire, bool has_expire, bool integer_replies = false) {
  std::int64_t ms = -1;
  if (has_expire && !expire_ms(ctx, expire, flags, ms)) return;
  auto& db = ctx.db(key);
  if (flags & opt_get) {
    if (!reply_get(ctx, db, key)) return;
  }
  entry* found = db.lookup(key, ctx.now_ms);
  if (((flags & opt_nx) && found) || ((flags & opt_xx) && !found)) {
    propagate_nothing(ctx);
    if (!(flags & opt_get)) {
      if (integer_replies)
        ctx.out.integer(0);
      else
        ctx.out.null();
    }
    return;
  }
  db.set_string(key, value, ctx.now_ms, has_expire ? ms : -1, flags & opt_keepttl);
  if (!found) notify_new(ctx, key);
  notify_event(ctx, notify::string, "set", key);
  if (has_expire) notify_event(ctx, notify::generic, "expire", key);
  // A relative or second-based TTL reaches replicas as the instant it ends.
  if (has_expire && !(flags & opt_pxat)) propagate_as(ctx, {"SET", key, value, "PXAT", std::to_string(ms)});
  if (!(flags & opt_get)) {
    if (integer_replies)
      ctx.out.integer(1);
    else
      ctx.out.ok();
  }
}

void cmd_set(command_context& ctx) {
  unsigned flags = 0;
  std::string_view expire;
  if (!parse_extended(ctx, flags, expire, string_command::set)) return;
  set_generic(ctx, flags, ctx.arg(1), ctx.arg(2), expire, flags & any_expire);
}

void cmd_setnx(command_context& ctx) { set_generic(ctx, opt_nx, ctx.arg(1), ctx.arg(2), {}, false, true); }
void cmd_setex(command_context& ctx) { set_generic(ctx, opt_ex, ctx.arg(1), ctx.arg(3), ctx.arg(2), true); }
void cmd_psetex(command_context& ctx) { set_generic(ctx, opt_px, ctx.arg(1), ctx.arg(3), ctx.arg(2), true); }

void cmd_get(command_context& ctx) { reply_get(ctx, ctx.db(ctx.arg(1)), ctx.arg(1)); }

void cmd_getset(command_context& ctx) {
  auto& db = ctx.db(ctx.arg(1));
  if (!reply_get(ctx, db, ctx.arg(1))) return;
  const bool created = creating_key(ctx, db, ctx.arg(1));
  db.set_string(ctx.arg(1), ctx.arg(2), ctx.now_ms, -1, false);
  if (created) notify_new(ctx, ctx.arg(1));
  notify_event(ctx, notify::string, "set", ctx.arg(1));
}

void cmd_getdel(command_context& ctx) {
  auto& db = ctx.db(ctx.arg(1));
  entry* e = read_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::string)) return;
  ctx.out.bulk(e->str());
  db.erase_entry(e);
  notify_event(ctx, notify::generic, "del", ctx.arg(1));
  propagate_as(ctx, {"DEL", ctx.arg(1)});
}

void cmd_getex(command_context& ctx) {
  unsigned flags = 0;
  std::string_view expire;
  if (!parse_extended(ctx, flags, expire, string_command::get)) return;
  auto& db = ctx.db(ctx.arg(1));
  entry* e = read_key(ctx, db, ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::string)) return;
  std::int64_t ms = 0;
  if ((flags & any_expire) && !expire_ms(ctx, expire, flags, ms)) return;
  ctx.out.bulk(e->str());
  propagate_nothing(ctx);  // unless it changed the TTL (below)
  if ((flags & (opt_pxat | opt_exat)) && ms <= ctx.now_ms) {
    db.erase_entry(e);
    notify_event(ctx, notify::generic, "del", ctx.arg(1));
    propagate_as(ctx, {"DEL", ctx.arg(1)});
  } else if (flags & any_expire) {
    db.set_expire(e, ms);
    notify_event(ctx, notify::generic, "expire", ctx.arg(1));
    propagate_as(ctx, {"PEXPIREAT", ctx.arg(1), std::to_string(ms)});
  } else if ((flags & opt_persist) && e->has_expire()) {
    db.persist(e);
    notify_event(ctx, notify::generic, "persist", ctx.arg(1));
    propagate_as(ctx, {"PERSIST", ctx.arg(1)});
  }
}

void cmd_mset_generic(command_context& ctx, bool nx) {
  if (ctx.argc() % 2 == 0) return ctx.out.error(wrong_arity_text(ctx.row->info->name));
  if (nx) {
    for (std::size_t j = 1; j < ctx.argc(); j += 2) {
      if (ctx.db(ctx.arg(j)).lookup(ctx.arg(j), ctx.now_ms)) return ctx.out.integer(0);
    }
  }
  for (std::size_t j = 1; j < ctx.argc(); j += 2) {
    auto& db = ctx.db(ctx.arg(j));
    const bool created = creating_key(ctx, db, ctx.arg(j));
    db.set_string(ctx.arg(j), ctx.arg(j + 1), ctx.now_ms, -1, false);
    if (created) notify_new(ctx, ctx.arg(j));
    notify_event(ctx, notify::string, "set", ctx.arg(j));
  }
  if (nx)
    ctx.out.integer(1);
  else
    ctx.out.ok();
}
void cmd_mset(command_context& ctx) { cmd_mset_generic(ctx, false); }
void cmd_msetnx(command_context& ctx) { cmd_mset_generic(ctx, true); }

void cmd_mget(command_context& ctx) {
  ctx.out.array(ctx.argc() - 1);
  for (std::size_t j = 1; j < ctx.argc(); ++j) {
    entry* e = read_key(ctx, ctx.db(ctx.arg(j)), ctx.arg(j));
    if (!e || e->type != value_type::string)
      ctx.out.null();
    else
      ctx.out.bulk(e->str());
  }
}

bool check_string_length(command_context& ctx, std::int64_t size, std::int64_t append) {
  // In unsigned arithmetic, as Redis: a huge SETRANGE offset must not overflow.
  const auto total = static_cast<std::int64_t>(static_cast<std::uint64_t>(size) + static_cast<std::uint64_t>(append));
  if (total > proto_max_bulk_len || total < size || total < append) {
    ctx.out.error("string exceeds maximum allowed size (proto-max-bulk-len)");
    return false;
  }
  return true;
}

void cmd_append(command_context& ctx) {
  auto& db = ctx.db(ctx.arg(1));
  std::string_view add = ctx.arg(2);
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e) {
    e = db.set_string(ctx.arg(1), add, ctx.now_ms, -1, false);
    notify_new(ctx, ctx.arg(1));
    notify_event(ctx, notify::string, "append", ctx.arg(1));
    return ctx.out.integer(e->val_len);
  }
  if (!check_type(ctx, e, value_type::string)) return;
  if (!check_string_length(ctx, e->val_len, static_cast<std::int64_t>(add.size()))) return;
  const std::size_t old_len = e->val_len;
  e = db.resize_string(e, old_len + add.size());
  if (!add.empty()) std::memcpy(e->value_data() + old_len, add.data(), add.size());
  e->encoding = static_cast<std::uint8_t>(store::string_encoding::raw);
  notify_event(ctx, notify::string, "append", ctx.arg(1));
  ctx.out.integer(e->val_len);
}

void cmd_strlen(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::string)) return;
  ctx.out.integer(e->val_len);
}

void incr_by(command_context& ctx, std::int64_t incr) {
  auto& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  std::int64_t value = 0;
  if (e) {
    if (!check_type(ctx, e, value_type::string)) return;
    if (!util::parse_int64(e->str(), value)) return ctx.out.error(errors::not_integer);
  }
  if ((incr < 0 && value < 0 && incr < (LLONG_MIN - value)) || (incr > 0 && value > 0 && incr > (LLONG_MAX - value)))
    return ctx.out.error(errors::overflow);
  value += incr;
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  db.set_string(ctx.arg(1), std::string_view(buf, static_cast<std::size_t>(end - buf)), ctx.now_ms, -1, true);
  if (!e) notify_new(ctx, ctx.arg(1));
  notify_event(ctx, notify::string, "incrby", ctx.arg(1));
  ctx.out.integer(value);
}

void cmd_incr(command_context& ctx) { incr_by(ctx, 1); }
void cmd_decr(command_context& ctx) { incr_by(ctx, -1); }
void cmd_incrby(command_context& ctx) {
  std::int64_t v;
  if (int_arg(ctx, 2, v)) incr_by(ctx, v);
}
void cmd_decrby(command_context& ctx) {
  std::int64_t v;
  if (!int_arg(ctx, 2, v)) return;
  if (v == LLONG_MIN) return ctx.out.error("decrement would overflow");
  incr_by(ctx, -v);
}

void cmd_incrbyfloat(command_context& ctx) {
  auto& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  long double value = 0, incr = 0;
  if (e) {
    if (!check_type(ctx, e, value_type::string)) return;
    if (!util::parse_long_double(e->str(), value)) return ctx.out.error(errors::not_float);
  }
  if (!util::parse_long_double(ctx.arg(2), incr)) return ctx.out.error(errors::not_float);
  value += incr;
  if (std::isnan(value) || std::isinf(value)) return ctx.out.error("increment would produce NaN or Infinity");
  std::string text = util::format_long_double_human(value);
  entry* stored = db.set_string(ctx.arg(1), text, ctx.now_ms, -1, true);
  // Redis stores the printed result as it is, never int-encoded.
  stored->encoding = static_cast<std::uint8_t>(text.size() <= 44 ? store::string_encoding::embstr
                                                                 : store::string_encoding::raw);
  if (!e) notify_new(ctx, ctx.arg(1));
  notify_event(ctx, notify::string, "incrbyfloat", ctx.arg(1));
  ctx.out.bulk(text);
  // The result, not the addition: a replica's float rounding could differ.
  propagate_as(ctx, {"SET", ctx.arg(1), text, "KEEPTTL"});
}

void cmd_getrange(command_context& ctx) {
  std::int64_t start, end;
  if (!int_arg(ctx, 2, start) || !int_arg(ctx, 3, end)) return;
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.bulk("");
  if (!check_type(ctx, e, value_type::string)) return;
  const auto len = static_cast<std::int64_t>(e->val_len);
  if (start < 0 && end < 0 && start > end) return ctx.out.bulk("");
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return ctx.out.bulk("");
  ctx.out.bulk(e->str().substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start + 1)));
}

void cmd_setrange(command_context& ctx) {
  std::int64_t offset;
  if (!int_arg(ctx, 2, offset)) return;
  if (offset < 0) return ctx.out.error(errors::out_of_range_offset);
  std::string_view value = ctx.arg(3);
  auto& db = ctx.db(ctx.arg(1));
  entry* e = write_key(ctx, db, ctx.arg(1));
  if (!e) {
    if (value.empty()) return ctx.out.integer(0);
    if (!check_string_length(ctx, offset, static_cast<std::int64_t>(value.size()))) return;
    e = db.set_string(ctx.arg(1), {}, ctx.now_ms, -1, false);
    notify_new(ctx, ctx.arg(1));
  } else {
    if (!check_type(ctx, e, value_type::string)) return;
    if (value.empty()) return ctx.out.integer(e->val_len);
    if (!check_string_length(ctx, offset, static_cast<std::int64_t>(value.size()))) return;
  }
  const std::size_t old_len = e->val_len;
  const std::size_t need = static_cast<std::size_t>(offset) + value.size();
  if (need > old_len) {
    e = db.resize_string(e, need);
    std::memset(e->value_data() + old_len, 0, need - old_len);
  }
  std::memcpy(e->value_data() + offset, value.data(), value.size());
  e->encoding = static_cast<std::uint8_t>(store::string_encoding::raw);
  notify_event(ctx, notify::string, "setrange", ctx.arg(1));
  ctx.out.integer(e->val_len);
}

void cmd_lcs(command_context& ctx) {
  auto& db_a = ctx.db(ctx.arg(1));
  auto& db_b = ctx.db(ctx.arg(2));
  entry* ea = read_key(ctx, db_a, ctx.arg(1));
  entry* eb = read_key(ctx, db_b, ctx.arg(2));
  if ((ea && ea->type != value_type::string) || (eb && eb->type != value_type::string))
    return ctx.out.error("The specified keys must contain string values");
  // Copies: reading b may not invalidate a, but keep the views simple.
  std::string a(ea ? ea->str() : std::string_view{}), b(eb ? eb->str() : std::string_view{});
  bool want_len = false, want_idx = false, with_match_len = false;
  std::int64_t min_match_len = 0;
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    const bool more = j + 1 < ctx.argc();
    if (iequals(opt, "idx")) {
      want_idx = true;
    } else if (iequals(opt, "len")) {
      want_len = true;
    } else if (iequals(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (iequals(opt, "minmatchlen") && more) {
      if (!int_arg(ctx, j + 1, min_match_len)) return;
      if (min_match_len < 0) min_match_len = 0;
      ++j;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  if (want_len && want_idx) return ctx.out.error("If you want both the length and indexes, please just use IDX.");
  const std::size_t alen = a.size(), blen = b.size();
  const std::size_t cells = (alen + 1) * (blen + 1);
  if (cells * sizeof(std::uint32_t) > static_cast<std::size_t>(proto_max_bulk_len))
    return ctx.out.error("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  // table[i][j] = LCS length of a[0..i) and b[0..j).
  std::vector<std::uint32_t> table(cells, 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return table[j + i * (blen + 1)]; };
  for (std::size_t i = 1; i <= alen; ++i)
    for (std::size_t j = 1; j <= blen; ++j)
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
  const std::uint32_t total = at(alen, blen);

  if (want_len) return ctx.out.integer(total);
  // Walk back from the end, collecting the common string and the matching
  // ranges (contiguous in both strings), longest-suffix first as Redis does.
  struct range {
    std::size_t a_start, a_end, b_start, b_end;
  };
  std::vector<range> ranges;
  std::string common(total, '\0');
  std::size_t idx = total, i = alen, j = blen;
  bool open = false;
  range cur{};
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      common[idx - 1] = a[i - 1];
      if (!open) {
        cur = {i - 1, i - 1, j - 1, j - 1};
        open = true;
      } else if (cur.a_start == i && cur.b_start == j) {
        --cur.a_start;
        --cur.b_start;
      } else {
        emit = true;
      }
      if (cur.a_start == 0 || cur.b_start == 0) emit = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1))
        --i;
      else
        --j;
      if (open) emit = true;
    }
    if (emit) {
      const std::size_t len = cur.a_end - cur.a_start + 1;
      if (min_match_len == 0 || len >= static_cast<std::size_t>(min_match_len)) ranges.push_back(cur);
      open = false;
    }
  }
  if (!want_idx) return ctx.out.bulk(common);
  ctx.out.map(2);
  ctx.out.bulk("matches");
  ctx.out.array(ranges.size());
  for (auto& r : ranges) {
    ctx.out.array(with_match_len ? 3 : 2);
    ctx.out.array(2);
    ctx.out.integer(static_cast<std::int64_t>(r.a_start));
    ctx.out.integer(static_cast<std::int64_t>(r.a_end));
    ctx.out.array(2);
    ctx.out.integer(static_cast<std::int64_t>(r.b_start));
    ctx.out.integer(static_cast<std::int64_t>(r.b_end));
    if (with_match_len) ctx.out.integer(static_cast<std::int64_t>(r.a_end - r.a_start + 1));
  }
  ctx.out.bulk("len");
  ctx.out.integer(total);
}

}  // namespace

void register_string_commands(command_table& t) {
  t.add("set", exec_kind::keyed, cmd_set);
  t.add("setnx", exec_kind::keyed, cmd_setnx);
  t.add("setex", exec_kind::keyed, cmd_setex);
  t.add("psetex", exec_kind::keyed, cmd_psetex);
  t.add("get", exec_kind::keyed, cmd_get);
  t.add("getset", exec_kind::keyed, cmd_getset);
  t.add("getdel", exec_kind::keyed, cmd_getdel);
  t.add("getex", exec_kind::keyed, cmd_getex);
  t.add("mset", exec_kind::keyed, cmd_mset);
  t.add("msetnx", exec_kind::keyed, cmd_msetnx);
  t.add("mget", exec_kind::keyed, cmd_mget);
  t.add("append", exec_kind::keyed, cmd_append);
  t.add("strlen", exec_kind::keyed, cmd_strlen);
  t.add("incr", exec_kind::keyed, cmd_incr);
  t.add("decr", exec_kind::keyed, cmd_decr);
  t.add("incrby", exec_kind::keyed, cmd_incrby);
  t.add("decrby", exec_kind::keyed, cmd_decrby);
  t.add("incrbyfloat", exec_kind::keyed, cmd_incrbyfloat);
  t.add("getrange", exec_kind::keyed, cmd_getrange);
  t.add("substr", exec_kind::keyed, cmd_getrange);
  t.add("setrange", exec_kind::keyed, cmd_setrange);
  t.add("lcs", exec_kind::keyed, cmd_lcs);
}

}  // namespace shrike::commands
