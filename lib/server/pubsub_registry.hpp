#pragma once
// Who listens to what: channel -> subscribers, pattern -> subscribers, and
// shard channel -> subscribers (SSUBSCRIBE; without cluster mode a separate
// namespace that patterns do not see). One registry for the whole server,
// behind a reader/writer lock: PUBLISH (any thread) reads, SUBSCRIBE and
// friends write. Delivery appends to each subscriber's outbox while the read
// lock is held, so a subscription's confirmation, queued under the write
// lock, always precedes the messages it makes the client receive.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/outbox.hpp"

namespace shrike::server {

enum class channel_kind : std::uint8_t { global, shard };

struct subscriber {
  std::uint64_t client_id = 0;
  std::shared_ptr<outbox> box;
};

class pubsub_registry {
 public:
  // Adds `s` to `channel`; `confirm` runs under the write lock afterwards.
  void subscribe(channel_kind kind, std::string_view channel, const subscriber& s, const std::function<void()>& confirm);
  void unsubscribe(channel_kind kind, std::string_view channel, std::uint64_t client_id);
  void psubscribe(std::string_view pattern, const subscriber& s, const std::function<void()>& confirm);
  void punsubscribe(std::string_view pattern, std::uint64_t client_id);

  // Sends `message` to the subscribers of `channel` (and, for global
  // channels, of every matching pattern). Returns the number of receivers.
  std::int64_t publish(channel_kind kind, std::string_view channel, std::string_view message, std::int64_t now_ms) const;

  // PUBSUB CHANNELS / SHARDCHANNELS, NUMSUB / SHARDNUMSUB, NUMPAT.
  std::vector<std::string> channels(channel_kind kind, std::optional<std::string_view> pattern) const;
  std::size_t subscriber_count(channel_kind kind, std::string_view channel) const;
  std::size_t pattern_count() const;
  // Channels + patterns with at least one subscriber (INFO pubsub_channels/patterns).
  std::size_t channel_count(channel_kind kind) const;

  // Everything one client is subscribed to (ACL: revoked channel permissions).
  struct client_subscriptions {
    std::vector<std::string> channels, shard_channels, patterns;
  };
  client_subscriptions subscriptions_of(std::uint64_t client_id) const;

 private:
  using subscriber_list = std::vector<subscriber>;
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using table = std::unordered_map<std::string, subscriber_list, string_hash, std::equal_to<>>;

  table& of(channel_kind kind) { return kind == channel_kind::global ? channels_ : shard_channels_; }
  const table& of(channel_kind kind) const { return kind == channel_kind::global ? channels_ : shard_channels_; }
  static void remove(table& t, std::string_view name, std::uint64_t client_id);

  mutable std::shared_mutex m_;
  table channels_, shard_channels_, patterns_;
};

// The RESP frames of pub/sub pushes: "*3" in RESP2, ">3" in RESP3.
namespace pubsub_frames {
std::string message(int resp, std::string_view kind_word, std::string_view channel, std::string_view payload);
std::string pmessage(int resp, std::string_view pattern, std::string_view channel, std::string_view payload);
// (un)subscribe confirmations; a null `name` is written as a null.
std::string confirmation(int resp, std::string_view kind_word, const std::string_view* name, std::int64_t count);
}  // namespace pubsub_frames

}  // namespace shrike::server
