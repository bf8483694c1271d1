#include "commands/maxmemory.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "commands/background_save.hpp"
#include "commands/keyspace_notify.hpp"
#include "replication/replication_state.hpp"
#include "server/memory_report.hpp"
#include "server/tracking_table.hpp"
#include "server/watch_table.hpp"
#include "store/access_stamp.hpp"
#include "util/clock.hpp"

namespace shrike::commands {

namespace asio = boost::asio;

namespace {

constexpr std::array<std::pair<std::string_view, eviction_policy>, 8> policy_names{{
    {"noeviction", eviction_policy::noeviction},
    {"allkeys-lru", eviction_policy::allkeys_lru},
    {"allkeys-lfu", eviction_policy::allkeys_lfu},
    {"allkeys-random", eviction_policy::allkeys_random},
    {"volatile-lru", eviction_policy::volatile_lru},
    {"volatile-lfu", eviction_policy::volatile_lfu},
    {"volatile-random", eviction_policy::volatile_random},
    {"volatile-ttl", eviction_policy::volatile_ttl},
}};

bool volatile_only(eviction_policy p) {
  return p == eviction_policy::volatile_lru || p == eviction_policy::volatile_lfu ||
         p == eviction_policy::volatile_random || p == eviction_policy::volatile_ttl;
}

// How much a policy wants `e` gone; the highest score is evicted (Redis's
// "idle" in the eviction pool).
double eviction_score(eviction_policy p, const store::entry* e, std::int64_t now_ms) {
  switch (p) {
    case eviction_policy::allkeys_lru:
    case eviction_policy::volatile_lru:
      return static_cast<double>(now_ms / 1000 - static_cast<std::int64_t>(e->lru));
    case eviction_policy::allkeys_lfu:
    case eviction_policy::volatile_lfu:
      return 255.0 - store::access_stamp::lfu_counter(e->lru, now_ms);
    case eviction_policy::volatile_ttl:
      return -static_cast<double>(store::database::expire_of(e));
    default:
      return 0;  // random: the first sample
  }
}

struct victim {
  std::size_t db = 0;
  const store::entry* e = nullptr;
  double score = 0;
};

// The shard's best candidate among `samples` per database; none when no
// database of the shard holds a key the policy may evict.
victim pick_victim(server::server_context& srv, store::shard& shard, eviction_policy p, std::size_t samples,
                   std::int64_t now_ms) {
  victim best;
  const bool with_ttl = volatile_only(p);
  const bool random = p == eviction_policy::allkeys_random || p == eviction_policy::volatile_random;
  for (std::size_t d = 0; d < srv.databases(); ++d) {
    store::database& db = shard.db(d);
    if ((with_ttl ? db.expires_count() : db.size()) == 0) continue;
    for (std::size_t i = 0; i < (random ? 1 : samples); ++i) {
      const store::entry* e = db.sample_key(with_ttl, shard.rng());
      if (!e) break;
      const double score = eviction_score(p, e, now_ms);
      if (!best.e || score > best.score) best = {d, e, score};
    }
    if (random && best.e) break;
  }
  return best;
}

// Deletes the key with everything a deletion tells others (dbSyncDelete,
// signalModifiedKey, the "evicted" event, the DEL to replicas); returns the
// bytes the allocation count went down by.
std::int64_t evict(server::server_context& srv, store::shard& shard, const victim& v) {
  const std::string key(v.e->key());
  const std::string_view keys[] = {key};
  save_keys_before_write(srv, v.db, keys);
  const std::int64_t before = static_cast<std::int64_t>(server::allocated_bytes());
  shard.db(v.db).erase(key);
  const std::int64_t freed = before - static_cast<std::int64_t>(server::allocated_bytes());
  srv.stats().evicted_keys.fetch_add(1);
  if (srv.watches().active()) srv.watches().touch(v.db, key);
  if (srv.tracking().active()) srv.tracking().invalidate(key, nullptr);
  notify_event(srv, notify::evicted, "evicted", key, v.db);
  if (srv.repl().propagating()) {
    const std::string_view del[] = {"DEL", key};
    srv.repl().feed(v.db, del);
  }
  return freed;
}

std::int64_t used_memory() { return static_cast<std::int64_t>(server::allocated_bytes()); }

enum class pass_result { ok, running, fail };

// One bounded round of performEvictions: ok when memory is within the limit
// (or eviction is not for now), fail when it is over with nothing left to
// evict, running when the time budget ran out first.
asio::awaitable<pass_result> eviction_pass(server::server_context& srv) {
  const std::int64_t limit = srv.maxmemory.load(std::memory_order_relaxed);
  // isSafeToPerformEvictions: a replica leaves it to its master
  // (replica-ignore-maxmemory), paused clients keep the dataset still.
  if (limit <= 0 || srv.repl().is_replica() || srv.pause().holds(true, util::now_ms())) co_return pass_result::ok;
  const std::int64_t used = used_memory();
  if (used <= limit) co_return pass_result::ok;
  const auto policy = static_cast<eviction_policy>(srv.maxmemory_policy.load(std::memory_order_relaxed));
  if (policy == eviction_policy::noeviction) co_return pass_result::fail;
  const std::size_t samples =
      static_cast<std::size_t>(std::max<std::int64_t>(1, srv.maxmemory_samples.load(std::memory_order_relaxed)));
  auto& shards = srv.shards();
  // Redis's budget at the default maxmemory-eviction-tenacity.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(500);
  static std::atomic<std::size_t> next_shard{0};
  std::size_t idle_shards = 0;
  const std::int64_t to_free = used - limit;
  std::int64_t freed = 0;
  while (freed < to_free) {
    const std::size_t s = next_shard.fetch_add(1, std::memory_order_relaxed) % shards.size();
    bool evicted = false;
    auto run = [&] {
      const std::int64_t now_ms = util::now_ms();
      // A few per hop: a hop costs more than picking a victim.
      for (int i = 0; i < 16 && freed < to_free; ++i) {
        const victim v = pick_victim(srv, shards.at(s), policy, samples, now_ms);
        if (!v.e) break;
        freed += evict(srv, shards.at(s), v);
        evicted = true;
      }
    };
    co_await shards.at(s).run(run);
    idle_shards = evicted ? 0 : idle_shards + 1;
    if (idle_shards >= shards.size())  // nothing left to evict anywhere
      co_return used_memory() <= limit ? pass_result::ok : pass_result::fail;
    if (std::chrono::steady_clock::now() > deadline) co_return pass_result::running;
  }
  co_return pass_result::ok;
}

// startEvictionTimeProc: when a pass runs out of time, the eviction goes on
// in the main context, a pass per turn, until memory is within the limit or
// nothing is left to evict, whether or not clients send commands.
asio::awaitable<void> background_eviction(server::server_context& srv) {
  for (;;) {
    const pass_result r = co_await eviction_pass(srv);
    if (r != pass_result::running) break;
    co_await asio::post(srv.io(), asio::use_awaitable);  // let the rest of the context run
  }
}

void continue_in_background(server::server_context& srv) {
  if (srv.eviction_running.exchange(true)) return;
  asio::co_spawn(srv.io(), background_eviction(srv), [&srv](std::exception_ptr) { srv.eviction_running = false; });
}

}  // namespace

std::optional<eviction_policy> parse_eviction_policy(std::string_view name) {
  for (auto [n, p] : policy_names)
    if (n == name) return p;
  return std::nullopt;
}

asio::awaitable<bool> enforce_maxmemory(server::server_context& srv) {
  const pass_result r = co_await eviction_pass(srv);
  if (r == pass_result::running) continue_in_background(srv);
  srv.oom_state.store(r == pass_result::fail, std::memory_order_relaxed);
  co_return r != pass_result::fail;
}

}  // namespace shrike::commands
