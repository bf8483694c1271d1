#include "replication/full_sync.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "commands/background_save.hpp"
#include "commands/persistence.hpp"
#include "persistence/rdb_file.hpp"
#include "replication/replication_state.hpp"
#include "server/server_context.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

// g++ 12 under -fsanitize=thread reports -Wmismatched-new-delete for
// run_sync_job's coroutine frame: a false positive (Asio's awaitable frame
// allocates and frees it with its own matching operators).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace shrike::replication {

namespace asio = boost::asio;

struct sync_job {
  std::vector<std::shared_ptr<replica_peer>> peers;
  bool diskless = false;
};

namespace {

// A replica's socket absorbs the RDB at its own pace: the snapshot waits
// while any replica has more than this queued.
constexpr std::size_t max_queued = std::size_t{8} << 20;

std::string eof_mark() {
  static const char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  std::string mark(40, '0');
  for (auto& c : mark) c = hex[gen() & 15];
  return mark;
}

void send(const std::vector<std::shared_ptr<replica_peer>>& peers, std::string_view bytes) {
  const std::int64_t now = util::now_ms();
  for (auto& p : peers)
    if (!p->box->closed()) p->box->append(bytes, now);
}

asio::awaitable<void> wait_for_drain(const std::vector<std::shared_ptr<replica_peer>>& peers, asio::steady_timer& t) {
  for (;;) {
    bool full = false;
    for (auto& p : peers)
      if (!p->box->closed() && p->box->pending() > max_queued) full = true;
    if (!full) co_return;
    t.expires_after(std::chrono::milliseconds(2));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> run_sync_job(server::server_context& srv, std::shared_ptr<sync_job> job) {
  auto& repl = srv.repl();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  if (job->diskless) {
    const auto delay = srv.config().get_int("repl-diskless-sync-delay");
    if (delay > 0) {
      timer.expires_after(std::chrono::seconds(delay));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  // One snapshot at a time: a BGSAVE in progress finishes first.
  std::vector<std::shared_ptr<replica_peer>> peers;
  std::shared_ptr<persistence::snapshot> snap;
  for (;;) {
    snap = co_await commands::begin_snapshot(srv, [&] {
      {
        std::lock_guard lock(repl.sync_jobs_mutex);
        if (repl.waiting_job == job) repl.waiting_job = nullptr;
        peers = job->peers;
      }
      const std::uint64_t offset = repl.begin_transfer(peers);
      const std::string line = "+FULLRESYNC " + repl.replid() + " " + std::to_string(offset) + "\r\n";
      for (auto& p : peers)
        if (!p->legacy_sync) p->box->append(line, util::now_ms());
    });
    if (snap || srv.shutting_down()) break;
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (!snap) co_return;
  const std::int64_t started = srv.bgsave_started_ms.load();
  util::log_notice(std::string("Starting BGSAVE for SYNC with target: ") + (job->diskless ? "replicas sockets" : "disk"));
  if (job->diskless) {
    const std::string mark = eof_mark();
    send(peers, "$EOF:" + mark + "\r\n");
    co_await commands::stream_snapshot(srv, snap, started, [&](std::string_view bytes) -> asio::awaitable<void> {
      send(peers, bytes);
      co_await wait_for_drain(peers, timer);
    });
    for (auto& p : peers) p->awaiting_rdb_ack = true;
    send(peers, mark);
    srv.bgsave_started_ms = 0;
    util::log_notice("Diskless sync to replicas done, waiting for their ACK");
    co_return;
  }
  const std::string path = commands::rdb_temp_path(srv, "sync-" + std::to_string(util::now_us()));
  persistence::rdb_file_writer file;
  std::string error;
  bool ok = file.open(path, error);
  std::uint64_t size = 0;
  co_await commands::stream_snapshot(srv, snap, started, [&](std::string_view bytes) -> asio::awaitable<void> {
    if (ok) ok = file.write(bytes, error);
    size += bytes.size();
    co_return;
  });
  if (ok) ok = file.commit(path, error);
  srv.bgsave_started_ms = 0;
  if (!ok) {
    util::log_warning("Failed to write the RDB for SYNC: " + error);
    for (auto& p : peers)
      if (auto c = p->client.lock(); c && c->kill) c->kill();
    co_return;
  }
  send(peers, "$" + std::to_string(size) + "\r\n");
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::string chunk(1 << 20, '\0');
    for (;;) {
      const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), f);
      if (n == 0) break;
      send(peers, std::string_view(chunk.data(), n));
      co_await wait_for_drain(peers, timer);
    }
    std::fclose(f);
  }
  std::remove(path.c_str());
  for (auto& p : peers) repl.finish_transfer(*p);
  util::log_notice("Synchronization with replicas succeeded");
}

}  // namespace

void start_full_sync(server::server_context& srv, std::shared_ptr<replica_peer> peer) {
  auto& repl = srv.repl();
  const bool diskless = srv.config().get_bool("repl-diskless-sync") && peer->capa_eof && !peer->legacy_sync;
  std::shared_ptr<sync_job> job;
  {
    std::lock_guard lock(repl.sync_jobs_mutex);
    if (diskless && repl.waiting_job && repl.waiting_job->diskless) {
      repl.waiting_job->peers.push_back(std::move(peer));
      return;
    }
    job = std::make_shared<sync_job>();
    job->peers.push_back(std::move(peer));
    job->diskless = diskless;
    repl.waiting_job = job;
  }
  asio::co_spawn(srv.io(), run_sync_job(srv, job), [](std::exception_ptr e) {
    if (e) util::log_warning("Full synchronization with a replica failed with an exception");
  });
}

}  // namespace shrike::replication
