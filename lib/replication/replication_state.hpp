#pragma once
// The replication state of the server, master side and replica side:
// identity (replid, replid2), the stream offset, the backlog, the replicas
// attached here, and the master this server replicates (if any).
//
// THE replication stream: every write is fed here (feed) while the command
// still holds its shard(s), under one mutex, so the stream's order agrees
// with every shard's own order (two commands that touched a common shard
// appear in the order they ran; others commute). The bytes go to the
// backlog and to every replica: online replicas get them in their outbox,
// replicas waiting for their RDB keep them until it is sent.
//
// A replica feeds the bytes of its master's stream as they were received
// (feed_raw), so that its own replicas see the same offsets and can later
// continue with the master, or with this server once it is promoted.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "replication/backlog.hpp"
#include "server/outbox.hpp"

namespace shrike::server {
class server_context;
struct client_state;
}  // namespace shrike::server

namespace shrike::replication {

// A replica attached to this server (the master side of one link).
struct replica_peer {
  enum class phase : std::uint8_t {
    waiting,       // PSYNC answered nothing yet: its RDB has not begun
    transferring,  // its RDB is on the way; the stream is held back meanwhile
    online,        // gets the stream as it is fed
  };
  std::uint64_t client_id = 0;
  std::weak_ptr<server::client_state> client;
  std::shared_ptr<server::outbox> box;
  std::string ip;
  int port = 0;  // REPLCONF listening-port
  bool capa_eof = false;
  bool legacy_sync = false;      // SYNC, not PSYNC: no +FULLRESYNC line
  std::atomic<phase> state{phase::waiting};  // changed under the state's mutex, read anywhere
  std::string held;              // under the state's mutex
  // Diskless transfer done: the held stream follows the replica's first ACK.
  std::atomic<bool> awaiting_rdb_ack{false};
  std::atomic<std::uint64_t> ack_offset{0};
  std::atomic<std::int64_t> ack_ms{0};
};

class replica_link;
struct sync_job;

// What INFO and ROLE show of the link to the master.
enum class link_state : std::uint8_t { none, connect, connecting, handshake, transfer, connected };

class replication_state {
 public:
  explicit replication_state(server::server_context& srv);
  ~replication_state();

  // --- identity and offsets ---
  std::string replid() const;
  std::string replid2() const;
  std::int64_t second_offset() const;
  std::uint64_t offset() const { return offset_.load(std::memory_order_acquire); }

  // --- the stream ---
  // Whether writes must be fed (a backlog exists). One relaxed load.
  bool active() const { return active_.load(std::memory_order_relaxed); }
  // Whether this server's own clients' writes are fed: it is a master.
  bool propagating() const { return active() && !is_replica(); }
  void feed(std::size_t db, std::span<const std::string_view> argv);
  void feed(std::size_t db, const std::vector<std::string>& argv);
  // Several commands as one MULTI ... EXEC block (a transaction's or a
  // script's effects), fed at once.
  // (db, argv) pairs; a SELECT goes before those of another db.
  void feed_transaction(const std::vector<std::pair<std::size_t, std::vector<std::string>>>& commands);
  // A command of the master's stream, as received (replica side).
  void feed_raw(std::string_view bytes);
  // A keepalive PING or a GETACK (sent to replicas as part of the stream).
  void feed_ping();
  void feed_getack();

  // --- master side ---
  // Creates the backlog if there is none (first replica, or after a sync).
  void ensure_backlog();
  void resize_backlog(std::size_t bytes);
  // PSYNC: whether `replid` at `offset` can continue here; if so the peer is
  // attached and online, and its outbox has the +CONTINUE line and the bytes
  // it misses ahead of anything fed after.
  bool try_continue(const std::string& replid, std::uint64_t offset, std::shared_ptr<replica_peer> peer);
  void attach(std::shared_ptr<replica_peer> peer);
  void detach(std::uint64_t client_id);
  std::vector<std::shared_ptr<replica_peer>> peers() const;
  // Full sync, with every shard's gate held (the snapshot's point in time):
  // the peers start holding the stream; returns the offset of the snapshot.
  std::uint64_t begin_transfer(const std::vector<std::shared_ptr<replica_peer>>& peers);
  // The RDB is sent: the held stream follows it and the peer goes online.
  void finish_transfer(replica_peer& peer);
  // Replicas whose last ACK is at or past `offset` (WAIT).
  int acked_at_least(std::uint64_t offset) const;
  std::size_t online_count() const;

