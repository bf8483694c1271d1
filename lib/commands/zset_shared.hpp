#pragma once
// The parts of the sorted-set commands that other families reuse: GEO keys
// are sorted sets, so GEOADD writes as ZADD does and GEORADIUS/GEOSEARCH
// STORE write their destination as the *STORE commands do
// (commands/zset_commands.cpp).
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "commands/command_context.hpp"
#include "store/zset_value.hpp"

namespace shrike::commands {

// The write half of ZADD, once its arguments are checked: adds or updates
// the members ctx.arg(first_member + stride * j) with scores[j] (not empty),
// `flags` as zset::add, and replies as ZADD does (the count, or the new
// score with add_incr).
void zadd_members(command_context& ctx, std::string_view key, unsigned flags, bool ch, std::span<const double> scores,
                  std::size_t first_member, std::size_t stride);

// Replaces whatever `key` holds by `items` (sorted by score then member,
// members unique), or deletes it when there are none; replies with the
// count. `event`: the command's keyspace notification.
void store_zset_result(command_context& ctx, std::string_view key, const std::vector<store::zset::owned_item>& items,
                       std::string_view event);

}  // namespace shrike::commands
