// Sets: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP,
// SRANDMEMBER, SMOVE, SINTER[STORE|CARD], SUNION[STORE], SDIFF[STORE], SSCAN,
// with Redis 7.0's replies, checks and encoding switches (t_set.c).
//
// The multi-key commands may touch keys of several shards: the dispatcher
// holds all their gates, so each key is simply looked up in its own shard.
#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "commands/scan_args.hpp"
#include "store/set_value.hpp"
#include "util/glob.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;

std::size_t max_intset(command_context& ctx) {
  return store::intset_cap(ctx.srv.set_max_intset_entries.load(std::memory_order_relaxed));
}

constexpr std::string_view range_error =
    "value is out of range, value must between -9223372036854775807 and 9223372036854775807";

void cmd_sadd(command_context& ctx) {
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (e && !check_type(ctx, e, value_type::set)) return;
  const std::size_t max = max_intset(ctx);
  std::int64_t added = 0;
  if (!e) {
    store::set_builder fresh(max);
    for (std::size_t i = 2; i < ctx.argc(); ++i) added += fresh.add(ctx.arg(i));
    fresh.store(db, key, ctx.now_ms);
    notify_new(ctx, key);
  } else {
    for (std::size_t i = 2; i < ctx.argc(); ++i) {
      bool a;
      e = store::set_add(db, e, ctx.arg(i), max, a);
      added += a;
    }
  }
  if (added) notify_event(ctx, notify::set, "sadd", key);
  ctx.out.integer(added);
}

void cmd_srem(command_context& ctx) {
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::set)) return;
  std::int64_t deleted = 0;
  bool key_removed = false;
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    bool erased;
    e = store::set_erase(db, e, ctx.arg(i), erased);
    if (!erased) continue;
    ++deleted;
    if (store::set_size(e) == 0) {
      db.erase_entry(e);
      key_removed = true;
      break;
    }
  }
  if (deleted) {
    notify_event(ctx, notify::set, "srem", key);
    if (key_removed) notify_event(ctx, notify::generic, "del", key);
  }
  ctx.out.integer(deleted);
}

void cmd_smove(command_context& ctx) {
  std::string_view src = ctx.arg(1), dst = ctx.arg(2), member = ctx.arg(3);
  auto& sdb = ctx.db(src);
  auto& ddb = ctx.db(dst);
  entry* s = write_key(ctx, sdb, src);
  entry* d = write_key(ctx, ddb, dst);
  if (!s) return ctx.out.integer(0);
  if (!check_type(ctx, s, value_type::set) || (d && !check_type(ctx, d, value_type::set))) return;
  if (src == dst) return ctx.out.integer(store::set_contains(s, member) ? 1 : 0);
  bool erased;
  s = store::set_erase(sdb, s, member, erased);
  if (!erased) return ctx.out.integer(0);
  notify_event(ctx, notify::set, "srem", src);
  if (store::set_size(s) == 0) {
    sdb.erase_entry(s);
    notify_event(ctx, notify::generic, "del", src);
  }
  const std::size_t max = max_intset(ctx);
  bool added = true;
  if (!d) {
    store::set_builder fresh(max);
    fresh.add(member);
    fresh.store(ddb, dst, ctx.now_ms);
    notify_new(ctx, dst);
  } else {
    store::set_add(ddb, d, member, max, added);
  }
  if (added) notify_event(ctx, notify::set, "sadd", dst);
  ctx.out.integer(1);
}

void cmd_sismember(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::set)) return;
  ctx.out.integer(store::set_contains(e, ctx.arg(2)) ? 1 : 0);
}

void cmd_smismember(command_context& ctx) {
  // A missing key is an empty set: a 0 per member.
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (e && !check_type(ctx, e, value_type::set)) return;
  ctx.out.array(ctx.argc() - 2);
  for (std::size_t i = 2; i < ctx.argc(); ++i) ctx.out.integer(e && store::set_contains(e, ctx.arg(i)) ? 1 : 0);
}

