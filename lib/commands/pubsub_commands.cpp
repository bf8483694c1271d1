// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
// PUBLISH, SPUBLISH, PUBSUB. Subscriptions live in the server's registry
// (server/pubsub_registry) and, per client, in its client_state; messages and
// (un)subscribe confirmations are pushes written through the client's outbox.
#include <string>

#include "commands/command_context.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "commands/pubsub.hpp"
#include "server/keyspace_events.hpp"
#include "util/clock.hpp"

namespace shrike::commands {

using server::channel_kind;
using server::client_class;
namespace frames = server::pubsub_frames;

namespace {

// What a confirmation reports: SUBSCRIBE and PSUBSCRIBE count channels plus
// patterns, SSUBSCRIBE counts shard channels only.
std::int64_t count_for(const server::client_state& c, channel_kind kind) {
  return kind == channel_kind::shard ? static_cast<std::int64_t>(c.sub_shard_channels.size())
                                     : static_cast<std::int64_t>(c.sub_channels.size() + c.sub_patterns.size());
}

// After any change: the counts other clients read and the buffer-limit class.
void update_counts(server::client_state& c) {
  c.sub_count.store(static_cast<int>(c.sub_channels.size()), std::memory_order_relaxed);
  c.psub_count.store(static_cast<int>(c.sub_patterns.size()), std::memory_order_relaxed);
  c.ssub_count.store(static_cast<int>(c.sub_shard_channels.size()), std::memory_order_relaxed);
  c.box->klass.store(c.subscriptions() ? client_class::pubsub : client_class::normal, std::memory_order_relaxed);
}

server::subscriber me(const command_context& ctx) { return {ctx.client.id, ctx.client.box}; }

void queue_confirmation(command_context& ctx, server::outbox& box, std::string_view word, const std::string_view* name,
                        channel_kind kind) {
  box.append(frames::confirmation(ctx.client.resp, word, name, count_for(ctx.client, kind)), ctx.now_ms);
}

void subscribe_channels(command_context& ctx, channel_kind kind) {
  auto& client = ctx.client;
  server::outbox& box = ctx.session->enter_pubsub();
  box.resp.store(client.resp, std::memory_order_relaxed);
  auto& mine = kind == channel_kind::shard ? client.sub_shard_channels : client.sub_channels;
  const std::string_view word = kind == channel_kind::shard ? "ssubscribe" : "subscribe";
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view channel = ctx.arg(i);
    if (!mine.emplace(channel).second) {
      queue_confirmation(ctx, box, word, &channel, kind);
      continue;
    }
    update_counts(client);
    // The confirmation is queued under the registry's write lock: no message
    // of this channel can be queued before it.
    ctx.srv.pubsub().subscribe(kind, channel, me(ctx), [&] { queue_confirmation(ctx, box, word, &channel, kind); });
  }
}

void unsubscribe_one(command_context& ctx, channel_kind kind, std::string_view channel, server::outbox* notify) {
  auto& client = ctx.client;
  auto& mine = kind == channel_kind::shard ? client.sub_shard_channels : client.sub_channels;
  if (auto it = mine.find(std::string(channel)); it != mine.end()) {
    ctx.srv.pubsub().unsubscribe(kind, channel, client.id);
    mine.erase(it);
    update_counts(client);
  }
  if (notify)
    queue_confirmation(ctx, *notify, kind == channel_kind::shard ? "sunsubscribe" : "unsubscribe", &channel, kind);
}

void unsubscribe_channels(command_context& ctx, channel_kind kind) {
  auto& client = ctx.client;
  server::outbox& box = ctx.session->enter_pubsub();
  box.resp.store(client.resp, std::memory_order_relaxed);
  if (ctx.argc() > 1) {
    for (std::size_t i = 1; i < ctx.argc(); ++i) unsubscribe_one(ctx, kind, ctx.arg(i), &box);
    return;
  }
  auto& mine = kind == channel_kind::shard ? client.sub_shard_channels : client.sub_channels;
  if (mine.empty()) {  // subscribed to nothing: still one confirmation, with a null channel
    queue_confirmation(ctx, box, kind == channel_kind::shard ? "sunsubscribe" : "unsubscribe", nullptr, kind);
    return;
  }
  const std::vector<std::string> all(mine.begin(), mine.end());
  for (const auto& channel : all) unsubscribe_one(ctx, kind, channel, &box);
}

void cmd_subscribe(command_context& ctx) {
  if (!ctx.session) return ctx.out.error("SUBSCRIBE isn't allowed for a DENY BLOCKING client");
  subscribe_channels(ctx, channel_kind::global);
}

void cmd_ssubscribe(command_context& ctx) {
  // Inside MULTI/EXEC the client may not block (Redis makes an exception
  // for SUBSCRIBE and PSUBSCRIBE only).
  if (!ctx.session || ctx.client.in_multi) return ctx.out.error("SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
  subscribe_channels(ctx, channel_kind::shard);
}

void cmd_unsubscribe(command_context& ctx) {
  if (!ctx.session) return ctx.out.error("UNSUBSCRIBE isn't allowed here");
  unsubscribe_channels(ctx, channel_kind::global);
}

void cmd_sunsubscribe(command_context& ctx) {
  if (!ctx.session) return ctx.out.error("SUNSUBSCRIBE isn't allowed here");
  unsubscribe_channels(ctx, channel_kind::shard);
}

void cmd_psubscribe(command_context& ctx) {
  if (!ctx.session) return ctx.out.error("PSUBSCRIBE isn't allowed for a DENY BLOCKING client");
  auto& client = ctx.client;
  server::outbox& box = ctx.session->enter_pubsub();
  box.resp.store(client.resp, std::memory_order_relaxed);
  for (std::size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view pattern = ctx.arg(i);
    if (std::find(client.sub_patterns.begin(), client.sub_patterns.end(), pattern) != client.sub_patterns.end()) {
      queue_confirmation(ctx, box, "psubscribe", &pattern, channel_kind::global);
      continue;
    }
    client.sub_patterns.emplace_back(pattern);
    update_counts(client);
    ctx.srv.pubsub().psubscribe(pattern, me(ctx),
                                [&] { queue_confirmation(ctx, box, "psubscribe", &pattern, channel_kind::global); });
  }
}

void punsubscribe_one(command_context& ctx, std::string_view pattern, server::outbox& box) {
  auto& client = ctx.client;
  auto it = std::find(client.sub_patterns.begin(), client.sub_patterns.end(), pattern);
  if (it != client.sub_patterns.end()) {
    ctx.srv.pubsub().punsubscribe(pattern, client.id);
    client.sub_patterns.erase(it);
    update_counts(client);
  }
  queue_confirmation(ctx, box, "punsubscribe", &pattern, channel_kind::global);
}

void cmd_punsubscribe(command_context& ctx) {
  if (!ctx.session) return ctx.out.error("PUNSUBSCRIBE isn't allowed here");
  auto& client = ctx.client;
  server::outbox& box = ctx.session->enter_pubsub();
  box.resp.store(client.resp, std::memory_order_relaxed);
  if (ctx.argc() > 1) {
    for (std::size_t i = 1; i < ctx.argc(); ++i) punsubscribe_one(ctx, ctx.arg(i), box);
    return;
  }
  if (client.sub_patterns.empty()) {
    queue_confirmation(ctx, box, "punsubscribe", nullptr, channel_kind::global);
    return;
  }
  const std::vector<std::string> all = client.sub_patterns;  // in subscription order
  for (const auto& pattern : all) punsubscribe_one(ctx, pattern, box);
}

void cmd_publish(command_context& ctx) {
  ctx.out.integer(ctx.srv.pubsub().publish(channel_kind::global, ctx.arg(1), ctx.arg(2), ctx.now_ms));
  // As Redis: the replicas' subscribers get the message too.
  propagate_as(ctx, {"PUBLISH", ctx.arg(1), ctx.arg(2)});
}

void cmd_spublish(command_context& ctx) {
  ctx.out.integer(ctx.srv.pubsub().publish(channel_kind::shard, ctx.arg(1), ctx.arg(2), ctx.now_ms));
}

void list_channels(command_context& ctx, channel_kind kind) {
  if (ctx.argc() > 3) return subcommand_syntax_error(ctx);
  std::optional<std::string_view> pattern;
  if (ctx.argc() == 3) pattern = ctx.arg(2);
  const auto names = ctx.srv.pubsub().channels(kind, pattern);
  ctx.out.array(names.size());
  for (const auto& n : names) ctx.out.bulk(n);
}

void count_subscribers(command_context& ctx, channel_kind kind) {
  ctx.out.array((ctx.argc() - 2) * 2);
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    ctx.out.bulk(ctx.arg(i));
    ctx.out.integer(static_cast<std::int64_t>(ctx.srv.pubsub().subscriber_count(kind, ctx.arg(i))));
  }
}

void cmd_pubsub_channels(command_context& ctx) { list_channels(ctx, channel_kind::global); }
void cmd_pubsub_shardchannels(command_context& ctx) { list_channels(ctx, channel_kind::shard); }
void cmd_pubsub_numsub(command_context& ctx) { count_subscribers(ctx, channel_kind::global); }
void cmd_pubsub_shardnumsub(command_context& ctx) { count_subscribers(ctx, channel_kind::shard); }
void cmd_pubsub_numpat(command_context& ctx) {
  ctx.out.integer(static_cast<std::int64_t>(ctx.srv.pubsub().pattern_count()));
}

void cmd_pubsub_help(command_context& ctx) {
  write_help(ctx, {
                      "CHANNELS [<pattern>]",
                      "    Return the currently active channels matching a <pattern> (default: '*').",
                      "NUMPAT",
                      "    Return number of subscriptions to patterns.",
                      "NUMSUB [<channel> ...]",
                      "    Return the number of subscribers for the specified channels, excluding",
                      "    pattern subscriptions(default: no channels).",
                      "SHARDCHANNELS [<pattern>]",
                      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                      "SHARDNUMSUB [<shardchannel> ...]",
                      "    Return the number of subscribers for the specified shard level channel(s)",
                  });
}

}  // namespace

