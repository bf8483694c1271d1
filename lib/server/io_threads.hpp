#pragma once
// The server's threads: one io_context per thread. Thread 0 runs the main
// context (listeners, signals, crons, shard timers) and the others run a
// context each that only serves client sessions.
//
// Why not one io_context run by every thread: a session then needs a strand
// (other threads post to it: CLIENT KILL, pub/sub wake-ups, shard
// completions), every resume goes through that strand's lock, and the threads
// share one reactor, handing it to each other through a condition variable.
// With a context per thread a session is serialized by its thread alone.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "server/serve_while_blocked.hpp"

namespace shrike::server {

class io_threads {
 public:
  // `threads` >= 1; run() runs `main` on the calling thread.
  io_threads(boost::asio::io_context& main, std::size_t threads) : main_(main) {
    for (std::size_t i = 1; i < threads; ++i) {
      workers_.push_back(std::make_unique<boost::asio::io_context>(1));
      guards_.emplace_back(workers_.back()->get_executor());
    }
  }
  io_threads(const io_threads&) = delete;
  io_threads& operator=(const io_threads&) = delete;
  // After a normal run() the workers are done already; after an exception
  // out of run() they are stopped here rather than waited for.
  ~io_threads() {
    for (auto& w : workers_) w->stop();
    join();
  }

  // Where the next client session lives: the contexts in turn.
  boost::asio::io_context& next_for_session() {
    const std::size_t n = workers_.size() + 1;
    const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed) % n;
    return i == 0 ? main_ : *workers_[i - 1];
  }

  // Starts the worker threads, runs the main context on this thread until it
  // runs out of work, then waits for the workers.
  void run() {
    for (auto& w : workers_)
      pool_.emplace_back([ctx = w.get()] {
        this_thread_context = ctx;
        ctx->run();
      });
    this_thread_context = &main_;
    main_.run();
    this_thread_context = nullptr;
    join();
  }

  // Lets the workers return once their sessions are gone (shutdown).
  void release_workers() {
    for (auto& g : guards_) g.reset();
  }

 private:
  void join() {
    for (auto& t : pool_)
      if (t.joinable()) t.join();
  }

  boost::asio::io_context& main_;
  std::vector<std::unique_ptr<boost::asio::io_context>> workers_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<std::thread> pool_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace shrike::server
