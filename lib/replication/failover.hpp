#pragma once
// FAILOVER: a master hands its role to one of its replicas without losing a
// write (Redis 7.0's coordinated failover, replication.c).
//
//   1. FAILOVER pauses the clients' writes (a pause of its own purpose, so
//      CLIENT UNPAUSE does not end it) and waits for a replica whose ACKed
//      offset equals the master's: the target, or the first replica there.
//   2. Then it becomes a replica of that replica; its link sends
//      PSYNC <replid> <offset> FAILOVER, which makes the target a master
//      (the PSYNC side of attach_replica) and continues from the offset.
//   3. +CONTINUE or +FULLRESYNC ends the failover and the pause. Another
//      reply to that PSYNC, FAILOVER ABORT or the timeout (without FORCE)
//      aborts it: a server that had become a replica turns master again.
//
// check() does step 2; the server calls it every 100 ms, as Redis runs its
// replication cron ten times faster while a failover is on.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace shrike::server {
class server_context;
}

namespace shrike::replication {

struct replica_peer;

class failover {
 public:
  enum class state : std::uint8_t { none, waiting_for_sync, in_progress };

  explicit failover(server::server_context& srv) : srv_(srv) {}

  struct request {
    std::optional<std::string> host;  // TO host port
    std::int64_t port = 0;
    bool force = false;
    std::int64_t timeout_ms = 0;  // 0: no timeout
  };
  // FAILOVER's checks and start: "" when it began, else the error text.
  std::string begin(const request& r, std::int64_t now_ms);
  // FAILOVER ABORT: "" when one was aborted, else the error text.
  std::string abort_by_user();

  state current() const;
  // INFO's master_failover_state.
  const char* state_name() const;
  bool in_progress() const { return current() == state::in_progress; }
  // Whether the master's keepalive PINGs stop (they would move the offset
  // the replicas must reach): while a failover with a timeout waits.
  bool holds_pings() const;

  // Step 2 when the chosen replica has caught up (or the timeout passed).
  void check(std::int64_t now_ms);
  // Step 3: the failover PSYNC's reply arrived; `accepted` for +CONTINUE and
  // +FULLRESYNC. No-op unless a failover is in progress.
  void psync_answered(bool accepted);
  // Ends a failover in progress as failed (the PSYNC could not be sent).
  void abort(std::string_view reason);

 private:
  // The replica with this announced (or peer) address and listening port.
  std::shared_ptr<replica_peer> find_replica(const std::string& host, std::int64_t port) const;
  void clear_locked();
  // Aborts under the lock; a server that became a replica turns master again.
  void abort_locked(std::string_view reason);

  server::server_context& srv_;
  mutable std::mutex m_;
  state state_ = state::none;
  std::string host_;  // the target, once known
  int port_ = 0;
  std::int64_t end_ms_ = 0;
  bool force_ = false;
};

// The address a master shows for a replica (ROLE, INFO, FAILOVER's match):
// its REPLCONF ip-address, else its connection's peer address.
std::string replica_address(const replica_peer& p);

}  // namespace shrike::replication
