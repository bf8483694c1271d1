#pragma once
// Redis's processEventsWhileBlocked: a handler that will not return for a long
// time (a script past busy-reply-threshold) lets the other handlers that are
// ready on its own thread run meanwhile, so the clients that live on that
// thread get their -BUSY replies and can send SCRIPT KILL. (Clients on the
// other threads are served by those threads as usual.)
//
// Safe because of what a busy script holds: the gates of every shard. A
// nested handler that needs a shard queues behind them and suspends; every
// command but the allow-busy ones is refused before it looks for a shard.
#include <boost/asio/io_context.hpp>

namespace shrike::server {

// The io_context this thread runs (set by io_threads; nullptr elsewhere).
inline thread_local boost::asio::io_context* this_thread_context = nullptr;

// Runs the handlers that are ready now on this thread's context. Does nothing
// off the pool or when called from inside such a nested run.
void serve_while_blocked();

}  // namespace shrike::server
