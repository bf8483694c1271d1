// Replication commands (replication.c of Redis 7.0): REPLCONF, PSYNC and SYNC
// (a replica attaching here), WAIT, REPLICAOF / SLAVEOF, ROLE, and INFO's
// replication section.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "commands/blocking.hpp"
#include "commands/command_context.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/replication.hpp"
#include "replication/failover.hpp"
#include "replication/full_sync.hpp"
#include "replication/replication_state.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"
#include "util/numbers.hpp"

namespace shrike::commands {

namespace {

namespace asio = boost::asio;
using replication::replica_peer;

std::string state_name(replica_peer::phase p) {
  switch (p) {
    case replica_peer::phase::waiting: return "wait_bgsave";
    case replica_peer::phase::transferring: return "send_bulk";
    case replica_peer::phase::online: return "online";
  }
  return "online";
}

const char* link_state_name(replication::link_state s) {
  switch (s) {
    case replication::link_state::none:
    case replication::link_state::connect: return "connect";
    case replication::link_state::connecting: return "connecting";
    case replication::link_state::handshake: return "handshake";
    case replication::link_state::transfer: return "sync";
    case replication::link_state::connected: return "connected";
  }
  return "connect";
}

// REPLCONF <option> <value> ...: a replica's announcements and ACKs.
void cmd_replconf(command_context& ctx) {
  if (ctx.argc() % 2 == 0) return ctx.out.error(errors::syntax);
  auto& client = ctx.client;
  auto& repl = ctx.srv.repl();
  for (std::size_t j = 1; j < ctx.argc(); j += 2) {
    const auto opt = ctx.arg(j), val = ctx.arg(j + 1);
    if (iequals(opt, "listening-port")) {
      std::int64_t port;
      if (!util::parse_int64(val, port)) return ctx.out.error(errors::not_integer);
      client.repl_listening_port = static_cast<int>(port);
    } else if (iequals(opt, "ip-address")) {
      if (val.size() >= 46) return ctx.out.error("REPLCONF ip-address provided by replica instance is too long: " + std::to_string(val.size()) + " bytes");
      client.repl_ip = std::string(val);
    } else if (iequals(opt, "capa")) {
      if (iequals(val, "eof")) client.repl_capa_eof = true;
    } else if (iequals(opt, "ack")) {
      // A replica's ACK: never answered (a stray byte would break its stream).
      std::int64_t offset;
      if (!client.repl_peer || !util::parse_int64(val, offset)) return;
      auto& peer = *client.repl_peer;
      if (static_cast<std::uint64_t>(offset) > peer.ack_offset.load()) peer.ack_offset = static_cast<std::uint64_t>(offset);
      peer.ack_ms = ctx.now_ms;
      if (peer.awaiting_rdb_ack.exchange(false)) repl.finish_transfer(peer);
      return;
    } else if (iequals(opt, "getack")) {
      // From our master: answered on the link (replies to it are dropped).
      if (client.role.load() == server::peer_role::master && client.box) {
        std::string ack;
        const std::string off = std::to_string(repl.offset());
        const std::string_view argv[] = {"REPLCONF", "ACK", off};
        replication::encode_command(argv, ack);
        client.box->append(ack, ctx.now_ms);
      }
      return;
    } else if (iequals(opt, "rdb-only") || iequals(opt, "rdb-filter-only")) {
      // accepted (redis-cli --rdb); nothing to change for a full sync here
    } else {
      return ctx.out.error("Unrecognized REPLCONF option: " + std::string(opt));
    }
  }
  ctx.out.ok();
}

// PSYNC replid offset / SYNC: the connection becomes a replica; a partial
// resync continues from the backlog, anything else is a full sync.
asio::awaitable<void> attach_replica(command_context& ctx, bool legacy) {
  auto& client = ctx.client;
  auto& repl = ctx.srv.repl();
  if (client.repl_peer) co_return;  // already a replica: ignored, as Redis
  // PSYNC replid offset FAILOVER: our master hands us its role (its FAILOVER
  // command), then continues as our replica from where it stands.
  if (!legacy && ctx.argc() > 3 && iequals(ctx.arg(3), "failover")) {
    util::log_warning("Failover request received for replid " + std::string(ctx.arg(1)) + ".");
    if (!repl.is_replica()) {
      ctx.out.error("PSYNC FAILOVER can't be sent to a master.");
      co_return;
    }
    if (ctx.arg(1) != repl.replid()) {
      ctx.out.error("PSYNC FAILOVER replid must match my replid.");
      co_return;
    }
    repl.stop_replicating();
    util::log_notice("MASTER MODE enabled (failover request from 'id=" + std::to_string(client.id) + " addr=" +
                     client.addr + "')");
  }
  if (ctx.srv.failover().current() != replication::failover::state::none) {
    ctx.out.error("-NOMASTERLINK Can't SYNC while failing over");
    co_return;
  }
  if (repl.is_replica() && repl.link.load() != replication::link_state::connected) {
    ctx.out.error("-NOMASTERLINK Can't SYNC while not connected with my master");
    co_return;
  }
  auto peer = std::make_shared<replica_peer>();
  peer->client_id = client.id;
  peer->port = client.repl_listening_port;
  peer->ip = client.repl_ip;
  peer->capa_eof = client.repl_capa_eof;
  peer->legacy_sync = legacy;
  for (auto& c : ctx.srv.clients())
    if (c->id == client.id) peer->client = c;
  server::outbox& box = ctx.session->become_replica();
  peer->box = client.box;
  (void)box;
  client.repl_peer = peer;
  repl.ensure_backlog();
  if (!legacy) {
    std::int64_t offset = -1;
    const std::string replid(ctx.arg(1));
    if (util::parse_int64(ctx.arg(2), offset) && offset >= 0 && replid != "?" &&
        repl.try_continue(replid, static_cast<std::uint64_t>(offset), peer)) {
      repl.sync_partial_ok.fetch_add(1);
      util::log_notice("Partial resynchronization request from " + client.addr + " accepted. Sending " +
                       std::to_string(repl.offset() + 1 - static_cast<std::uint64_t>(offset)) + " bytes of backlog starting from offset " +
                       std::to_string(offset) + ".");
      co_return;
    }
    if (replid != "?") repl.sync_partial_err.fetch_add(1);
  }
  util::log_notice("Replica " + client.addr + " asks for synchronization");
  repl.sync_full.fetch_add(1);
  repl.attach(peer);
  replication::start_full_sync(ctx.srv, peer);
}

asio::awaitable<void> cmd_psync(command_context& ctx) { co_await attach_replica(ctx, false); }
asio::awaitable<void> cmd_sync(command_context& ctx) { co_await attach_replica(ctx, true); }
// PSYNC/SYNC are never queued or run inside a transaction (no-multi).
void cmd_sync_refused(command_context& ctx) { ctx.out.error("Command not allowed inside a transaction"); }

// WAIT numreplicas timeout: replicas that acknowledged this client's writes.
bool parse_wait(command_context& ctx, std::int64_t& wanted, std::int64_t& timeout) {
  if (ctx.srv.repl().is_replica()) {
    ctx.out.error(
        "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is "
        "configured to be writable (which is not the default) writes to replicas are just local and are not "
        "propagated.");
    return false;
  }
  if (!util::parse_int64(ctx.arg(1), wanted)) {
    ctx.out.error(errors::not_integer);
    return false;
  }
  if (!util::parse_int64(ctx.arg(2), timeout)) {
    ctx.out.error("timeout is not an integer or out of range");
    return false;
  }
  if (timeout < 0) {
    ctx.out.error("timeout is negative");
    return false;
  }
  return true;
}

void cmd_wait_now(command_context& ctx) {
  std::int64_t wanted, timeout;
  if (!parse_wait(ctx, wanted, timeout)) return;
  ctx.out.integer(ctx.srv.repl().acked_at_least(ctx.client.repl_write_offset));
}

asio::awaitable<void> cmd_wait(command_context& ctx) {
  std::int64_t wanted, timeout;
  if (!parse_wait(ctx, wanted, timeout)) co_return;
  auto& repl = ctx.srv.repl();
  const std::uint64_t target = ctx.client.repl_write_offset;
  int acked = repl.acked_at_least(target);
  if (acked >= wanted) co_return ctx.out.integer(acked);
  repl.feed_getack();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
  asio::steady_timer t(co_await asio::this_coro::executor);
  // The replicas' ACKs arrive on their own connections: checked every
  // millisecond or so until enough came or the timeout passed.
  while ((acked = repl.acked_at_least(target)) < wanted && (timeout == 0 || std::chrono::steady_clock::now() < deadline) &&
         !ctx.srv.shutting_down()) {
    if (repl.is_replica()) {  // turned replica meanwhile (REPLICAOF, FAILOVER), as Redis unblocks it
      ctx.out.error(role_change_error);
      if (ctx.session) ctx.session->close_after_reply();
      co_return;
    }
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  ctx.out.integer(acked);
}

// REPLICAOF host port | NO ONE (and its old name SLAVEOF).
void cmd_replicaof(command_context& ctx) {
  auto& repl = ctx.srv.repl();
  if (ctx.srv.failover().current() != replication::failover::state::none)
    return ctx.out.error("REPLICAOF not allowed while failing over.");
  if (iequals(ctx.arg(1), "no") && iequals(ctx.arg(2), "one")) {
    if (repl.is_replica()) {
      repl.stop_replicating();
      util::log_notice("MASTER MODE enabled (user request from 'id=" + std::to_string(ctx.client.id) + " addr=" +
                       ctx.client.addr + "')");
    }
    return ctx.out.ok();
  }
  std::int64_t port;
  if (!util::parse_int64(ctx.arg(2), port)) return ctx.out.error(errors::not_integer);
  if (port < 0 || port > 65535) return ctx.out.error("Invalid master port");
  const std::string host(ctx.arg(1));
  if (auto m = repl.master(); m && m->first == host && m->second == port) {
    util::log_notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
    return ctx.out.simple("OK Already connected to specified master");
  }
  repl.replicate(host, static_cast<int>(port));
  util::log_notice("REPLICAOF " + host + ":" + std::to_string(port) + " enabled (user request from 'id=" +
                   std::to_string(ctx.client.id) + " addr=" + ctx.client.addr + "')");
  ctx.out.ok();
}

// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT
void cmd_failover(command_context& ctx) {
  auto& fo = ctx.srv.failover();
  if (ctx.argc() == 2 && iequals(ctx.arg(1), "abort")) {
    const std::string error = fo.abort_by_user();
    return error.empty() ? ctx.out.ok() : ctx.out.error(error);
  }
  replication::failover::request r;
  for (std::size_t j = 1; j < ctx.argc(); ++j) {
    if (iequals(ctx.arg(j), "timeout") && j + 1 < ctx.argc() && r.timeout_ms == 0) {
      if (!util::parse_int64(ctx.arg(j + 1), r.timeout_ms)) return ctx.out.error(errors::not_integer);
      if (r.timeout_ms <= 0) return ctx.out.error("FAILOVER timeout must be greater than 0");
      ++j;
    } else if (iequals(ctx.arg(j), "to") && j + 2 < ctx.argc() && !r.host) {
      if (!util::parse_int64(ctx.arg(j + 2), r.port)) return ctx.out.error(errors::not_integer);
      r.host = std::string(ctx.arg(j + 1));
      j += 2;
    } else if (iequals(ctx.arg(j), "force") && !r.force) {
      r.force = true;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  const std::string error = fo.begin(r, ctx.now_ms);
  if (!error.empty()) return ctx.out.error(error);
  ctx.out.ok();
}

void cmd_role(command_context& ctx) {
  auto& repl = ctx.srv.repl();
  if (auto m = repl.master()) {
    ctx.out.array(5);
    ctx.out.bulk("slave");
    ctx.out.bulk(m->first);
    ctx.out.integer(m->second);
    ctx.out.bulk(link_state_name(repl.link.load()));
    ctx.out.integer(repl.link.load() == replication::link_state::connected ? static_cast<std::int64_t>(repl.offset()) : -1);
    return;
  }
  ctx.out.array(3);
  ctx.out.bulk("master");
  ctx.out.integer(static_cast<std::int64_t>(repl.offset()));
  std::vector<std::shared_ptr<replica_peer>> online;
  for (auto& p : repl.peers())
    if (p->state == replica_peer::phase::online) online.push_back(p);
  ctx.out.array(online.size());
  for (auto& p : online) {
    ctx.out.array(3);
    ctx.out.bulk(replication::replica_address(*p));
    ctx.out.bulk(std::to_string(p->port));
    ctx.out.bulk(std::to_string(p->ack_offset.load()));
  }
}

void line(std::string& s, std::string_view key, const std::string& value) {
  s.append(key);
  s.push_back(':');
  s.append(value);
  s.append("\r\n");
}
void line(std::string& s, std::string_view key, std::int64_t value) { line(s, key, std::to_string(value)); }

}  // namespace

std::string replication_info_text(server::server_context& srv) {
  auto& repl = srv.repl();
  auto& config = srv.config();
  std::string out;
  const std::int64_t now = util::now_ms();
  if (auto m = repl.master()) {
    const auto state = repl.link.load();
    const bool up = state == replication::link_state::connected;
    line(out, "role", "slave");
    line(out, "master_host", m->first);
    line(out, "master_port", m->second);
    line(out, "master_link_status", up ? "up" : "down");
    const std::int64_t last_io = repl.last_master_io_ms.load();  // the link refreshes it every second
    line(out, "master_last_io_seconds_ago", up && last_io ? (now - last_io) / 1000 : -1);
    const bool syncing = state == replication::link_state::transfer;
    line(out, "master_sync_in_progress", syncing ? 1 : 0);
    line(out, "slave_read_repl_offset", static_cast<std::int64_t>(repl.offset()));
    line(out, "slave_repl_offset", static_cast<std::int64_t>(repl.offset()));
    if (syncing) {
      const auto total = static_cast<std::int64_t>(repl.sync_total_bytes.load());
      const auto read = static_cast<std::int64_t>(repl.sync_read_bytes.load());
      line(out, "master_sync_total_bytes", total ? total : -1);
      line(out, "master_sync_read_bytes", read);
      line(out, "master_sync_left_bytes", total ? total - read : -1);
      char perc[32];
      std::snprintf(perc, sizeof(perc), "%.2f", total ? 100.0 * static_cast<double>(read) / static_cast<double>(total) : 0.0);
      line(out, "master_sync_perc", perc);
      line(out, "master_sync_last_io_seconds_ago", 0);
    }
    if (!up) {
      const std::int64_t since = repl.link_down_since_ms.load();
      line(out, "master_link_down_since_seconds", since ? (now - since) / 1000 : -1);
    }
    line(out, "slave_priority", config.get_int("replica-priority"));
    line(out, "slave_read_only", config.get_bool("replica-read-only") ? 1 : 0);
    line(out, "replica_announced", config.get_bool("replica-announced") ? 1 : 0);
  } else {
    line(out, "role", "master");
  }
  const auto peers = repl.peers();
  line(out, "connected_slaves", static_cast<std::int64_t>(peers.size()));
  std::size_t n = 0;
  for (auto& p : peers) {
    const std::int64_t ack = p->ack_ms.load();
    line(out, "slave" + std::to_string(n++),
         "ip=" + replication::replica_address(*p) + ",port=" + std::to_string(p->port) + ",state=" + state_name(p->state) +
             ",offset=" + std::to_string(p->ack_offset.load()) + ",lag=" + std::to_string(ack ? (now - ack) / 1000 : 0));
  }
  line(out, "master_failover_state", srv.failover().state_name());
  line(out, "master_replid", repl.replid());
  line(out, "master_replid2", repl.replid2());
  line(out, "master_repl_offset", static_cast<std::int64_t>(repl.offset()));
  line(out, "second_repl_offset", repl.second_offset());
  const auto b = repl.backlog_info();
  line(out, "repl_backlog_active", b.active ? 1 : 0);
  line(out, "repl_backlog_size", static_cast<std::int64_t>(b.size));
  line(out, "repl_backlog_first_byte_offset", static_cast<std::int64_t>(b.first_offset));
  line(out, "repl_backlog_histlen", static_cast<std::int64_t>(b.histlen));
  return out;
}

void register_replication_commands(command_table& t) {
  t.add("replconf", exec_kind::local, cmd_replconf);
  t.add_async("psync", cmd_psync, cmd_sync_refused);
  t.add_async("sync", cmd_sync, cmd_sync_refused);
  t.add_async("wait", cmd_wait, cmd_wait_now);
  t.add("replicaof", exec_kind::local, cmd_replicaof);
  t.add("slaveof", exec_kind::local, cmd_replicaof);
  t.add("role", exec_kind::local, cmd_role);
  t.add("failover", exec_kind::local, cmd_failover);
}

}  // namespace shrike::commands
