// The `struct` library scripts get in Redis: struct.pack(fmt, ...),
// struct.unpack(fmt, s [, pos]) and struct.size(fmt), with Roberto
// Ierusalimschy's format language as Redis ships it:
//
//   >  <  big / little endian        !n  maximum alignment n (default 8)
//   b B  signed / unsigned char      h H  short        l L  long (8 bytes)
//   T    size_t                      i I[n]  int of n bytes (default 4, <= 32)
//   f d  float / double              x    one padding byte
//   s    zero-terminated string      c[n] n characters (c0: as long as the
//   (space) ignored                       string when packing; the previous
//                                         unpacked number when unpacking)
//
// Written for Shrike from that description; the error texts are Redis's.
// Raising functions hold no C++ objects (a Lua error may longjmp).
#include <cctype>
#include <climits>
#include <cstring>

#include "scripting/lua.hpp"

namespace shrike::scripting {

namespace {

using int_type = long;
using uint_type = unsigned long;

constexpr int max_int_size = 32;
constexpr int max_align = 8;  // what a double needs on x86-64
constexpr bool native_little = true;

struct header {
  bool little = native_little;
  int align = 1;
};

bool is_pow2(int x) { return x > 0 && (x & (x - 1)) == 0; }

int get_number(lua_State* L, const char** fmt, int fallback) {
  if (!std::isdigit(static_cast<unsigned char>(**fmt))) return fallback;
  int a = 0;
  do {
    if (a > (INT_MAX / 10) || a * 10 > (INT_MAX - (**fmt - '0'))) luaL_error(L, "integral size overflow");
    a = a * 10 + *((*fmt)++) - '0';
  } while (std::isdigit(static_cast<unsigned char>(**fmt)));
  return a;
}

std::size_t option_size(lua_State* L, char opt, const char** fmt) {
  switch (opt) {
    case 'B': case 'b': return sizeof(char);
    case 'H': case 'h': return sizeof(short);
    case 'L': case 'l': return sizeof(long);
    case 'T': return sizeof(std::size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return static_cast<std::size_t>(get_number(L, fmt, 1));
    case 'i': case 'I': {
      const int sz = get_number(L, fmt, sizeof(int));
      if (sz > max_int_size) luaL_error(L, "integral size %d is larger than limit of %d", sz, max_int_size);
      return static_cast<std::size_t>(sz);
    }
    default: return 0;
  }
}

// Padding before an item of `size` bytes at offset `len`.
std::size_t to_align(std::size_t len, const header& h, int opt, std::size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<std::size_t>(h.align)) size = static_cast<std::size_t>(h.align);
  return (size - (len & (size - 1))) & (size - 1);
}

void control_option(lua_State* L, int opt, const char** fmt, header& h) {
  switch (opt) {
    case ' ': return;
    case '>': h.little = false; return;
    case '<': h.little = true; return;
    case '!': {
      const int a = get_number(L, fmt, max_align);
      if (!is_pow2(a)) luaL_error(L, "alignment %d is not a power of 2", a);
      h.align = a;
      return;
    }
    default: {
      const char* msg = lua_pushfstring(L, "invalid format option '%c'", opt);
      luaL_argerror(L, 1, msg);
    }
  }
}

void put_integer(lua_State* L, luaL_Buffer* b, int arg, bool little, int size) {
  const lua_Number n = luaL_checknumber(L, arg);
  uint_type value = n < 0 ? static_cast<uint_type>(static_cast<int_type>(n)) : static_cast<uint_type>(n);
  char buf[max_int_size];
  if (little) {
    for (int i = 0; i < size; ++i) {
      buf[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
  } else {
    for (int i = size - 1; i >= 0; --i) {
      buf[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
  }
  luaL_addlstring(b, buf, static_cast<std::size_t>(size));
}

// Byte order of a float/double for `little`.
void fix_bytes(char* p, int size, bool little) {
  if (little == native_little) return;
  for (int i = 0, j = size - 1; i < j; ++i, --j) {
    const char t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

int struct_pack(lua_State* L) {
  luaL_Buffer b;
  const char* fmt = luaL_checkstring(L, 1);
  header h;
  int arg = 2;
  std::size_t total = 0;
  lua_pushnil(L);  // separates the arguments from the buffer's stack slots
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    const int opt = *fmt++;
    std::size_t size = option_size(L, static_cast<char>(opt), &fmt);
    std::size_t pad = to_align(total, h, opt, size);
    total += pad;
    while (pad-- > 0) luaL_addchar(&b, '\0');
    switch (opt) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
        put_integer(L, &b, arg++, h.little, static_cast<int>(size));
        break;
      case 'x':
        luaL_addchar(&b, '\0');
        break;
      case 'f': {
        float f = static_cast<float>(luaL_checknumber(L, arg++));
        fix_bytes(reinterpret_cast<char*>(&f), sizeof(f), h.little);
        luaL_addlstring(&b, reinterpret_cast<char*>(&f), size);
        break;
      }
      case 'd': {
        double d = luaL_checknumber(L, arg++);
        fix_bytes(reinterpret_cast<char*>(&d), sizeof(d), h.little);
        luaL_addlstring(&b, reinterpret_cast<char*>(&d), size);
        break;
      }
      case 'c': case 's': {
        std::size_t l = 0;
        const char* s = luaL_checklstring(L, arg++, &l);
        if (size == 0) size = l;
        luaL_argcheck(L, l >= size, arg, "string too short");
        luaL_addlstring(&b, s, size);
        if (opt == 's') {
          luaL_addchar(&b, '\0');
          ++size;
        }
        break;
      }
      default:
        control_option(L, opt, &fmt, h);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

lua_Number get_integer(const char* p, bool little, bool is_signed, int size) {
  uint_type l = 0;
  if (!little) {
    for (int i = 0; i < size; ++i) l = (l << 8) | static_cast<unsigned char>(p[i]);
  } else {
    for (int i = size - 1; i >= 0; --i) l = (l << 8) | static_cast<unsigned char>(p[i]);
  }
  if (!is_signed) return static_cast<lua_Number>(l);
  if (size < 1 || size > 8) return static_cast<lua_Number>(static_cast<int_type>(l));
  const uint_type mask = ~uint_type{0} << (size * 8 - 1);
  if (l & mask) l |= mask;
  return static_cast<lua_Number>(static_cast<int_type>(l));
}

int struct_unpack(lua_State* L) {
  header h;
  const char* fmt = luaL_checkstring(L, 1);
  std::size_t ld = 0;
  const char* data = luaL_checklstring(L, 2, &ld);
  std::size_t pos = static_cast<std::size_t>(luaL_optinteger(L, 3, 1));
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  --pos;
  int n = 0;
  while (*fmt) {
    const int opt = *fmt++;
    std::size_t size = option_size(L, static_cast<char>(opt), &fmt);
    pos += to_align(pos, h, opt, size);
    luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
    luaL_checkstack(L, 2, "too many results");
    switch (opt) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I': {
        const bool is_signed = std::islower(opt) != 0;
        lua_pushnumber(L, get_integer(data + pos, h.little, is_signed, static_cast<int>(size)));
        ++n;
        break;
      }
      case 'x':
        break;
      case 'f': {
        float f;
        std::memcpy(&f, data + pos, size);
        fix_bytes(reinterpret_cast<char*>(&f), sizeof(f), h.little);
        lua_pushnumber(L, f);
        ++n;
        break;
      }
      case 'd': {
        double d;
        std::memcpy(&d, data + pos, size);
        fix_bytes(reinterpret_cast<char*>(&d), sizeof(d), h.little);
        lua_pushnumber(L, d);
        ++n;
        break;
      }
      case 'c': {
        if (size == 0) {
          if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
          size = static_cast<std::size_t>(lua_tonumber(L, -1));
          lua_pop(L, 1);
          --n;
          luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        }
        lua_pushlstring(L, data + pos, size);
        ++n;
        break;
      }
      case 's': {
        const char* e = static_cast<const char*>(std::memchr(data + pos, '\0', ld - pos));
        if (!e) luaL_error(L, "unfinished string in data");
        size = static_cast<std::size_t>(e - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        ++n;
        break;
      }
      default:
        control_option(L, opt, &fmt, h);
    }
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return n + 1;
}

int struct_size(lua_State* L) {
  header h;
  const char* fmt = luaL_checkstring(L, 1);
  std::size_t pos = 0;
  while (*fmt) {
    const int opt = *fmt++;
    const std::size_t size = option_size(L, static_cast<char>(opt), &fmt);
    pos += to_align(pos, h, opt, size);
    if (opt == 's')
      luaL_argerror(L, 1, "option 's' has no fixed size");
    else if (opt == 'c' && size == 0)
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    if (!std::isalnum(opt)) control_option(L, opt, &fmt, h);
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos));
  return 1;
}

const luaL_Reg struct_functions[] = {
    {"pack", struct_pack},
    {"unpack", struct_unpack},
    {"size", struct_size},
    {nullptr, nullptr},
};

}  // namespace

int open_struct(lua_State* L) {
  lua_newtable(L);
  luaL_register(L, nullptr, struct_functions);
  return 1;
}

}  // namespace shrike::scripting
