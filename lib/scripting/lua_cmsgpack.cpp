// The `cmsgpack` library scripts get in Redis (lua-cmsgpack 0.4.0's API):
// cmsgpack.pack(v1, v2, ...) -> the MessagePack encodings, concatenated;
// cmsgpack.unpack(s) -> every value in s; unpack_one(s [, offset]) and
// unpack_limit(s, limit [, offset]) -> the next offset (-1 at the end) and
// the values. Written for Shrike to produce the same bytes as Redis's copy:
//
//   nil c0, false c2, true c3; integral numbers as the smallest (u)int or
//   fixint; other numbers as float32 (ca) when exact, else float64 (cb);
//   strings as fixstr / str8 (d9) / str16 / str32; a table whose keys are
//   exactly 1..n as an array (fixarray / 16 / 32), any other as a map;
//   tables nested 16 deep, and functions and userdata, as nil.
//
// Unlike Redis's copy, tables are read raw (no __index): no Lua code runs
// while a value is encoded.
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "scripting/lua.hpp"

namespace shrike::scripting {

namespace {

constexpr int max_nesting = 16;

// --- encoding (raises nothing but memory errors) ----------------------------------

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void encode_int(std::string& out, std::int64_t n) {
  if (n >= 0) {
    if (n <= 127) {
      out.push_back(static_cast<char>(n & 0x7f));
    } else if (n <= 0xff) {
      out.push_back(static_cast<char>(0xcc));
      put_be(out, static_cast<std::uint64_t>(n), 1);
    } else if (n <= 0xffff) {
      out.push_back(static_cast<char>(0xcd));
      put_be(out, static_cast<std::uint64_t>(n), 2);
    } else if (n <= 0xffffffffLL) {
      out.push_back(static_cast<char>(0xce));
      put_be(out, static_cast<std::uint64_t>(n), 4);
    } else {
      out.push_back(static_cast<char>(0xcf));
      put_be(out, static_cast<std::uint64_t>(n), 8);
    }
  } else {
    if (n >= -32) {
      out.push_back(static_cast<char>(static_cast<signed char>(n)));
    } else if (n >= -128) {
      out.push_back(static_cast<char>(0xd0));
      put_be(out, static_cast<std::uint64_t>(n), 1);
    } else if (n >= -32768) {
      out.push_back(static_cast<char>(0xd1));
      put_be(out, static_cast<std::uint64_t>(n), 2);
    } else if (n >= -2147483648LL) {
      out.push_back(static_cast<char>(0xd2));
      put_be(out, static_cast<std::uint64_t>(n), 4);
    } else {
      out.push_back(static_cast<char>(0xd3));
      put_be(out, static_cast<std::uint64_t>(n), 8);
    }
  }
}

void encode_number(std::string& out, lua_Number n) {
  // An integral value that fits an int64 (what (int64_t)n == n says).
  if (!std::isinf(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
      static_cast<lua_Number>(static_cast<std::int64_t>(n)) == n) {
    encode_int(out, static_cast<std::int64_t>(n));
    return;
  }
  const double d = n;
  const float f = static_cast<float>(d);
  if (d == static_cast<double>(f)) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    out.push_back(static_cast<char>(0xca));
    put_be(out, bits, 4);
  } else {
    std::uint64_t bits;
    std::memcpy(&bits, &d, 8);
    out.push_back(static_cast<char>(0xcb));
    put_be(out, bits, 8);
  }
}

void encode_bytes(std::string& out, const char* s, std::size_t len) {
  if (len < 32) {
    out.push_back(static_cast<char>(0xa0 | len));
  } else if (len <= 0xff) {
    out.push_back(static_cast<char>(0xd9));
    put_be(out, len, 1);
  } else if (len <= 0xffff) {
    out.push_back(static_cast<char>(0xda));
    put_be(out, len, 2);
  } else {
    out.push_back(static_cast<char>(0xdb));
    put_be(out, len, 4);
  }
  out.append(s, len);
}

// True when the table at the top has exactly the keys 1..n.
bool is_array(lua_State* L) {
  const int top = lua_gettop(L);
  long count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_settop(L, top);
      return false;
    }
    const lua_Number n = lua_tonumber(L, -1);
    if (n <= 0 || std::isinf(n) || n >= 2147483648.0 || static_cast<lua_Number>(static_cast<int>(n)) != n) {
      lua_settop(L, top);
      return false;
    }
    max = std::max(max, static_cast<long>(n));
    ++count;
  }
  lua_settop(L, top);
  return max == count;
}

void encode_value(lua_State* L, std::string& out, int level);

