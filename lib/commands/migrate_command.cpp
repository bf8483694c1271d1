// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//         [AUTH password | AUTH2 username password] [KEYS key ...]
//
// Redis's migrateCommand without its cache of connections: the keys' DUMP
// payloads go to the target as RESTORE commands (after AUTH and SELECT) over
// a new connection; the keys the target accepted are deleted here unless
// COPY, and replicas get one DEL of them. The keys' shards stay gated from
// the first read to the last delete, so no client changes a key in flight or
// sees it in both places (Redis blocks the whole server for that span).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "commands/background_save.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/keyspace_notify.hpp"
#include "commands/persistence.hpp"
#include "persistence/rdb_writer.hpp"
#include "replication/effects.hpp"
#include "replication/replication_state.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace shrike::commands {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

struct migrate_request {
  std::string_view host, port;
  bool copy = false, replace = false;
  std::optional<std::string_view> user, password;
  std::int64_t db = 0;
  std::chrono::milliseconds timeout{1000};
  std::vector<std::string_view> keys;
};

bool parse_migrate(command_context& ctx, migrate_request& m) {
  m.host = ctx.arg(1);
  m.port = ctx.arg(2);
  std::size_t first_key = 3, num_keys = 1;
  for (std::size_t j = 6; j < ctx.argc(); ++j) {
    const std::size_t more = ctx.argc() - 1 - j;
    const auto opt = ctx.arg(j);
    if (iequals(opt, "copy")) {
      m.copy = true;
    } else if (iequals(opt, "replace")) {
      m.replace = true;
    } else if (iequals(opt, "auth")) {
      if (!more) return ctx.out.error(errors::syntax), false;
      m.password = ctx.arg(++j);
    } else if (iequals(opt, "auth2")) {
      if (more < 2) return ctx.out.error(errors::syntax), false;
      m.user = ctx.arg(++j);
      m.password = ctx.arg(++j);
    } else if (iequals(opt, "keys")) {
      if (!ctx.arg(3).empty())
        return ctx.out.error("When using MIGRATE KEYS option, the key argument must be set to the empty string"), false;
      first_key = j + 1;
      num_keys = ctx.argc() - j - 1;
      break;
    } else {
      return ctx.out.error(errors::syntax), false;
    }
  }
  std::int64_t timeout;
  if (!util::parse_int64(ctx.arg(5), timeout) || !util::parse_int64(ctx.arg(4), m.db))
    return ctx.out.error(errors::not_integer), false;
  m.timeout = std::chrono::milliseconds(timeout <= 0 ? 1000 : timeout);
  for (std::size_t k = 0; k < num_keys; ++k) m.keys.push_back(ctx.arg(first_key + k));
  return true;
}

void append_command(std::string& out, std::initializer_list<std::string_view> argv) {
  replication::encode_command(std::span<const std::string_view>(argv.begin(), argv.size()), out);
}

// The target's end: connect, write, read reply lines, each within the
// timeout (Redis's connSyncWrite / connSyncReadLine limits).
class target_link {
 public:
  target_link(const asio::any_io_executor& ex, std::chrono::milliseconds timeout)
      : socket_(ex), timer_(ex), timeout_(timeout) {}

