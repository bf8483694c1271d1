// batch_clock: one steady-clock read per command, the wall clock derived.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "server/batch_clock.hpp"
#include "util/clock.hpp"

using shrike::server::batch_clock;

BOOST_AUTO_TEST_SUITE(batch_clock_suite)

BOOST_AUTO_TEST_CASE(wall_time_follows_the_laps_from_the_batch_start) {
  shrike::util::fake_now_ms = 1'000'000;  // the wall clock read by start()
  batch_clock clock;
  clock.start();
  BOOST_TEST(clock.now_ms() == 1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  BOOST_TEST(clock.now_ms() == 1'000'000);  // moves only at a lap
  const auto first = clock.lap_us();
  BOOST_TEST(first >= 5'000);
  BOOST_TEST(clock.now_ms() >= 1'000'005);
  BOOST_TEST(clock.now_ms() < 1'000'005 + 1'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto second = clock.lap_us();  // from the previous lap, not the start
  BOOST_TEST(second >= 2'000);
  BOOST_TEST(second < first + 1'000'000);
  BOOST_TEST(clock.now_ms() >= 1'000'007);
  clock.start();  // a new batch reads the wall clock again
  BOOST_TEST(clock.now_ms() == 1'000'000);
  shrike::util::fake_now_ms = 0;
}

BOOST_AUTO_TEST_CASE(resume_skips_the_wait_between_hops_and_keeps_the_wall_clock) {
  shrike::util::fake_now_ms = 2'000'000;
  batch_clock clock;
  clock.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // waiting for a shard
  clock.resume();
  const auto lap = clock.lap_us();
  BOOST_TEST(lap < 5'000);  // the wait is not the command's duration
  BOOST_TEST(clock.now_ms() >= 2'000'005);  // but the wall clock moved on
  BOOST_TEST(clock.now_ms() < 2'000'005 + 1'000);
  shrike::util::fake_now_ms = 0;
}

BOOST_AUTO_TEST_SUITE_END()
