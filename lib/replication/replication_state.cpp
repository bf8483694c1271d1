#include "replication/replication_state.hpp"

#include <random>

#include "commands/blocking.hpp"
#include "replication/replica_link.hpp"
#include "server/client_state.hpp"
#include "server/server_context.hpp"
#include "store/expiry_policy.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace shrike::replication {

namespace {

std::string random_replid() {
  static const char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(util::now_us()));
  std::string id(40, '0');
  for (auto& c : id) c = hex[gen() & 15];
  return id;
}

void append_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out.append(s);
  out += "\r\n";
}

}  // namespace

void encode_command(std::span<const std::string_view> argv, std::string& out) {
  out += '*';
  out += std::to_string(argv.size());
  out += "\r\n";
  for (auto a : argv) append_bulk(out, a);
}

replication_state::replication_state(server::server_context& srv)
    : srv_(srv), replid_(random_replid()), replid2_(40, '0') {}

replication_state::~replication_state() {
  if (link_) link_->stop();
}

std::string replication_state::replid() const {
  std::lock_guard lock(m_);
  return replid_;
}
std::string replication_state::replid2() const {
  std::lock_guard lock(m_);
  return replid2_;
}
std::int64_t replication_state::second_offset() const {
  std::lock_guard lock(m_);
  return second_offset_;
}

void replication_state::append_locked(std::string_view bytes) {
  if (!backlog_) return;
  backlog_->append(bytes);
  offset_.store(backlog_->next_offset() - 1, std::memory_order_release);
  const std::int64_t now = util::now_ms();
  const std::uint64_t hard = srv_.output_limits[static_cast<int>(server::client_class::replica)].hard.load();
  for (auto& p : peers_) {
    if (p->state == replica_peer::phase::online) {
      p->box->append(bytes, now);
    } else if (p->state == replica_peer::phase::transferring) {
      p->held.append(bytes);
      // What a replica's output buffer would hold during its sync: over the
      // hard limit it is dropped, as Redis drops it.
      if (hard && p->held.size() > hard) {
        if (auto c = p->client.lock(); c && c->kill) {
          util::log_warning("Client " + c->addr + " scheduled to be closed ASAP for overcoming of output buffer limits.");
          c->kill();
        }
        p->held.clear();
        p->held.shrink_to_fit();
      }
    }
  }
}

void replication_state::select_locked(std::size_t db) {
  if (last_db_ == static_cast<std::int64_t>(db)) return;
  last_db_ = static_cast<std::int64_t>(db);
  const std::string n = std::to_string(db);
  std::string sel;
  const std::string_view argv[] = {"SELECT", n};
  encode_command(argv, sel);
  append_locked(sel);
}

void replication_state::feed(std::size_t db, std::span<const std::string_view> argv) {
  thread_local std::string bytes;
  bytes.clear();
  encode_command(argv, bytes);
  std::lock_guard lock(m_);
  if (!backlog_) return;
  select_locked(db);
  append_locked(bytes);
}

void replication_state::feed(std::size_t db, const std::vector<std::string>& argv) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  feed(db, std::span<const std::string_view>(views));
}

void replication_state::feed_transaction(const std::vector<std::pair<std::size_t, std::vector<std::string>>>& commands) {
  if (commands.empty()) return;
  const std::string_view multi[] = {"MULTI"}, exec[] = {"EXEC"};
  std::vector<std::string_view> views;
  std::lock_guard lock(m_);
  if (!backlog_) return;
  // MULTI in the db of the first command: a SELECT between MULTI and the
  // command would be queued by the replica like any other.
  select_locked(commands.front().first);
  std::string bytes;
  encode_command(multi, bytes);
  append_locked(bytes);
  for (const auto& [db, argv] : commands) {
    select_locked(db);
    views.assign(argv.begin(), argv.end());
    bytes.clear();
    encode_command(views, bytes);
    append_locked(bytes);
  }
  bytes.clear();
  encode_command(exec, bytes);
  append_locked(bytes);
}