  // Redis waits for its non-blocking connect to become writable, and a
  // refused connection does: the failure then shows when it writes. So a
  // refusal is reported as a write error, and only a name that does not
  // resolve or a connect that times out as a connect error.
  enum class connect_result { connected, refused, failed };
  asio::awaitable<connect_result> connect(std::string_view host, std::string_view port) {
    tcp::resolver resolver(socket_.get_executor());
    timer_.expires_after(timeout_);
    auto resolved = co_await (resolver.async_resolve(std::string(host), std::string(port), asio::as_tuple(asio::use_awaitable)) ||
                              timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (resolved.index() != 0 || std::get<0>(std::get<0>(resolved))) co_return connect_result::failed;
    auto connected = co_await (
        asio::async_connect(socket_, std::get<1>(std::get<0>(resolved)), asio::as_tuple(asio::use_awaitable)) ||
        timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (connected.index() != 0) co_return connect_result::failed;
    co_return std::get<0>(std::get<0>(connected)) ? connect_result::refused : connect_result::connected;
  }

  asio::awaitable<bool> write(const std::string& bytes) {
    timer_.expires_after(timeout_);
    auto r = co_await (asio::async_write(socket_, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable)) ||
                       timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
    co_return r.index() == 0 && !std::get<0>(std::get<0>(r));
  }

  // One reply line without its CRLF; nullopt on error or timeout.
  asio::awaitable<std::optional<std::string>> read_line() {
    timer_.expires_after(timeout_);
    auto r = co_await (asio::async_read_until(socket_, asio::dynamic_buffer(in_), "\r\n",
                                              asio::as_tuple(asio::use_awaitable)) ||
                       timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() != 0) co_return std::nullopt;
    auto [ec, n] = std::get<0>(r);
    if (ec) co_return std::nullopt;
    std::string line = in_.substr(0, n - 2);
    in_.erase(0, n);
    co_return line;
  }

 private:
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::chrono::milliseconds timeout_;
  std::string in_;
};

// Holds the gates of some shards (ascending: no deadlock) until destroyed.
class gates_held {
 public:
  explicit gates_held(store::shard_set& shards) : shards_(shards) {}
  gates_held(const gates_held&) = delete;
  gates_held& operator=(const gates_held&) = delete;
  ~gates_held() {
    for (std::size_t id : held_) shards_.at(id).release();
  }
  asio::awaitable<void> acquire(std::vector<std::size_t> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (std::size_t id : ids) {
      co_await shards_.at(id).acquire();
      held_.push_back(id);
    }
  }

 private:
  store::shard_set& shards_;
  std::vector<std::size_t> held_;
};

// GCC 12 reports -Wmismatched-new-delete for this coroutine once it inlines
// asio's frame allocation into it: a false positive (asio's awaitable frame
// is allocated and freed by its own matching operators).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> cmd_migrate(command_context& ctx) {
  migrate_request m;
  if (!parse_migrate(ctx, m)) co_return;
  auto& shards = ctx.srv.shards();
  std::vector<std::size_t> ids;
  for (auto key : m.keys) ids.push_back(shards.shard_of(key));
  gates_held gates(shards);
  co_await gates.acquire(std::move(ids));

  // What to send: the keys that exist, with their remaining TTL.
  ctx.now_ms = util::now_ms();
  std::string stream;
  if (m.password) {
    if (m.user)
      append_command(stream, {"AUTH", *m.user, *m.password});
    else
      append_command(stream, {"AUTH", *m.password});
  }
  const std::string db_text = std::to_string(m.db);
  append_command(stream, {"SELECT", db_text});
  std::vector<std::string_view> sent;
  const auto save_options = rdb_save_options_for(ctx.srv);
  for (auto key : m.keys) {
    const store::entry* e = read_key(ctx, ctx.db(key), key);
    if (!e) continue;
    const std::int64_t expire_at = store::database::expire_of(e);
    const std::string ttl = std::to_string(expire_at < 0 ? 0 : std::max<std::int64_t>(1, expire_at - ctx.now_ms));
    const std::string payload = persistence::create_dump_payload(*e, save_options);
    if (m.replace)
      append_command(stream, {"RESTORE", key, ttl, payload, "REPLACE"});
    else
      append_command(stream, {"RESTORE", key, ttl, payload});
    sent.push_back(key);
  }
  if (sent.empty()) co_return ctx.out.simple("NOKEY");

  target_link target(co_await asio::this_coro::executor, m.timeout);
  const auto connected = co_await target.connect(m.host, m.port);
  if (connected == target_link::connect_result::failed) {
    util::log_warning("Migrate: could not connect to " + std::string(m.host) + ":" + std::string(m.port));
    co_return ctx.out.error("-IOERR error or timeout connecting to the client");
  }
  if (connected == target_link::connect_result::refused || !co_await target.write(stream))
    co_return ctx.out.error("-IOERR error or timeout writing to target instance");
  std::optional<std::string> auth_reply, select_reply;
  if (m.password && !(auth_reply = co_await target.read_line()))
    co_return ctx.out.error("-IOERR error or timeout reading to target instance");
  if (!(select_reply = co_await target.read_line()))
    co_return ctx.out.error("-IOERR error or timeout reading to target instance");

  // The first error the target gave (AUTH's, SELECT's or a RESTORE's) is
  // the reply; every key it accepted leaves this server all the same.
  std::optional<std::string> target_error;
  std::vector<std::string> deleted{"DEL"};
  bool read_failed = false;
  ctx.now_ms = util::now_ms();
  for (auto key : sent) {
    auto line = co_await target.read_line();
    if (!line) {
      read_failed = true;
      break;
    }
    const bool refused = (auth_reply && auth_reply->starts_with("-")) || select_reply->starts_with("-") ||
                         line->starts_with("-");
    if (refused) {
      if (!target_error) {
        const std::string& text = (auth_reply && auth_reply->starts_with("-")) ? *auth_reply
                                  : select_reply->starts_with("-")             ? *select_reply
                                                                                : *line;
        target_error = text.substr(1);
      }
    } else if (!m.copy) {
      const std::string_view one[] = {"DEL", key};
      save_before_write(ctx.srv, ctx.client.db, *command_table::instance().find("del"), one);
      if (ctx.db(key).erase(key)) {
        notify_event(ctx, notify::generic, "del", key);
        ctx.srv.dirty.fetch_add(1);
        deleted.emplace_back(key);
      }
    }
  }
  // Replicas get the deletions, never the MIGRATE itself.
  if (ctx.effects) {
    ctx.effects->replaced = true;
    if (deleted.size() > 1) ctx.effects->add(ctx.client.db, std::move(deleted));
  }
  if (target_error) co_return ctx.out.error("Target instance replied with error: " + *target_error);
  if (read_failed) co_return ctx.out.error("-IOERR error or timeout reading to target instance");
  ctx.out.ok();
}
#pragma GCC diagnostic pop

}  // namespace

void register_migrate_command(command_table& t) { t.add_async("migrate", cmd_migrate); }

}  // namespace shrike::commands
