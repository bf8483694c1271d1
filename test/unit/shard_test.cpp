// The hop helper and the shard gate.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <thread>
#include <vector>

#include "store/shard_set.hpp"

namespace asio = boost::asio;
using shrike::store::shard_set;

namespace {

// Runs the io_context on `threads` threads until it runs out of work.
void run_pool(asio::io_context& io, int threads) {
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shard_suite)

BOOST_AUTO_TEST_CASE(hop_runs_on_strand_and_returns_off_it) {
  asio::io_context io(2);
  shard_set shards(io, 2, 1);
  bool ran_on_strand = false, back_off_strand = false, done = false;
  asio::co_spawn(
      asio::make_strand(io),
      [&]() -> asio::awaitable<void> {
        auto fn = [&] { ran_on_strand = shards.at(1).strand().running_in_this_thread(); };
        co_await shards.at(1).run(fn);
        back_off_strand = !shards.at(1).strand().running_in_this_thread();
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  run_pool(io, 2);
  BOOST_TEST(done);
  BOOST_TEST(ran_on_strand);
  BOOST_TEST(back_off_strand);
}

BOOST_AUTO_TEST_CASE(gate_makes_multi_shard_work_atomic) {
  // Writers move one unit between two counters that live in different shards
  // (with both gates held); readers of single shards queue behind the gate.
  // A reader holding both gates must always see the sum unchanged.
  asio::io_context io(4);
  shard_set shards(io, 2, 1);
  long a = 1000, b = 0;  // a lives in shard 0, b in shard 1
  std::atomic<int> bad_sums{0}, finished{0};
  const std::vector<std::size_t> both{0, 1};
  for (int w = 0; w < 8; ++w) {
    asio::co_spawn(
        io,
        [&, w]() -> asio::awaitable<void> {
          for (int i = 0; i < 500; ++i) {
            if (w % 2 == 0) {
              auto move = [&] { --a; ++b; };
              co_await shards.run_gated(std::span<const std::size_t>(both), move);
            } else {
              auto check = [&] {
                if (a + b != 1000) ++bad_sums;
              };
              co_await shards.run_gated(std::span<const std::size_t>(both), check);
              auto touch_a = [&] { (void)a; };
              co_await shards.at(0).run(touch_a);
            }
          }
          ++finished;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  run_pool(io, 4);
  BOOST_TEST(finished == 8);
  BOOST_TEST(bad_sums == 0);
  BOOST_TEST(a + b == 1000);
  BOOST_TEST(b == 4 * 500);
}

BOOST_AUTO_TEST_SUITE_END()