  // --- replica side ---
  bool is_replica() const { return replica_.load(std::memory_order_relaxed); }
  // REPLICAOF host port: keeps the data and the replid; the link connects.
  void replicate(const std::string& host, int port);
  // REPLICAOF NO ONE: a new replid, the old one becomes replid2.
  void stop_replicating();
  std::optional<std::pair<std::string, int>> master() const;
  // Server shutdown: the link stops, the role stays.
  void stop_link();
  // After a full sync from the master: its replid and offset are ours now;
  // the backlog starts over and our own replicas must sync again.
  void adopt_master(const std::string& replid, std::uint64_t offset);
  // +CONTINUE with a new replid (the master was promoted meanwhile).
  void master_changed_replid(const std::string& replid);

  // replica-read-only, replica-serve-stale-data, min-replicas-to-write,
  // min-replicas-max-lag, repl-timeout (kept current by the config).
  std::atomic<bool> read_only{true}, serve_stale_data{true};
  std::atomic<int> min_replicas_to_write{0}, min_replicas_max_lag{10};
  std::atomic<std::int64_t> timeout_s{60};
  // Online replicas whose last ACK is at most min-replicas-max-lag old.
  int good_replicas() const;
  // Drops replicas silent for longer than repl-timeout (called every second).
  void drop_timed_out_replicas();

  // Link status for INFO/ROLE (set by the link coroutine).
  std::atomic<link_state> link{link_state::none};
  std::atomic<std::int64_t> link_down_since_ms{0};
  std::atomic<std::int64_t> last_master_io_ms{0};
  std::atomic<std::uint64_t> sync_total_bytes{0}, sync_read_bytes{0};
  std::atomic<std::int64_t> sync_started_ms{0};
  // Syncs served to replicas (INFO stats).
  std::atomic<std::uint64_t> sync_full{0}, sync_partial_ok{0}, sync_partial_err{0};

  // Backlog figures for INFO.
  struct backlog_figures {
    bool active = false;
    std::size_t size = 0, histlen = 0;
    std::uint64_t first_offset = 0;
  };
  backlog_figures backlog_info() const;

  // Full syncs (full_sync.cpp): the job replicas may still join (diskless,
  // during repl-diskless-sync-delay).
  std::mutex sync_jobs_mutex;
  std::shared_ptr<sync_job> waiting_job;

  server::server_context& server() { return srv_; }

 private:
  void append_locked(std::string_view bytes);
  void select_locked(std::size_t db);
  void new_replid_locked();
  void disconnect_peers_locked();

  server::server_context& srv_;
  mutable std::mutex m_;
  std::string replid_, replid2_;
  std::int64_t second_offset_ = -1;
  std::atomic<std::uint64_t> offset_{0};
  std::unique_ptr<backlog> backlog_;
  std::size_t backlog_size_ = 1 << 20;
  std::atomic<bool> active_{false};
  std::int64_t last_db_ = -1;  // db of the last SELECT in the stream (-1: a SELECT must come first)
  std::vector<std::shared_ptr<replica_peer>> peers_;

  std::atomic<bool> replica_{false};
  std::string master_host_;
  int master_port_ = 0;
  std::shared_ptr<replica_link> link_;
};

// RESP encoding of one command, appended to `out`.
void encode_command(std::span<const std::string_view> argv, std::string& out);

}  // namespace shrike::replication
