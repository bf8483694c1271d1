#include "replication/replica_link.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>

#include "commands/persistence.hpp"
#include "persistence/rdb_file.hpp"
#include "replication/failover.hpp"
#include "replication/replication_state.hpp"
#include "scripting/rdb_functions.hpp"
#include "server/server_context.hpp"
#include "server/session.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace shrike::replication {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

// A link-level failure: logged, then the link tries again.
struct link_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// (Variadic, not an initializer_list: g++ 12 cannot keep a braced list's
// array in a coroutine frame.)
template <class... Args>
std::string encode(const Args&... args) {
  std::string out;
  const std::string_view argv[] = {std::string_view(args)...};
  encode_command(argv, out);
  return out;
}

// The socket of one connection attempt, with a read buffer and the timeout
// every read and write of the handshake and the transfer gets (repl-timeout).
class connection {
 public:
  connection(tcp::socket& s, std::chrono::seconds timeout) : sock_(s), timeout_(timeout) {}

  asio::awaitable<void> send(const std::string& bytes) {
    asio::steady_timer t(sock_.get_executor());
    t.expires_after(timeout_);
    auto r = co_await (asio::async_write(sock_, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable)) ||
                       t.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) throw link_error("Timeout writing to MASTER");
    if (std::get<0>(std::get<0>(r))) throw link_error("Error writing to MASTER");
  }

  // Reads more bytes into the buffer.
  asio::awaitable<void> fill() {
    char chunk[64 * 1024];
    asio::steady_timer t(sock_.get_executor());
    t.expires_after(timeout_);
    auto r = co_await (sock_.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable)) ||
                       t.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) throw link_error("Timeout connecting to the MASTER...");
    auto [ec, n] = std::get<0>(r);
    if (ec || n == 0) throw link_error("Error condition on socket for SYNC: Connection lost");
    buf_.append(chunk, n);
  }

  // One line without its "\r\n".
  asio::awaitable<std::string> line() {
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!l.empty() && l.back() == '\r') l.pop_back();
        co_return l;
      }
      if (buf_.size() > 64 * 1024) throw link_error("Master sent an overlong line");
      co_await fill();
    }
  }

  std::string& buffer() { return buf_; }

 private:
  tcp::socket& sock_;
  std::chrono::seconds timeout_;
  std::string buf_;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

replica_link::replica_link(server::server_context& srv, std::string host, int port)
    : srv_(srv), host_(std::move(host)), port_(port), strand_(asio::make_strand(srv.io())) {}

void replica_link::start() {
  asio::co_spawn(strand_, [self = shared_from_this()] { return self->run(); }, [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      util::log_warning(std::string("Replication link failed: ") + ex.what());
    }
  });
}

void replica_link::stop() {
  stopped_ = true;
  std::function<void()> close;
  {
    std::lock_guard lock(m_);
    close = close_;
  }
  if (close) close();
}

void replica_link::set_closer(std::function<void()> fn) {
  std::lock_guard lock(m_);
  close_ = std::move(fn);
}

