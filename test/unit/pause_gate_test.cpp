// pause_gate: CLIENT PAUSE's modes, deadlines, and waiters woken by UNPAUSE.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>

#include "server/pause_gate.hpp"
#include "store/expiry_policy.hpp"
#include "util/clock.hpp"

using shrike::server::pause_gate;
namespace asio = boost::asio;
namespace {
constexpr auto client = pause_gate::purpose::client_command;
constexpr auto failover = pause_gate::purpose::failover;
}  // namespace

BOOST_AUTO_TEST_SUITE(pause_gate_suite)

BOOST_AUTO_TEST_CASE(write_mode_holds_writes_only_and_all_mode_everything) {
  shrike::util::fake_now_ms = 10'000;
  pause_gate gate;
  BOOST_TEST(!gate.maybe_active());
  BOOST_TEST(!gate.holds(true, 10'000));
  gate.pause(client, pause_gate::mode::write, 11'000);
  BOOST_TEST(gate.holds(true, 10'000));
  BOOST_TEST(!gate.holds(false, 10'000));
  BOOST_TEST(shrike::store::expiry_policy::keeps_expired_keys());  // no expiry while paused
  // A weaker, shorter pause changes nothing; a stronger one upgrades the mode.
  gate.pause(client, pause_gate::mode::write, 10'500);
  BOOST_TEST(gate.holds(true, 10'900));
  gate.pause(client, pause_gate::mode::all, 10'100);
  BOOST_TEST(gate.holds(false, 10'900));  // ALL now, until the later end
  BOOST_TEST(!gate.holds(false, 11'001));  // the deadline passed: over
  BOOST_TEST(!gate.maybe_active());
  BOOST_TEST(!shrike::store::expiry_policy::keeps_expired_keys());
  // After it ended, a new pause starts from scratch (its own mode and end).
  gate.pause(client, pause_gate::mode::write, 12'000);
  BOOST_TEST(!gate.holds(false, 11'500));
  gate.unpause(client);
  BOOST_TEST(!gate.holds(true, 11'500));
  shrike::util::fake_now_ms = 0;
}

BOOST_AUTO_TEST_CASE(each_purpose_has_its_own_pause) {
  shrike::util::fake_now_ms = 10'000;
  pause_gate gate;
  gate.pause(failover, pause_gate::mode::write, INT64_MAX);
  gate.pause(client, pause_gate::mode::all, 10'500);
  BOOST_TEST(gate.holds(false, 10'100));  // ALL from CLIENT PAUSE
  BOOST_TEST(!gate.holds(false, 10'600));  // its deadline passed: the failover's WRITE remains
  BOOST_TEST(gate.holds(true, 10'600));
  gate.pause(client, pause_gate::mode::all, 20'000);
  gate.unpause(client);  // CLIENT UNPAUSE ends only its own pause
  BOOST_TEST(!gate.holds(false, 10'700));
  BOOST_TEST(gate.holds(true, 10'700));
  BOOST_TEST(shrike::store::expiry_policy::keeps_expired_keys());
  gate.unpause(failover);
  BOOST_TEST(!gate.holds(true, 10'700));
  BOOST_TEST(!gate.maybe_active());
  BOOST_TEST(!shrike::store::expiry_policy::keeps_expired_keys());
  shrike::util::fake_now_ms = 0;
}

BOOST_AUTO_TEST_CASE(unpause_wakes_a_waiter_before_the_deadline) {
  asio::io_context io;
  pause_gate gate;
  gate.pause(client, pause_gate::mode::all, shrike::util::now_ms() + 60'000);
  bool resumed = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await gate.wait(false);
    resumed = true;
  }, asio::detached);
  asio::steady_timer later(io, std::chrono::milliseconds(20));
  later.async_wait([&](boost::system::error_code) {
    BOOST_TEST(!resumed);  // still held after 20 ms of a 60 s pause
    gate.unpause(client);
  });
  io.run_for(std::chrono::seconds(5));
  BOOST_TEST(resumed);  // within 5 s of a 60 s pause: the unpause woke it
}

BOOST_AUTO_TEST_CASE(a_waiter_resumes_at_the_deadline_by_itself) {
  asio::io_context io;
  pause_gate gate;
  gate.pause(client, pause_gate::mode::write, shrike::util::now_ms() + 50);
  bool resumed = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await gate.wait(true);
    resumed = true;
  }, asio::detached);
  io.run_for(std::chrono::seconds(5));
  BOOST_TEST(resumed);
  BOOST_TEST(!gate.maybe_active());
}

BOOST_AUTO_TEST_SUITE_END()