void replication_state::feed_raw(std::string_view bytes) {
  std::lock_guard lock(m_);
  if (!backlog_) return;
  append_locked(bytes);
}

void replication_state::feed_ping() {
  std::string bytes;
  const std::string_view ping[] = {"PING"};
  encode_command(ping, bytes);
  std::lock_guard lock(m_);
  if (!backlog_ || peers_.empty()) return;
  append_locked(bytes);
}

void replication_state::feed_getack() {
  std::string bytes;
  const std::string_view getack[] = {"REPLCONF", "GETACK", "*"};
  encode_command(getack, bytes);
  std::lock_guard lock(m_);
  if (!backlog_ || peers_.empty()) return;
  append_locked(bytes);
}

void replication_state::ensure_backlog() {
  std::lock_guard lock(m_);
  if (backlog_) return;
  backlog_ = std::make_unique<backlog>(backlog_size_, offset_.load() + 1);
  active_.store(true);
}

void replication_state::resize_backlog(std::size_t bytes) {
  std::lock_guard lock(m_);
  backlog_size_ = bytes;
  if (backlog_) backlog_->resize(bytes);
}

bool replication_state::try_continue(const std::string& replid, std::uint64_t offset,
                                     std::shared_ptr<replica_peer> peer) {
  std::lock_guard lock(m_);
  // Our own history, or the history of the master we replicated before
  // our promotion up to where it ended.
  const bool ours = replid == replid_;
  const bool previous = replid == replid2_ && second_offset_ >= 0 && offset <= static_cast<std::uint64_t>(second_offset_);
  if (!ours && !previous) return false;
  if (!backlog_ || !backlog_->covers(offset)) return false;
  std::string bytes = "+CONTINUE " + replid_ + "\r\n";
  backlog_->copy_from(offset, bytes);
  peer->box->append(bytes, util::now_ms());
  peer->ack_ms = util::now_ms();
  peer->state = replica_peer::phase::online;
  peers_.push_back(std::move(peer));
  return true;
}

replication_state::backlog_figures replication_state::backlog_info() const {
  std::lock_guard lock(m_);
  backlog_figures f;
  f.size = backlog_size_;
  if (backlog_) {
    f.active = true;
    f.histlen = backlog_->size();
    f.first_offset = backlog_->first_offset();
  }
  return f;
}

void replication_state::attach(std::shared_ptr<replica_peer> peer) {
  std::lock_guard lock(m_);
  peers_.push_back(std::move(peer));
}

void replication_state::detach(std::uint64_t client_id) {
  std::lock_guard lock(m_);
  std::erase_if(peers_, [&](const auto& p) { return p->client_id == client_id; });
}

std::vector<std::shared_ptr<replica_peer>> replication_state::peers() const {
  std::lock_guard lock(m_);
  return peers_;
}

std::uint64_t replication_state::begin_transfer(const std::vector<std::shared_ptr<replica_peer>>& peers) {
  std::lock_guard lock(m_);
  for (auto& p : peers) {
    p->state = replica_peer::phase::transferring;
    p->held.clear();
  }
  // The stream after the RDB must say which db it writes to.
  last_db_ = -1;
  return offset_.load();
}

void replication_state::finish_transfer(replica_peer& peer) {
  std::lock_guard lock(m_);
  if (peer.state != replica_peer::phase::transferring) return;
  if (!peer.held.empty()) peer.box->append(peer.held, util::now_ms());
  peer.held.clear();
  peer.held.shrink_to_fit();
  peer.ack_ms = util::now_ms();
  peer.state = replica_peer::phase::online;
}

int replication_state::acked_at_least(std::uint64_t offset) const {
  std::lock_guard lock(m_);
  int n = 0;
  for (auto& p : peers_)
    if (p->state == replica_peer::phase::online && p->ack_offset.load() >= offset) ++n;
  return n;
}

