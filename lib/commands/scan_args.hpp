#pragma once
// Arguments of SCAN, HSCAN, SSCAN and ZSCAN, parsed as Redis's
// parseScanCursorOrReply and scanGenericCommand do (same order of checks,
// same error replies).
#include <cstdint>
#include <string_view>

#include "commands/command_context.hpp"
#include "store/entry.hpp"

namespace shrike::commands {

struct scan_options {
  std::int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;  // false for a missing pattern and for "*"
  std::string_view type;
  bool use_type = false;
};

// strtoul semantics; writes "invalid cursor" and returns false on bad input.
bool parse_scan_cursor(command_context& ctx, std::size_t index, std::uint64_t& cursor);
// [MATCH pattern] [COUNT n] [TYPE t] from argv[first]; TYPE only when allow_type (SCAN).
bool parse_scan_options(command_context& ctx, std::size_t first, bool allow_type, scan_options& out);

// The common start of HSCAN, SSCAN and ZSCAN (`<cmd> key cursor [options]`):
// the cursor is checked before the key and the options after it, as Redis
// does; an absent key gets the empty scan reply. Returns the key's entry, or
// nullptr when the reply is already written.
store::entry* begin_key_scan(command_context& ctx, store::value_type type, std::uint64_t& cursor,
                             scan_options& opt);

}  // namespace shrike::commands
