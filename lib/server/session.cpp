#include "server/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>

#include "acl/acl.hpp"
#include "commands/background_save.hpp"
#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/maxmemory.hpp"
#include "commands/persistence.hpp"
#include "commands/propagation.hpp"
#include "commands/pubsub.hpp"
#include "commands/tracking.hpp"
#include "commands/transaction.hpp"
#include "replication/replication_state.hpp"
#include "scripting/busy.hpp"
#include "store/expiry_policy.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace shrike::server {

namespace asio = boost::asio;
using commands::command_row;
using commands::exec_kind;

namespace {
// tcp-keepalive as Redis sets it (anetKeepAlive): the first probe after
// `seconds` idle, then every seconds/3, the peer dropped after 3 unanswered.
void enable_keepalive(int fd, std::int64_t seconds) {
  if (seconds <= 0) return;
  const int idle = static_cast<int>(std::min<std::int64_t>(seconds, INT_MAX));
  const int interval = std::max(1, idle / 3), count = 3, on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

constexpr std::size_t initial_read_size = 16 * 1024;
constexpr std::size_t max_batch = 1024;  // requests parsed before replies are flushed
// A batch whose commands ran this long has its reply written after the
// other ready clients ran (see run()). Measured against writing every batch
// after them: GET at pipeline 1 and 16 and LRANGE_100 at pipeline 1 take
// 9-10% less server CPU per request, a 1000-iteration Lua loop no more.
constexpr std::chrono::microseconds heavy_batch{5};

// "ip:port", or "[ip6]:port" as Redis's anetFormatAddr writes IPv6 peers.
std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v4()) return addr.to_string() + ":" + std::to_string(ep.port());
  return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
}
}  // namespace

using commands::iequals;

struct session::planned {
  resp::request req;
  const command_row* row = nullptr;
  std::string error;
  enum class place_t { here, shard, gated, async } place = place_t::here;
  std::size_t shard = 0;
  std::vector<std::size_t> shards;
  bool has_key_hash = false;
  std::uint64_t key_hash = 0;  // hash_key of the first key (batch prefetch)
  std::string_view raw;  // the request's bytes (a master's stream is fed on as received)
};

session::session(server_context& srv, asio::ip::tcp::socket socket)
    : srv_(srv), socket_(std::move(socket)), client_(std::make_shared<client_state>()) {
  client_->id = srv_.next_client_id();
  client_->created_ms = util::now_ms();
  client_->last_interaction_ms = client_->created_ms;
  boost::system::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) {
    client_->addr = endpoint_text(remote);
    client_->local_peer = remote.address().is_loopback();
  }
  auto local = socket_.local_endpoint(ec);
  if (!ec) client_->laddr = endpoint_text(local);
  client_->fd = socket_.native_handle();
  acl::set_default_auth(srv_, *client_);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  enable_keepalive(socket_.native_handle(), srv_.tcp_keepalive_s.load(std::memory_order_relaxed));
  socket_.non_blocking(true, ec);  // flush() tries a plain send first
  in_.resize(initial_read_size);
  push_signal_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  push_signal_->expires_at(asio::steady_timer::time_point::max());
}

session::session(server_context& srv, asio::ip::tcp::socket socket, std::string input, peer_kind kind)
    : session(srv, std::move(socket)) {
  stash_ = std::move(input);
  kind_ = kind;
  if (kind == peer_kind::master) {
    client_->role = peer_role::master;
    client_->authenticated = true;
  }
}

session::~session() {
  if (client_->tracking) srv_.tracking().disable(*client_);
  commands::unwatch_all(srv_, *client_);
  commands::unsubscribe_everything(srv_, *client_);
  if (client_->repl_peer) srv_.repl().detach(client_->id);
  srv_.unregister_client(client_->id);
}

void session::reset_connection() {
  if (client_->tracking) srv_.tracking().disable(*client_);
  commands::discard_transaction(srv_, *client_);
  commands::unsubscribe_everything(srv_, *client_);
  client_->db = 0;
  client_->db_shown = 0;
  client_->resp = 2;
  client_->replies = reply_mode::on;
  client_->no_evict = false;
  client_->no_touch = false;
  {
    std::lock_guard lock(client_->info_mutex);
    client_->name.clear();
  }
  acl::set_default_auth(srv_, *client_);
}

bool session::become_monitor() {
  if (is_monitor_) return false;  // Redis ignores a second MONITOR
  is_monitor_ = true;
  enter_push_mode();
  srv_.add_monitor(client_);
  return true;
}

