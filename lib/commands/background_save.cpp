// BGSAVE [SCHEDULE]: a forkless point-in-time RDB file. The command fixes the
// point in time (every gate held, persistence::snapshot::begin) and returns;
// a detached coroutine then has each shard save itself in ~256 KB steps (runs
// on the shard), appends the steps to a temp file, and commits it (fsync,
// rename) as SAVE does. Meanwhile write commands save the keys they are about
// to change first (save_before_write), so the file is the dataset as it was
// when BGSAVE was called.
#include "commands/background_save.hpp"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <numeric>
#include <vector>

#include "commands/command_context.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/persistence.hpp"
#include "persistence/crc64.hpp"
#include "persistence/rdb_file.hpp"
#include "persistence/rdb_format.hpp"
#include "persistence/snapshot.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace shrike::commands {

namespace asio = boost::asio;

void save_keys_before_write_slow(server::server_context& srv, std::size_t db, std::span<const std::string_view> keys) {
  persistence::snapshot* snap = srv.active_snapshot.load(std::memory_order_relaxed);
  if (!snap) return;
  const std::int64_t now = util::now_ms();
  for (auto key : keys) snap->guard(srv.shards().shard_of(key), db, key, now);
}

void save_before_write_slow(server::server_context& srv, std::size_t db, const command_row& row,
                            std::span<const std::string_view> argv) {
  persistence::snapshot* snap = srv.active_snapshot.load(std::memory_order_relaxed);
  if (!snap || !(row.info->flags & flag_write)) return;
  const std::int64_t now = util::now_ms();
  auto& shards = srv.shards();
  if (row.kind == exec_kind::all_shards) {  // FLUSHALL, FLUSHDB, SWAPDB: every gate is held
    for (std::size_t s = 0; s < shards.size(); ++s) snap->finish_shard(s, now);
    return;
  }
  std::vector<int> positions;
  command_table::key_positions(row, argv, positions);
  for (int p : positions) {
    auto key = argv[static_cast<std::size_t>(p)];
    snap->guard(shards.shard_of(key), db, key, now);
  }
  // MOVE key db and COPY src dst DB n write into another database.
  const auto& name = row.info->name;
  std::int64_t other = -1;
  if (name == "move" && argv.size() == 3) {
    util::parse_int64(argv[2], other);
    if (other >= 0 && static_cast<std::size_t>(other) < srv.databases())
      snap->guard(shards.shard_of(argv[1]), static_cast<std::size_t>(other), argv[1], now);
  } else if (name == "copy") {
    for (std::size_t i = 3; i + 1 < argv.size(); ++i)
      if (iequals(argv[i], "db") && util::parse_int64(argv[i + 1], other) && other >= 0 &&
          static_cast<std::size_t>(other) < srv.databases())
        snap->guard(shards.shard_of(argv[2]), static_cast<std::size_t>(other), argv[2], now);
  }
}

namespace {
constexpr std::size_t step_bytes = std::size_t{256} << 10;
}  // namespace

asio::awaitable<std::shared_ptr<persistence::snapshot>> begin_snapshot(server::server_context& srv,
                                                                       const std::function<void()>& at_begin) {
  std::int64_t expected = 0;
  const std::int64_t now = util::now_ms();
  if (!srv.bgsave_started_ms.compare_exchange_strong(expected, now)) co_return nullptr;
  auto snap = std::make_shared<persistence::snapshot>(srv.shards(), rdb_save_options_for(srv));
  auto begin = [&] {
    snap->begin();
    srv.active_snapshot.store(snap.get(), std::memory_order_relaxed);
    std::uint64_t total = 0;
    for (std::size_t s = 0; s < srv.shards().size(); ++s)
      for (std::size_t d = 0; d < srv.databases(); ++d) total += srv.shards().at(s).db(d).size();
    srv.bgsave_keys_total = total;
    if (at_begin) at_begin();
  };
  co_await srv.shards().run_on_all(begin);
  srv.bgsave_keys_saved = 0;
  co_return snap;
}

