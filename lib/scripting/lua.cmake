# The Lua engine behind EVAL and FUNCTION (lib/scripting), from Debian's
# packages: PUC Lua 5.1 (liblua5.1-0-dev, the default, what Redis embeds) or
# LuaJIT 2.1 (libluajit-5.1-dev), both linked statically. cjson comes from
# lua-cjson-dev and, with PUC Lua, bit from lua-bitop-dev (LuaJIT has bit
# built in); cmsgpack and struct have no Debian package and are our own
# (scripting/lua_cmsgpack.cpp, scripting/lua_struct.cpp).
# README.md ("Scripting") has the benchmark behind the default.
set(SHRIKE_LUA "lua5.1" CACHE STRING "Lua engine for scripting: lua5.1 or luajit")
set_property(CACHE SHRIKE_LUA PROPERTY STRINGS lua5.1 luajit)

if(SHRIKE_LUA STREQUAL "luajit")
  find_path(SHRIKE_LUAJIT_INCLUDE luajit.h PATH_SUFFIXES luajit-2.1 REQUIRED)
  find_library(SHRIKE_LUAJIT_LIB NAMES libluajit-5.1.a luajit-5.1 REQUIRED)
  set(SHRIKE_LUA_INCLUDE ${SHRIKE_LUAJIT_INCLUDE})
  set(SHRIKE_LUA_LIB ${SHRIKE_LUAJIT_LIB})
  set(SHRIKE_LUA_BIT_LIB "")
  set(SHRIKE_LUA_DEFS SHRIKE_LUAJIT=1)
elseif(SHRIKE_LUA STREQUAL "lua5.1")
  find_path(SHRIKE_LUA51_INCLUDE lua.h PATH_SUFFIXES lua5.1 REQUIRED)
  find_library(SHRIKE_LUA51_LIB NAMES liblua5.1.a lua5.1 REQUIRED)
  set(SHRIKE_LUA_INCLUDE ${SHRIKE_LUA51_INCLUDE})
  set(SHRIKE_LUA_LIB ${SHRIKE_LUA51_LIB})
  find_library(SHRIKE_LUA_BIT_LIB NAMES liblua5.1-bitop.a lua5.1-bitop REQUIRED)
  set(SHRIKE_LUA_DEFS SHRIKE_LUA51=1)
else()
  message(FATAL_ERROR "SHRIKE_LUA must be lua5.1 or luajit, not '${SHRIKE_LUA}'")
endif()
find_library(SHRIKE_LUA_CJSON_LIB NAMES liblua5.1-cjson.a lua5.1-cjson REQUIRED)
message(STATUS "Scripting engine: ${SHRIKE_LUA} (${SHRIKE_LUA_LIB})")

function(shrike_link_lua target)
  # Only scripting/ sees the Lua headers, so switching engines recompiles
  # those files alone. cjson and bit call into Lua: they come first.
  file(GLOB lua_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/scripting/*.cpp)
  set_source_files_properties(${lua_sources} PROPERTIES
    COMPILE_OPTIONS "-isystem;${SHRIKE_LUA_INCLUDE}"
    COMPILE_DEFINITIONS "${SHRIKE_LUA_DEFS}")
  target_link_libraries(${target} PUBLIC ${SHRIKE_LUA_CJSON_LIB} ${SHRIKE_LUA_BIT_LIB} ${SHRIKE_LUA_LIB} ${CMAKE_DL_LIBS} m)
endfunction()