void encode_table(lua_State* L, std::string& out, int level) {
  lua_checkstack(L, 3);
  if (is_array(L)) {
    const std::size_t len = lua_objlen(L, -1);
    if (len <= 15) {
      out.push_back(static_cast<char>(0x90 | len));
    } else if (len <= 0xffff) {
      out.push_back(static_cast<char>(0xdc));
      put_be(out, len, 2);
    } else {
      out.push_back(static_cast<char>(0xdd));
      put_be(out, len, 4);
    }
    for (std::size_t j = 1; j <= len; ++j) {
      lua_rawgeti(L, -1, static_cast<int>(j));
      encode_value(L, out, level + 1);
    }
    return;
  }
  std::size_t len = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    ++len;
  }
  if (len <= 15) {
    out.push_back(static_cast<char>(0x80 | len));
  } else if (len <= 0xffff) {
    out.push_back(static_cast<char>(0xde));
    put_be(out, len, 2);
  } else {
    out.push_back(static_cast<char>(0xdf));
    put_be(out, len, 4);
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    encode_value(L, out, level + 1);  // the key
    encode_value(L, out, level + 1);  // the value
  }
}

// Encodes the value at the top and pops it.
void encode_value(lua_State* L, std::string& out, int level) {
  int t = lua_type(L, -1);
  if (t == LUA_TTABLE && level == max_nesting) t = LUA_TNIL;
  switch (t) {
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      encode_bytes(out, s, len);
      break;
    }
    case LUA_TBOOLEAN:
      out.push_back(static_cast<char>(lua_toboolean(L, -1) ? 0xc3 : 0xc2));
      break;
    case LUA_TNUMBER:
      encode_number(out, lua_tonumber(L, -1));
      break;
    case LUA_TTABLE:
      encode_table(L, out, level);
      break;
    default:
      out.push_back(static_cast<char>(0xc0));
  }
  lua_pop(L, 1);
}

// Encodes arguments 1..n into one string pushed on the stack.
void pack_all(lua_State* L, int nargs) {
  std::string out;
  for (int i = 1; i <= nargs; ++i) {
    lua_pushvalue(L, i);
    encode_value(L, out, 0);
  }
  lua_pushlstring(L, out.data(), out.size());
}

int cmsgpack_pack(lua_State* L) {
  const int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  pack_all(L, nargs);
  return 1;
}

// --- decoding (plain C: Lua errors may longjmp from anywhere here) -----------------

enum cursor_error { cur_ok = 0, cur_eof = 1, cur_badfmt = 2 };

struct cursor {
  const unsigned char* p;
  std::size_t left;
  int err;
};

#define NEED(c, n)          \
  do {                      \
    if ((c)->left < (n)) {  \
      (c)->err = cur_eof;   \
      return;               \
    }                       \
  } while (0)

void consume(cursor* c, std::size_t n) {
  c->p += n;
  c->left -= n;
}

