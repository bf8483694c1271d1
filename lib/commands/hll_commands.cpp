// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, as Redis 7.0's
// hyperloglog.c. The values are plain strings in Redis's exact HLL format
// (util/hyperloglog.hpp); PFDEBUG and PFSELFTEST are not implemented.
#include <string>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "util/hyperloglog.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;
namespace hll = util::hll;

constexpr std::string_view invalid_hll = "-INVALIDOBJ Corrupted HLL object detected";

std::size_t sparse_max_bytes(command_context& ctx) {
  const auto v = ctx.srv.config().get_int("hll-sparse-max-bytes");
  return static_cast<std::size_t>(v < 0 ? 0 : v);
}

// isHLLObjectOrReply.
bool check_hll(command_context& ctx, const entry* e) {
  if (!check_type(ctx, e, value_type::string)) return false;
  if (hll::valid(e->str())) return true;
  ctx.out.error("-WRONGTYPE Key is not a valid HyperLogLog string value.");
  return false;
}

// Writes `value` back as the key's string, TTL kept. Redis holds HLLs as
// raw-encoded strings whatever their length.
void store_hll(command_context& ctx, store::database& db, std::string_view key, const std::string& value) {
  entry* e = db.set_string(key, value, ctx.now_ms, -1, true);
  e->encoding = static_cast<std::uint8_t>(store::string_encoding::raw);
}

void cmd_pfadd(command_context& ctx) {
  const std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = write_key(ctx, db, key);
  std::string value;
  bool updated = false;
  if (!e) {
    value = hll::create();
    updated = true;
  } else {
    if (!check_hll(ctx, e)) return;
    value.assign(e->str());
  }
  const std::size_t max_bytes = sparse_max_bytes(ctx);
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    const int r = hll::add(value, ctx.arg(i), max_bytes);
    if (r < 0) {
      // Redis edits the value in place: what the elements before the
      // corrupt spot changed stays (and a new key stays created), with the
      // cache untouched and nothing propagated.
      if (updated) {
        store_hll(ctx, db, key, value);
        if (!e) notify_new(ctx, key);
      }
      propagate_nothing(ctx);
      return ctx.out.error(invalid_hll);
    }
    if (r == 1) updated = true;
  }
  if (updated) {
    hll::invalidate_cache(value);
    store_hll(ctx, db, key, value);
    if (!e) notify_new(ctx, key);
    notify_event(ctx, notify::string, "pfadd", key);
  } else {
    propagate_nothing(ctx);
  }
  ctx.out.integer(updated ? 1 : 0);
}

void cmd_pfcount(command_context& ctx) {
  if (ctx.argc() > 2) {
    // The cardinality of the union, without writing anything.
    hll::raw_registers max{};
    for (std::size_t i = 1; i < ctx.argc(); ++i) {
      const entry* e = read_key(ctx, ctx.db(ctx.arg(i)), ctx.arg(i));
      if (!e) continue;
      if (!check_hll(ctx, e)) return;
      if (!hll::merge_into(max, e->str())) return ctx.out.error(invalid_hll);
    }
    return ctx.out.integer(static_cast<std::int64_t>(hll::count(max)));
  }
  const std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = read_key(ctx, db, key);
  if (!e) return ctx.out.integer(0);
  if (!check_hll(ctx, e)) return;
  std::string value(e->str());
  std::uint64_t card = 0;
  bool recomputed = false;
  if (!hll::count(value, card, recomputed)) return ctx.out.error(invalid_hll);
  if (recomputed) {
    // The refreshed cache is a change of the value, which Redis replicates
    // by propagating this PFCOUNT.
    store_hll(ctx, db, key, value);
    propagate_as(ctx, {"PFCOUNT", key});
  }
  ctx.out.integer(static_cast<std::int64_t>(card));
}

void cmd_pfmerge(command_context& ctx) {
  hll::raw_registers max{};
  bool use_dense = false;
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const entry* e = read_key(ctx, ctx.db(ctx.arg(i)), ctx.arg(i));
    if (!e) continue;
    if (!check_hll(ctx, e)) return;
    if (hll::is_dense(e->str())) use_dense = true;
    if (!hll::merge_into(max, e->str())) return ctx.out.error(invalid_hll);
  }
  const std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* dst = write_key(ctx, db, key);
  std::string value = dst ? std::string(dst->str()) : hll::create();
  if (use_dense && !hll::to_dense(value)) return ctx.out.error(invalid_hll);
  const std::size_t max_bytes = sparse_max_bytes(ctx);
  for (int j = 0; j < hll::registers; ++j)
    if (max[static_cast<std::size_t>(j)] != 0) hll::set_register(value, j, max[static_cast<std::size_t>(j)], max_bytes);
  hll::invalidate_cache(value);
  store_hll(ctx, db, key, value);
  if (!dst) notify_new(ctx, key);
  notify_event(ctx, notify::string, "pfadd", key);
  ctx.out.ok();
}

}  // namespace

void register_hll_commands(command_table& t) {
  t.add("pfadd", exec_kind::keyed, cmd_pfadd);
  t.add("pfcount", exec_kind::keyed, cmd_pfcount);
  t.add("pfmerge", exec_kind::keyed, cmd_pfmerge);
}

}  // namespace shrike::commands
