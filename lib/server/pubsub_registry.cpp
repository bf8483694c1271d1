#include "server/pubsub_registry.hpp"

#include <algorithm>
#include <mutex>

#include "util/glob.hpp"

namespace shrike::server {

namespace pubsub_frames {
namespace {
void header(std::string& out, int resp, int n) {
  out += resp == 3 ? '>' : '*';
  out += std::to_string(n);
  out += "\r\n";
}
void bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}
}  // namespace

std::string message(int resp, std::string_view kind_word, std::string_view channel, std::string_view payload) {
  std::string out;
  out.reserve(32 + kind_word.size() + channel.size() + payload.size());
  header(out, resp, 3);
  bulk(out, kind_word);
  bulk(out, channel);
  bulk(out, payload);
  return out;
}

std::string pmessage(int resp, std::string_view pattern, std::string_view channel, std::string_view payload) {
  std::string out;
  out.reserve(48 + pattern.size() + channel.size() + payload.size());
  header(out, resp, 4);
  bulk(out, "pmessage");
  bulk(out, pattern);
  bulk(out, channel);
  bulk(out, payload);
  return out;
}

std::string confirmation(int resp, std::string_view kind_word, const std::string_view* name, std::int64_t count) {
  std::string out;
  header(out, resp, 3);
  bulk(out, kind_word);
  if (name)
    bulk(out, *name);
  else
    out += resp == 3 ? "_\r\n" : "$-1\r\n";
  out += ':';
  out += std::to_string(count);
  out += "\r\n";
  return out;
}
}  // namespace pubsub_frames

void pubsub_registry::subscribe(channel_kind kind, std::string_view channel, const subscriber& s,
                                const std::function<void()>& confirm) {
  std::unique_lock lock(m_);
  auto& t = of(kind);
  auto it = t.find(channel);
  if (it == t.end()) it = t.emplace(std::string(channel), subscriber_list{}).first;
  it->second.push_back(s);
  confirm();
}

void pubsub_registry::remove(table& t, std::string_view name, std::uint64_t client_id) {
  auto it = t.find(name);
  if (it == t.end()) return;
  auto& list = it->second;
  list.erase(std::remove_if(list.begin(), list.end(), [&](const subscriber& s) { return s.client_id == client_id; }),
             list.end());
  // Free the entry with its last subscriber, so channels nobody listens to
  // cost nothing (and PUBSUB CHANNELS does not list them).
  if (list.empty()) t.erase(it);
}

void pubsub_registry::unsubscribe(channel_kind kind, std::string_view channel, std::uint64_t client_id) {
  std::unique_lock lock(m_);
  remove(of(kind), channel, client_id);
}

void pubsub_registry::psubscribe(std::string_view pattern, const subscriber& s, const std::function<void()>& confirm) {
  std::unique_lock lock(m_);
  auto it = patterns_.find(pattern);
  if (it == patterns_.end()) it = patterns_.emplace(std::string(pattern), subscriber_list{}).first;
  it->second.push_back(s);
  confirm();
}

void pubsub_registry::punsubscribe(std::string_view pattern, std::uint64_t client_id) {
  std::unique_lock lock(m_);
  remove(patterns_, pattern, client_id);
}

std::int64_t pubsub_registry::publish(channel_kind kind, std::string_view channel, std::string_view message,
                                      std::int64_t now_ms) const {
  std::int64_t receivers = 0;
  const std::string_view word = kind == channel_kind::global ? "message" : "smessage";
  std::string frames[2];  // RESP2 and RESP3 forms, made on first use
  auto frame = [&](int resp) -> const std::string& {
    std::string& f = frames[resp == 3 ? 1 : 0];
    if (f.empty()) f = pubsub_frames::message(resp, word, channel, message);
    return f;
  };
  std::shared_lock lock(m_);
  const auto& t = of(kind);
  if (auto it = t.find(channel); it != t.end()) {
    for (const auto& s : it->second) {
      s.box->append(frame(s.box->resp.load(std::memory_order_relaxed)), now_ms);
      ++receivers;
    }
  }
  if (kind == channel_kind::shard) return receivers;  // shard channels ignore patterns
  for (const auto& [pattern, list] : patterns_) {
    if (!util::glob_match(pattern, channel)) continue;
    std::string pframes[2];
    for (const auto& s : list) {
      const int resp = s.box->resp.load(std::memory_order_relaxed);
      std::string& f = pframes[resp == 3 ? 1 : 0];
      if (f.empty()) f = pubsub_frames::pmessage(resp, pattern, channel, message);
      s.box->append(f, now_ms);
      ++receivers;
    }
  }
  return receivers;
}

std::vector<std::string> pubsub_registry::channels(channel_kind kind, std::optional<std::string_view> pattern) const {
  std::vector<std::string> out;
  std::shared_lock lock(m_);
  for (const auto& [name, list] : of(kind))
    if (!pattern || util::glob_match(*pattern, name)) out.push_back(name);
  return out;
}

std::size_t pubsub_registry::subscriber_count(channel_kind kind, std::string_view channel) const {
  std::shared_lock lock(m_);
  const auto& t = of(kind);
  auto it = t.find(channel);
  return it == t.end() ? 0 : it->second.size();
}

std::size_t pubsub_registry::pattern_count() const {
  std::shared_lock lock(m_);
  return patterns_.size();
}

std::size_t pubsub_registry::channel_count(channel_kind kind) const {
  std::shared_lock lock(m_);
  return of(kind).size();
}

pubsub_registry::client_subscriptions pubsub_registry::subscriptions_of(std::uint64_t client_id) const {
  client_subscriptions out;
  std::shared_lock lock(m_);
  auto collect = [client_id](const table& t, std::vector<std::string>& names) {
    for (const auto& [name, list] : t)
      if (std::any_of(list.begin(), list.end(), [&](const subscriber& s) { return s.client_id == client_id; }))
        names.push_back(name);
  };
  collect(channels_, out.channels);
  collect(shard_channels_, out.shard_channels);
  collect(patterns_, out.patterns);
  return out;
}

}  // namespace shrike::server
