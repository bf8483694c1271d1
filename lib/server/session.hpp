#pragma once
// One client connection: a coroutine that reads, parses every complete request
// in the buffer, executes them as a batch and writes all replies with one
// write. Consecutive requests that touch one shard (or no shard) run in ONE
// hop to that shard (see store::shard::run); requests spanning several shards
// run with those shards' gates held; session-kind commands run here.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "commands/command_context.hpp"
#include "commands/command_table.hpp"
#include "resp/reply_writer.hpp"
#include "resp/request_parser.hpp"
#include "server/batch_clock.hpp"
#include "server/client_socket.hpp"
#include "server/client_state.hpp"
#include "server/server_context.hpp"

namespace shrike::server {

class session : public std::enable_shared_from_this<session>, public commands::session_hooks {
 public:
  // A client, or (on a replica) the link to the master, whose stream the
  // session applies without replying, feeding each command's bytes on to
  // our own replicas.
  enum class peer_kind : std::uint8_t { client, master };

  session(server_context& srv, boost::asio::ip::tcp::socket socket);
  // `input`: bytes already read from the socket (the stream's first bytes).
  session(server_context& srv, boost::asio::ip::tcp::socket socket, std::string input, peer_kind kind);
  ~session() override;

  boost::asio::awaitable<void> run();
  std::shared_ptr<client_state> client() const { return client_; }

  // session_hooks
  void close_after_reply() override { close_ = true; }
  void reset_connection() override;
  bool become_monitor() override;
  outbox& enter_pubsub() override;
  outbox& become_replica() override;
  boost::asio::awaitable<bool> wait_blocked(store::blocked_client& c, std::int64_t deadline_ms) override;

 private:
  struct planned;  // one parsed request and how to run it

  // Where the next bytes to parse come from: bytes stashed during a blocking
  // command, the socket (in_ has room after in_end_), or nowhere (the query
  // buffer limit was reached: close).
  enum class read_source : std::uint8_t { stash, socket, none };
  read_source prepare_read();
  // Accounts for a socket read into in_; false when the peer is gone.
  bool took_bytes(const boost::system::error_code& ec, std::size_t n);
  // Parses complete requests into slots[0..n) and returns n.
  std::size_t parse_available(std::vector<planned>& slots);
  const commands::command_row* lookup_command(const commands::command_table& table,
                                              std::span<const std::string_view> argv, std::string& error);
  // Runs the batch's leading requests that need no suspension (runs on a
  // free shard or on none) and returns how many ran; execute() does the rest.
  std::size_t execute_ready(std::span<planned> batch);
  boost::asio::awaitable<void> execute(std::span<planned> batch);
  // The requests from i that run in one hop: returns the end of the run and
  // its shard in `target` (SIZE_MAX when none of them needs a shard).
  std::size_t plan_run(std::span<planned> batch, std::size_t i, std::size_t& target) const;
  // Runs batch[i, j) as the owner of `target` (or of no shard).
  void execute_run(std::span<planned> batch, std::size_t i, std::size_t j, std::size_t target);
  void execute_one(planned& p);
  // Sends out_: write_now() with one send(), true when the kernel took it
  // all; otherwise finish_write() sends the rest asynchronously.
  boost::asio::awaitable<void> flush();
  bool write_now();
  boost::asio::awaitable<void> finish_write();
  void written();
  // Push mode (MONITOR, pub/sub): one writer coroutine sends replies and
  // pushes in order from the client's outbox, which any thread appends to.
  void enter_push_mode();
  boost::asio::awaitable<void> push_writer();
  // CLIENT PAUSE: waits while the pause holds this command back.
  boost::asio::awaitable<void> wait_while_paused(const planned& p);
  // DEBUG and MODULE (the "protected" commands) run only as
  // enable-debug-command / enable-module-command allow: yes, or local for a
  // loopback peer.
  bool refused_as_protected(const commands::command_row& row, std::string& error) const;
  // RESP2 subscribed mode admits only the pub/sub commands, PING, QUIT and RESET.
  bool refused_while_subscribed(const commands::command_row& row, std::string& error) const;
  // A replica refuses writes (replica-read-only) and, with
  // replica-serve-stale-data no, most commands while its link is down; a
  // master refuses writes while it has fewer than min-replicas-to-write
  // replicas that ACKed within min-replicas-max-lag.
  bool refused_by_replication(const commands::command_row& row, std::string& error) const;
  // OOM: after the batch's maxmemory check failed, a command that may grow
  // memory, an EXEC of such, or anything queued in MULTI.
  bool refused_for_memory(const commands::command_row& row, std::string& error) const;
  // MISCONF: a write (an EXEC of writes) or PING while saves fail.
  bool refused_by_disk_error(const commands::command_row& row, std::string& error) const;
  // After a command ran: what replication must know of it.
  void after_command(const struct planned& p, std::size_t errors_before, const replication::effects& fx);

  server_context& srv_;
  client_socket socket_;
  std::shared_ptr<client_state> client_;

  std::vector<char> in_;
  std::size_t in_begin_ = 0, in_end_ = 0;
  resp::request_parser parser_;
  std::string protocol_error_;  // set when the parser failed: reply, then close

  std::string out_;
  std::size_t out_sent_ = 0;  // bytes of out_ that write_now() sent
  resp::reply_writer writer_{out_};
  bool close_ = false;
  bool out_of_memory_ = false;  // the last maxmemory check could not get under the limit
  std::vector<int> key_positions_;  // scratch for the batch planner, reused
  // Keys that gained elements during a command (blocked clients to serve).
  std::vector<std::pair<std::size_t, std::string>> ready_keys_;
  // Bytes read while a blocking command waited; parsed after it (the current
  // batch's arguments point into in_, which must not move meanwhile).
  std::string stash_;
  bool push_mode_ = false;
  // Set on the session's thread: bytes wait in the outbox for a session not
  // in push mode yet; the session is suspended in a read.
  bool push_wanted_ = false;
  bool reading_ = false;
  bool is_monitor_ = false;
  bool out_moved_ = false;  // enter_pubsub moved out_ to the outbox during the current command
  std::unique_ptr<boost::asio::steady_timer> push_signal_;
  peer_kind kind_ = peer_kind::client;
  // The last command looked up, by the name bytes the client sent.
  const commands::command_row* last_row_ = nullptr;
  std::string last_name_;
  // Reads the clocks as a hop begins: both on the batch's first hop (and after
  // a command that may have suspended), the steady one alone on later hops.
  void begin_hop();
  batch_clock clock_;  // lapped by each command
  bool clock_started_ = false;
};

}  // namespace shrike::server