void cmd_scard(command_context& ctx) {
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.integer(0);
  if (!check_type(ctx, e, value_type::set)) return;
  ctx.out.integer(static_cast<std::int64_t>(store::set_size(e)));
}

// SPOP key count (spopWithCountCommand).
void spop_with_count(command_context& ctx) {
  std::int64_t count;
  if (!util::parse_int64(ctx.arg(2), count) || count < 0)
    return ctx.out.error("value is out of range, must be positive");
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.set(0);
  if (!check_type(ctx, e, value_type::set)) return;
  if (count == 0) return ctx.out.set(0);
  const std::size_t size = store::set_size(e);
  const std::size_t max = max_intset(ctx);
  auto& rng = ctx.rng(key);
  notify_event(ctx, notify::set, "spop", key);

  if (static_cast<std::uint64_t>(count) >= size) {
    // The whole set, in the order SUNION of it would give, then the key goes.
    store::set_builder all(max);
    store::set_for_each(e, [&](std::string_view m) { all.add(m); });
    ctx.out.set(all.size());
    all.for_each([&](std::string_view m) { ctx.out.bulk(m); });
    db.erase_entry(e);
    notify_event(ctx, notify::generic, "del", key);
    propagate_as(ctx, {"DEL", key});
    return;
  }
  const auto n = static_cast<std::size_t>(count);
  std::size_t remaining = size - n;
  ctx.out.set(n);
  // Replicas remove the members this pop chose (SREM), not random ones.
  std::vector<std::string> srem;
  if (ctx.effects) srem = {"SREM", std::string(key)};
  if (remaining * 5 > n) {
    // Few to pop: pick and remove them one by one.
    for (std::size_t i = 0; i < n; ++i) {
      std::string m = store::set_random_member(e, rng);
      bool erased;
      e = store::set_erase(db, e, m, erased);
      ctx.out.bulk(m);
      if (ctx.effects) srem.push_back(std::move(m));
    }
    propagate_as(ctx, std::move(srem));
    return;
  }
  // Most of the set goes: move the survivors into a new set, reply with what
  // is left of the old one, and let the new set replace it (keeping the TTL).
  // As in Redis the survivors' set is built afresh, so it may be an intset
  // again.
  store::set_builder survivors(max);
  while (remaining--) {
    std::string m = store::set_random_member(e, rng);
    survivors.add(m);
    bool erased;
    e = store::set_erase(db, e, m, erased);
  }
  store::set_for_each(e, [&](std::string_view m) {
    ctx.out.bulk(m);
    if (ctx.effects) srem.emplace_back(m);
  });
  const std::int64_t ttl = store::database::expire_of(e);
  db.erase_entry(e);
  entry* fresh = survivors.store(db, key, ctx.now_ms);
  if (ttl >= 0) db.set_expire(fresh, ttl);
  propagate_as(ctx, std::move(srem));
}

void cmd_spop(command_context& ctx) {
  if (ctx.argc() == 3) return spop_with_count(ctx);
  if (ctx.argc() > 3) return ctx.out.error(errors::syntax);
  std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::set)) return;
  std::string m = store::set_random_member(e, ctx.rng(key));
  bool erased;
  e = store::set_erase(db, e, m, erased);
  ctx.out.bulk(m);
  propagate_as(ctx, {"SREM", key, m});
  notify_event(ctx, notify::set, "spop", key);
  if (store::set_size(e) == 0) {
    db.erase_entry(e);
    notify_event(ctx, notify::generic, "del", key);
  }
}

