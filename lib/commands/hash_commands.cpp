// Hashes: HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS,
// HGETALL, HKEYS, HVALS, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN, with
// Redis 7.0's replies, checks and encoding switches (t_hash.c).
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "commands/scan_args.hpp"
#include "store/hash_value.hpp"
#include "util/glob.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;
using field_value = std::pair<std::string_view, std::string_view>;

std::size_t config_size(const std::atomic<std::int64_t>& v) {
  const std::int64_t n = v.load(std::memory_order_relaxed);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

store::hash_limits limits(command_context& ctx) {
  return {config_size(ctx.srv.hash_max_listpack_entries), config_size(ctx.srv.hash_max_listpack_value)};
}

// lookupKeyWrite + checkType; false (WRONGTYPE written) for another type.
bool lookup_for_write(command_context& ctx, store::database& db, std::string_view key, entry*& e) {
  e = write_key(ctx, db, key);
  return !e || check_type(ctx, e, value_type::hash);
}

entry* create_empty(command_context& ctx, store::database& db, std::string_view key) {
  return db.add_inline(key, value_type::hash, store::hash_encoding_listpack, store::packed::empty_value(), ctx.now_ms);
}

// hashTypeTryConversion's length test over argv[first..].
bool any_too_long(command_context& ctx, std::size_t first, const store::hash_limits& lim) {
  for (std::size_t i = first; i < ctx.argc(); ++i)
    if (ctx.arg(i).size() > lim.max_value) return true;
  return false;
}

// HSET on a missing key: when the result is sure to stay a listpack, the
// packed value is built at its exact size in one allocation (the common
// "write a small hash once" case), otherwise pairs go in one by one and
// hash_set converts where Redis would.
entry* create_hash(command_context& ctx, store::database& db, std::string_view key, const store::hash_limits& lim,
                   std::int64_t& created) {
  const std::size_t pairs = (ctx.argc() - 2) / 2;
  if (pairs > lim.max_entries || any_too_long(ctx, 2, lim)) {
    entry* e = create_empty(ctx, db, key);
    for (std::size_t i = 2; i + 1 < ctx.argc(); i += 2) {
      bool c;
      e = store::hash_set(db, e, ctx.arg(i), ctx.arg(i + 1), lim, c);
      created += c;
    }
    return e;
  }
  std::vector<field_value> unique;
  unique.reserve(pairs);
  for (std::size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    auto same = [&](const field_value& p) { return p.first == ctx.arg(i); };
    if (auto it = std::find_if(unique.begin(), unique.end(), same); it != unique.end())
      it->second = ctx.arg(i + 1);  // a repeated field: the last value wins
    else
      unique.emplace_back(ctx.arg(i), ctx.arg(i + 1));
  }
  std::size_t bytes = store::packed::header_size;
  for (auto& [f, v] : unique) bytes += store::packed::element_size(f.size()) + store::packed::element_size(v.size());
  std::string packed(bytes, '\0');
  const auto count = static_cast<std::uint32_t>(unique.size() * 2);
  std::memcpy(packed.data(), &count, sizeof(count));
  char* p = packed.data() + store::packed::header_size;
  for (auto& [f, v] : unique) {
    p = store::packed::write_element(p, f);
    p = store::packed::write_element(p, v);
  }
  created = static_cast<std::int64_t>(unique.size());
  return db.add_inline(key, value_type::hash, store::hash_encoding_listpack, packed, ctx.now_ms);
}

// HSET / HMSET: the number of new fields, or +OK.
void hset_generic(command_context& ctx, bool reply_ok) {
  if (ctx.argc() % 2 == 1) return ctx.out.error(wrong_arity_text(ctx.row->info->name));
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e;
  if (!lookup_for_write(ctx, db, key, e)) return;
  const auto lim = limits(ctx);
  std::int64_t created = 0;
  if (!e) {
    create_hash(ctx, db, key, lim, created);
    notify_new(ctx, key);
  } else {
    if (!e->holds_object() && any_too_long(ctx, 2, lim)) e = store::hash_convert(db, e);
    for (std::size_t i = 2; i + 1 < ctx.argc(); i += 2) {
      bool c;
      e = store::hash_set(db, e, ctx.arg(i), ctx.arg(i + 1), lim, c);
      created += c;
    }
  }
  notify_event(ctx, notify::hash, "hset", key);
  reply_ok ? ctx.out.ok() : ctx.out.integer(created);
}
void cmd_hset(command_context& ctx) { hset_generic(ctx, false); }
void cmd_hmset(command_context& ctx) { hset_generic(ctx, true); }

void cmd_hsetnx(command_context& ctx) {
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e;
  if (!lookup_for_write(ctx, db, key, e)) return;
  std::string_view existing;
  if (e && store::hash_get(e, ctx.arg(2), existing)) return ctx.out.integer(0);
  if (!e) {
    e = create_empty(ctx, db, key);
    notify_new(ctx, key);
  }
  bool created;
  store::hash_set(db, e, ctx.arg(2), ctx.arg(3), limits(ctx), created);
  notify_event(ctx, notify::hash, "hset", key);
  ctx.out.integer(1);
}

void cmd_hget(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::hash)) return;
  std::string_view value;
  store::hash_get(e, ctx.arg(2), value) ? ctx.out.bulk(value) : ctx.out.null();
}