asio::awaitable<void> stream_snapshot(server::server_context& srv, std::shared_ptr<persistence::snapshot> snap,
                                      std::int64_t started_ms, const snapshot_sink& sink) {
  auto& shards = srv.shards();
  const auto opts = rdb_save_options_for(srv);
  std::uint64_t crc = 0;
  auto write = [&](std::string_view bytes) -> asio::awaitable<void> {
    if (bytes.empty()) co_return;
    crc = persistence::crc64(crc, bytes);
    co_await sink(bytes);
  };
  {
    std::string head;
    persistence::rdb_writer w(head, opts);
    w.header(rdb_aux_fields(started_ms));
    co_await write(head);
  }
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::vector<char> done(shards.size(), 0);
  std::size_t remaining = shards.size();
  std::string chunk;
  while (remaining > 0) {
    for (std::size_t s = 0; s < shards.size(); ++s) {
      if (done[s]) continue;
      bool more = true;
      auto step = [&] {
        more = snap->step(s, util::now_ms(), step_bytes);
        snap->take(s, chunk);
      };
      const auto t0 = std::chrono::steady_clock::now();
      co_await shards.at(s).run(step);
      const auto busy = std::chrono::steady_clock::now() - t0;
      srv.bgsave_keys_saved = snap->keys_saved();
      co_await write(chunk);  // owning no shard
      // Half the time for the save at most: the pool threads are the
      // clients' too (Redis's fork child has a core of its own).
      pause.expires_after(busy);
      co_await pause.async_wait(asio::use_awaitable);
      if (!more) {
        done[s] = 1;
        --remaining;
      }
    }
  }
  // Every key is saved: writers have nothing left to guard. The pointer goes
  // with every gate held, so no command is using it any more.
  std::string rest;
  auto finish = [&] {
    srv.active_snapshot.store(nullptr, std::memory_order_relaxed);
    for (std::size_t s = 0; s < shards.size(); ++s) {
      snap->take(s, chunk);
      rest += chunk;
    }
  };
  co_await shards.run_on_all(finish);
  co_await write(rest);
  std::string tail(1, static_cast<char>(persistence::rdb::opcode_eof));
  crc = persistence::crc64(crc, tail);
  const std::uint64_t trailer = opts.checksum ? crc : 0;
  for (int i = 0; i < 8; ++i) tail.push_back(static_cast<char>((trailer >> (8 * i)) & 0xff));
  co_await sink(tail);
}

namespace {

asio::awaitable<void> run_background_save(server::server_context& srv, std::shared_ptr<persistence::snapshot> snap,
                                          std::int64_t started_ms, std::uint64_t dirty_at_start) {
  const std::string path = rdb_path(srv);
  persistence::rdb_file_writer file;
  std::string error;
  bool ok = file.open(rdb_temp_path(srv, "bg-" + std::to_string(::getpid())), error);
  co_await stream_snapshot(srv, snap, started_ms, [&](std::string_view bytes) -> asio::awaitable<void> {
    if (ok) ok = file.write(bytes, error);
    co_return;
  });
  if (ok) ok = file.commit(path, error);
  const std::int64_t now = util::now_ms();
  srv.last_bgsave_ok = ok;
  srv.last_bgsave_seconds = (now - started_ms) / 1000;
  srv.bgsave_started_ms = 0;
  if (ok) {
    srv.lastsave_s = started_ms / 1000;
    srv.dirty_at_last_save = dirty_at_start;
    srv.rdb_saves.fetch_add(1);
    util::log_notice("Background saving terminated with success");
  } else {
    util::log_warning("Background saving error: " + error);
  }
  if (srv.bgsave_scheduled.exchange(false)) {
    co_await start_background_save(srv);
  }
}

}  // namespace

asio::awaitable<bool> start_background_save(server::server_context& srv) {
  std::uint64_t dirty_at_start = 0;
  auto snap = co_await begin_snapshot(srv, [&] { dirty_at_start = srv.dirty.load(); });
  if (!snap) co_return false;
  const std::int64_t started = srv.bgsave_started_ms.load();
  util::log_notice("Background saving started");
  asio::co_spawn(srv.io(), run_background_save(srv, snap, started, dirty_at_start), [](std::exception_ptr e) {
    if (e) util::log_warning("Background saving failed with an exception");
  });
  co_return true;
}

namespace {

asio::awaitable<void> cmd_bgsave(command_context& ctx) {
  bool schedule = false;
  if (ctx.argc() > 1) {
    if (ctx.argc() == 2 && iequals(ctx.arg(1), "schedule"))
      schedule = true;
    else
      co_return ctx.out.error(errors::syntax);
  }
  if (ctx.srv.bgsave_started_ms.load() != 0) {
    if (schedule) {
      ctx.srv.bgsave_scheduled = true;
      co_return ctx.out.simple("Background saving scheduled");
    }
    co_return ctx.out.error("Background save already in progress");
  }
  if (co_await start_background_save(ctx.srv))
    ctx.out.simple("Background saving started");
  else
    ctx.out.error("Background save already in progress");
}

}  // namespace

void register_background_save_commands(command_table& t) { t.add_async("bgsave", cmd_bgsave); }

}  // namespace shrike::commands