outbox& session::enter_pubsub() {
  enter_push_mode();
  if (!out_.empty()) {
    client_->box->append(out_, util::now_ms());
    out_.clear();
    out_moved_ = true;
  }
  return *client_->box;
}

outbox& session::become_replica() {
  client_->role = peer_role::replica;
  client_->box->klass = client_class::replica;
  return enter_pubsub();
}

void session::enter_push_mode() {
  if (push_mode_) return;
  push_mode_ = true;
  // Possibly called by a shard's owner on another thread (a command in a
  // queued run): the writer starts on the session's own executor.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    asio::co_spawn(self->socket_.get_executor(), [self] { return self->push_writer(); }, asio::detached);
  });
}

asio::awaitable<void> session::push_writer() {
  std::string chunk;
  outbox& box = *client_->box;
  while (socket_.is_open()) {
    chunk.clear();
    // take() and the wait run in one step of this executor, so a wake posted
    // by an append after take() finds the wait in place.
    if (!box.take(chunk)) {
      boost::system::error_code ec;
      co_await push_signal_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      push_signal_->expires_at(asio::steady_timer::time_point::max());
      continue;
    }
    client_->output_buffer.store(box.pending(), std::memory_order_relaxed);
    boost::system::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    box.written(chunk.size());
    if (ec) break;
    srv_.stats().net_output_bytes.fetch_add(chunk.size(), std::memory_order_relaxed);
    if (chunk.capacity() > 1024 * 1024) std::string().swap(chunk);
  }
}

asio::awaitable<void> session::run() {
  auto self = shared_from_this();
  {
    std::weak_ptr<session> weak = self;
    auto ex = co_await asio::this_coro::executor;
    client_->kill = [weak, ex] {
      asio::post(ex, [weak] {
        if (auto s = weak.lock()) {
          boost::system::error_code ec;
          s->socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
          s->socket_.close(ec);
          s->push_signal_->cancel();
        }
      });
    };
    auto wake = [weak, ex] {
      asio::post(ex, [weak] {
        auto s = weak.lock();
        if (!s) return;
        // Bytes for a connection that is not in push mode yet (a RESP3
        // client that another client's invalidations are redirected to):
        // switch now if it idles in a read, else at its next flush.
        s->push_wanted_ = true;
        if (s->reading_) s->enter_push_mode();
        s->push_signal_->cancel();
      });
    };
    client_->box = std::make_shared<outbox>(srv_.output_limits, std::move(wake), client_->kill);
  }
  srv_.register_client(client_);
  // The master's link: replies are dropped, ACKs go through the outbox.
  if (kind_ == peer_kind::master) enter_push_mode();

  // Slots are reused batch after batch so their vectors keep their capacity:
  // no allocation per request in the steady state.
  std::vector<planned> slots;
  try {
    // The common path of a request (read, run on a free shard, one send())
    // calls no nested coroutine: each would cost a frame and a suspend and
    // resume through asio's coroutine pump, per request at pipeline 1.
    while (!close_) {
      const read_source source = prepare_read();
      if (source == read_source::none) break;
      if (source == read_source::socket) {
        boost::system::error_code ec;
        reading_ = true;
        const std::size_t n = co_await socket_.async_read_drained(
            asio::buffer(in_.data() + in_end_, in_.size() - in_end_), asio::redirect_error(asio::use_awaitable, ec));
        reading_ = false;
        if (!took_bytes(ec, n)) break;
      }
      // Parse and execute until the buffer holds no complete request.
      for (;;) {
        const std::size_t n = parse_available(slots);
        if (n == 0 && protocol_error_.empty()) break;
        clock_started_ = false;
        // processCommand's performEvictions, once per batch.
        out_of_memory_ = false;
        if (kind_ == peer_kind::client && commands::maxmemory_set(srv_)) {
          const bool memory_ok = co_await commands::enforce_maxmemory(srv_);
          out_of_memory_ = !memory_ok;
        }
        const auto batch_started = std::chrono::steady_clock::now();
        const std::size_t done = execute_ready(std::span<planned>(slots.data(), n));
        if (done < n) co_await execute(std::span<planned>(slots.data() + done, n - done));
        if (!protocol_error_.empty()) {
          writer_.set_protocol(client_->resp);
          writer_.error(protocol_error_);
          close_ = true;
        }
        // A batch that took a while is written after the other clients whose
        // requests are ready ran (asio::defer), as Redis writes every ready
        // client's replies once per loop pass: a server that is the
        // bottleneck then sends its replies in bursts and its client wakes
        // once per burst. At pipeline 1 a 1000-iteration Lua loop took 26 us
        // of server CPU per call written at once against 19.6 us deferred,
        // most of the difference being the client's wake-ups. A quick batch
        // is written at once: deferring it costs a reactor poll (epoll_wait)
        // that mostly finds nothing, 5% of the server's CPU per GET.
        if (!out_.empty() && std::chrono::steady_clock::now() - batch_started >= heavy_batch)
          co_await asio::defer(socket_.get_executor(), asio::use_awaitable);
        if (!write_now()) co_await finish_write();
        parser_.release_owned();
        if (close_) break;
      }
    }
  } catch (const boost::system::system_error&) {
    // The peer went away or the socket was closed by CLIENT KILL / shutdown.
  }
  // Gone for other clients before the socket closes (PUBSUB NUMSUB after a
  // subscriber's QUIT no longer counts it).
  commands::unsubscribe_everything(srv_, *client_);
  // Let a push writer send what is queued (a QUIT's +OK) before closing.
  for (int i = 0; i < 100 && push_mode_ && client_->box->pending() > 0 && socket_.is_open(); ++i) {
    asio::steady_timer pause(socket_.get_executor(), std::chrono::milliseconds(5));
    co_await pause.async_wait(asio::use_awaitable);
  }
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  push_signal_->cancel();
}