void cmd_hmget(command_context& ctx) {
  // A missing key is an empty hash: a null per field.
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (e && !check_type(ctx, e, value_type::hash)) return;
  ctx.out.array(ctx.argc() - 2);
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    std::string_view value;
    e && store::hash_get(e, ctx.arg(i), value) ? ctx.out.bulk(value) : ctx.out.null();
  }
}

void cmd_hdel(command_context& ctx) {
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::hash)) return;
  std::int64_t deleted = 0;
  bool key_removed = false;
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    bool erased;
    e = store::hash_erase(db, e, ctx.arg(i), erased);
    if (!erased) continue;
    ++deleted;
    if (store::hash_length(e) == 0) {
      db.erase_entry(e);
      key_removed = true;
      break;
    }
  }
  if (deleted) {
    notify_event(ctx, notify::hash, "hdel", key);
    if (key_removed) notify_event(ctx, notify::generic, "del", key);
  }
  ctx.out.integer(deleted);
}

// Read commands whose reply for a missing key is 0.
entry* read_or_zero(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) {
    ctx.out.integer(0);
    return nullptr;
  }
  return check_type(ctx, e, value_type::hash) ? e : nullptr;
}

void cmd_hlen(command_context& ctx) {
  if (entry* e = read_or_zero(ctx)) ctx.out.integer(static_cast<std::int64_t>(store::hash_length(e)));
}

void cmd_hstrlen(command_context& ctx) {
  entry* e = read_or_zero(ctx);
  if (!e) return;
  std::string_view value;
  ctx.out.integer(store::hash_get(e, ctx.arg(2), value) ? static_cast<std::int64_t>(value.size()) : 0);
}

void cmd_hexists(command_context& ctx) {
  entry* e = read_or_zero(ctx);
  if (!e) return;
  std::string_view value;
  ctx.out.integer(store::hash_get(e, ctx.arg(2), value) ? 1 : 0);
}

// HGETALL (a map), HKEYS and HVALS (arrays).
void getall_generic(command_context& ctx, bool keys, bool values) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  const bool as_map = keys && values;
  if (!e) return as_map ? ctx.out.map(0) : ctx.out.array(0);
  if (!check_type(ctx, e, value_type::hash)) return;
  const std::size_t n = store::hash_length(e);
  as_map ? ctx.out.map(n) : ctx.out.array(n);
  store::hash_for_each(e, [&](std::string_view f, std::string_view v) {
    if (keys) ctx.out.bulk(f);
    if (values) ctx.out.bulk(v);
  });
}
void cmd_hgetall(command_context& ctx) { getall_generic(ctx, true, true); }
void cmd_hkeys(command_context& ctx) { getall_generic(ctx, true, false); }
void cmd_hvals(command_context& ctx) { getall_generic(ctx, false, true); }