// SRANDMEMBER key count (srandmemberWithCountCommand): a positive count gives
// distinct members, a negative one may repeat them.
void srandmember_with_count(command_context& ctx) {
  std::int64_t l;
  if (!int_arg(ctx, 2, l)) return;
  if (l < -LLONG_MAX) return ctx.out.error(range_error);
  std::string_view key = ctx.arg(1);
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return ctx.out.array(0);
  if (!check_type(ctx, e, value_type::set)) return;
  const std::size_t size = store::set_size(e);
  const bool unique = l >= 0;
  const std::uint64_t count = unique ? static_cast<std::uint64_t>(l) : 0 - static_cast<std::uint64_t>(l);
  if (count == 0) return ctx.out.array(0);
  auto& rng = ctx.rng(key);
  if (!unique || count == 1) {
    ctx.out.array(count);
    for (std::uint64_t i = 0; i < count; ++i) ctx.out.bulk(store::set_random_member(e, rng));
    return;
  }
  if (count >= size) {
    ctx.out.array(size);
    store::set_for_each(e, [&](std::string_view m) { ctx.out.bulk(m); });
    return;
  }
  ctx.out.array(count);
  if (count * 3 > size) {
    // Many of the members: a partial shuffle of all of them.
    std::vector<std::string> all;
    all.reserve(size);
    store::set_for_each(e, [&](std::string_view m) { all.emplace_back(m); });
    for (std::size_t i = 0; i < count; ++i) {
      std::swap(all[i], all[i + rng() % (size - i)]);
      ctx.out.bulk(all[i]);
    }
    return;
  }
  std::unordered_set<std::string> picked;
  while (picked.size() < count) {
    auto [it, fresh] = picked.insert(store::set_random_member(e, rng));
    if (fresh) ctx.out.bulk(*it);
  }
}

void cmd_srandmember(command_context& ctx) {
  if (ctx.argc() == 3) return srandmember_with_count(ctx);
  if (ctx.argc() > 3) return ctx.out.error(errors::syntax);
  entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) return ctx.out.null();
  if (!check_type(ctx, e, value_type::set)) return;
  ctx.out.bulk(store::set_random_member(e, ctx.rng(ctx.arg(1))));
}

// Looks up argv[first, first + n) as sets (a missing key is nullptr). False
// after writing WRONGTYPE if any of them holds another type.
bool lookup_sets(command_context& ctx, std::size_t first, std::size_t n, std::vector<entry*>& sets) {
  sets.reserve(n);
  for (std::size_t i = first; i < first + n; ++i) {
    entry* e = read_key(ctx, ctx.db(ctx.arg(i)), ctx.arg(i));
    if (e && !check_type(ctx, e, value_type::set)) return false;
    sets.push_back(e);
  }
  return true;
}

// The *STORE commands' ending: `result` replaces whatever `dst` held (any
// type, TTL dropped), or `dst` is deleted when the result is empty.
// `event`: the command's notification ("sinterstore", ...).
void store_result(command_context& ctx, std::string_view dst, store::set_builder& result, std::string_view event) {
  auto& db = ctx.db(dst);
  const std::size_t n = result.size();
  if (n == 0) {
    if (db.erase(dst)) notify_event(ctx, notify::generic, "del", dst);
    return ctx.out.integer(0);
  }
  const bool created = creating_key(ctx, db, dst);
  db.erase(dst);
  result.store(db, dst, ctx.now_ms);
  if (created) notify_new(ctx, dst);
  notify_event(ctx, notify::set, event, dst);
  ctx.out.integer(static_cast<std::int64_t>(n));
}

