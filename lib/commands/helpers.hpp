#pragma once
// Small pieces every command family uses: argument parsing with Redis's error
// replies, typed key lookup, case-insensitive option matching.
#include <cctype>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "commands/command_context.hpp"
#include "commands/keyspace_notify.hpp"
#include "store/database.hpp"
#include "util/numbers.hpp"
#include "util/text.hpp"

namespace shrike::commands {

using util::iequals;

// getLongLongFromObjectOrReply.
inline bool int_arg(command_context& ctx, std::size_t i, std::int64_t& v) {
  if (util::parse_int64(ctx.arg(i), v)) return true;
  ctx.out.error(errors::not_integer);
  return false;
}

// Lookup for reading (lookupKeyRead): counts keyspace hits/misses, refreshes
// the access time, notifies "keymiss".
inline store::entry* read_key(command_context& ctx, store::database& db, std::string_view key) {
  store::entry* e = ctx.client.no_touch ? db.lookup(key, ctx.now_ms) : db.touch(key, ctx.now_ms);
  (e ? ctx.srv.stats().keyspace_hits : ctx.srv.stats().keyspace_misses).fetch_add(1, std::memory_order_relaxed);
  if (!e) notify_keymiss(ctx, key);
  return e;
}

// Lookup for writing (no hit/miss accounting).
inline store::entry* write_key(command_context& ctx, store::database& db, std::string_view key) {
  return db.touch(key, ctx.now_ms);
}

// checkType: writes WRONGTYPE and returns false on mismatch.
inline bool check_type(command_context& ctx, const store::entry* e, store::value_type t) {
  if (e->type == t) return true;
  ctx.out.error(errors::wrong_type);
  return false;
}

inline std::string wrong_arity_text(std::string_view fullname) {
  return "wrong number of arguments for '" + std::string(fullname) + "' command";
}

}  // namespace shrike::commands

namespace shrike::commands {

// addReplyHelp: "<CMD> <subcommand> ... Subcommands are:", the lines, then HELP.
inline void write_help(command_context& ctx, std::initializer_list<std::string_view> lines) {
  std::string cmd(ctx.arg(0));
  for (auto& c : cmd) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ctx.out.array(lines.size() + 3);
  ctx.out.simple(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (auto l : lines) ctx.out.simple(l);
  ctx.out.simple("HELP");
  ctx.out.simple("    Prints this help.");
}

// getIntFromObjectOrReply (a value that fits an int).
inline bool int32_arg(command_context& ctx, std::size_t i, int& v, std::string_view message = {}) {
  std::int64_t ll;
  if (!util::parse_int64(ctx.arg(i), ll) || ll < INT32_MIN || ll > INT32_MAX) {
    ctx.out.error(message.empty() ? errors::not_integer : message);
    return false;
  }
  v = static_cast<int>(ll);
  return true;
}

// getRangeLongFromObjectOrReply with a message: `message` is the reply for a
// non-number as well as for a number outside [min, max].
inline bool ranged_int_arg(command_context& ctx, std::size_t i, std::int64_t min, std::int64_t max, std::int64_t& v,
                           std::string_view message) {
  if (util::parse_int64(ctx.arg(i), v) && v >= min && v <= max) return true;
  ctx.out.error(message);
  return false;
}

// addReplySubcommandSyntaxError.
inline void subcommand_syntax_error(command_context& ctx) {
  std::string cmd(ctx.arg(0));
  for (auto& c : cmd) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string sub(ctx.arg(1).substr(0, 128));
  ctx.out.error("unknown subcommand or wrong number of arguments for '" + std::string(sub.c_str()) + "'. Try " + cmd +
                " HELP.");
}

}  // namespace shrike::commands
