// The hop helper and the shard gate.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
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

BOOST_AUTO_TEST_CASE(hop_runs_as_owner_and_lets_go_after) {
  asio::io_context io(2);
  shard_set shards(io, 2, 1);
  bool owned_during = false, free_after = false, other_free = false, done = false;
  asio::co_spawn(
      asio::make_strand(io),
      [&]() -> asio::awaitable<void> {
        auto fn = [&] {
          owned_during = shards.at(1).owned();
          other_free = !shards.at(0).owned();
        };
        co_await shards.at(1).run(fn);
        free_after = !shards.at(1).owned();
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  run_pool(io, 2);
  BOOST_TEST(done);
  BOOST_TEST(owned_during);
  BOOST_TEST(other_free);
  BOOST_TEST(free_after);
}

BOOST_AUTO_TEST_CASE(work_on_a_taken_shard_waits_and_runs_in_order) {
  // A gate holder owns shard 0 across a suspension; runs submitted meanwhile
  // queue, and run in arrival order once the gate is released.
  asio::io_context io(1);
  shard_set shards(io, 1, 1);
  std::vector<int> order;
  asio::steady_timer hold(io);
  auto spawn = [&](auto body) {
    asio::co_spawn(io, std::move(body), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  };
  spawn([&]() -> asio::awaitable<void> {
    co_await shards.at(0).acquire();
    order.push_back(0);
    hold.expires_after(std::chrono::milliseconds(20));
    co_await hold.async_wait(asio::use_awaitable);
    order.push_back(1);
    shards.at(0).release();
  });
  for (int i = 2; i < 5; ++i) {
    spawn([&, i]() -> asio::awaitable<void> {
      auto fn = [&] { order.push_back(i); };
      co_await shards.at(0).run(fn);
    });
  }
  io.run();
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
  BOOST_TEST(!shards.at(0).owned());
}

BOOST_AUTO_TEST_CASE(runs_from_many_threads_are_serialized) {
  // Unsynchronized increments inside runs: exact only if no two runs of one
  // shard ever overlap (and clean under TSan).
  asio::io_context io(4);
  shard_set shards(io, 2, 1);
  long counters[2] = {0, 0};
  constexpr int tasks = 8, rounds = 3000;
  for (int t = 0; t < tasks; ++t) {
    asio::co_spawn(
        asio::make_strand(io),
        [&, t]() -> asio::awaitable<void> {
          for (int i = 0; i < rounds; ++i) {
            const int s = (i + t) % 2;
            auto bump = [&] { ++counters[s]; };
            co_await shards.at(static_cast<std::size_t>(s)).run(bump);
          }
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  run_pool(io, 4);
  BOOST_TEST(counters[0] + counters[1] == tasks * rounds);
  BOOST_TEST(counters[0] == tasks * rounds / 2);
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
