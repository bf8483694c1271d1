#include "commands/blocking.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cmath>

#include "commands/background_save.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "replication/replication_state.hpp"
#include "util/clock.hpp"
#include "util/numbers.hpp"

namespace shrike::commands {

namespace asio = boost::asio;

bool parse_block_timeout(command_context& ctx, std::size_t index, std::int64_t& deadline_ms) {
  long double seconds;
  if (!util::parse_long_double(ctx.arg(index), seconds)) {
    ctx.out.error("timeout is not a float or out of range");
    return false;
  }
  const auto ms = static_cast<long long>(std::ceil(seconds * 1000.0L));
  if (ms < 0) {
    ctx.out.error("timeout is negative");
    return false;
  }
  deadline_ms = ms > 0 ? ctx.now_ms + ms : 0;
  return true;
}

void serve_ready_keys(server::server_context& srv, ready_list& ready) {
  auto& shards = srv.shards();
  const std::int64_t now = util::now_ms();
  // `ready` may grow while we serve (a served BLMOVE pushes elsewhere).
  for (std::size_t i = 0; i < ready.size(); ++i) {
    const std::size_t db = ready[i].first;
    const std::string key = ready[i].second;
    store::shard& sh = shards.at(shards.shard_of(key));
    auto* queue = sh.blocked().find(db, key);
    if (!queue) continue;
    // In arrival order.
    for (std::size_t w = 0; w < queue->size();) {
      auto waiter = std::static_pointer_cast<key_waiter>((*queue)[w]);
      if (waiter->claimed()) {
        queue->erase(queue->begin() + static_cast<std::ptrdiff_t>(w));
        continue;
      }
      // A waiter that cannot use the key now stays queued (Redis skips it too).
      if (!waiter->accepts(sh.db(db).lookup(key, now), key)) {
        ++w;
        continue;
      }
      queue->erase(queue->begin() + static_cast<std::ptrdiff_t>(w));
      if (!waiter->claim()) continue;
      if (auto also = waiter->also_writes(); !also.empty()) save_keys_before_write(srv, db, std::span(&also, 1));
      waiter->serve(srv, sh, key, ready);
      waiter->wake();
      // A woken BLMOVE runs again soon for the element it left in place: let
      // it have the element rather than the waiter behind it.
      if (waiter->outcome == block_outcome::retry) break;
      queue = sh.blocked().find(db, key);  // serve() may have touched the registry
      if (!queue) break;
    }
    sh.blocked().drop_if_empty(db, key);
  }
  ready.clear();
}

namespace {

// Runs fn on the shards `ids` (one hop, or with every gate held).
asio::awaitable<void> run_on(store::shard_set& shards, const std::vector<std::size_t>& ids,
                             const std::function<void()>& fn) {
  auto call = [&fn] { fn(); };
  if (ids.size() == 1)
    co_await shards.at(ids[0]).run(call);
  else
    co_await shards.run_gated(std::span<const std::size_t>(ids), call);
}

std::vector<std::size_t> shards_of(store::shard_set& shards, const std::vector<std::string_view>& keys) {
  std::vector<std::size_t> ids;
  for (auto k : keys) ids.push_back(shards.shard_of(k));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

asio::awaitable<void> run_blocking(command_context& ctx, blocking_call call) {
  auto& srv = ctx.srv;
  auto& shards = srv.shards();
  const auto gate_ids = shards_of(shards, call.gate_keys);
  const auto wait_ids = shards_of(shards, call.wait_keys);
  const std::size_t db = ctx.client.db;
  auto ex = co_await asio::this_coro::executor;
  for (;;) {
    auto waiter = call.make_waiter(ex);
    bool replied = false;
    ready_list ready;
    co_await run_on(shards, gate_ids, [&] {
      save_keys_before_write(srv, db, call.gate_keys);
      ctx.ready_keys = &ready;
      replied = call.attempt(ctx);
      ctx.ready_keys = nullptr;
      // What the attempt popped goes to replicas now, while its shards are
      // held, ahead of the pops of the waiters it serves below.
      if (replied && ctx.effects) {
        flush_effects(ctx);
        if (!ctx.effects->commands.empty()) ctx.client.repl_write_offset = srv.repl().offset();
        ctx.effects->clear();
      }
      if (!replied) {
        // Counted before registering, on the shard: a push that follows on
        // this shard sees it and signals.
        srv.blocked_clients.fetch_add(1, std::memory_order_relaxed);
        for (auto k : call.wait_keys) shards.at(shards.shard_of(k)).blocked().add(db, k, waiter);
      }
      if (!ready.empty()) serve_ready_keys(srv, ready);
    });
    if (replied) co_return;

    {
      std::lock_guard lock(ctx.client.info_mutex);
      ctx.client.waiter = waiter;
    }
    ctx.client.blocked.store(true);
    const bool connected = co_await ctx.session->wait_blocked(*waiter, call.deadline_ms);
    ctx.client.blocked.store(false);
    {
      std::lock_guard lock(ctx.client.info_mutex);
      ctx.client.waiter.reset();
    }
    // Take the waiter out of every registry (the serving shard already did).
    for (std::size_t id : wait_ids) {
      auto unregister = [&] {
        for (auto k : call.wait_keys)
          if (shards.shard_of(k) == id) shards.at(id).blocked().remove(db, k, waiter.get());
      };
      co_await shards.at(id).run(unregister);
    }
    srv.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
    if (!connected) {
      ctx.session->close_after_reply();
      co_return;
    }
    switch (waiter->outcome) {
      case block_outcome::served:
        ctx.out.buffer() += waiter->reply;
        co_return;
      case block_outcome::retry:
        continue;  // the key got data in a shard we could not act on: try again
      case block_outcome::unblocked_error:
        ctx.out.error("-UNBLOCKED client unblocked via CLIENT UNBLOCK");
        co_return;
      case block_outcome::role_changed:
        ctx.out.error(role_change_error);
        ctx.session->close_after_reply();
        co_return;
      case block_outcome::pending:  // our own timeout claimed it
      case block_outcome::timed_out:
      case block_outcome::unblocked_timeout:
        call.timeout_reply(ctx);
        co_return;
    }
  }
}

bool unblock_client(server::server_context& srv, std::uint64_t id, bool with_error) {
  for (auto& c : srv.clients()) {
    if (c->id != id) continue;
    std::shared_ptr<store::blocked_client> w;
    {
      std::lock_guard lock(c->info_mutex);
      w = c->waiter;
    }
    if (!w || !w->claim()) return false;
    static_cast<key_waiter&>(*w).outcome =
        with_error ? block_outcome::unblocked_error : block_outcome::unblocked_timeout;
    w->wake();
    return true;
  }
  return false;
}

void unblock_all_for_role_change(server::server_context& srv) {
  for (auto& c : srv.clients()) {
    std::shared_ptr<store::blocked_client> w;
    {
      std::lock_guard lock(c->info_mutex);
      w = c->waiter;
    }
    if (!w || !w->claim()) continue;
    static_cast<key_waiter&>(*w).outcome = block_outcome::role_changed;
    w->wake();
  }
}

}  // namespace shrike::commands
