#include "commands/scan_args.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "commands/helpers.hpp"

namespace shrike::commands {

bool parse_scan_cursor(command_context& ctx, std::size_t index, std::uint64_t& cursor) {
  std::string s(ctx.arg(index));
  if (s.empty()) {
    cursor = 0;
    return true;
  }
  if (!std::isspace(static_cast<unsigned char>(s[0]))) {
    errno = 0;
    char* end = nullptr;
    cursor = std::strtoul(s.c_str(), &end, 10);
    if (*end == '\0' && errno != ERANGE) return true;
  }
  ctx.out.error("invalid cursor");
  return false;
}

bool parse_scan_options(command_context& ctx, std::size_t first, bool allow_type, scan_options& out) {
  for (std::size_t i = first; i < ctx.argc();) {
    const std::size_t left = ctx.argc() - i;
    if (iequals(ctx.arg(i), "count") && left >= 2) {
      if (!int_arg(ctx, i + 1, out.count)) return false;
      if (out.count < 1) {
        ctx.out.error(errors::syntax);
        return false;
      }
      i += 2;
    } else if (iequals(ctx.arg(i), "match") && left >= 2) {
      out.pattern = ctx.arg(i + 1);
      out.use_pattern = out.pattern != "*";
      i += 2;
    } else if (allow_type && iequals(ctx.arg(i), "type") && left >= 2) {
      out.type = ctx.arg(i + 1);
      out.use_type = true;
      i += 2;
    } else {
      ctx.out.error(errors::syntax);
      return false;
    }
  }
  return true;
}

store::entry* begin_key_scan(command_context& ctx, store::value_type type, std::uint64_t& cursor,
                             scan_options& opt) {
  if (!parse_scan_cursor(ctx, 2, cursor)) return nullptr;
  store::entry* e = read_key(ctx, ctx.db(ctx.arg(1)), ctx.arg(1));
  if (!e) {
    ctx.out.array(2);
    ctx.out.bulk("0");
    ctx.out.array(0);
    return nullptr;
  }
  if (!check_type(ctx, e, type)) return nullptr;
  if (!parse_scan_options(ctx, 3, false, opt)) return nullptr;
  return e;
}

}  // namespace shrike::commands
