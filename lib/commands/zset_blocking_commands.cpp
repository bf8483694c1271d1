// The blocking sorted-set pops: BZPOPMIN, BZPOPMAX, BZMPOP (t_zset.c of
// Redis 7.0), on the blocking machinery of commands/blocking.hpp.
#include <boost/asio/awaitable.hpp>
#include <climits>
#include <memory>
#include <vector>

#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "store/zset_value.hpp"
#include "util/clock.hpp"

namespace shrike::commands {

namespace {

namespace asio = boost::asio;
using store::database;
using store::entry;
using store::value_type;

// The reply of a pop from `key` (of database `index` of `srv`), with its
// events: BZPOPMIN/BZPOPMAX give [key, member, score] (count -1); BZMPOP
// gives [key, [[member, score], ...]].
void pop_with_key(server::server_context& srv, std::size_t index, resp::reply_writer& out, database& db, entry* e,
                  std::string_view key, bool from_max, std::int64_t count) {
  const bool key_removed = (count < 0 ? 1 : static_cast<std::size_t>(count)) >= store::zset::size(e);
  auto notify_pop = [&] {
    notify_event(srv, notify::zset, from_max ? "zpopmax" : "zpopmin", key, index);
    if (key_removed) notify_event(srv, notify::generic, "del", key, index);
  };
  if (count < 0) {
    out.array(3);
    out.bulk(key);
    store::zset::pop(db, e, from_max, 1, [&](std::string_view member, double score) {
      out.bulk(member);
      out.double_value(score);
    });
    notify_pop();
    return;
  }
  out.array(2);
  out.bulk(key);
  const std::size_t marker = out.begin_deferred();
  const std::size_t n = store::zset::pop(db, e, from_max, static_cast<std::size_t>(count),
                                         [&](std::string_view member, double score) {
                                           out.array(2);
                                           out.bulk(member);
                                           out.double_value(score);
                                         });
  out.end_deferred_array(marker, n);
  notify_pop();
}

bool pop_first_nonempty(command_context& ctx, const std::vector<std::string_view>& keys, bool from_max,
                        std::int64_t count) {
  for (auto key : keys) {
    database& db = ctx.db(key);
    entry* e = write_key(ctx, db, key);
    if (!e) continue;
    if (!check_type(ctx, e, value_type::zset)) return true;
    pop_with_key(ctx.srv, ctx.client.db, ctx.out, db, e, key, from_max, count);
    propagate_as(ctx, pop_effect(from_max ? "ZPOPMAX" : "ZPOPMIN", key, count));
    return true;
  }
  return false;
}

class zset_waiter final : public key_waiter {
 public:
  zset_waiter(asio::any_io_executor ex, std::size_t db, int resp) : key_waiter(ex, db, resp, value_type::zset) {}

  bool from_max = false;
  std::int64_t count = -1;

  void serve(server::server_context& srv, store::shard& sh, std::string_view key, ready_list&) override {
    database& d = sh.db(db);
    entry* e = d.lookup(key, util::now_ms());
    resp::reply_writer out(reply);
    out.set_protocol(resp);
    pop_with_key(srv, db, out, d, e, key, from_max, count);
    propagate_effect(srv, db, pop_effect(from_max ? "ZPOPMAX" : "ZPOPMIN", key, count));
    outcome = block_outcome::served;
  }
};

void prepare_zpop(command_context& ctx, blocking_call& call, std::vector<std::string_view> keys, bool from_max,
                  std::int64_t count, std::int64_t deadline_ms) {
  call.gate_keys = keys;
  call.wait_keys = keys;
  call.deadline_ms = deadline_ms;
  call.attempt = [keys, from_max, count](command_context& c) { return pop_first_nonempty(c, keys, from_max, count); };
  call.make_waiter = [&ctx, from_max, count](asio::any_io_executor ex) {
    auto w = std::make_shared<zset_waiter>(ex, ctx.client.db, ctx.client.resp);
    w->from_max = from_max;
    w->count = count;
    return std::static_pointer_cast<key_waiter>(w);
  };
  call.timeout_reply = [](command_context& c) { c.out.null_array(); };
}

bool prepare_bzpop(command_context& ctx, blocking_call& call, bool from_max) {
  std::int64_t deadline;
  if (!parse_block_timeout(ctx, ctx.argc() - 1, deadline)) return false;
  prepare_zpop(ctx, call, std::vector<std::string_view>(ctx.argv.begin() + 1, ctx.argv.end() - 1), from_max, -1,
               deadline);
  return true;
}
bool prepare_bzpopmin(command_context& ctx, blocking_call& call) { return prepare_bzpop(ctx, call, false); }
bool prepare_bzpopmax(command_context& ctx, blocking_call& call) { return prepare_bzpop(ctx, call, true); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]; the timeout is
// parsed after the rest, as Redis does.
bool prepare_bzmpop(command_context& ctx, blocking_call& call) {
  std::int64_t numkeys;
  if (!ranged_int_arg(ctx, 2, 1, INT64_MAX, numkeys, "numkeys should be greater than 0")) return false;
  if (static_cast<std::uint64_t>(numkeys) >= ctx.argc() - 3) {
    ctx.out.error(errors::syntax);
    return false;
  }
  const std::size_t where_idx = 3 + static_cast<std::size_t>(numkeys);
  bool from_max;
  if (iequals(ctx.arg(where_idx), "min")) {
    from_max = false;
  } else if (iequals(ctx.arg(where_idx), "max")) {
    from_max = true;
  } else {
    ctx.out.error(errors::syntax);
    return false;
  }
  std::int64_t count = -1;
  for (std::size_t j = where_idx + 1; j < ctx.argc(); ++j) {
    if (count == -1 && iequals(ctx.arg(j), "count") && j + 1 < ctx.argc()) {
      if (!ranged_int_arg(ctx, ++j, 1, INT64_MAX, count, "count should be greater than 0")) return false;
    } else {
      ctx.out.error(errors::syntax);
      return false;
    }
  }
  if (count == -1) count = 1;
  std::int64_t deadline;
  if (!parse_block_timeout(ctx, 1, deadline)) return false;
  std::vector<std::string_view> keys(ctx.argv.begin() + 3, ctx.argv.begin() + static_cast<std::ptrdiff_t>(where_idx));
  prepare_zpop(ctx, call, std::move(keys), from_max, count, deadline);
  return true;
}

}  // namespace

void register_zset_blocking_commands(command_table& t) {
  t.add_async("bzpopmin", blocking_command<prepare_bzpopmin>, nonblocking_form<prepare_bzpopmin>);
  t.add_async("bzpopmax", blocking_command<prepare_bzpopmax>, nonblocking_form<prepare_bzpopmax>);
  t.add_async("bzmpop", blocking_command<prepare_bzmpop>, nonblocking_form<prepare_bzmpop>);
}

}  // namespace shrike::commands
