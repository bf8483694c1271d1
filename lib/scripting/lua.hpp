#pragma once
// The Lua 5.1 C API, from PUC Lua 5.1 or LuaJIT (CMake option SHRIKE_LUA,
// scripting/lua.cmake), and the C modules scripts get as globals.
//
// Raising a Lua error longjmps (PUC Lua) over whatever C++ frames lie between
// the raise and the protected call: a C function called from Lua does its
// C++ work in a helper that returns, and raises only from a frame holding no
// object with a destructor. C++ exceptions must never cross a Lua frame.
extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#if defined(SHRIKE_LUAJIT)
#include <luajit.h>
#endif

// Debian's lua-cjson and, with PUC Lua, lua-bitop (LuaJIT has bit built in).
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

namespace shrike::scripting {

// Our own modules (no Debian package): Redis's cmsgpack and struct APIs.
int open_cmsgpack(lua_State* L);
int open_struct(lua_State* L);

}  // namespace shrike::scripting
