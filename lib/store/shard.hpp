#pragma once
// A shard: a slice of the keyspace (all databases) with one owner at a time.
//
// Ownership plays the part of a strand, with one difference that matters on a
// thread pool: a caller that finds the shard free takes it and runs its work
// right there, on its own thread, without suspending (no scheduler round trip,
// no cross-thread wake-up). A caller that finds it taken queues its work; the
// owner runs the queue, in arrival order, when it lets go. The measured cost
// of going through an asio::strand instead: see the README's architecture.
//
// The gate is ownership held across suspensions: a command spanning several
// shards owns each of them (taken in ascending order, so no deadlock) while it
// runs, and single-shard work queues behind it. A multi-shard command is
// atomic for every observer and no one starves.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <vector>

#include "store/blocked_keys.hpp"
#include "store/database.hpp"
#include "util/unique_function.hpp"

namespace shrike::store {

namespace asio = boost::asio;

class shard {
 public:
  shard(asio::io_context& io, std::size_t index, std::size_t databases);
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  std::size_t index() const { return index_; }
  database& db(std::size_t i) { return dbs_[i]; }
  std::size_t database_count() const { return dbs_.size(); }
  std::mt19937_64& rng() { return rng_; }
  blocked_keys& blocked() { return blocked_; }
  // Installs the expiry listener of every database (before the shard runs).
  void set_key_listener(key_listener* listener) {
    for (std::size_t i = 0; i < dbs_.size(); ++i) dbs_[i].set_listener(listener, i);
  }

  // THE hop helper. Runs `fn` as the shard's owner. When the shard is free,
  // fn runs right here and the caller never suspends. Otherwise fn waits its
  // turn and runs on the thread of the owner that hands the shard on; the
  // caller resumes on its own executor afterwards (deferred, never inline).
  // `fn` must not suspend.
  template <class Fn>
  asio::awaitable<void> run(Fn& fn) {
    if (try_run(fn)) co_return;
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this, &fn](auto handler) {
          submit([&fn, h = std::move(handler)]() mutable {
            fn();
            complete(std::move(h));
          });
        },
        asio::use_awaitable);
  }

  // run()'s path without a coroutine: runs `fn` here and returns true when
  // the shard is free; returns false, without running it, when it is not.
  template <class Fn>
  bool try_run(Fn&& fn) {
    if (!try_own_soon(owner_kind::run)) return false;
    owner_scope scope(*this);
    fn();
    return true;
  }

  // Takes the gate: ownership that lasts until release(), across suspensions.
  // FIFO with run(); the caller resumes off the thread that granted it.
  asio::awaitable<void> acquire();
  // Gives up the gate and hands the shard to the work queued behind it.
  void release() { hand_on(); }

  // True while someone owns the shard (a run or a gate holder); for tests.
  bool owned() const { return owner_.load(std::memory_order_acquire) != owner_kind::none; }

  // Starts the active-expiry cycle (every `period`).
  void start_expiry(std::chrono::milliseconds period);
  void stop();

 private:
  // Queued work. A gate grant keeps the ownership it is handed; everything
  // else gives it back when it returns.
  struct waiter {
    util::unique_function fn;
    bool keeps_ownership;
  };
  // Hands the shard on when a run that owned it ends (also by exception).
  struct owner_scope {
    explicit owner_scope(shard& s) : s_(s) {}
    owner_scope(const owner_scope&) = delete;
    owner_scope& operator=(const owner_scope&) = delete;
    ~owner_scope() { s_.hand_on(); }
    shard& s_;
  };

  template <class Handler>
  static void complete(Handler&& h) {
    auto ex = asio::get_associated_executor(h);
    asio::defer(ex, std::forward<Handler>(h));
  }
  // Who owns the shard: a run (busy on some thread for a short while) or a
  // gate holder (possibly suspended, waiting for another shard).
  enum class owner_kind : std::uint8_t { none, run, gate };
  bool try_own(owner_kind kind);
  // Takes the shard when it is free. When a run owns it on another thread,
  // that run lets go within about a microsecond: waiting that long costs less
  // than queueing, which suspends the caller and wakes its thread again later.
  // Gives up after a bounded spin, and at once when a gate holder owns it.
  bool try_own_soon(owner_kind kind);
  // Runs `fn` as the owner: now, on this thread, when the shard is free;
  // otherwise after the work queued before it.
  void submit(util::unique_function fn, bool keeps_ownership = false);
  // Called by the owner when it is done: runs the queued work in order (a
  // bounded number of items here, the rest from a posted continuation) until
  // the queue is empty or a gate holder took over.
  void hand_on();
  void expiry_tick();

  asio::io_context& io_;
  std::size_t index_;
  std::vector<database> dbs_;
  std::mt19937_64 rng_;
  blocked_keys blocked_;
  std::mutex mutex_;  // guards waiting_ and every change of owner_
  std::atomic<owner_kind> owner_{owner_kind::none};  // read without the mutex to spin
  std::deque<waiter> waiting_;
  asio::steady_timer expiry_timer_;  // touched only by the owner
  std::chrono::milliseconds expiry_period_{100};
  bool stopped_ = false;
};

}  // namespace shrike::store
