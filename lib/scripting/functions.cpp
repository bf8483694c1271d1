#include "scripting/functions.hpp"

#include <cctype>
#include <cstring>

#include "commands/helpers.hpp"
#include "persistence/crc64.hpp"
#include "persistence/lzf.hpp"
#include "persistence/rdb_format.hpp"
#include "persistence/rdb_reader.hpp"
#include "scripting/lua_vm.hpp"
#include "scripting/scripting_state.hpp"
#include "util/numbers.hpp"
#include "util/split_args.hpp"

namespace shrike::scripting {

namespace {

constexpr std::int64_t load_timeout_ms = 500;  // Redis's LOAD_TIMEOUT_MS

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

using commands::iequals;

// functionExtractLibMetaData: "#!<engine> name=<lib>" then the code.
struct metadata {
  std::string engine, name;
  std::string_view code;  // from the metadata line's newline on
};

bool parse_metadata(std::string_view payload, metadata& md, std::string& error) {
  if (payload.substr(0, 2) != "#!") {
    error = "Missing library metadata";
    return false;
  }
  const std::size_t nl = payload.find('\n');
  const std::size_t nul = payload.find('\0');
  if (nl == std::string_view::npos || (nul != std::string_view::npos && nul < nl)) {
    error = "Invalid library metadata";
    return false;
  }
  std::vector<std::string> parts;
  if (!util::split_args(payload.substr(0, nl), parts) || parts.empty()) {
    error = "Invalid library metadata";
    return false;
  }
  md.engine = parts[0].substr(2);
  bool have_name = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].size() >= 5 && iequals(std::string_view(parts[i]).substr(0, 5), "name=")) {
      if (have_name) {
        error = "Invalid metadata value, name argument was given multiple times";
        return false;
      }
      md.name = parts[i].substr(5);
      have_name = true;
      continue;
    }
    error = "Invalid metadata value given: " + parts[i];
    return false;
  }
  if (!have_name) {
    error = "Library name was not given";
    return false;
  }
  md.code = payload.substr(nl);
  return true;
}

// --- RDB strings (rdbSaveRawString / rdbGenericLoadStringObject) -----------------

void put_len(std::string& out, std::uint64_t len) {
  if (len < (1u << 6)) {
    out.push_back(static_cast<char>(len));
  } else if (len < (1u << 14)) {
    out.push_back(static_cast<char>((len >> 8) | 0x40));
    out.push_back(static_cast<char>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    out.push_back(static_cast<char>(persistence::rdb::len_32bit));
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(len >> (8 * i)));
  } else {
    out.push_back(static_cast<char>(persistence::rdb::len_64bit));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(len >> (8 * i)));
  }
}

void put_string(std::string& out, std::string_view s, bool compress) {
  namespace rdb = persistence::rdb;
  if (s.size() <= 11) {
    std::int64_t v;
    if (util::parse_int64(s, v) && v >= INT32_MIN && v <= INT32_MAX) {
      const int bytes = (v >= -128 && v <= 127) ? 1 : (v >= -32768 && v <= 32767) ? 2 : 4;
      out.push_back(static_cast<char>(0xc0 | (bytes == 1 ? rdb::enc_int8 : bytes == 2 ? rdb::enc_int16 : rdb::enc_int32)));
      for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
      return;
    }
  }
  if (compress && s.size() > 20) {
    std::string buf(s.size() - 4 + 1, '\0');
    const std::size_t n = persistence::lzf_compress(s.data(), s.size(), buf.data(), s.size() - 4);
    if (n > 0) {
      out.push_back(static_cast<char>(0xc0 | rdb::enc_lzf));
      put_len(out, n);
      put_len(out, s.size());
      out.append(buf.data(), n);
      return;
    }
  }
  put_len(out, s.size());
  out.append(s);
}

struct byte_reader {
  std::string_view data;
  std::size_t pos = 0;
  bool ok = true;