void cmd_hincrby(command_context& ctx) {
  std::int64_t incr;
  if (!int_arg(ctx, 3, incr)) return;
  std::string_view key = ctx.arg(1), field = ctx.arg(2);
  auto& db = ctx.db(key);
  entry* e;
  if (!lookup_for_write(ctx, db, key, e)) return;
  std::int64_t value = 0;
  std::string_view current;
  if (e && store::hash_get(e, field, current) && !util::parse_int64(current, value))
    return ctx.out.error("hash value is not an integer");
  if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value))
    return ctx.out.error(errors::overflow);
  value += incr;
  if (!e) {
    e = create_empty(ctx, db, key);
    notify_new(ctx, key);
  }
  bool created;
  store::hash_set(db, e, field, util::format_int64(value), limits(ctx), created);
  notify_event(ctx, notify::hash, "hincrby", key);
  ctx.out.integer(value);
}

void cmd_hincrbyfloat(command_context& ctx) {
  long double incr;
  if (!util::parse_long_double(ctx.arg(3), incr)) return ctx.out.error(errors::not_float);
  if (std::isnan(incr) || std::isinf(incr)) return ctx.out.error("value is NaN or Infinity");
  std::string_view key = ctx.arg(1), field = ctx.arg(2);
  auto& db = ctx.db(key);
  entry* e;
  if (!lookup_for_write(ctx, db, key, e)) return;
  long double value = 0;
  std::string_view current;
  if (e && store::hash_get(e, field, current) && !util::parse_long_double(current, value))
    return ctx.out.error("hash value is not a float");
  value += incr;
  if (std::isnan(value) || std::isinf(value)) return ctx.out.error("increment would produce NaN or Infinity");
  const std::string text = util::format_long_double_human(value);
  if (!e) {
    e = create_empty(ctx, db, key);
    notify_new(ctx, key);
  }
  bool created;
  store::hash_set(db, e, field, text, limits(ctx), created);
  notify_event(ctx, notify::hash, "hincrbyfloat", key);
  ctx.out.bulk(text);
  propagate_as(ctx, {"HSET", key, field, text});  // the result: float rounding may differ
}

// HRANDFIELD key count [WITHVALUES] (hrandfieldWithCountCommand): a positive
// count gives distinct fields, a negative one may repeat them.
void hrandfield_with_count(command_context& ctx, std::int64_t l, bool with_values) {
  std::string_view key = ctx.arg(1);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.array(0);
  if (!check_type(ctx, e, value_type::hash)) return;
  const std::size_t size = store::hash_length(e);
  const bool unique = l >= 0;
  const std::uint64_t count = unique ? static_cast<std::uint64_t>(l) : 0 - static_cast<std::uint64_t>(l);
  if (count == 0) return ctx.out.array(0);
  auto& rng = ctx.rng(key);
  // RESP3 nests each field-value pair in an array; RESP2 flattens them.
  const bool nested = with_values && ctx.out.protocol() >= 3;
  auto header = [&](std::uint64_t n) { ctx.out.array(with_values && !nested ? n * 2 : n); };
  auto reply = [&](std::string_view f, std::string_view v) {
    if (nested) ctx.out.array(2);
    ctx.out.bulk(f);
    if (with_values) ctx.out.bulk(v);
  };
  auto all_pairs = [&] {
    std::vector<field_value> pairs;
    pairs.reserve(size);
    store::hash_for_each(e, [&](std::string_view f, std::string_view v) { pairs.emplace_back(f, v); });
    return pairs;
  };

  if (!unique || count == 1) {
    header(count);
    if (e->holds_object()) {
      for (std::uint64_t i = 0; i < count; ++i) {
        std::string_view f, v;
        store::hash_random_pair(e, rng, f, v);
        reply(f, v);
      }
    } else {
      auto pairs = all_pairs();  // index once instead of walking the listpack per pick
      for (std::uint64_t i = 0; i < count; ++i) {
        auto& [f, v] = pairs[rng() % size];
        reply(f, v);
      }
    }
    return;
  }
  header(count < size ? count : size);
  if (count >= size) {
    store::hash_for_each(e, reply);
    return;
  }
  if (!e->holds_object() || count * 3 > size) {
    // Many of the fields: a partial shuffle of all of them.
    auto pairs = all_pairs();
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t j = i + rng() % (size - i);
      std::swap(pairs[i], pairs[j]);
      reply(pairs[i].first, pairs[i].second);
    }
    return;
  }
  // Few fields of a big table: random picks until enough distinct ones.
  const auto& table = store::as_hash_object(e).table();
  std::unordered_set<const entry*> picked;
  while (picked.size() < count) {
    const entry* f = table.random_entry(rng);
    if (picked.insert(f).second) reply(f->key(), f->str());
  }
}

