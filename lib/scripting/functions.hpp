#pragma once
// Redis 7.0 functions: libraries of Lua functions loaded with FUNCTION LOAD,
// called with FCALL (functions.c / function_lua.c of Redis 7.0).
//
// A library is its code: a "#!lua name=<lib>" line and Lua code that calls
// redis.register_function() for each function. The registry keeps the
// libraries by name (case-sensitive) and their functions by name (looked up
// case-insensitively by FCALL, as Redis's dict does). A function's compiled
// callback lives in the FUNCTION interpreter's registry.
//
// FUNCTION DUMP's payload is Redis's: one RDB_OPCODE_FUNCTION2 (245) record
// per library holding its code as an RDB string, then the RDB version (10,
// two bytes little endian) and the CRC-64 of everything before (8 bytes
// little endian) -- DUMP's footer.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace shrike::scripting {

class scripting_state;
struct library;

struct function_info {
  std::string name;
  std::optional<std::string> description;
  std::uint32_t flags = 0;  // script_flag
  int ref = 0;              // the callback in the FUNCTION interpreter
  library* lib = nullptr;
};

struct library {
  std::string name;
  std::string code;  // as loaded, metadata line included
  std::vector<std::unique_ptr<function_info>> functions;
};

class function_registry {
 public:
  explicit function_registry(scripting_state& st);
  ~function_registry();

  // FUNCTION LOAD [REPLACE]: the library's name, or false with Redis's error.
  bool load(std::string_view code, bool replace, std::string& name, std::string& error);
  // FUNCTION DELETE: false when there is no such library.
  bool remove(std::string_view library_name);
  // FUNCTION FLUSH.
  void flush();

  const function_info* find_function(std::string_view name) const;
  const std::map<std::string, std::unique_ptr<library>>& libraries() const { return libraries_; }
  std::size_t function_count() const { return functions_.size(); }

  // FUNCTION DUMP's payload; FUNCTION RESTORE (policy: "APPEND" default,
  // "REPLACE", "FLUSH"), false with Redis's error text.
  std::string dump() const;
  enum class restore_policy { append, replace, flush };
  bool restore(std::string_view payload, restore_policy policy, std::string& error);

  // used_memory_functions: the libraries' code and names, roughly as Redis
  // counts its structures.
  std::size_t memory_overhead() const;

 private:
  struct lower_hash {
    std::size_t operator()(std::string_view s) const;
  };
  struct iequal {
    bool operator()(std::string_view a, std::string_view b) const;
  };
  using function_map = std::unordered_map<std::string, function_info*, lower_hash, iequal>;

  // Compiles a library into `lib` (not linked yet).
  bool create(std::string_view code, std::unique_ptr<library>& lib, std::string& error);
  void link(std::unique_ptr<library> lib);
  std::unique_ptr<library> unlink(const std::string& name);
  void free_library(library& lib);
  // What other threads read: the counts (FUNCTION STATS), the code (RDB saves).
  void publish();

  scripting_state& st_;
  std::map<std::string, std::unique_ptr<library>> libraries_;
  function_map functions_;
};

}  // namespace shrike::scripting