// SINTER, SMEMBERS, SINTERSTORE, SINTERCARD (sinterGenericCommand). limit 0 =
// no limit (SINTERCARD only).
void sinter_generic(command_context& ctx, std::size_t first, std::size_t n, std::optional<std::string_view> dst,
                    bool cardinality_only, std::uint64_t limit = 0) {
  std::vector<entry*> sets;
  if (!lookup_sets(ctx, first, n, sets)) return;
  if (std::find(sets.begin(), sets.end(), nullptr) != sets.end()) {
    // Intersection with an empty set.
    if (dst) {
      if (ctx.db(*dst).erase(*dst)) notify_event(ctx, notify::generic, "del", *dst);
      return ctx.out.integer(0);
    }
    return cardinality_only ? ctx.out.integer(0) : ctx.out.set(0);
  }
  // Smallest first, ties in argument order (glibc's qsort is a merge sort).
  std::stable_sort(sets.begin(), sets.end(),
                   [](const entry* a, const entry* b) { return store::set_size(a) < store::set_size(b); });
  store::set_builder result(max_intset(ctx));
  std::uint64_t cardinality = 0;
  const bool reply_members = !dst && !cardinality_only;
  const std::size_t marker = reply_members ? ctx.out.begin_deferred() : 0;
  bool done = false;
  store::set_for_each(sets[0], [&](std::string_view m) {
    if (done) return;
    for (std::size_t j = 1; j < sets.size(); ++j)
      if (sets[j] != sets[0] && !store::set_contains(sets[j], m)) return;
    if (dst) {
      result.add(m);
      return;
    }
    ++cardinality;
    if (reply_members) ctx.out.bulk(m);
    if (limit && cardinality >= limit) done = true;
  });
  if (dst) return store_result(ctx, *dst, result, "sinterstore");
  if (cardinality_only) return ctx.out.integer(static_cast<std::int64_t>(cardinality));
  ctx.out.end_deferred_set(marker, cardinality);
}

void cmd_smembers(command_context& ctx) { sinter_generic(ctx, 1, 1, std::nullopt, false); }
void cmd_sinter(command_context& ctx) { sinter_generic(ctx, 1, ctx.argc() - 1, std::nullopt, false); }
void cmd_sinterstore(command_context& ctx) { sinter_generic(ctx, 2, ctx.argc() - 2, ctx.arg(1), false); }

