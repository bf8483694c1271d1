#pragma once
// maxmemory: before a client's commands run, memory over the limit is freed
// by evicting keys as maxmemory-policy says (Redis's performEvictions), and
// when it cannot be, commands that would grow memory are refused with -OOM.
//
// Candidates are sampled (maxmemory-samples per database) in each shard in
// turn and the shard's best one is evicted, on the shard: shards are random
// slices of the keyspace, so a shard's best of its samples is as good a pick
// as Redis's pool across databases. Used memory is the allocation count of
// util/alloc_counter.hpp; each eviction frees what the count says it freed.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "server/server_context.hpp"

namespace shrike::commands {

enum class eviction_policy : int {
  noeviction,
  allkeys_lru,
  allkeys_lfu,
  allkeys_random,
  volatile_lru,
  volatile_lfu,
  volatile_random,
  volatile_ttl,
};

std::optional<eviction_policy> parse_eviction_policy(std::string_view name);

inline constexpr std::string_view oom_error = "-OOM command not allowed when used memory > 'maxmemory'.";

// Whether a maxmemory check is due at all (one relaxed load).
inline bool maxmemory_set(server::server_context& srv) {
  return srv.maxmemory.load(std::memory_order_relaxed) > 0;
}

// performEvictions: true when memory is within maxmemory or eviction is not
// possible now (a replica ignoring maxmemory, paused clients) or still going
// on (a pass stops after 500 us and the rest goes on in the background);
// false when memory is over the limit and nothing (more) may be evicted: the
// caller refuses commands that use memory. Also sets srv.oom_state.
boost::asio::awaitable<bool> enforce_maxmemory(server::server_context& srv);

}  // namespace shrike::commands
