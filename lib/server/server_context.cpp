#include "server/server_context.hpp"

#include <cctype>
#include <cstdio>
#include <random>

#include "acl/registry.hpp"
#include "replication/failover.hpp"
#include "replication/replication_state.hpp"
#include "util/clock.hpp"

namespace shrike::server {

void server_stats::reset() {
  for (auto* c : {&total_connections, &rejected_connections, &total_commands, &net_input_bytes, &net_output_bytes,
                  &expired_keys, &evicted_keys, &keyspace_hits, &keyspace_misses, &error_replies, &unexpected_error_replies})
    c->reset();
}

namespace {
std::string random_hex(std::size_t n) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  static const char* digits = "0123456789abcdef";
  std::string s(n, '0');
  for (auto& c : s) c = digits[rng() & 15];
  return s;
}
}  // namespace

server_context::server_context(boost::asio::io_context& io, config_store& config, std::size_t threads,
                               std::size_t shards)
    : io_(io),
      config_(config),
      threads_(threads),
      shards_(io, shards, static_cast<std::size_t>(config.get_int("databases"))),
      run_id_(random_hex(40)),
      start_ms_(util::now_ms()),
      tracking_([this](std::uint64_t id) { return find_client(id); }),
      acl_(std::make_shared<acl::registry>()),
      repl_(std::make_unique<replication::replication_state>(*this)),
      failover_(std::make_unique<replication::failover>(*this)) {
  lastsave_s = start_ms_ / 1000;
}

server_context::~server_context() = default;

void server_context::register_client(std::shared_ptr<client_state> c) {
  std::lock_guard lock(clients_mutex_);
  clients_[c->id] = std::move(c);
}

std::shared_ptr<client_state> server_context::find_client(std::uint64_t id) const {
  std::lock_guard lock(clients_mutex_);
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second;
}

void server_context::unregister_client(std::uint64_t id) {
  std::lock_guard lock(clients_mutex_);
  clients_.erase(id);
}

std::vector<std::shared_ptr<client_state>> server_context::clients() const {
  std::lock_guard lock(clients_mutex_);
  std::vector<std::shared_ptr<client_state>> out;
  out.reserve(clients_.size());
  for (auto& [id, c] : clients_) out.push_back(c);
  return out;
}

std::size_t server_context::client_count() const {
  std::lock_guard lock(clients_mutex_);
  return clients_.size();
}

void server_context::slowlog_push(slowlog_entry e) {
  std::lock_guard lock(slowlog_mutex_);
  slowlog_.push_front(std::move(e));
  while (slowlog_.size() > static_cast<std::size_t>(std::max<std::int64_t>(0, slowlog_max_len.load())))
    slowlog_.pop_back();
}

std::vector<slowlog_entry> server_context::slowlog_get(std::size_t count) const {
  std::lock_guard lock(slowlog_mutex_);
  std::vector<slowlog_entry> out;
  for (std::size_t i = 0; i < slowlog_.size() && i < count; ++i) out.push_back(slowlog_[i]);
  return out;
}

std::size_t server_context::slowlog_len() const {
  std::lock_guard lock(slowlog_mutex_);
  return slowlog_.size();
}

void server_context::slowlog_reset() {
  std::lock_guard lock(slowlog_mutex_);
  slowlog_.clear();
}

std::string server_context::requirepass() const { return config_.get_one("requirepass").value_or(""); }

void server_context::add_monitor(std::shared_ptr<client_state> c) {
  std::lock_guard lock(monitors_mutex_);
  monitors_.push_back(c);
  monitor_count_ = static_cast<int>(monitors_.size());
}

namespace {
// sdscatrepr: a quoted, escaped representation of a binary string.
void append_repr(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default:
        if (std::isprint(c)) {
          out.push_back(static_cast<char>(c));
        } else {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        }
    }
  }
  out.push_back('"');
}
}  // namespace

void server_context::feed_monitors(std::int64_t now_us, std::size_t db, const client_state& from,
                                   std::span<const std::string_view> argv) {
  char head[96];
  std::snprintf(head, sizeof(head), "+%lld.%06lld [%zu ", static_cast<long long>(now_us / 1000000),
                static_cast<long long>(now_us % 1000000), db);
  std::string line = head;
  line += from.addr;
  line += "] ";
  for (std::size_t j = 0; j < argv.size(); ++j) {
    append_repr(line, argv[j]);
    if (j + 1 != argv.size()) line.push_back(' ');
  }
  line += "\r\n";
  std::lock_guard lock(monitors_mutex_);
  for (auto it = monitors_.begin(); it != monitors_.end();) {
    auto c = it->lock();
    if (!c) {
      it = monitors_.erase(it);
      continue;
    }
    if (c->box) c->box->append(line, now_us / 1000);
    ++it;
  }
  monitor_count_ = static_cast<int>(monitors_.size());
}

void server_context::request_shutdown() {
  std::call_once(shutdown_once_, [this] {
    shutting_down_ = true;
    if (shutdown_fn_) shutdown_fn_();
  });
}

}  // namespace shrike::server