void cmd_sintercard(command_context& ctx) {
  std::int64_t numkeys;
  if (!util::parse_int64(ctx.arg(1), numkeys) || numkeys < 1)
    return ctx.out.error("numkeys should be greater than 0");
  if (numkeys > static_cast<std::int64_t>(ctx.argc()) - 2)
    return ctx.out.error("Number of keys can't be greater than number of args");
  std::int64_t limit = 0;
  for (std::size_t j = 2 + static_cast<std::size_t>(numkeys); j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    if (iequals(ctx.arg(j), "limit") && more) {
      ++j;
      if (!util::parse_int64(ctx.arg(j), limit) || limit < 0) return ctx.out.error("LIMIT can't be negative");
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  sinter_generic(ctx, 2, static_cast<std::size_t>(numkeys), std::nullopt, true, static_cast<std::uint64_t>(limit));
}

enum class set_op { union_op, diff_op };

// SUNION, SDIFF and their STORE forms (sunionDiffGenericCommand). The result
// is built in a set_builder the way Redis builds its temporary set, including
// the choice between the two diff algorithms, because that history decides
// the result's order and encoding.
void sunion_diff_generic(command_context& ctx, std::size_t first, std::size_t n, std::optional<std::string_view> dst,
                         set_op op) {
  std::vector<entry*> sets;
  if (!lookup_sets(ctx, first, n, sets)) return;
  bool same_as_first = false;
  for (std::size_t j = 1; j < sets.size(); ++j) same_as_first |= sets[j] && sets[j] == sets[0];

  store::set_builder result(max_intset(ctx));
  if (op == set_op::union_op) {
    for (entry* s : sets)
      if (s) store::set_for_each(s, [&](std::string_view m) { result.add(m); });
  } else if (sets[0] && !same_as_first) {
    // Algorithm 1 tests each member of the first set against the others
    // (N*M); algorithm 2 adds the first set and removes all the others (sum
    // of the sizes). Redis halves the first estimate, favouring it.
    std::int64_t one = 0, two = 0;
    for (entry* s : sets) {
      if (!s) continue;
      one += static_cast<std::int64_t>(store::set_size(sets[0]));
      two += static_cast<std::int64_t>(store::set_size(s));
    }
    if (one / 2 <= two) {
      store::set_for_each(sets[0], [&](std::string_view m) {
        for (std::size_t j = 1; j < sets.size(); ++j)
          if (sets[j] && store::set_contains(sets[j], m)) return;
        result.add(m);
      });
    } else {
      for (std::size_t j = 0; j < sets.size(); ++j) {
        if (!sets[j]) continue;
        store::set_for_each(sets[j], [&](std::string_view m) { j == 0 ? (void)result.add(m) : (void)result.erase(m); });
        if (result.size() == 0) break;
      }
    }
  }
  if (dst) return store_result(ctx, *dst, result, op == set_op::union_op ? "sunionstore" : "sdiffstore");
  ctx.out.set(result.size());
  result.for_each([&](std::string_view m) { ctx.out.bulk(m); });
}

void cmd_sunion(command_context& ctx) { sunion_diff_generic(ctx, 1, ctx.argc() - 1, std::nullopt, set_op::union_op); }
void cmd_sunionstore(command_context& ctx) { sunion_diff_generic(ctx, 2, ctx.argc() - 2, ctx.arg(1), set_op::union_op); }
void cmd_sdiff(command_context& ctx) { sunion_diff_generic(ctx, 1, ctx.argc() - 1, std::nullopt, set_op::diff_op); }
void cmd_sdiffstore(command_context& ctx) { sunion_diff_generic(ctx, 2, ctx.argc() - 2, ctx.arg(1), set_op::diff_op); }

void cmd_sscan(command_context& ctx) {
  std::uint64_t cursor;
  scan_options opt;
  entry* e = begin_key_scan(ctx, value_type::set, cursor, opt);
  if (!e) return;
  std::vector<std::string> found;
  if (!e->holds_object()) {
    // An intset is small: all of it in one call, cursor 0.
    store::set_for_each(e, [&](std::string_view m) { found.emplace_back(m); });
    cursor = 0;
  } else {
    const auto& table = store::as_set_object(e).table();
    const std::uint64_t count = static_cast<std::uint64_t>(opt.count);
    std::uint64_t max_steps = count > UINT64_MAX / 10 ? UINT64_MAX : count * 10;
    do {
      cursor = table.scan_step(cursor, [&](const entry* m) { found.emplace_back(m->key()); });
    } while (cursor && max_steps-- && found.size() < count);
  }
  if (opt.use_pattern)
    std::erase_if(found, [&](const std::string& m) { return !util::glob_match(opt.pattern, m); });
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(cursor));
  ctx.out.array(found.size());
  for (auto& m : found) ctx.out.bulk(m);
}

}  // namespace

void register_set_commands(command_table& t) {
  t.add("sadd", exec_kind::keyed, cmd_sadd);
  t.add("srem", exec_kind::keyed, cmd_srem);
  t.add("smove", exec_kind::keyed, cmd_smove);
  t.add("sismember", exec_kind::keyed, cmd_sismember);
  t.add("smismember", exec_kind::keyed, cmd_smismember);
  t.add("scard", exec_kind::keyed, cmd_scard);
  t.add("spop", exec_kind::keyed, cmd_spop);
  t.add("srandmember", exec_kind::keyed, cmd_srandmember);
  t.add("smembers", exec_kind::keyed, cmd_smembers);
  t.add("sinter", exec_kind::keyed, cmd_sinter);
  t.add("sinterstore", exec_kind::keyed, cmd_sinterstore);
  t.add("sintercard", exec_kind::keyed, cmd_sintercard);
  t.add("sunion", exec_kind::keyed, cmd_sunion);
  t.add("sunionstore", exec_kind::keyed, cmd_sunionstore);
  t.add("sdiff", exec_kind::keyed, cmd_sdiff);
  t.add("sdiffstore", exec_kind::keyed, cmd_sdiffstore);
  t.add("sscan", exec_kind::keyed, cmd_sscan);
}

}  // namespace shrike::commands