int replication_state::good_replicas() const {
  const std::int64_t now = util::now_ms();
  const std::int64_t max_lag_ms = std::int64_t{min_replicas_max_lag.load()} * 1000;
  std::lock_guard lock(m_);
  int n = 0;
  for (auto& p : peers_)
    if (p->state == replica_peer::phase::online && now - p->ack_ms.load() <= max_lag_ms) ++n;
  return n;
}

void replication_state::drop_timed_out_replicas() {
  const std::int64_t now = util::now_ms();
  const std::int64_t limit_ms = timeout_s.load() * 1000;
  std::lock_guard lock(m_);
  for (auto& p : peers_) {
    if (p->state != replica_peer::phase::online || now - p->ack_ms.load() <= limit_ms) continue;
    if (auto c = p->client.lock(); c && c->kill) {
      util::log_warning("Disconnecting timedout replica (streaming sync): " + c->addr);
      c->kill();
    }
  }
}

std::size_t replication_state::online_count() const {
  std::lock_guard lock(m_);
  std::size_t n = 0;
  for (auto& p : peers_)
    if (p->state == replica_peer::phase::online) ++n;
  return n;
}

void replication_state::new_replid_locked() {
  replid2_ = replid_;
  second_offset_ = static_cast<std::int64_t>(offset_.load()) + 1;
  replid_ = random_replid();
}

void replication_state::disconnect_peers_locked() {
  for (auto& p : peers_)
    if (auto c = p->client.lock(); c && c->kill) c->kill();
}

void replication_state::replicate(const std::string& host, int port) {
  std::shared_ptr<replica_link> old, fresh;
  {
    std::lock_guard lock(m_);
    old = std::move(link_);
    master_host_ = host;
    master_port_ = port;
    replica_.store(true);
    store::expiry_policy::replica_mode.store(true);
    link.store(link_state::connect);
    link_down_since_ms.store(util::now_ms());
    link_ = std::make_shared<replica_link>(srv_, host, port);
    fresh = link_;
  }
  if (old) old->stop();
  commands::unblock_all_for_role_change(srv_);  // as Redis's replicationSetMaster
  fresh->start();
  std::string ignored;  // (CONFIG GET replicaof and CONFIG REWRITE show the master)
  srv_.config().set_startup("replicaof", host + " " + std::to_string(port), ignored);
}

void replication_state::stop_replicating() {
  std::shared_ptr<replica_link> old;
  {
    std::lock_guard lock(m_);
    if (!replica_.load()) return;
    old = std::move(link_);
    master_host_.clear();
    master_port_ = 0;
    replica_.store(false);
    store::expiry_policy::replica_mode.store(false);
    link.store(link_state::none);
    // Our replicas may continue with us: the history so far stays
    // reachable under the old id (PSYNC with replid2).
    new_replid_locked();
    last_db_ = -1;
  }
  if (old) old->stop();
  std::string ignored;
  srv_.config().set_startup("replicaof", "no one", ignored);
}

void replication_state::stop_link() {
  std::shared_ptr<replica_link> l;
  {
    std::lock_guard lock(m_);
    l = link_;
  }
  if (l) l->stop();
}

std::optional<std::pair<std::string, int>> replication_state::master() const {
  std::lock_guard lock(m_);
  if (!replica_.load()) return std::nullopt;
  return std::make_pair(master_host_, master_port_);
}

void replication_state::adopt_master(const std::string& replid, std::uint64_t offset) {
  std::lock_guard lock(m_);
  replid_ = replid;
  replid2_ = std::string(40, '0');
  second_offset_ = -1;
  offset_.store(offset);
  backlog_ = std::make_unique<backlog>(backlog_size_, offset + 1);
  active_.store(true);
  last_db_ = -1;
  disconnect_peers_locked();
}

void replication_state::master_changed_replid(const std::string& replid) {
  std::lock_guard lock(m_);
  replid2_ = replid_;
  second_offset_ = static_cast<std::int64_t>(offset_.load()) + 1;
  replid_ = replid;
  disconnect_peers_locked();
}

}  // namespace shrike::replication