asio::awaitable<bool> session::wait_blocked(store::blocked_client& c, std::int64_t deadline_ms) {
  using namespace asio::experimental::awaitable_operators;
  // Replies of the commands before the blocked one go out now, as Redis
  // sends them while the client waits.
  co_await flush();
  auto& timer = c.signal();
  auto deadline = asio::steady_timer::time_point::max();
  if (deadline_ms > 0)
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(0, deadline_ms - util::now_ms()));
  timer.expires_at(deadline);
  char chunk[4096];
  for (;;) {
    // wake() posts the timer's cancel to this executor: it cannot run between
    // this check and the wait below.
    if (c.woken()) co_return true;
    auto r = co_await (timer.async_wait(asio::as_tuple(asio::use_awaitable)) ||
                       socket_.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 0) {
      if (c.woken()) co_return true;
      if (std::chrono::steady_clock::now() >= deadline) {
        if (c.claim()) co_return true;  // timed out
        timer.expires_at(asio::steady_timer::time_point::max());  // being served: its wake follows
      }
      continue;
    }
    auto [ec, n] = std::get<1>(r);
    if (ec || n == 0) {
      c.claim();
      co_return false;
    }
    stash_.append(chunk, n);
    srv_.stats().net_input_bytes.fetch_add(n, std::memory_order_relaxed);
  }
}

session::read_source session::prepare_read() {
  if (!stash_.empty()) {
    // Bytes that arrived during a blocking command come first.
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    if (in_.size() - in_end_ < stash_.size()) in_.resize(in_end_ + stash_.size());
    std::memcpy(in_.data() + in_end_, stash_.data(), stash_.size());
    in_end_ += stash_.size();
    stash_.clear();
    return read_source::stash;
  }
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
  } else if (in_.size() - in_end_ < initial_read_size / 2 && in_begin_ > 0) {
    // Move the unconsumed tail (a partial request) to the front. The parser's
    // resume state is relative to the request start, so this is safe.
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_.size() - in_end_ < initial_read_size / 2) {
    if (kind_ != peer_kind::master &&
        in_.size() >= static_cast<std::size_t>(srv_.client_query_buffer_limit.load(std::memory_order_relaxed))) {
      util::log_warning("Closing client that reached max query buffer length");
      return read_source::none;
    }
    in_.resize(in_.size() * 2);
  }
  return read_source::socket;
}

bool session::took_bytes(const boost::system::error_code& ec, std::size_t n) {
  if (ec || n == 0) return false;
  in_end_ += n;
  srv_.stats().net_input_bytes.fetch_add(n, std::memory_order_relaxed);
  client_->last_interaction_ms.store(util::now_ms(), std::memory_order_relaxed);
  client_->query_buffer.store(in_end_ - in_begin_, std::memory_order_relaxed);
  return true;
}