  std::uint8_t byte() {
    if (pos >= data.size()) {
      ok = false;
      return 0;
    }
    return static_cast<std::uint8_t>(data[pos++]);
  }
  std::uint64_t length(bool& encoded) {
    const std::uint8_t b = byte();
    encoded = false;
    switch (b >> 6) {
      case 3:
        encoded = true;
        return b & 0x3f;
      case 0: return b & 0x3f;
      case 1: return (std::uint64_t{b & 0x3fu} << 8) | byte();
      default: break;
    }
    if (b != persistence::rdb::len_32bit && b != persistence::rdb::len_64bit) {
      ok = false;
      return 0;
    }
    const int n = b == persistence::rdb::len_32bit ? 4 : 8;
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | byte();
    return v;
  }
  bool string(std::string& out) {
    bool encoded;
    const std::uint64_t n = length(encoded);
    if (!ok) return false;
    if (!encoded) {
      if (n > data.size() - pos) return ok = false;
      out.assign(data.substr(pos, n));
      pos += n;
      return true;
    }
    if (n <= persistence::rdb::enc_int32) {
      const int bytes = n == persistence::rdb::enc_int8 ? 1 : n == persistence::rdb::enc_int16 ? 2 : 4;
      std::uint32_t v = 0;
      for (int i = 0; i < bytes; ++i) v |= std::uint32_t{byte()} << (8 * i);
      std::int64_t value = bytes == 1 ? static_cast<std::int8_t>(v)
                           : bytes == 2 ? static_cast<std::int16_t>(v)
                                        : static_cast<std::int32_t>(v);
      out = util::format_int64(value);
      return ok;
    }
    if (n != persistence::rdb::enc_lzf) return ok = false;
    bool e;
    const std::uint64_t clen = length(e), ulen = length(e);
    if (!ok || clen > data.size() - pos || ulen == 0 || ulen > clen * 90 + 64) return ok = false;
    out.assign(ulen, '\0');
    if (persistence::lzf_decompress(data.data() + pos, clen, out.data(), ulen) != ulen) return ok = false;
    pos += clen;
    return true;
  }
};

}  // namespace

std::size_t function_registry::lower_hash::operator()(std::string_view s) const {
  std::size_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)));
    h *= 1099511628211ULL;
  }
  return h;
}

bool function_registry::iequal::operator()(std::string_view a, std::string_view b) const { return iequals(a, b); }

function_registry::function_registry(scripting_state& st) : st_(st) {}

function_registry::~function_registry() = default;

const function_info* function_registry::find_function(std::string_view name) const {
  auto it = functions_.find(std::string(name));
  return it == functions_.end() ? nullptr : it->second;
}

void function_registry::free_library(library& lib) {
  for (auto& f : lib.functions) st_.function_vm().release(f->ref);
  lib.functions.clear();
}

bool function_registry::create(std::string_view code, std::unique_ptr<library>& lib, std::string& error) {
  metadata md;
  if (!parse_metadata(code, md, error)) return false;
  std::vector<lua_vm::registered_function> registered;
  if (!st_.function_vm().load_library(md.code, load_timeout_ms, registered, error)) return false;
  lib = std::make_unique<library>();
  lib->name = md.name;
  lib->code.assign(code);
  for (auto& r : registered) {
    auto f = std::make_unique<function_info>();
    f->name = std::move(r.name);
    f->description = std::move(r.description);
    f->flags = r.flags;
    f->ref = r.ref;
    f->lib = lib.get();
    lib->functions.push_back(std::move(f));
  }
  if (lib->functions.empty()) {
    error = "No functions registered";
    lib.reset();
    return false;
  }
  return true;
}

void function_registry::link(std::unique_ptr<library> lib) {
  for (auto& f : lib->functions) functions_.emplace(f->name, f.get());
  libraries_[lib->name] = std::move(lib);
  publish();
}

std::unique_ptr<library> function_registry::unlink(const std::string& name) {
  auto it = libraries_.find(name);
  if (it == libraries_.end()) return nullptr;
  std::unique_ptr<library> lib = std::move(it->second);
  libraries_.erase(it);
  for (auto& f : lib->functions) {
    auto fit = functions_.find(f->name);
    if (fit != functions_.end() && fit->second == f.get()) functions_.erase(fit);
  }
  publish();
  return lib;
}

bool function_registry::load(std::string_view code, bool replace, std::string& name, std::string& error) {
  metadata md;
  if (!parse_metadata(code, md, error)) return false;
  if (!valid_name(md.name)) {
    error = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
    return false;
  }
  if (!iequals(md.engine, "lua")) {
    error = "Engine '" + md.engine + "' not found";
    return false;
  }
  auto old = libraries_.find(md.name);
  if (old != libraries_.end() && !replace) {
    error = "Library '" + md.name + "' already exists";
    return false;
  }
  const library* old_lib = old == libraries_.end() ? nullptr : old->second.get();
  std::unique_ptr<library> lib;
  if (!create(code, lib, error)) return false;
  for (auto& f : lib->functions) {
    const function_info* other = find_function(f->name);
    if (other && other->lib != old_lib) {
      error = "Function " + f->name + " already exists";
      free_library(*lib);
      return false;
    }
  }
  if (old_lib) {
    auto gone = unlink(md.name);
    free_library(*gone);
  }
  name = lib->name;
  link(std::move(lib));
  return true;
}

bool function_registry::remove(std::string_view library_name) {
  auto lib = unlink(std::string(library_name));
  if (!lib) return false;
  free_library(*lib);
  return true;
}

void function_registry::flush() {
  for (auto& [name, lib] : libraries_) free_library(*lib);
  libraries_.clear();
  functions_.clear();
  publish();
}