asio::awaitable<void> replica_link::run() {
  auto& repl = srv_.repl();
  asio::steady_timer pause(strand_);
  while (!stopped_ && !srv_.shutting_down()) {
    util::log_notice("Connecting to MASTER " + host_ + ":" + std::to_string(port_));
    try {
      co_await connect_once();
    } catch (const link_error& e) {
      if (!stopped_) util::log_warning(e.what());
    } catch (const persistence::rdb_error& e) {
      util::log_warning(std::string("Failed trying to load the MASTER synchronization DB from disk: ") + e.what());
    } catch (const boost::system::system_error& e) {
      if (!stopped_) util::log_warning(std::string("Error condition on socket for SYNC: ") + e.what());
    }
    set_closer(nullptr);
    if (stopped_) break;
    if (repl.link.load() == link_state::connected || repl.link_down_since_ms.load() == 0)
      repl.link_down_since_ms = util::now_ms();
    repl.link = link_state::connect;
    pause.expires_after(std::chrono::seconds(1));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> replica_link::connect_once() {
  auto& repl = srv_.repl();
  auto& config = srv_.config();
  const auto timeout = std::chrono::seconds(std::max<std::int64_t>(1, config.get_int("repl-timeout")));
  auto sock = std::make_shared<tcp::socket>(strand_);
  std::weak_ptr<tcp::socket> weak = sock;
  set_closer([weak, ex = strand_] {
    asio::post(ex, [weak] {
      if (auto s = weak.lock()) {
        boost::system::error_code ec;
        s->close(ec);
      }
    });
  });
  if (stopped_) co_return;
  repl.link = link_state::connecting;
  {
    tcp::resolver resolver(strand_);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(host_, std::to_string(port_), asio::as_tuple(asio::use_awaitable));
    if (rec) throw link_error("Unable to connect to MASTER: " + rec.message());
    asio::steady_timer t(strand_);
    t.expires_after(timeout);
    auto r = co_await (asio::async_connect(*sock, endpoints, asio::as_tuple(asio::use_awaitable)) ||
                       t.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) throw link_error("Timeout connecting to the MASTER...");
    if (auto ec = std::get<0>(std::get<0>(r)); ec) throw link_error("Unable to connect to MASTER: " + ec.message());
  }
  boost::system::error_code ec;
  sock->set_option(tcp::no_delay(true), ec);
  util::log_notice("MASTER <-> REPLICA sync started");
  repl.link = link_state::handshake;
  connection conn(*sock, timeout);

  // PING: any reply but an unexpected error will do (a master with a
  // password answers -NOAUTH, which AUTH fixes next).
  co_await conn.send(encode("PING"));
  std::string reply = co_await conn.line();
  if (!reply.empty() && reply[0] == '-' && !starts_with(reply, "-NOAUTH") && !starts_with(reply, "-NOPERM") &&
      !starts_with(reply, "-ERR operation not permitted"))
    throw link_error("Error reply to PING from master: '" + reply + "'");
  util::log_notice("Master replied to PING, replication can continue...");

  const std::string auth = config.get_one("masterauth").value_or("");
  const std::string user = config.get_one("masteruser").value_or("");
  if (!auth.empty()) {
    co_await conn.send(user.empty() ? encode("AUTH", auth) : encode("AUTH", user, auth));
    reply = co_await conn.line();
    if (reply.empty() || reply[0] == '-') throw link_error("Unable to AUTH to MASTER: " + reply);
  }
  std::int64_t announce_port = config.get_int("replica-announce-port");
  if (announce_port == 0) announce_port = srv_.port();
  co_await conn.send(encode("REPLCONF", "listening-port", std::to_string(announce_port)));
  reply = co_await conn.line();
  if (!reply.empty() && reply[0] == '-')
    util::log_notice("(Non critical) Master does not understand REPLCONF listening-port: " + reply);
  const std::string announce_ip = config.get_one("replica-announce-ip").value_or("");
  if (!announce_ip.empty()) {
    co_await conn.send(encode("REPLCONF", "ip-address", announce_ip));
    reply = co_await conn.line();
  }
  co_await conn.send(encode("REPLCONF", "capa", "eof", "capa", "psync2"));
  reply = co_await conn.line();
  if (!reply.empty() && reply[0] == '-') util::log_notice("(Non critical) Master does not understand REPLCONF capa: " + reply);

  // PSYNC: our history if we have one (a previous sync, or our own as a
  // master), else a full sync.
  std::string psync_id = "?", psync_offset = "-1";
  if (repl.active()) {
    psync_id = repl.replid();
    psync_offset = std::to_string(repl.offset() + 1);
    util::log_notice("Trying a partial resynchronization (request " + psync_id + ":" + psync_offset + ").");
  }
  // A master handing its role to this replica (FAILOVER) says so in its
  // PSYNC; the replica turns master and answers +CONTINUE.
  auto& fo = srv_.failover();
  const bool failing_over = fo.in_progress();
  // (A named string: g++ 12 destroys a conditional expression's temporary
  // twice when it lives across a co_await.)
  std::string psync = encode("PSYNC", psync_id, psync_offset);
  if (failing_over) psync = encode("PSYNC", psync_id, psync_offset, "FAILOVER");
  try {
    co_await conn.send(psync);
  } catch (const link_error&) {
    if (failing_over) fo.abort("Write error to failover target");
    throw;
  }
  reply = co_await conn.line();
  while (reply.empty()) reply = co_await conn.line();  // keepalive newlines
  if (failing_over) fo.psync_answered(starts_with(reply, "+CONTINUE") || starts_with(reply, "+FULLRESYNC"));

  if (starts_with(reply, "+CONTINUE")) {
    util::log_notice("Successful partial resynchronization with master.");
    if (reply.size() > 10) {
      const std::string id = reply.substr(10, 40);
      if (id != repl.replid()) {
        repl.master_changed_replid(id);
        util::log_notice("Master replication ID changed to " + id);
      }
    }
    repl.ensure_backlog();
  } else if (starts_with(reply, "+FULLRESYNC")) {
    // +FULLRESYNC <replid> <offset>
    if (reply.size() < 12 + 40 + 2) throw link_error("Master replied with wrong +FULLRESYNC syntax.");
    const std::string master_id = reply.substr(12, 40);
    const std::uint64_t master_offset = std::strtoull(reply.c_str() + 53, nullptr, 10);
    util::log_notice("Full resync from master: " + master_id + ":" + std::to_string(master_offset));
    repl.link = link_state::transfer;
    repl.sync_started_ms = util::now_ms();
    repl.sync_read_bytes = 0;
    std::string header = co_await conn.line();
    while (header.empty()) header = co_await conn.line();  // the master's keepalives while it prepares
    if (header[0] == '-') throw link_error("MASTER aborted replication with an error: " + header.substr(1));
    if (header[0] != '$') throw link_error("Bad protocol from MASTER, the first byte is not '$' (we received '" + header + "'), are you sure the host and port are right?");
    const bool eof_mode = starts_with(header, "$EOF:") && header.size() == 5 + 40;
    const std::string mark = eof_mode ? header.substr(5) : std::string();
    std::uint64_t left = eof_mode ? 0 : std::strtoull(header.c_str() + 1, nullptr, 10);
    repl.sync_total_bytes = eof_mode ? 0 : left;
    util::log_notice(eof_mode ? "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk"
                              : "MASTER <-> REPLICA sync: receiving " + std::to_string(left) + " bytes from master to disk");

    persistence::rdb_file_writer file;
    std::string error;
    if (!file.open(commands::rdb_temp_path(srv_, "repl"), error))
      throw link_error("Opening the temp file needed for MASTER <-> REPLICA synchronization: " + error);
    std::string& buf = conn.buffer();
    std::string tail;  // EOF mode: the last bytes, which may be the start of the mark
    for (bool done = false; !done;) {
      if (buf.empty()) co_await conn.fill();
      repl.sync_read_bytes.fetch_add(buf.size());
      if (!eof_mode) {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        if (!file.write(std::string_view(buf).substr(0, take), error)) throw link_error(error);
        buf.erase(0, take);
        left -= take;
        done = left == 0;
      } else {
        tail += buf;
        buf.clear();
        const auto at = tail.find(mark);
        if (at != std::string::npos) {
          if (!file.write(std::string_view(tail).substr(0, at), error)) throw link_error(error);
          buf = tail.substr(at + mark.size());  // the stream's first bytes
          done = true;
        } else if (tail.size() > mark.size()) {
          const std::size_t keep = mark.size();
          if (!file.write(std::string_view(tail).substr(0, tail.size() - keep), error)) throw link_error(error);
          tail.erase(0, tail.size() - keep);
        }
      }
    }
    const std::string path = commands::rdb_path(srv_);
    if (!file.commit(path, error)) throw link_error("Failed trying to rename the temp DB into " + path + ": " + error);
    util::log_notice("MASTER <-> REPLICA sync: Flushing old data");
    persistence::load_options opts;
    opts.databases = srv_.databases();
    opts.limits = commands::rdb_load_limits(srv_);
    opts.now_ms = util::now_ms();
    opts.skip_expired = false;  // the master's DELs remove them
    opts.verify_checksum = srv_.config().get_bool("rdbchecksum");
    opts.on_function = scripting::rdb_function_loader(srv_);  // the master's libraries replace ours
    std::string load_error;
    auto load = [&] {
      auto& shards = srv_.shards();
      for (std::size_t s = 0; s < shards.size(); ++s)
        for (std::size_t db = 0; db < shards.database_count(); ++db) shards.at(s).db(db).clear();
      scripting::flush_functions(srv_);
      try {
        persistence::load_file(path, shards, opts);
      } catch (const persistence::rdb_error& e) {
        load_error = e.what();
      }
    };
    util::log_notice("MASTER <-> REPLICA sync: Loading DB in memory");
    co_await srv_.shards().run_on_all(load);
    if (!load_error.empty()) throw link_error("Failed trying to load the MASTER synchronization DB from disk: " + load_error);
    repl.adopt_master(master_id, master_offset);
    util::log_notice("MASTER <-> REPLICA sync: Finished with success");
  } else if (starts_with(reply, "-NOMASTERLINK") || starts_with(reply, "-LOADING")) {
    throw link_error("Master is currently unable to PSYNC but should be in the future: " + reply);
  } else {
    throw link_error("Unexpected reply to PSYNC from master: " + reply);
  }

  // The stream: a session applies it; this coroutine ACKs every second.
  repl.link = link_state::connected;
  repl.link_down_since_ms = 0;
  auto sess = std::make_shared<server::session>(srv_, std::move(*sock), std::move(conn.buffer()),
                                                server::session::peer_kind::master);
  auto client = sess->client();
  set_closer([client] {
    if (client->kill) client->kill();
  });
  // Never ends by itself: it closes the session (stop, timeout) and the
  // session's end ends both.
  auto ack_loop = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(strand_);
    for (;;) {
      repl.last_master_io_ms = client->last_interaction_ms.load();
      const std::int64_t idle = util::now_ms() - client->last_interaction_ms.load();
      if (stopped_ || idle > std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) {
        if (!stopped_) util::log_warning("MASTER timeout: no data nor PING received...");
        if (client->kill) client->kill();
      } else if (client->box) {
        client->box->append(encode("REPLCONF", "ACK", std::to_string(repl.offset())), util::now_ms());
      }
      t.expires_after(std::chrono::seconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
  };
  co_await (sess->run() || ack_loop());
  util::log_notice("Connection with master lost.");
}

}  // namespace shrike::replication