std::size_t session::parse_available(std::vector<planned>& slots) {
  auto& table = commands::command_table::instance();
  auto& shards = srv_.shards();
  std::vector<int>& positions = key_positions_;
  // Limits as of now: CONFIG SET and AUTH change them between requests.
  resp::parser_limits limits;
  if (kind_ == peer_kind::master) {
    limits.max_bulk_len = SIZE_MAX;
  } else {
    limits.max_bulk_len = static_cast<std::size_t>(srv_.proto_max_bulk_len.load(std::memory_order_relaxed));
    limits.unauthenticated = kind_ == peer_kind::client && acl::auth_required(srv_, *client_);
  }
  parser_.set_limits(limits);
  // Until it has authenticated, a client's requests are parsed one at a time:
  // the limits of the request after an AUTH are those of an authenticated one.
  const std::size_t batch_cap = limits.unauthenticated ? 1 : max_batch;
  std::size_t n = 0;
  while (in_begin_ < in_end_ && n < batch_cap) {
    if (n == slots.size()) slots.emplace_back();
    planned& p = slots[n];
    p.row = nullptr;
    p.error.clear();
    p.place = planned::place_t::here;
    p.shard = 0;
    p.shards.clear();
    p.has_key_hash = false;
    std::size_t consumed = 0;
    auto st = parser_.parse(std::string_view(in_.data() + in_begin_, in_end_ - in_begin_), p.req, consumed);
    if (st == resp::request_parser::status::need_more) break;
    if (st == resp::request_parser::status::error) {
      protocol_error_ = parser_.error_text();
      in_begin_ = in_end_;
      break;
    }
    p.raw = std::string_view(in_.data() + in_begin_, consumed);
    in_begin_ += consumed;
    auto& argv = p.req.argv;
    if (argv.empty()) continue;
    // Redis drops a connection that looks like an HTTP request (cross-protocol attack).
    if (iequals(argv[0], "host:") || iequals(argv[0], "post")) {
      util::log_warning("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. Connection aborted.");
      close_ = true;
      in_begin_ = in_end_;
      break;
    }
    p.row = lookup_command(table, argv, p.error);
    if (p.row && p.error.empty()) refused_as_protected(*p.row, p.error);
    // A script past busy-reply-threshold: -BUSY now, not a wait behind its gates.
    if (p.row) scripting::refuse_if_busy(srv_, *p.row, argv, p.error);
    if (p.row && p.error.empty()) {
      switch (p.row->kind) {
        case exec_kind::local: break;
        case exec_kind::session: p.place = planned::place_t::async; break;
        case exec_kind::all_shards:
          p.place = planned::place_t::gated;
          for (std::size_t s = 0; s < shards.size(); ++s) p.shards.push_back(s);
          if (p.shards.size() == 1) {
            p.place = planned::place_t::shard;
            p.shard = 0;
          }
          break;
        case exec_kind::keyed: {
          if (p.row->route) {
            p.place = planned::place_t::shard;
            p.shard = p.row->route(srv_, argv);
            break;
          }
          positions.clear();
          commands::command_table::key_positions(*p.row, argv, positions);
          for (int pos : positions) {
            const std::uint64_t h = store::hash_key(argv[static_cast<std::size_t>(pos)]);
            if (!p.has_key_hash) {
              p.has_key_hash = true;
              p.key_hash = h;
            }
            p.shards.push_back(shards.shard_of_hash(h));
          }
          std::sort(p.shards.begin(), p.shards.end());
          p.shards.erase(std::unique(p.shards.begin(), p.shards.end()), p.shards.end());
          if (p.shards.size() == 1) {
            p.place = planned::place_t::shard;
            p.shard = p.shards[0];
          } else if (p.shards.size() > 1) {
            p.place = planned::place_t::gated;
          }
          break;
        }
      }
    }
    ++n;
  }
  client_->query_buffer.store(in_end_ - in_begin_, std::memory_order_relaxed);
  return n;
}

const command_row* session::lookup_command(const commands::command_table& table,
                                           std::span<const std::string_view> argv, std::string& error) {
  // A pipeline mostly repeats one command: the same name bytes as last time
  // skip the table's hashing. Not for commands with subcommands (COMMAND
  // alone is a container row, COMMAND COUNT is a subcommand's row).
  if (last_row_ && argv[0] == last_name_ && last_row_->info->arity_accepts(argv.size())) return last_row_;
  const command_row* row = table.lookup(argv, error);
  if (row && !row->info->parent && !row->is_container() && argv[0].size() <= 32) {
    last_row_ = row;
    last_name_.assign(argv[0]);
  }
  return row;
}

void session::begin_hop() {
  if (clock_started_) {
    clock_.resume();
  } else {
    clock_.start();
    clock_started_ = true;
  }
}

std::size_t session::plan_run(std::span<planned> batch, std::size_t i, std::size_t& target) const {
  std::size_t j = i;
  target = SIZE_MAX;
  while (j < batch.size()) {
    auto& q = batch[j];
    // While clients are paused each command is checked before it runs.
    if (j > i && srv_.pause().maybe_active()) break;
    if (q.place == planned::place_t::here) {
      ++j;
      if (q.row && q.row->info->name == "client|pause") break;  // what follows it may have to wait
    } else if (q.place == planned::place_t::shard && (target == SIZE_MAX || target == q.shard)) {
      target = q.shard;
      ++j;
    } else {
      break;
    }
  }
  return j;
}