void function_registry::publish() {
  st_.set_function_counts(libraries_.size(), functions_.size());
  if (libraries_.empty()) return st_.set_library_codes(nullptr);
  auto codes = std::make_shared<std::vector<std::string>>();
  for (const auto& [name, lib] : libraries_) codes->push_back(lib->code);
  st_.set_library_codes(std::move(codes));
}

std::size_t function_registry::memory_overhead() const {
  std::size_t n = sizeof(*this);
  for (const auto& [name, lib] : libraries_) {
    n += sizeof(library) + lib->name.size() + lib->code.size();
    for (const auto& f : lib->functions)
      n += sizeof(function_info) + f->name.size() + (f->description ? f->description->size() : 0) + 64;
  }
  return n;
}

std::string function_registry::dump() const {
  std::string out;
  bool compress = true;
  try {
    compress = st_.srv().config().get_bool("rdbcompression");
  } catch (const std::exception&) {
  }
  for (const auto& [name, lib] : libraries_) {
    out.push_back(static_cast<char>(persistence::rdb::opcode_function2));
    put_string(out, lib->code, compress);
  }
  out.push_back(static_cast<char>(persistence::rdb::version & 0xff));
  out.push_back(static_cast<char>((persistence::rdb::version >> 8) & 0xff));
  const std::uint64_t crc = persistence::crc64(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

bool function_registry::restore(std::string_view payload, restore_policy policy, std::string& error) {
  if (!persistence::verify_dump_payload(payload)) {
    error = "DUMP payload version or checksum are wrong";
    return false;
  }
  // Every library of the payload, compiled and checked among themselves.
  std::vector<std::unique_ptr<library>> loaded;
  auto discard = [&] {
    for (auto& l : loaded) free_library(*l);
    loaded.clear();
  };
  byte_reader in{payload};
  while (payload.size() - in.pos > 10) {
    const std::uint8_t type = in.byte();
    if (type != persistence::rdb::opcode_function2 && type != persistence::rdb::opcode_function) {
      error = "given type is not a function";
      discard();
      return false;
    }
    std::string code;
    if (type == persistence::rdb::opcode_function) {
      // 7.0-rc1/rc2's format: name, engine, [description], code.
      std::string lib_name, engine, desc, blob;
      bool has_desc_enc = false;
      if (!in.string(lib_name)) error = "Failed loading library name";
      else if (!in.string(engine)) error = "Failed loading engine name";
      else {
        const std::uint64_t has_desc = in.length(has_desc_enc);
        if (!in.ok) error = "Failed loading library description indicator";
        else if (has_desc && !in.string(desc)) error = "Failed loading library description";
        else if (!in.string(blob)) error = "Failed loading library blob";
      }
      if (!error.empty()) {
        discard();
        return false;
      }
      code = "#!" + engine + " name=" + lib_name + "\n" + blob;
    } else if (!in.string(code)) {
      error = "Failed loading library payload";
      discard();
      return false;
    }
    std::unique_ptr<library> lib;
    metadata md;
    if (!parse_metadata(code, md, error)) {
      discard();
      return false;
    }
    if (!valid_name(md.name)) {
      error = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character "
              "long";
    } else if (!iequals(md.engine, "lua")) {
      error = "Engine '" + md.engine + "' not found";
    } else {
      for (auto& l : loaded)
        if (l->name == md.name) error = "Library '" + md.name + "' already exists";
    }
    if (!error.empty() || !create(code, lib, error)) {
      discard();
      return false;
    }
    for (auto& f : lib->functions)
      for (auto& l : loaded)
        for (auto& g : l->functions)
          if (error.empty() && iequals(f->name, g->name)) error = "Function " + f->name + " already exists";
    if (!error.empty()) {
      free_library(*lib);
      discard();
      return false;
    }
    loaded.push_back(std::move(lib));
  }

  if (policy == restore_policy::flush) {
    flush();
    for (auto& l : loaded) link(std::move(l));
    return true;
  }
  // APPEND / REPLACE (libraryJoin): all or nothing.
  std::vector<std::unique_ptr<library>> replaced;
  auto revert = [&] {
    for (auto& old : replaced) link(std::move(old));
    discard();
  };
  for (auto& l : loaded) {
    if (!libraries_.count(l->name)) continue;
    if (policy == restore_policy::append) {
      error = "Library " + l->name + " already exists";
      revert();
      return false;
    }
    replaced.push_back(unlink(l->name));
  }
  for (auto& l : loaded)
    for (auto& f : l->functions)
      if (find_function(f->name)) {
        error = "Function " + f->name + " already exists";
        revert();
        return false;
      }
  for (auto& l : loaded) link(std::move(l));
  for (auto& old : replaced) free_library(*old);
  return true;
}

}  // namespace shrike::scripting
