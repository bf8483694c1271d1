#include "server/serve_while_blocked.hpp"

#include <exception>
#include <string>

#include "util/log.hpp"

namespace shrike::server {

void serve_while_blocked() {
  static thread_local bool serving = false;
  boost::asio::io_context* ctx = this_thread_context;
  if (!ctx || serving) return;
  serving = true;
  try {
    ctx->poll();
  } catch (const std::exception& e) {
    // Must not unwind through the interpreter that called us.
    util::log_warning(std::string("while blocked: ") + e.what());
  } catch (...) {
    util::log_warning("while blocked: unknown exception");
  }
  serving = false;
}

}  // namespace shrike::server