void session::execute_run(std::span<planned> batch, std::size_t i, std::size_t j, std::size_t target) {
  if (target != SIZE_MAX && j - i > 1) {
    // Two prefetch passes before the run (key_table::prefetch_bucket).
    const store::database& db = srv_.shards().at(target).db(client_->db);
    for (std::size_t k = i; k < j; ++k)
      if (batch[k].has_key_hash) db.prefetch_bucket(batch[k].key_hash);
    for (std::size_t k = i; k < j; ++k)
      if (batch[k].has_key_hash) db.prefetch_entry(batch[k].key_hash);
  }
  begin_hop();
  for (std::size_t k = i; k < j && !close_; ++k) execute_one(batch[k]);
}

std::size_t session::execute_ready(std::span<planned> batch) {
  std::size_t i = 0;
  while (i < batch.size() && !close_ && !srv_.pause().maybe_active()) {
    const planned::place_t place = batch[i].place;
    if (place != planned::place_t::here && place != planned::place_t::shard) break;
    std::size_t target = SIZE_MAX;
    const std::size_t j = plan_run(batch, i, target);
    if (target == SIZE_MAX) {
      execute_run(batch, i, j, target);
    } else if (!srv_.shards().at(target).try_run([&] { execute_run(batch, i, j, target); })) {
      break;
    }
    i = j;
  }
  return i;
}

asio::awaitable<void> session::execute(std::span<planned> batch) {
  auto& shards = srv_.shards();
  std::size_t i = 0;
  while (i < batch.size() && !close_) {
    planned& p = batch[i];
    if (srv_.pause().maybe_active()) co_await wait_while_paused(p);
    if (p.place == planned::place_t::async) {
      client_->last_command.store(p.row->info->name.c_str(), std::memory_order_relaxed);
      writer_.set_protocol(client_->resp);
      if (p.error.empty()) acl::refuse(srv_, *client_, *p.row->info, p.req.argv, p.error);  // NOAUTH, NOPERM
      if (p.error.empty() && kind_ == peer_kind::client) refused_for_memory(*p.row, p.error);
      if (p.error.empty() && kind_ == peer_kind::client) refused_by_disk_error(*p.row, p.error);
      if (p.error.empty() && kind_ == peer_kind::client) refused_by_replication(*p.row, p.error);
      if (p.error.empty()) refused_while_subscribed(*p.row, p.error);
      if (!p.error.empty()) {  // refused in subscribed mode: answered like any refused command
        begin_hop();
        execute_one(p);
        ++i;
        continue;
      }
      commands::command_context ctx{srv_, *client_, writer_, p.req.argv, util::now_ms(), p.row, this};
      if (client_->in_multi && commands::queue_in_multi(ctx, p.row, p.error)) {
        if (kind_ == peer_kind::master) {
          srv_.repl().feed_raw(p.raw);
          out_.clear();
        }
        ++i;
        continue;
      }
      replication::effects fx;
      if (kind_ == peer_kind::client && srv_.repl().propagating()) ctx.effects = &fx;
      const std::size_t errors_before = writer_.errors_written();
      const auto t0 = std::chrono::steady_clock::now();
      const std::size_t mark = out_.size();
      co_await p.row->run_async(ctx);
      clock_started_ = false;  // it may have waited long: read the wall clock again
      after_command(p, errors_before, fx);
      if (kind_ == peer_kind::master) out_.resize(std::min(mark, out_.size()));
      // (a blocked command flushes what came before it: the mark may be gone)
      if (commands::key_changes_wanted(srv_))
        commands::note_write(srv_, client_.get(), client_->db, *p.row, p.req.argv,
                             mark <= out_.size() ? std::string_view(out_).substr(mark) : std::string_view());
      if (client_->tracking.load(std::memory_order_relaxed)) {
        commands::note_read(srv_, *client_, *p.row, p.req.argv);
        commands::tracking_command_done(*client_, *p.row);
      }
      if (!client_->tracking_pending.empty()) {  // invalidations of its own writes follow the reply
        out_ += client_->tracking_pending;
        client_->tracking_pending.clear();
      }
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
      commands::note_call(srv_, *p.row, static_cast<std::uint64_t>(us));
      ++i;
      continue;
    }
    if (p.place == planned::place_t::gated) {
      auto fn = [&] {
        begin_hop();
        execute_one(p);
      };
      co_await shards.run_gated(std::span<const std::size_t>(p.shards), fn);
      ++i;
      continue;
    }
    // A run of requests that need no shard or the same single shard: one hop.
    std::size_t target = SIZE_MAX;
    const std::size_t j = plan_run(batch, i, target);
    auto fn = [&, i, j, target] { execute_run(batch, i, j, target); };
    if (target == SIZE_MAX)
      fn();
    else
      co_await shards.at(target).run(fn);
    i = j;
  }
}

