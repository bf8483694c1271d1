#include "scripting/convert.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "util/numbers.hpp"

namespace shrike::scripting {

namespace {

// A line "<type><text>\r\n" starting at `pos`: the text, and pos moved past it.
std::string_view line_at(std::string_view r, std::size_t& pos) {
  const std::size_t start = pos + 1;
  std::size_t end = r.find("\r\n", start);
  if (end == std::string_view::npos) end = r.size();
  pos = end + 2;
  return r.substr(start, end - start);
}

std::int64_t to_int(std::string_view s) {
  std::int64_t v = 0;
  util::parse_int64(s, v);
  return v;
}

void set_field(lua_State* L, const char* name) { lua_setfield(L, -2, name); }

// One value at `pos` (pushed when L is not null: attributes are skipped).
void parse_value(lua_State* L, std::string_view r, std::size_t& pos) {
  if (pos >= r.size()) {
    if (L) lua_pushnil(L);
    return;
  }
  const char type = r[pos];
  if (L && !lua_checkstack(L, 4)) {
    // Deeper than any reply we write; keep the stack balanced anyway.
    pos = r.size();
    lua_pushnil(L);
    return;
  }
  switch (type) {
    case '+': {
      auto s = line_at(r, pos);
      if (!L) return;
      lua_newtable(L);
      lua_pushlstring(L, s.data(), s.size());
      set_field(L, "ok");
      return;
    }
    case '-': {
      auto s = line_at(r, pos);
      if (!L) return;
      std::string text = "-";
      text.append(s);
      push_error_table(L, text);
      // Counted in the error stats when the command failed, not again when
      // the script passes it on.
      lua_pushboolean(L, 1);
      set_field(L, "ignore_error_stats_update");
      return;
    }
    case ':': {
      auto s = line_at(r, pos);
      if (L) lua_pushnumber(L, static_cast<lua_Number>(to_int(s)));
      return;
    }
    case '$': {
      const std::int64_t n = to_int(line_at(r, pos));
      if (n < 0) {
        if (L) lua_pushboolean(L, 0);
        return;
      }
      if (L) lua_pushlstring(L, r.data() + pos, static_cast<std::size_t>(n));
      pos += static_cast<std::size_t>(n) + 2;
      return;
    }
    case '*':
    case '>': {
      const std::int64_t n = to_int(line_at(r, pos));
      if (n < 0) {
        if (L) lua_pushboolean(L, 0);
        return;
      }
      if (L) lua_createtable(L, static_cast<int>(n), 0);
      for (std::int64_t i = 0; i < n; ++i) {
        parse_value(L, r, pos);
        if (L) lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return;
    }
    case '%': {
      const std::int64_t n = to_int(line_at(r, pos));
      if (L) {
        lua_newtable(L);
        lua_createtable(L, 0, static_cast<int>(n));
      }
      for (std::int64_t i = 0; i < n; ++i) {
        parse_value(L, r, pos);
        parse_value(L, r, pos);
        if (L) lua_settable(L, -3);
      }
      if (L) set_field(L, "map");
      return;
    }
    case '~': {
      const std::int64_t n = to_int(line_at(r, pos));
      if (L) {
        lua_newtable(L);
        lua_createtable(L, 0, static_cast<int>(n));
      }
      for (std::int64_t i = 0; i < n; ++i) {
        parse_value(L, r, pos);
        if (L) {
          lua_pushboolean(L, 1);
          lua_settable(L, -3);
        }
      }
      if (L) set_field(L, "set");
      return;
    }
    case '|': {  // attributes: skipped, then the value they describe
      const std::int64_t n = to_int(line_at(r, pos));
      for (std::int64_t i = 0; i < 2 * n; ++i) parse_value(nullptr, r, pos);
      parse_value(L, r, pos);
      return;
    }
    case '_':
      line_at(r, pos);
      if (L) lua_pushnil(L);
      return;
    case '#': {
      auto s = line_at(r, pos);
      if (L) lua_pushboolean(L, s == "t");
      return;
    }
    case ',': {
      std::string s(line_at(r, pos));
      if (!L) return;
      lua_newtable(L);
      lua_pushnumber(L, std::strtod(s.c_str(), nullptr));
      set_field(L, "double");
      return;
    }
    case '(': {
      auto s = line_at(r, pos);
      if (!L) return;
      lua_newtable(L);
      lua_pushlstring(L, s.data(), s.size());
      set_field(L, "big_number");
      return;
    }
    case '=': {
      const std::int64_t n = to_int(line_at(r, pos));
      const std::string_view body = r.substr(pos, static_cast<std::size_t>(n));
      pos += static_cast<std::size_t>(n) + 2;
      if (!L) return;
      lua_newtable(L);
      lua_newtable(L);
      const auto format = body.substr(0, 3);
      const auto text = body.size() > 4 ? body.substr(4) : std::string_view();
      lua_pushlstring(L, text.data(), text.size());
      set_field(L, "string");
      lua_pushlstring(L, format.data(), format.size());
      set_field(L, "format");
      set_field(L, "verbatim_string");
      return;
    }
    default:
      pos = r.size();
      if (L) lua_pushnil(L);
      return;
  }
}

// lua_tostring's text up to its first NUL (Redis copies it into a C string).
std::string_view c_text(lua_State* L, int idx) {
  const char* s = lua_tostring(L, idx);
  return s ? std::string_view(s, std::strlen(s)) : std::string_view();
}

std::string no_newlines(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

// The field `name` of the table at `idx` (relative to the top before the
// call), left on the stack.
int raw_field(lua_State* L, const char* name, int idx = -1) {
  lua_pushstring(L, name);
  lua_rawget(L, idx - 1);
  return lua_type(L, -1);
}

void write_double(resp::reply_writer& out, double d) {
  if (out.protocol() >= 3) {
    out.buffer().push_back(',');
    out.buffer().append(util::format_double(d));
    out.buffer().append("\r\n");
  } else {
    out.bulk(util::format_double(d));
  }
}

}  // namespace

std::size_t push_reply(lua_State* L, std::string_view reply) {
  std::size_t pos = 0;
  parse_value(L, reply, pos);
  return pos;
}

void push_error_table(lua_State* L, std::string_view text) {
  text = text.substr(0, std::min(text.find('\0'), text.size()));
  std::string_view code = "ERR", msg = text;
  if (!text.empty() && text[0] == '-') {
    const auto space = text.find(' ');
    if (space == std::string_view::npos) {
      msg = text.substr(1);
    } else {
      code = text.substr(1, space - 1);
      msg = text.substr(space + 1);
    }
  }
  while (!msg.empty() && (msg.front() == '\r' || msg.front() == '\n')) msg.remove_prefix(1);
  while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.remove_suffix(1);
  std::string final_text(code);
  final_text.push_back(' ');
  final_text.append(msg);
  lua_newtable(L);
  lua_pushlstring(L, final_text.data(), final_text.size());
  lua_setfield(L, -2, "err");
}

namespace {
// The number of entries of the table on the top of the stack (any keys).
std::size_t table_entries(lua_State* L) {
  std::size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    ++n;
    lua_pop(L, 1);
  }
  return n;
}
}  // namespace

void write_value(lua_State* L, resp::reply_writer& out, int script_resp) {
  if (!lua_checkstack(L, 4)) {
    out.error("reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      out.bulk(std::string_view(s, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1))
          out.integer(1);
        else
          out.null();
      } else {
        out.boolean(lua_toboolean(L, -1) != 0);
      }
      break;
    case LUA_TNUMBER: {
      // C's (long long) cast as Redis makes it; x86 gives INT64_MIN for
      // what does not fit (NaN, infinities, |n| >= 2^63).
      const double d = lua_tonumber(L, -1);
      const bool fits = d >= -9223372036854775808.0 && d < 9223372036854775808.0;
      out.integer(fits ? static_cast<std::int64_t>(d) : INT64_MIN);
      break;
    }
    case LUA_TTABLE: {
      if (raw_field(L, "err") == LUA_TSTRING) {
        std::string text = "-";
        text.append(c_text(L, -1));
        lua_pop(L, 2);
        out.error(text);
        return;
      }
      lua_pop(L, 1);
      if (raw_field(L, "ok") == LUA_TSTRING) {
        out.simple(no_newlines(c_text(L, -1)));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (raw_field(L, "double") == LUA_TNUMBER) {
        write_double(out, lua_tonumber(L, -1));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (raw_field(L, "big_number") == LUA_TSTRING) {
        std::size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        std::string num = no_newlines(std::string_view(s, len));
        if (out.protocol() >= 3) {
          out.buffer().push_back('(');
          out.buffer().append(num);
          out.buffer().append("\r\n");
        } else {
          out.bulk(num);
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (raw_field(L, "verbatim_string") == LUA_TTABLE) {
        if (raw_field(L, "format") == LUA_TSTRING) {
          std::size_t flen = 0;
          const char* f = lua_tolstring(L, -1, &flen);
          std::string format(f, std::min<std::size_t>(flen, 3));
          format.resize(3, '\0');
          if (raw_field(L, "string", -2) == LUA_TSTRING) {
            std::size_t len = 0;
            const char* s = lua_tolstring(L, -1, &len);
            out.verbatim(std::string_view(s, len), format);
            lua_pop(L, 4);
            return;
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
      if (raw_field(L, "map") == LUA_TTABLE) {
        out.map(table_entries(L));
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pushvalue(L, -2);
          write_value(L, out, script_resp);  // the key
          write_value(L, out, script_resp);  // the value
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (raw_field(L, "set") == LUA_TTABLE) {
        out.set(table_entries(L));
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          lua_pushvalue(L, -1);
          write_value(L, out, script_resp);
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      // An array: t[1], t[2], ... up to the first nil.
      int n = 0;
      for (;;) {
        lua_rawgeti(L, -1, n + 1);
        const bool nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil) break;
        ++n;
      }
      out.array(static_cast<std::size_t>(n));
      for (int j = 1; j <= n; ++j) {
        lua_rawgeti(L, -1, j);
        write_value(L, out, script_resp);
      }
      break;
    }
    default:
      out.null();
  }
  lua_pop(L, 1);
}

}  // namespace shrike::scripting