void cmd_hrandfield(command_context& ctx) {
  if (ctx.argc() >= 3) {
    std::int64_t l;
    if (!int_arg(ctx, 2, l)) return;
    if (l < -LLONG_MAX)
      return ctx.out.error("value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    if (ctx.argc() > 4 || (ctx.argc() == 4 && !iequals(ctx.arg(3), "withvalues"))) return ctx.out.error(errors::syntax);
    const bool with_values = ctx.argc() == 4;
    if (with_values && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) return ctx.out.error("value is out of range");
    return hrandfield_with_count(ctx, l, with_values);
  }
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::hash)) return;
  std::string_view f, v;
  store::hash_random_pair(e, ctx.rng(ctx.arg(1)), f, v);
  ctx.out.bulk(f);
}

void cmd_hscan(command_context& ctx) {
  std::uint64_t cursor;
  scan_options opt;
  entry* e = begin_key_scan(ctx, value_type::hash, cursor, opt);
  if (!e) return;
  std::vector<field_value> found;
  if (!e->holds_object()) {
    // A listpack is small: all of it in one call, cursor 0.
    store::hash_for_each(e, [&](std::string_view f, std::string_view v) { found.emplace_back(f, v); });
    cursor = 0;
  } else {
    const auto& table = store::as_hash_object(e).table();
    const std::uint64_t count = static_cast<std::uint64_t>(opt.count);
    std::uint64_t max_steps = count > UINT64_MAX / 20 ? UINT64_MAX : count * 20;  // 10 x (2 x COUNT), as Redis
    do {
      cursor = table.scan_step(cursor, [&](const entry* f) { found.emplace_back(f->key(), f->str()); });
    } while (cursor && max_steps-- && found.size() < count);
  }
  if (opt.use_pattern)
    std::erase_if(found, [&](const field_value& p) { return !util::glob_match(opt.pattern, p.first); });
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(cursor));
  ctx.out.array(found.size() * 2);
  for (auto& [f, v] : found) {
    ctx.out.bulk(f);
    ctx.out.bulk(v);
  }
}

}  // namespace

void register_hash_commands(command_table& t) {
  t.add("hset", exec_kind::keyed, cmd_hset);
  t.add("hmset", exec_kind::keyed, cmd_hmset);
  t.add("hsetnx", exec_kind::keyed, cmd_hsetnx);
  t.add("hget", exec_kind::keyed, cmd_hget);
  t.add("hmget", exec_kind::keyed, cmd_hmget);
  t.add("hdel", exec_kind::keyed, cmd_hdel);
  t.add("hlen", exec_kind::keyed, cmd_hlen);
  t.add("hstrlen", exec_kind::keyed, cmd_hstrlen);
  t.add("hexists", exec_kind::keyed, cmd_hexists);
  t.add("hgetall", exec_kind::keyed, cmd_hgetall);
  t.add("hkeys", exec_kind::keyed, cmd_hkeys);
  t.add("hvals", exec_kind::keyed, cmd_hvals);
  t.add("hincrby", exec_kind::keyed, cmd_hincrby);
  t.add("hincrbyfloat", exec_kind::keyed, cmd_hincrbyfloat);
  t.add("hrandfield", exec_kind::keyed, cmd_hrandfield);
  t.add("hscan", exec_kind::keyed, cmd_hscan);
}

}  // namespace shrike::commands