std::uint64_t be(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

void decode_value(lua_State* L, cursor* c);

void decode_array(lua_State* L, cursor* c, std::size_t len) {
  int index = 1;
  lua_newtable(L);
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
  while (len--) {
    lua_pushnumber(L, index++);
    decode_value(L, c);
    if (c->err) return;
    lua_settable(L, -3);
  }
}

void decode_map(lua_State* L, cursor* c, std::size_t len) {
  lua_newtable(L);
  while (len--) {
    decode_value(L, c);
    if (c->err) return;
    decode_value(L, c);
    if (c->err) return;
    lua_settable(L, -3);
  }
}

void decode_value(lua_State* L, cursor* c) {
  NEED(c, 1);
  luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
  const unsigned char b = c->p[0];
  switch (b) {
    case 0xcc:
      NEED(c, 2);
      lua_pushnumber(L, c->p[1]);
      consume(c, 2);
      return;
    case 0xd0:
      NEED(c, 2);
      lua_pushinteger(L, static_cast<signed char>(c->p[1]));
      consume(c, 2);
      return;
    case 0xcd:
      NEED(c, 3);
      lua_pushnumber(L, static_cast<lua_Number>(be(c->p + 1, 2)));
      consume(c, 3);
      return;
    case 0xd1:
      NEED(c, 3);
      lua_pushinteger(L, static_cast<std::int16_t>(be(c->p + 1, 2)));
      consume(c, 3);
      return;
    case 0xce:
      NEED(c, 5);
      lua_pushnumber(L, static_cast<lua_Number>(be(c->p + 1, 4)));
      consume(c, 5);
      return;
    case 0xd2:
      NEED(c, 5);
      lua_pushinteger(L, static_cast<std::int32_t>(be(c->p + 1, 4)));
      consume(c, 5);
      return;
    case 0xcf:
      NEED(c, 9);
      lua_pushnumber(L, static_cast<lua_Number>(be(c->p + 1, 8)));
      consume(c, 9);
      return;
    case 0xd3:
      NEED(c, 9);
      lua_pushnumber(L, static_cast<lua_Number>(static_cast<std::int64_t>(be(c->p + 1, 8))));
      consume(c, 9);
      return;
    case 0xc0:
      lua_pushnil(L);
      consume(c, 1);
      return;
    case 0xc3:
      lua_pushboolean(L, 1);
      consume(c, 1);
      return;
    case 0xc2:
      lua_pushboolean(L, 0);
      consume(c, 1);
      return;
    case 0xca: {
      NEED(c, 5);
      const auto bits = static_cast<std::uint32_t>(be(c->p + 1, 4));
      float f;
      std::memcpy(&f, &bits, 4);
      lua_pushnumber(L, f);
      consume(c, 5);
      return;
    }
    case 0xcb: {
      NEED(c, 9);
      const std::uint64_t bits = be(c->p + 1, 8);
      double d;
      std::memcpy(&d, &bits, 8);
      lua_pushnumber(L, d);
      consume(c, 9);
      return;
    }
    case 0xd9: {
      NEED(c, 2);
      const std::size_t l = c->p[1];
      NEED(c, 2 + l);
      lua_pushlstring(L, reinterpret_cast<const char*>(c->p) + 2, l);
      consume(c, 2 + l);
      return;
    }
    case 0xda: {
      NEED(c, 3);
      const std::size_t l = be(c->p + 1, 2);
      NEED(c, 3 + l);
      lua_pushlstring(L, reinterpret_cast<const char*>(c->p) + 3, l);
      consume(c, 3 + l);
      return;
    }
    case 0xdb: {
      NEED(c, 5);
      const std::size_t l = be(c->p + 1, 4);
      NEED(c, 5 + l);
      lua_pushlstring(L, reinterpret_cast<const char*>(c->p) + 5, l);
      consume(c, 5 + l);
      return;
    }
    case 0xdc: {
      NEED(c, 3);
      const std::size_t l = be(c->p + 1, 2);
      consume(c, 3);
      decode_array(L, c, l);
      return;
    }
    case 0xdd: {
      NEED(c, 5);
      const std::size_t l = be(c->p + 1, 4);
      consume(c, 5);
      decode_array(L, c, l);
      return;
    }
    case 0xde: {
      NEED(c, 3);
      const std::size_t l = be(c->p + 1, 2);
      consume(c, 3);
      decode_map(L, c, l);
      return;
    }
    case 0xdf: {
      NEED(c, 5);
      const std::size_t l = be(c->p + 1, 4);
      consume(c, 5);
      decode_map(L, c, l);
      return;
    }
    default:
      if ((b & 0x80) == 0) {  // positive fixint
        lua_pushnumber(L, b);
        consume(c, 1);
      } else if ((b & 0xe0) == 0xe0) {  // negative fixint
        lua_pushinteger(L, static_cast<signed char>(b));
        consume(c, 1);
      } else if ((b & 0xe0) == 0xa0) {  // fixstr
        const std::size_t l = b & 0x1f;
        NEED(c, 1 + l);
        lua_pushlstring(L, reinterpret_cast<const char*>(c->p) + 1, l);
        consume(c, 1 + l);
      } else if ((b & 0xf0) == 0x90) {  // fixarray
        consume(c, 1);
        decode_array(L, c, b & 0xf);
      } else if ((b & 0xf0) == 0x80) {  // fixmap
        consume(c, 1);
        decode_map(L, c, b & 0xf);
      } else {
        c->err = cur_badfmt;
      }
  }
}

#undef NEED

int unpack_full(lua_State* L, int limit, int offset) {
  std::size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const bool decode_all = !limit && !offset;
  if (offset < 0 || limit < 0)
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, static_cast<int>(len));
  if (static_cast<std::size_t>(offset) > len)
    return luaL_error(L, "Start offset %d greater than input length %d.", offset, static_cast<int>(len));
  if (decode_all) limit = INT_MAX;
  cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - static_cast<std::size_t>(offset), cur_ok};
  int count = 0;
  for (; c.left > 0 && count < limit; ++count) {
    decode_value(L, &c);
    if (c.err == cur_eof) return luaL_error(L, "Missing bytes in input.");
    if (c.err == cur_badfmt) return luaL_error(L, "Bad data format in input.");
  }
  if (!decode_all) {
    const int next = static_cast<int>(len - c.left);
    if (!lua_checkstack(L, 1)) return luaL_error(L, "too many results to unpack");
    lua_pushinteger(L, c.left == 0 ? -1 : next);
    lua_insert(L, 2);
    ++count;
  }
  return count;
}

int cmsgpack_unpack(lua_State* L) { return unpack_full(L, 0, 0); }

int cmsgpack_unpack_one(lua_State* L) {
  const int offset = static_cast<int>(luaL_optinteger(L, 2, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return unpack_full(L, 1, offset);
}

int cmsgpack_unpack_limit(lua_State* L) {
  const int limit = static_cast<int>(luaL_checkinteger(L, 2));
  const int offset = static_cast<int>(luaL_optinteger(L, 3, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return unpack_full(L, limit, offset);
}

const luaL_Reg cmsgpack_functions[] = {
    {"pack", cmsgpack_pack},
    {"unpack", cmsgpack_unpack},
    {"unpack_one", cmsgpack_unpack_one},
    {"unpack_limit", cmsgpack_unpack_limit},
    {nullptr, nullptr},
};

}  // namespace

int open_cmsgpack(lua_State* L) {
  lua_newtable(L);
  luaL_register(L, nullptr, cmsgpack_functions);
  lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  return 1;
}

}  // namespace shrike::scripting