void unsubscribe_everything(server::server_context& srv, server::client_state& client) {
  if (client.subscriptions() == 0) return;
  auto& registry = srv.pubsub();
  for (const auto& ch : client.sub_channels) registry.unsubscribe(channel_kind::global, ch, client.id);
  for (const auto& ch : client.sub_shard_channels) registry.unsubscribe(channel_kind::shard, ch, client.id);
  for (const auto& p : client.sub_patterns) registry.punsubscribe(p, client.id);
  client.sub_channels.clear();
  client.sub_shard_channels.clear();
  client.sub_patterns.clear();
  update_counts(client);
}

void notify_keyspace_event(server::server_context& srv, int type, std::string_view event, std::string_view key,
                           std::size_t db) {
  const int flags = srv.keyspace_events.load(std::memory_order_relaxed);
  if (!(flags & type)) return;
  const std::int64_t now = util::now_ms();
  const std::string dbs = std::to_string(db);
  if (flags & server::notify::keyspace) {
    std::string channel = "__keyspace@" + dbs + "__:";
    channel += key;
    srv.pubsub().publish(channel_kind::global, channel, event, now);
  }
  if (flags & server::notify::keyevent) {
    std::string channel = "__keyevent@" + dbs + "__:";
    channel += event;
    srv.pubsub().publish(channel_kind::global, channel, key, now);
  }
}

void register_pubsub_commands(command_table& t) {
  t.add("subscribe", exec_kind::local, cmd_subscribe);
  t.add("unsubscribe", exec_kind::local, cmd_unsubscribe);
  t.add("psubscribe", exec_kind::local, cmd_psubscribe);
  t.add("punsubscribe", exec_kind::local, cmd_punsubscribe);
  t.add("ssubscribe", exec_kind::local, cmd_ssubscribe);
  t.add("sunsubscribe", exec_kind::local, cmd_sunsubscribe);
  t.add("publish", exec_kind::local, cmd_publish);
  t.add("spublish", exec_kind::local, cmd_spublish);
  t.add("pubsub|channels", exec_kind::local, cmd_pubsub_channels);
  t.add("pubsub|shardchannels", exec_kind::local, cmd_pubsub_shardchannels);
  t.add("pubsub|numsub", exec_kind::local, cmd_pubsub_numsub);
  t.add("pubsub|shardnumsub", exec_kind::local, cmd_pubsub_shardnumsub);
  t.add("pubsub|numpat", exec_kind::local, cmd_pubsub_numpat);
  t.add("pubsub|help", exec_kind::local, cmd_pubsub_help);
}

}  // namespace shrike::commands
