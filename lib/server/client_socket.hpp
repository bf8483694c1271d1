#pragma once
// A client's TCP socket with one extra operation: a read that tells asio's
// reactor when it has drained the kernel's receive buffer.
//
// Why: asio (Boost 1.81) first tries every asynchronous read as a plain
// recv() and goes to epoll only when that fails, and it believes a stream
// socket drained only at EOF. A client at pipeline depth 1 sends its next
// request only after our reply, so every request cost a recv() that failed
// with EAGAIN: 2 recv calls per request against Redis's 1, which reads only
// when epoll says the socket is readable.
//
// A read that returns fewer bytes than the buffer holds found the receive
// buffer empty. async_read_drained reports such a read to the reactor as
// "done and exhausted", so the next read waits for epoll instead of trying
// recv() first. Nothing is lost: the reactor registers sockets
// edge-triggered, and any byte that arrives later raises a new edge, which
// runs a queued read or re-enables the speculative attempt (both under the
// descriptor's lock, the one the read's recv() ran under).
//
// This uses asio's reactor-operation interface from its detail namespace,
// which is stable within the Boost release the project pins (1.81). The
// operation mirrors asio's own receive operation except for that one status.
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace shrike::server {

namespace detail {

class drained_recv_op_base : public boost::asio::detail::reactor_op {
 public:
  drained_recv_op_base(boost::asio::detail::socket_type socket, boost::asio::mutable_buffer buffer, func_type complete)
      : reactor_op(boost::system::error_code(), &drained_recv_op_base::do_perform, complete),
        socket_(socket),
        buffer_(buffer) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<drained_recv_op_base*>(base);
    bool finished = boost::asio::detail::socket_ops::non_blocking_recv1(
        o->socket_, o->buffer_.data(), o->buffer_.size(), 0, true, o->ec_, o->bytes_transferred_);
    if (!finished) return not_done;  // EAGAIN: wait for epoll
    // A full buffer may have left bytes behind; anything else (a short read,
    // EOF, an error) leaves nothing to read until the next edge.
    if (!o->ec_ && o->bytes_transferred_ == o->buffer_.size()) return done;
    return done_and_exhausted;
  }

 private:
  boost::asio::detail::socket_type socket_;
  boost::asio::mutable_buffer buffer_;
};

template <typename Handler, typename IoExecutor>
class drained_recv_op : public drained_recv_op_base {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(drained_recv_op);

  drained_recv_op(boost::asio::detail::socket_type socket, boost::asio::mutable_buffer buffer, Handler& handler,
                  const IoExecutor& io_ex)
      : drained_recv_op_base(socket, buffer, &drained_recv_op::do_complete),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  static void do_complete(void* owner, boost::asio::detail::operation* base, const boost::system::error_code&,
                          std::size_t) {
    auto* o = static_cast<drained_recv_op*>(base);
    ptr p = {std::addressof(o->handler_), o, o};
    boost::asio::detail::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    // Copy the handler out so the operation's memory is freed before the
    // upcall (the handler may own that memory's allocator).
    boost::asio::detail::binder2<Handler, boost::system::error_code, std::size_t> handler(
        o->handler_, o->ec_, o->bytes_transferred_);
    p.h = std::addressof(handler.handler_);
    p.reset();
    if (owner) {
      boost::asio::detail::fenced_block b(boost::asio::detail::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  Handler handler_;
  boost::asio::detail::handler_work<Handler, IoExecutor> work_;
};

}  // namespace detail

class client_socket : public boost::asio::ip::tcp::socket {
 public:
  explicit client_socket(boost::asio::ip::tcp::socket&& socket)
      : boost::asio::ip::tcp::socket(std::move(socket)),
        reactor_(boost::asio::use_service<boost::asio::detail::reactor>(
            boost::asio::query(get_executor(), boost::asio::execution::context))) {}

  // async_read_some, except that a short read marks the socket drained (see
  // above). An operation with a connected cancellation slot takes asio's own
  // path, which knows how to cancel a single operation.
  template <typename Token>
  auto async_read_drained(boost::asio::mutable_buffer buffer, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, boost::asio::mutable_buffer buf) { start_read(std::move(handler), buf); }, token,
        buffer);
  }

 private:
  template <typename Handler>
  void start_read(Handler handler, boost::asio::mutable_buffer buffer) {
    if (boost::asio::get_associated_cancellation_slot(handler).is_connected()) {
      async_read_some(buffer, std::move(handler));
      return;
    }
    namespace ad = boost::asio::detail;
    auto& impl = impl_.get_implementation();
    bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
    using op = detail::drained_recv_op<Handler, executor_type>;
    typename op::ptr p = {std::addressof(handler), op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) op(impl.socket_, buffer, handler, impl_.get_executor());
    if ((impl.state_ & ad::socket_ops::non_blocking) ||
        ad::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_, true, p.p->ec_)) {
      reactor_.start_op(ad::reactor::read_op, impl.socket_, impl.reactor_data_, p.p, is_continuation, true);
    } else {
      reactor_.post_immediate_completion(p.p, is_continuation);
    }
    p.v = p.p = nullptr;
  }

  boost::asio::detail::reactor& reactor_;
};

}  // namespace shrike::server
