#include "replication/failover.hpp"

#include <cstdint>
#include <strings.h>

#include "replication/replication_state.hpp"
#include "server/server_context.hpp"
#include "util/log.hpp"

namespace shrike::replication {

std::string replica_address(const replica_peer& p) {
  if (!p.ip.empty()) return p.ip;
  if (auto c = p.client.lock()) {
    std::string addr = c->addr;
    const auto colon = addr.rfind(':');
    if (colon != std::string::npos) addr.resize(colon);
    if (addr.size() > 2 && addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
    return addr;
  }
  return "?";
}

std::shared_ptr<replica_peer> failover::find_replica(const std::string& host, std::int64_t port) const {
  for (auto& p : srv_.repl().peers())
    if (p->port == port && strcasecmp(replica_address(*p).c_str(), host.c_str()) == 0) return p;
  return nullptr;
}

std::string failover::begin(const request& r, std::int64_t now_ms) {
  auto& repl = srv_.repl();
  std::lock_guard lock(m_);
  if (state_ != state::none) return "FAILOVER already in progress.";
  if (repl.is_replica()) return "FAILOVER is not valid when server is a replica.";
  if (repl.peers().empty()) return "FAILOVER requires connected replicas.";
  if (r.force && (r.timeout_ms == 0 || !r.host))
    return "FAILOVER with force option requires both a timeout and target HOST and IP.";
  if (r.host) {
    auto replica = find_replica(*r.host, r.port);
    if (!replica) return "FAILOVER target HOST and PORT is not a replica.";
    if (replica->state.load() != replica_peer::phase::online) return "FAILOVER target replica is not online.";
    host_ = *r.host;
    port_ = replica->port;
    util::log_notice("FAILOVER requested to " + host_ + ":" + std::to_string(port_) + ".");
  } else {
    util::log_notice("FAILOVER requested to any replica.");
  }
  end_ms_ = r.timeout_ms ? now_ms + r.timeout_ms : 0;
  force_ = r.force;
  state_ = state::waiting_for_sync;
  srv_.pause().pause(server::pause_gate::purpose::failover, server::pause_gate::mode::write, INT64_MAX);
  return {};
}

std::string failover::abort_by_user() {
  std::lock_guard lock(m_);
  if (state_ == state::none) return "No failover in progress.";
  abort_locked("Failover manually aborted");
  return {};
}

void failover::abort(std::string_view reason) {
  std::lock_guard lock(m_);
  abort_locked(reason);
}

void failover::abort_locked(std::string_view reason) {
  if (state_ == state::none) return;
  const std::string target = host_.empty() ? "any replica" : host_ + ":" + std::to_string(port_);
  util::log_notice("FAILOVER to " + target + " aborted: " + std::string(reason));
  // (With the lock held: nothing the link does calls back in synchronously,
  // and the lock keeps a concurrent check() from starting the link again.)
  if (state_ == state::in_progress) srv_.repl().stop_replicating();
  clear_locked();
}

void failover::clear_locked() {
  state_ = state::none;
  host_.clear();
  port_ = 0;
  end_ms_ = 0;
  force_ = false;
  srv_.pause().unpause(server::pause_gate::purpose::failover);
}

failover::state failover::current() const {
  std::lock_guard lock(m_);
  return state_;
}

const char* failover::state_name() const {
  switch (current()) {
    case state::none: return "no-failover";
    case state::waiting_for_sync: return "waiting-for-sync";
    case state::in_progress: return "failover-in-progress";
  }
  return "unknown";
}

bool failover::holds_pings() const {
  std::lock_guard lock(m_);
  return state_ != state::none && end_ms_ != 0;
}

void failover::check(std::int64_t now_ms) {
  auto& repl = srv_.repl();
  std::lock_guard lock(m_);
  if (state_ != state::waiting_for_sync) return;
  if (end_ms_ != 0 && end_ms_ <= now_ms) {
    if (!force_) {
      abort_locked("Replica never caught up before timeout");
      return;
    }
    util::log_notice("FAILOVER to " + host_ + ":" + std::to_string(port_) + " time out exceeded, failing over.");
    state_ = state::in_progress;
    repl.replicate(host_, port_);
    return;
  }
  const std::uint64_t offset = repl.offset();
  std::shared_ptr<replica_peer> replica;
  if (!host_.empty()) {
    replica = find_replica(host_, port_);
  } else {
    for (auto& p : repl.peers()) {
      if (p->ack_offset.load() == offset) {
        host_ = replica_address(*p);
        port_ = p->port;
        replica = p;
        break;
      }
    }
  }
  if (!replica || replica->ack_offset.load() != offset) return;
  state_ = state::in_progress;
  util::log_notice("Failover target " + host_ + ":" + std::to_string(port_) + " is synced, failing over.");
  repl.replicate(host_, port_);
}

void failover::psync_answered(bool accepted) {
  std::lock_guard lock(m_);
  if (state_ != state::in_progress) return;
  if (accepted) {
    clear_locked();
  } else {
    abort_locked("Failover target rejected psync request");
  }
}

}  // namespace shrike::replication