asio::awaitable<void> session::wait_while_paused(const planned& p) {
  if (kind_ != peer_kind::client || client_->role.load() == peer_role::replica || !p.row || !p.error.empty())
    co_return;
  constexpr std::uint64_t replicated = commands::flag_write | commands::flag_may_replicate;
  bool writes = (p.row->info->flags & replicated) != 0;
  if (p.row->info->name == "exec")
    for (const auto& q : client_->multi_queue) writes = writes || (q.row && (q.row->info->flags & replicated));
  if (!srv_.pause().holds(writes, util::now_ms())) co_return;
  client_->last_command.store(p.row->info->name.c_str(), std::memory_order_relaxed);
  // Postponed as Redis postpones it: earlier replies go out, and the client
  // counts as blocked meanwhile.
  co_await flush();
  srv_.blocked_clients.fetch_add(1, std::memory_order_relaxed);
  client_->blocked.store(true);
  co_await srv_.pause().wait(writes);
  client_->blocked.store(false);
  srv_.blocked_clients.fetch_sub(1, std::memory_order_relaxed);
  clock_started_ = false;
}

bool session::refused_as_protected(const command_row& row, std::string& error) const {
  if (!row.info->has(commands::flag_protected)) return false;
  const commands::command_info& top = row.info->parent ? *row.info->parent : *row.info;
  const bool is_debug = top.name == "debug";
  const char* option = is_debug ? "enable-debug-command" : "enable-module-command";
  const std::string allowed = srv_.config().get_one(option).value_or("no");
  if (allowed == "yes" || (allowed == "local" && client_->local_peer)) return false;
  error = std::string("-ERR ") + (is_debug ? "DEBUG" : "MODULE") + " command not allowed. If the " + option +
          " option is set to \"local\", you can run it from a local connection, otherwise you need to set this "
          "option in the configuration file, and then restart the server.";
  return true;
}

bool session::refused_while_subscribed(const command_row& row, std::string& error) const {
  if (client_->resp != 2 || client_->subscriptions() == 0) return false;
  static constexpr std::string_view allowed[] = {"ping",         "subscribe",   "ssubscribe",
                                                 "unsubscribe",  "sunsubscribe", "psubscribe",
                                                 "punsubscribe", "quit",         "reset"};
  for (auto name : allowed)
    if (row.info->name == name) return false;
  error = "-ERR Can't execute '" + row.info->name +
          "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";
  return true;
}

