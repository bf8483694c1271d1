#pragma once
// Conversions between RESP replies and Lua values, as Redis 7.0 makes them.
//
// RESP -> Lua (what redis.call returns): integer -> number, bulk -> string,
// null bulk / null array -> false, status -> {ok=s}, error -> {err=s},
// array -> table; RESP3 only (after redis.setresp(3)): map -> {map={k=v}},
// set -> {set={m=true}}, null -> nil, boolean -> boolean, double ->
// {double=d}, big number -> {big_number=s}, verbatim -> {verbatim_string=
// {format=f, string=s}}; attributes are skipped.
//
// Lua -> RESP (what a script returns): string -> bulk, number -> integer
// (truncated), boolean -> :1 / null under RESP2 (the script's protocol),
// RESP3 boolean under RESP3, table -> the first of: {err=s} error, {ok=s}
// status, {double=n}, {big_number=s}, {verbatim_string=...}, {map=t},
// {set=t}, else an array of t[1..] up to the first nil; anything else ->
// null. The reply is written in the CALLER's protocol.
#include <string_view>

#include "resp/reply_writer.hpp"
#include "scripting/lua.hpp"

namespace shrike::scripting {

// Pushes the Lua value of one complete reply (written by our reply writer,
// so well formed). Returns the bytes it consumed.
std::size_t push_reply(lua_State* L, std::string_view reply);

// Pushes Redis's error table {err="CODE message"} for `text`: "-CODE msg"
// keeps its code, anything else gets "ERR " (luaPushErrorBuff).
void push_error_table(lua_State* L, std::string_view text);

// Writes the value on the top of the stack to `out` and pops it.
// `script_resp`: the RESP version the script selected (booleans).
void write_value(lua_State* L, resp::reply_writer& out, int script_resp);

}  // namespace shrike::scripting
