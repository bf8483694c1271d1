#pragma once
// A shard: a slice of the keyspace (all databases) owned by one strand.
//
// Data is touched either by work running on the strand while the shard's gate
// is free, or by the single holder of the gate (a command that spans several
// shards). The gate is a FIFO: while it is held, single-shard work queues
// behind it in arrival order, so a multi-shard command is atomic for every
// observer and no one starves.
//
// Invariant (on the strand): waiting_ is non-empty only while locked_.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <deque>
#include <random>
#include <vector>

#include "store/blocked_keys.hpp"
#include "store/database.hpp"
#include "util/unique_function.hpp"

namespace shrike::store {

namespace asio = boost::asio;

class shard {
 public:
  using strand_type = asio::strand<asio::io_context::executor_type>;

  // single_thread: the io_context runs on exactly one thread (enables the
  // inline fast path of run()).
  shard(asio::io_context& io, std::size_t index, std::size_t databases, bool single_thread = false);
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  std::size_t index() const { return index_; }
  strand_type& strand() { return strand_; }
  database& db(std::size_t i) { return dbs_[i]; }
  std::size_t database_count() const { return dbs_.size(); }
  std::mt19937_64& rng() { return rng_; }
  blocked_keys& blocked() { return blocked_; }
  // Installs the expiry listener of every database (before the shard runs).
  void set_key_listener(key_listener* listener) {
    for (std::size_t i = 0; i < dbs_.size(); ++i) dbs_[i].set_listener(listener, i);
  }

  // THE hop helper. Runs `fn` on this shard's strand as soon as the gate is
  // free, then resumes the calling coroutine on its own executor, off the
  // strand (the completion is deferred, never run inline). When the strand is
  // idle and the caller is on a pool thread, fn runs inline on that thread:
  // no cross-thread wake-up. `fn` must not suspend.
  //
  // With a single pool thread no other thread can be inside the strand, and a
  // free gate means no multi-shard holder either: fn then runs right here,
  // without the round trip through the scheduler.
  template <class Fn>
  asio::awaitable<void> run(Fn& fn) {
    if (single_thread_ && !locked_) {
      fn();
      co_return;
    }
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this, &fn](auto handler) {
          asio::dispatch(strand_, [this, &fn, h = std::move(handler)]() mutable {
            auto work = [&fn, h = std::move(h)]() mutable {
              fn();
              complete(std::move(h));
            };
            if (!locked_) {
              work();
            } else {
              waiting_.emplace_back(std::move(work));
            }
          });
        },
        asio::use_awaitable);
  }

  // Takes the gate (FIFO); resumes the caller off the strand holding it.
  asio::awaitable<void> acquire();
  // Frees the gate and runs the work that queued behind it.
  void release();

  // Starts the active-expiry cycle (every `period`).
  void start_expiry(std::chrono::milliseconds period);
  void stop();

 private:
  template <class Handler>
  static void complete(Handler&& h) {
    auto ex = asio::get_associated_executor(h);
    asio::defer(ex, std::forward<Handler>(h));
  }
  void drain();
  void expiry_tick();

  asio::io_context& io_;
  std::size_t index_;
  strand_type strand_;
  std::vector<database> dbs_;
  std::mt19937_64 rng_;
  blocked_keys blocked_;
  bool single_thread_;
  bool locked_ = false;
  std::deque<util::unique_function> waiting_;
  asio::steady_timer expiry_timer_;
  std::chrono::milliseconds expiry_period_{100};
  bool stopped_ = false;
};

}  // namespace shrike::store