void session::execute_one(planned& p) {
  if (close_) return;
  // CLIENT LIST's cmd: the command found, as soon as it is found (Redis sets
  // lastcmd before the checks that may refuse it; NULL for an unknown one).
  client_->last_command.store(p.row ? p.row->info->name.c_str() : "NULL", std::memory_order_relaxed);
  writer_.set_protocol(client_->resp);
  if (p.row && p.error.empty()) acl::refuse(srv_, *client_, *p.row->info, p.req.argv, p.error);  // NOAUTH, NOPERM
  if (p.row && p.error.empty() && kind_ == peer_kind::client) refused_for_memory(*p.row, p.error);
  if (p.row && p.error.empty() && kind_ == peer_kind::client) refused_by_disk_error(*p.row, p.error);
  if (p.row && p.error.empty() && kind_ == peer_kind::client) refused_by_replication(*p.row, p.error);
  if (p.row && p.error.empty()) refused_while_subscribed(*p.row, p.error);
  if (client_->in_multi) {
    commands::command_context ctx{srv_, *client_, writer_, p.req.argv, 0, p.row, this};
    const std::size_t mark = out_.size();
    if (commands::queue_in_multi(ctx, p.row, p.error)) {
      if (kind_ == peer_kind::master) {
        srv_.repl().feed_raw(p.raw);
        out_.resize(mark);
      }
      return;
    }
  }
  std::size_t mark = out_.size();
  const reply_mode before = client_->replies;
  if (!p.error.empty()) {
    writer_.error(p.error);
    srv_.stats().error_replies.fetch_add(1, std::memory_order_relaxed);
    if (p.row) p.row->stat.record_rejection();
  } else {
    commands::command_context ctx{srv_, *client_, writer_, p.req.argv, clock_.now_ms(), p.row, this, &ready_keys_};
    replication::effects fx;
    if (kind_ == peer_kind::client && srv_.repl().propagating()) ctx.effects = &fx;
    const std::size_t errors_before = writer_.errors_written();
    try {
      commands::save_before_write(srv_, client_->db, *p.row, p.req.argv);
      store::expiry_policy::master_stream_scope applying(kind_ == peer_kind::master);
      p.row->run(ctx);
    } catch (const std::bad_alloc&) {
      out_.resize(std::min(mark, out_.size()));
      writer_.error("-OOM command not allowed when used memory > 'maxmemory'.");
    }
    if (out_moved_) {  // earlier replies went to the outbox: this command's start is now 0
      mark = 0;
      out_moved_ = false;
    }
    // Fed while the command still holds its shard(s), and before the
    // waiters it serves next propagate their pops.
    after_command(p, errors_before, fx);
    // Still on the command's shard(s): hand new elements to blocked clients.
    if (!ready_keys_.empty()) commands::serve_ready_keys(srv_, ready_keys_);
    const auto us = clock_.lap_us();
    auto& st = p.row->stat;
    commands::note_call(srv_, *p.row, static_cast<std::uint64_t>(us));
    if (p.row->info->flags & commands::flag_write) srv_.dirty.fetch_add(1);
    if (writer_.errors_written() != errors_before) {
      st.record_failure();
      srv_.stats().error_replies.fetch_add(1, std::memory_order_relaxed);
    } else if (commands::key_changes_wanted(srv_)) {
      commands::note_write(srv_, client_.get(), client_->db, *p.row, p.req.argv, std::string_view(out_).substr(mark));
    }
    if (client_->tracking.load(std::memory_order_relaxed)) {
      commands::note_read(srv_, *client_, *p.row, p.req.argv);
      commands::tracking_command_done(*client_, *p.row);
    }
    srv_.stats().total_commands.fetch_add(1, std::memory_order_relaxed);
    const auto slower_than = srv_.slowlog_slower_than_us.load(std::memory_order_relaxed);
    if (slower_than >= 0 && us >= slower_than && !(p.row->info->flags & commands::flag_skip_slowlog)) {
      slowlog_entry e{srv_.next_slowlog_id(), ctx.now_ms / 1000, us, {}, client_->addr, {}};
      std::vector<std::string_view> redacted;  // passwords are not shown (acl/acl.hpp)
      const auto shown = acl::shown_args(srv_, *p.row->info, p.req.argv, redacted);
      for (std::size_t k = 0; k < shown.size() && k < 32; ++k) {
        auto a = shown[k];
        if (k == 31 && shown.size() > 32) {
          e.argv.push_back("... (" + std::to_string(shown.size() - 31) + " more arguments)");
          break;
        }
        if (a.size() > 128)
          e.argv.push_back(std::string(a.substr(0, 128)) + "... (" + std::to_string(a.size() - 128) + " more bytes)");
        else
          e.argv.emplace_back(a);
      }
      {
        std::lock_guard lock(client_->info_mutex);
        e.name = client_->name;
      }
      srv_.slowlog_push(std::move(e));
    }
    if (srv_.has_monitors() && !(p.row->info->flags & (commands::flag_skip_monitor | commands::flag_admin))) {
      std::vector<std::string_view> redacted;
      srv_.feed_monitors(util::now_us(), client_->db, *client_,
                         acl::shown_args(srv_, *p.row->info, p.req.argv, redacted));
    }
  }
  if (kind_ == peer_kind::master) {
    if (!p.error.empty()) srv_.repl().feed_raw(p.raw);  // refused, but part of the stream all the same
    out_.resize(std::min(mark, out_.size()));  // a master gets no replies
  }
  // CLIENT REPLY OFF / SKIP (the skip applies to the command after SKIP).
  if ((before == reply_mode::off && client_->replies != reply_mode::on) || before == reply_mode::skip_this) {
    out_.resize(mark);
    if (before == reply_mode::skip_this && client_->replies == reply_mode::skip_this) client_->replies = reply_mode::on;
  }
  if (client_->replies == reply_mode::skip_next) client_->replies = reply_mode::skip_this;
  if (!client_->tracking_pending.empty()) {  // invalidations of its own writes follow the reply
    out_ += client_->tracking_pending;
    client_->tracking_pending.clear();
  }
  // Pushes follow the protocol the client chose (HELLO): pub/sub messages
  // and the invalidations other clients' writes send here.
  if (client_->box->resp.load(std::memory_order_relaxed) != client_->resp)
    client_->box->resp.store(client_->resp, std::memory_order_relaxed);
  // In push mode each reply is queued right after its command, behind the
  // pushes the command caused for this very client (its own keyspace
  // events), as Redis writes them: push, push, reply, push, reply.
  if (push_mode_ && !out_.empty()) {
    client_->box->append(out_, util::now_ms());
    out_.clear();
  }
}

