#pragma once
// The replica side of replication: one coroutine per configured master that
// connects, shakes hands (PING, AUTH, REPLCONF listening-port, REPLCONF capa
// eof capa psync2, PSYNC), then either loads the RDB the master streams
// (+FULLRESYNC; "$<len>" or diskless "$EOF:<mark>") or continues where it
// left off (+CONTINUE), and finally hands the socket to a session that
// applies the master's stream without replying. While connected it sends
// REPLCONF ACK <offset> every second; when the link drops it reconnects,
// trying a partial resync first.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace shrike::server {
class server_context;
}

namespace shrike::replication {

class replica_link : public std::enable_shared_from_this<replica_link> {
 public:
  replica_link(server::server_context& srv, std::string host, int port);
  void start();
  // Ends the link for good (REPLICAOF NO ONE, another master, shutdown).
  void stop();

 private:
  using socket = boost::asio::ip::tcp::socket;
  boost::asio::awaitable<void> run();
  // One connection: false when it failed before the stream started.
  boost::asio::awaitable<void> connect_once();
  void set_closer(std::function<void()> fn);

  server::server_context& srv_;
  const std::string host_;
  const int port_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::atomic<bool> stopped_{false};
  std::mutex m_;
  std::function<void()> close_;  // closes the connection in use
};

}  // namespace shrike::replication