void session::after_command(const planned& p, std::size_t errors_before, const replication::effects& fx) {
  auto& repl = srv_.repl();
  if (kind_ == peer_kind::master) {
    repl.feed_raw(p.raw);
    return;
  }
  if (!repl.propagating() || (writer_.errors_written() != errors_before && !fx.replaced)) return;
  const std::uint64_t before = repl.offset();
  commands::propagate_command(srv_, client_->db, *p.row, p.req.argv, fx);
  if (repl.offset() != before) client_->repl_write_offset = repl.offset();
}

bool session::refused_for_memory(const command_row& row, std::string& error) const {
  if (!out_of_memory_) return false;
  const std::string& name = row.info->name;
  bool grows = (row.info->flags & commands::flag_denyoom) != 0;
  if (name == "exec")
    for (const auto& q : client_->multi_queue) grows = grows || (q.row && (q.row->info->flags & commands::flag_denyoom));
  // Queueing takes memory too; EXEC, DISCARD, QUIT and RESET end it.
  if (client_->in_multi && name != "exec" && name != "discard" && name != "quit" && name != "reset") grows = true;
  if (!grows) return false;
  error = commands::oom_error;
  return true;
}

bool session::refused_by_disk_error(const command_row& row, std::string& error) const {
  if (!srv_.writes_denied_by_disk_error()) return false;
  bool writes = (row.info->flags & commands::flag_write) || row.info->name == "ping";
  if (row.info->name == "exec")
    for (const auto& q : client_->multi_queue) writes = writes || (q.row && (q.row->info->flags & commands::flag_write));
  if (!writes) return false;
  error = commands::misconf_error;
  return true;
}

bool session::refused_by_replication(const command_row& row, std::string& error) const {
  auto& repl = srv_.repl();
  const auto flags = row.info->flags;
  if (!repl.is_replica()) {
    // min-replicas-to-write: a master without enough replicas that ACKed lately.
    const int wanted = repl.min_replicas_to_write.load(std::memory_order_relaxed);
    if (wanted > 0 && (flags & commands::flag_write) && repl.good_replicas() < wanted) {
      error = "-NOREPLICAS Not enough good replicas to write.";
      return true;
    }
    return false;
  }
  if ((flags & commands::flag_write) && repl.read_only.load(std::memory_order_relaxed)) {
    error = "-READONLY You can't write against a read only replica.";
    return true;
  }
  if (!repl.serve_stale_data.load(std::memory_order_relaxed) && !(flags & commands::flag_stale) &&
      repl.link.load() != replication::link_state::connected) {
    error = "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    return true;
  }
  return false;
}

asio::awaitable<void> session::flush() {
  if (!write_now()) co_await finish_write();
}

bool session::write_now() {
  if (push_wanted_) enter_push_mode();  // (see the outbox's wake in run())
  if (out_.empty()) return true;
  if (push_mode_) {  // the push writer owns the socket's write side
    client_->box->append(out_, util::now_ms());
    out_.clear();
    return true;
  }
  client_->output_buffer.store(out_.size(), std::memory_order_relaxed);
  // The socket is non-blocking: one send() does it when the kernel takes the
  // whole reply, without an asynchronous operation's completion round trip.
  boost::system::error_code ec;
  std::size_t sent = socket_.write_some(asio::buffer(out_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    sent = 0;
  } else if (ec) {
    throw boost::system::system_error(ec);
  }
  if (sent < out_.size()) {
    out_sent_ = sent;
    return false;
  }
  written();
  return true;
}

asio::awaitable<void> session::finish_write() {
  co_await asio::async_write(socket_, asio::buffer(out_.data() + out_sent_, out_.size() - out_sent_),
                             asio::use_awaitable);
  written();
}

void session::written() {
  srv_.stats().net_output_bytes.fetch_add(out_.size(), std::memory_order_relaxed);
  client_->output_buffer.store(0, std::memory_order_relaxed);
  if (out_.capacity() > 1024 * 1024) {
    std::string().swap(out_);
  } else {
    out_.clear();
  }
}

}  // namespace shrike::server
