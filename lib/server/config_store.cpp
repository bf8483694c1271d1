#include "server/config_store.hpp"
#include "server/keyspace_events.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "util/glob.hpp"
#include "util/numbers.hpp"
#include "util/split_args.hpp"

namespace shrike::embedded {
extern const std::string_view config_params_json;
}

namespace shrike::server {

namespace {

enum class param_kind : std::uint8_t { boolean, numeric, string, enumeration, special };
enum class numeric_format : std::uint8_t { integer, memory, memory_percent, octal };
enum class special_kind : std::uint8_t {
  none,
  dir,
  save,
  client_output_buffer_limit,
  oom_score_adj_values,
  notify_keyspace_events,
  bind,
  replicaof,
  latency_percentiles,
};
enum class validator_kind : std::uint8_t {
  none,
  active_defrag,
  db_filename,
  aof_filename,
  aof_dirname,
  shutdown_flags,
  announced_hostname,
  proc_title_template,
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// C functions see a value up to its first NUL, as Redis's do.
std::string c_string(std::string_view s) { return std::string(s.substr(0, s.find('\0'))); }

// strtoll(s, &end, base) over the whole string, as Redis's callers check it.
bool strtoll_whole(const std::string& s, int base, long long& v) {
  char* end = nullptr;
  errno = 0;
  v = std::strtoll(s.c_str(), &end, base);
  return errno == 0 && *end == '\0';
}

// Redis's memtoull(): digits then an optional unit (b, k, kb, m, mb, g, gb,
// any case). No sign; "" reads as 0; overflow saturates then wraps on the
// multiplication, as strtoull()*mul does.
bool parse_memory(std::string_view text, std::uint64_t& out) {
  std::string s = c_string(text);
  if (!s.empty() && s[0] == '-') return false;
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  std::string unit = lower(std::string_view(s).substr(digits));
  std::uint64_t mul = 0;
  if (unit.empty() || unit == "b") mul = 1;
  else if (unit == "k") mul = 1000;
  else if (unit == "kb") mul = 1024;
  else if (unit == "m") mul = 1000 * 1000;
  else if (unit == "mb") mul = 1024 * 1024;
  else if (unit == "g") mul = 1000ULL * 1000 * 1000;
  else if (unit == "gb") mul = 1024ULL * 1024 * 1024;
  else return false;
  if (digits >= 128) return false;
  std::string number = s.substr(0, digits);
  errno = 0;
  std::uint64_t v = std::strtoull(number.c_str(), nullptr, 10);
  out = v * mul;
  return true;
}

std::string format_octal(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%llo", static_cast<unsigned long long>(v));
  return buf;
}

// Redis's sdssplitlen(value, " "): CONFIG SET's split of multi-word values.
// Empty words are kept ("a  b" has three); "" has none.
std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    std::size_t pos = s.find(' ', start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}



constexpr int shutdown_save = 1, shutdown_nosave = 2;  // server.h SHUTDOWN_*
constexpr int min_hz = 1, max_hz = 500;                // server.h CONFIG_MIN_HZ / CONFIG_MAX_HZ
constexpr int bindaddr_max = 16;                       // server.h CONFIG_BINDADDR_MAX
constexpr std::size_t host_str_len = 256;              // server.h NET_HOST_STR_LEN
constexpr std::int64_t repl_backlog_min_size = 16 * 1024;  // server.h CONFIG_REPL_BACKLOG_MIN_SIZE

std::string join(std::span<const std::string> words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += ' ';
    out += words[i];
  }
  return out;
}

int cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

constexpr int max_threads = 1024;

// Read once, while the program starts single-threaded (umask() is process-wide).
const mode_t process_umask = [] {
  mode_t m = ::umask(0);
  ::umask(m);
  return m;
}();

}  // namespace

struct config_store::param_def {
  std::string name;
  std::string alias;
  param_kind kind = param_kind::string;
  numeric_format format = numeric_format::integer;
  bool unsigned_bounds = false;  // ull, uint, size_t: Redis checks the bounds as unsigned
  std::int64_t min = 0, max = 0;  // Redis's long long bounds (ULLONG_MAX is -1)
  std::vector<std::pair<std::string, int>> enum_values;
  special_kind special = special_kind::none;
  validator_kind validator = validator_kind::none;
  bool modifiable = true, hidden = false, sensitive = false, is_protected = false, multi_arg = false;
  std::string default_value;  // as CONFIG GET shows it ("" for dir: the working directory)
};

namespace {

validator_kind validator_from_name(const std::string& name) {
  static const std::unordered_map<std::string, validator_kind> names = {
      {"isValidActiveDefrag", validator_kind::active_defrag},
      {"isValidDBfilename", validator_kind::db_filename},
      {"isValidAOFfilename", validator_kind::aof_filename},
      {"isValidAOFdirname", validator_kind::aof_dirname},
      {"isValidShutdownOnSigFlags", validator_kind::shutdown_flags},
      {"isValidAnnouncedHostname", validator_kind::announced_hostname},
      {"isValidProcTitleTemplate", validator_kind::proc_title_template},
  };
  auto it = names.find(name);
  if (it == names.end()) throw std::logic_error("config_params.json: unknown validator " + name);
  return it->second;
}

special_kind special_from_name(const std::string& name) {
  static const std::unordered_map<std::string, special_kind> names = {
      {"dir", special_kind::dir},
      {"save", special_kind::save},
      {"client-output-buffer-limit", special_kind::client_output_buffer_limit},
      {"oom-score-adj-values", special_kind::oom_score_adj_values},
      {"notify-keyspace-events", special_kind::notify_keyspace_events},
      {"bind", special_kind::bind},
      {"replicaof", special_kind::replicaof},
      {"latency-tracking-info-percentiles", special_kind::latency_percentiles},
  };
  auto it = names.find(name);
  if (it == names.end()) throw std::logic_error("config_params.json: unknown special parameter " + name);
  return it->second;
}

config_store::param_def param_from_json(const nlohmann::json& j) {
  config_store::param_def p;
  p.name = j.at("name").get<std::string>();
  if (j.contains("alias") && j["alias"].is_string()) p.alias = j["alias"].get<std::string>();
  const std::string type = j.at("type").get<std::string>();
  p.modifiable = j.at("modifiable").get<bool>();
  if (j.contains("flags")) {
    for (const auto& f : j["flags"]) {
      const std::string flag = f.get<std::string>();
      if (flag == "hidden") p.hidden = true;
      else if (flag == "sensitive") p.sensitive = true;
      else if (flag == "protected") p.is_protected = true;
      else if (flag == "multi_arg") p.multi_arg = true;
    }
  }
  p.default_value = j.at("default").get<std::string>();
  if (j.contains("validator")) p.validator = validator_from_name(j["validator"].get<std::string>());

  if (type == "bool") {
    p.kind = param_kind::boolean;
  } else if (type == "string" || type == "sds") {
    p.kind = param_kind::string;
  } else if (type == "enum") {
    p.kind = param_kind::enumeration;
    for (const auto& e : j.at("enum")) p.enum_values.emplace_back(e.at(0).get<std::string>(), e.at(1).get<int>());
  } else if (type == "special") {
    p.kind = param_kind::special;
    p.special = special_from_name(p.name);
  } else {
    static const std::unordered_set<std::string> numeric = {"int",   "uint",   "long",    "ulong",  "long long",
                                                            "ull",   "size_t", "ssize_t", "time_t", "off_t"};
    if (!numeric.count(type)) throw std::logic_error("config_params.json: unknown type " + type);
    p.kind = param_kind::numeric;
    p.unsigned_bounds = type == "ull" || type == "uint" || type == "size_t";
    const std::string format = j.at("format").get<std::string>();
    if (format == "integer") p.format = numeric_format::integer;
    else if (format == "memory") p.format = numeric_format::memory;
    else if (format == "memory-percent") p.format = numeric_format::memory_percent;
    else if (format == "octal") p.format = numeric_format::octal;
    else throw std::logic_error("config_params.json: unknown numeric format " + format);
    auto bound = [](const nlohmann::json& v) {
      // ULLONG_MAX is stored as the long long Redis holds (-1).
      return v.is_number_unsigned() ? static_cast<std::int64_t>(v.get<std::uint64_t>()) : v.get<std::int64_t>();
    };
    p.min = bound(j.at("min"));
    p.max = bound(j.at("max"));
  }
  return p;
}

std::string format_number(const config_store::param_def& p, std::int64_t v) {
  if (p.format == numeric_format::memory_percent && v < 0) return std::to_string(-v) + "%";
  if (p.format == numeric_format::memory || p.format == numeric_format::memory_percent)
    return std::to_string(static_cast<std::uint64_t>(v));
  if (p.format == numeric_format::octal) return format_octal(static_cast<std::uint64_t>(v));
  return std::to_string(v);
}

// Redis's numericParseString().
bool parse_number(const config_store::param_def& p, std::string_view value, std::int64_t& res, std::string& error) {
  if (p.format == numeric_format::memory || p.format == numeric_format::memory_percent) {
    std::uint64_t v = 0;
    if (parse_memory(value, v)) {
      res = static_cast<std::int64_t>(v);
      return true;
    }
  }
  if (p.format == numeric_format::memory_percent && value.size() > 1 && value.back() == '%') {
    std::int64_t v = 0;
    if (util::parse_int64(value.substr(0, value.size() - 1), v) && v >= 0) {
      res = -v;
      return true;
    }
  }
  if (p.format == numeric_format::octal) {
    long long v = 0;
    if (strtoll_whole(c_string(value), 8, v)) {
      res = v;
      return true;
    }
  }
  if (p.format == numeric_format::integer && util::parse_int64(value, res)) return true;
  switch (p.format) {
    case numeric_format::memory_percent: error = "argument must be a memory or percent value"; break;
    case numeric_format::memory: error = "argument must be a memory value"; break;
    case numeric_format::octal: error = "argument couldn't be parsed as an octal number"; break;
    case numeric_format::integer: error = "argument couldn't be parsed into an integer"; break;
  }
  return false;
}

// Redis's numericBoundaryCheck().
bool check_bounds(const config_store::param_def& p, std::int64_t v, std::string& error) {
  char buf[256];
  if (p.unsigned_bounds) {
    auto u = static_cast<unsigned long long>(v);
    auto lo = static_cast<unsigned long long>(p.min), hi = static_cast<unsigned long long>(p.max);
    if (u > hi || u < lo) {
      if (p.format == numeric_format::octal)
        std::snprintf(buf, sizeof(buf), "argument must be between %llo and %llo inclusive", lo, hi);
      else
        std::snprintf(buf, sizeof(buf), "argument must be between %llu and %llu inclusive", lo, hi);
      error = buf;
      return false;
    }
    return true;
  }
  if (p.format == numeric_format::memory_percent && v < 0) {
    if (v < p.min) {
      std::snprintf(buf, sizeof(buf), "percentage argument must be less or equal to %lld",
                    static_cast<long long>(-p.min));
      error = buf;
      return false;
    }
    return true;
  }
  if (v > p.max || v < p.min) {
    std::snprintf(buf, sizeof(buf), "argument must be between %lld and %lld inclusive",
                  static_cast<long long>(p.min), static_cast<long long>(p.max));
    error = buf;
    return false;
  }
  return true;
}

// Redis's configEnumGetName().
std::string enum_name(const config_store::param_def& p, int value) {
  std::string names;
  int unmatched = value;
  for (const auto& [name, v] : p.enum_values) {
    if (value == v) return name;
    if (p.multi_arg && v && v == (unmatched & v)) {
      if (!names.empty()) names += ' ';
      names += name;
      unmatched &= ~v;
    }
  }
  if (names.empty() || unmatched) return "unknown";
  return names;
}

bool is_base_name(std::string_view s) {
  return s.find('/') == std::string_view::npos && s.find('\\') == std::string_view::npos;
}

std::string format_percentile(double d) {
  char buf[128];
  int len = std::snprintf(buf, sizeof(buf), "%f", d);
  std::string s(buf, static_cast<std::size_t>(len));
  if (s.find('.') != std::string::npos) {  // Redis's trimDoubleString()
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace

config_store::config_store() {
  nlohmann::json table;
  try {
    table = nlohmann::json::parse(embedded::config_params_json);
  } catch (const nlohmann::json::exception& e) {
    throw std::logic_error(std::string("config_params.json: ") + e.what());
  }
  for (const auto& j : table) params_.push_back(param_from_json(j));

  const std::string cpus = std::to_string(cpu_count());
  for (const char* name : {"threads", "shards"}) {
    param_def p;
    p.name = name;
    p.kind = param_kind::numeric;
    p.format = numeric_format::integer;
    p.min = 1;
    p.max = max_threads;
    p.modifiable = false;
    p.default_value = cpus;
    params_.push_back(std::move(p));
  }
  threads_index_ = params_.size() - 2;
  shards_index_ = params_.size() - 1;

  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!by_name_.emplace(lower(params_[i].name), lookup_entry{i, false}).second)
      throw std::logic_error("config_params.json: duplicate name " + params_[i].name);
    glob_names_.emplace_back(params_[i].name, i);
  }
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].alias.empty()) continue;
    if (!by_name_.emplace(lower(params_[i].alias), lookup_entry{i, true}).second)
      throw std::logic_error("config_params.json: duplicate name " + params_[i].alias);
    glob_names_.emplace_back(params_[i].alias, i);
  }

  // Defaults, through the same parsers (which checks the table).
  values_.resize(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const param_def& p = params_[i];
    if (p.kind == param_kind::special && p.default_value.empty()) {
      values_[i].shown = p.special == special_kind::dir ? std::filesystem::current_path().string() : "";
      continue;
    }
    std::vector<std::string> argv;
    if (p.multi_arg) argv = split_spaces(p.default_value);
    else argv.push_back(p.default_value);
    std::string error;
    value_state v;
    if (!parse_value(p, values_[i], argv, v, error))
      throw std::logic_error("config_params.json: bad default for " + p.name + ": " + error);
    values_[i] = std::move(v);
  }
}

config_store::~config_store() = default;

const config_store::lookup_entry* config_store::lookup(std::string_view name) const {
  auto it = by_name_.find(lower(name));
  return it == by_name_.end() ? nullptr : &it->second;
}

bool config_store::validate_string(const param_def& p, const std::string& value, std::string& error) const {
  switch (p.validator) {
    case validator_kind::db_filename:
      if (!is_base_name(value)) {
        error = "dbfilename can't be a path, just a filename";
        return false;
      }
      return true;
    case validator_kind::aof_filename:
      if (value.empty()) {
        error = "appendfilename can't be empty";
        return false;
      }
      if (!is_base_name(value)) {
        error = "appendfilename can't be a path, just a filename";
        return false;
      }
      return true;
    case validator_kind::aof_dirname:
      if (value.empty()) {
        error = "appenddirname can't be empty";
        return false;
      }
      if (!is_base_name(value)) {
        error = "appenddirname can't be a path, just a dirname";
        return false;
      }
      return true;
    case validator_kind::announced_hostname:
      if (value.size() >= host_str_len) {
        error = "Hostnames must be less than " + std::to_string(host_str_len) + " characters";
        return false;
      }
      for (char c : value) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
          error = "Hostnames may only contain alphanumeric characters, hyphens or dots";
          return false;
        }
      }
      return true;
    case validator_kind::proc_title_template: {
      // Redis expands the template with an empty title (sdstemplate): unknown
      // variables or unterminated braces are errors, and so is a result that
      // is blank. {listen-addr}, {config-file}, {port} and {tls-port} always
      // expand to something; {title} to nothing; {server-mode} to "[cluster]"
      // in cluster mode; {unixsocket} to its path.
      auto value_of = [&](std::string_view name) -> std::string {
        const lookup_entry* e = lookup(name);
        return e ? values_[e->index].shown : std::string();
      };
      std::string res;
      std::size_t i = 0;
      bool ok = true;
      while (i < value.size()) {
        std::size_t open = value.find('{', i);
        if (open == std::string::npos) {
          res += value.substr(i);
          break;
        }
        res += value.substr(i, open - i);
        if (open + 1 >= value.size()) {
          ok = false;
          break;
        }
        if (value[open + 1] == '{') {
          res += '{';
          i = open + 2;
          continue;
        }
        std::size_t close = value.find('}', open + 1);
        if (close == std::string::npos) {
          ok = false;
          break;
        }
        std::string var = value.substr(open + 1, close - open - 1);
        if (var == "title") {
        } else if (var == "listen-addr" || var == "config-file" || var == "port" || var == "tls-port") {
          res += 'x';
        } else if (var == "server-mode") {
          if (value_of("cluster-enabled") == "yes") res += "[cluster]";
        } else if (var == "unixsocket") {
          res += value_of("unixsocket");
        } else {
          ok = false;
          break;
        }
        i = close + 1;
      }
      if (ok && res.find_first_not_of(' ') == std::string::npos) ok = false;
      if (!ok) {
        error = "template format is invalid or contains unknown variables";
        return false;
      }
      return true;
    }
    default:
      return true;
  }
}

bool config_store::parse_value(const param_def& p, const value_state& current, std::span<const std::string> argv,
                               value_state& out, std::string& error) const {
  switch (p.kind) {
    case param_kind::boolean: {
      const std::string s = c_string(argv.empty() ? std::string_view() : std::string_view(argv[0]));
      int yn = iequals(s, "yes") ? 1 : iequals(s, "no") ? 0 : -1;
      if (argv.size() != 1 || yn == -1) {
        error = "argument must be 'yes' or 'no'";
        return false;
      }
      if (p.validator == validator_kind::active_defrag && yn) {
        // Shrike has no active defragmentation: answer as a Redis built
        // without a defrag-capable jemalloc does.
        error = "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified "
                "Jemalloc like the one shipped by default with the Redis source distribution";
        return false;
      }
      out.number = yn;
      out.shown = yn ? "yes" : "no";
      return true;
    }
    case param_kind::numeric: {
      if (argv.size() != 1) {
        error = "wrong number of arguments";
        return false;
      }
      std::int64_t v = 0;
      if (!parse_number(p, argv[0], v, error) || !check_bounds(p, v, error)) return false;
      if (p.name == "hz") v = std::clamp<std::int64_t>(v, min_hz, max_hz);  // Redis's updateHZ()
      out.number = v;
      out.shown = format_number(p, v);
      return true;
    }
    case param_kind::string: {
      if (argv.size() != 1) {
        error = "wrong number of arguments";
        return false;
      }
      const std::string s = p.validator == validator_kind::none ? argv[0] : c_string(argv[0]);
      if (!validate_string(p, s, error)) return false;
      out.number = 0;
      out.shown = argv[0];
      return true;
    }
    case param_kind::enumeration: {
      // Redis's configEnumGetValue(): every word must name a value; the
      // values of a multi-word (bit flags) parameter are or-ed.
      bool ok = !argv.empty() && (p.multi_arg || argv.size() == 1);
      int value = 0;
      for (std::size_t i = 0; ok && i < argv.size(); ++i) {
        bool matched = false;
        const std::string word = c_string(argv[i]);
        for (const auto& [name, v] : p.enum_values) {
          if (iequals(word, name)) {
            value |= v;
            matched = true;
          }
        }
        ok = matched;
      }
      if (!ok) {
        std::string msg = "argument(s) must be one of the following: ";
        for (std::size_t i = 0; i < p.enum_values.size(); ++i) {
          if (i) msg += ", ";
          msg += p.enum_values[i].first;
        }
        error = msg.substr(0, 255);  // Redis formats it into a 256-byte buffer
        return false;
      }
      if (p.validator == validator_kind::shutdown_flags && (value & shutdown_save) && (value & shutdown_nosave)) {
        error = "shutdown options SAVE and NOSAVE can't be used simultaneously";
        return false;
      }
      out.number = value;
      out.shown = enum_name(p, value);
      return true;
    }
    case param_kind::special:
      break;
  }

  const std::size_t argc = argv.size();
  switch (p.special) {
    case special_kind::dir: {
      if (argc != 1) {
        error = "wrong number of arguments";
        return false;
      }
      // Redis chdir()s and shows getcwd(); we check what chdir() would and
      // keep the canonical absolute path.
      const std::string path = c_string(argv[0]);
      struct stat st {};
      if (path.empty()) {
        error = std::strerror(ENOENT);
        return false;
      }
      if (::stat(path.c_str(), &st) != 0) {
        error = std::strerror(errno);
        return false;
      }
      if (!S_ISDIR(st.st_mode)) {
        error = std::strerror(ENOTDIR);
        return false;
      }
      if (::access(path.c_str(), X_OK) != 0) {
        error = std::strerror(errno);
        return false;
      }
      std::error_code ec;
      auto canonical = std::filesystem::canonical(path, ec);
      if (ec) {
        error = ec.message();
        return false;
      }
      out.shown = canonical.string();
      return true;
    }
    case special_kind::save: {
      // Pairs "<seconds> <changes>": seconds >= 1, changes >= 0 (strtoll, so
      // "+5" and "010" pass); a single "" means no saving.
      std::size_t n = (argc == 1 && argv[0].empty()) ? 0 : argc;
      if (n & 1) {
        error = "Invalid save parameters";
        return false;
      }
      std::string shown;
      // strtoll() with only the end pointer checked, as Redis does: "+5" and
      // "010" pass, an overflow saturates; changes are stored as an int.
      auto parse = [](const std::string& text, long long& v) {
        char* end = nullptr;
        v = std::strtoll(text.c_str(), &end, 10);
        return *end == '\0';
      };
      for (std::size_t j = 0; j < n; j += 2) {
        long long seconds = 0, changes = 0;
        bool ok_s = parse(c_string(argv[j]), seconds);
        bool ok_c = parse(c_string(argv[j + 1]), changes);
        if (!ok_s || !ok_c || seconds < 1 || changes < 0) {
          error = "Invalid save parameters";
          return false;
        }
        if (!shown.empty()) shown += ' ';
        shown += std::to_string(seconds) + ' ' + std::to_string(static_cast<int>(changes));
      }
      out.shown = shown;
      return true;
    }
    case special_kind::client_output_buffer_limit: {
      if (argc % 4) {
        error = "Wrong number of arguments in buffer limit configuration.";
        return false;
      }
      struct limits {
        std::uint64_t hard, soft;
        long seconds;
      };
      static constexpr const char* class_names[] = {"normal", "slave", "pubsub"};
      limits values[3] = {};
      {  // The current values, from their fixed textual form.
        std::istringstream in(current.shown);
        std::string name;
        for (auto& l : values) in >> name >> l.hard >> l.soft >> l.seconds;
      }
      for (std::size_t j = 0; j < argc; j += 4) {
        const std::string name = c_string(argv[j]);
        int cls = iequals(name, "normal") ? 0
                  : (iequals(name, "slave") || iequals(name, "replica")) ? 1
                  : iequals(name, "pubsub") ? 2
                                            : -1;
        if (cls < 0) {
          error = "Invalid client class specified in buffer limit configuration.";
          return false;
        }
        std::uint64_t hard = 0, soft = 0;
        const std::string secs = c_string(argv[j + 3]);
        char* end = nullptr;
        int seconds = static_cast<int>(std::strtoll(secs.c_str(), &end, 10));
        if (!parse_memory(argv[j + 1], hard) || !parse_memory(argv[j + 2], soft) || seconds < 0 || *end != '\0') {
          error = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
          return false;
        }
        values[cls] = {hard, soft, seconds};
      }
      std::string shown;
      for (int c = 0; c < 3; ++c) {
        if (c) shown += ' ';
        shown += std::string(class_names[c]) + ' ' + std::to_string(values[c].hard) + ' ' +
                 std::to_string(values[c].soft) + ' ' + std::to_string(values[c].seconds);
      }
      out.shown = shown;
      return true;
    }
    case special_kind::oom_score_adj_values: {
      if (argc != 3) {
        error = "wrong number of arguments";
        return false;
      }
      std::string shown;
      for (std::size_t i = 0; i < 3; ++i) {
        const std::string s = c_string(argv[i]);
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (*end != '\0' || v < -2000 || v > 2000) {
          error = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
          return false;
        }
        if (i) shown += ' ';
        shown += std::to_string(v);
      }
      out.shown = shown;
      return true;
    }
    case special_kind::notify_keyspace_events: {
      if (argc != 1) {
        error = "wrong number of arguments";
        return false;
      }
      int flags = server::notify::parse_classes(argv[0]);
      if (flags == -1) {
        error = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        return false;
      }
      out.number = flags;
      out.shown = server::notify::classes_text(flags);
      return true;
    }
    case special_kind::bind: {
      if (argc > static_cast<std::size_t>(bindaddr_max)) {
        error = "Too many bind addresses specified.";
        return false;
      }
      if (argc == 1 && argv[0].empty()) {
        out.shown.clear();
        return true;
      }
      std::vector<std::string> words;
      for (const auto& a : argv) words.push_back(c_string(a));
      out.shown = join(words);
      return true;
    }
    case special_kind::replicaof: {
      if (argc != 2) {
        error = "wrong number of arguments";
        return false;
      }
      if (iequals(c_string(argv[0]), "no") && iequals(c_string(argv[1]), "one")) {
        out.shown.clear();
        return true;
      }
      const std::string port = c_string(argv[1]);
      char* end = nullptr;
      long v = std::strtol(port.c_str(), &end, 10);
      if (v < 0 || v > 65535 || *end != '\0') {
        error = "Invalid master port";
        return false;
      }
      out.shown = c_string(argv[0]) + ' ' + std::to_string(v);
      return true;
    }
    case special_kind::latency_percentiles: {
      std::size_t n = (argc == 1 && argv[0].empty()) ? 0 : argc;
      std::string shown;
      for (std::size_t j = 0; j < n; ++j) {
        double d = 0;
        if (!util::parse_double(argv[j], d)) {
          error = "Invalid latency-tracking-info-percentiles parameters";
          return false;
        }
        if (d > 100.0 || d < 0.0) {
          error = "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
          return false;
        }
        if (j) shown += ' ';
        shown += format_percentile(d);
      }
      out.shown = shown;
      return true;
    }
    case special_kind::none:
      break;
  }
  error = "unsupported parameter";
  return false;
}

std::vector<std::pair<std::string, std::string>> config_store::get(std::span<const std::string_view> patterns) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unordered_set<std::string> seen;  // lower-case reported names
  std::shared_lock lock(mutex_);
  for (std::string_view pattern : patterns) {
    if (pattern.find_first_of("[*?") == std::string_view::npos) {
      if (seen.count(lower(pattern))) continue;
      if (const lookup_entry* e = lookup(pattern)) {
        seen.insert(lower(pattern));
        out.emplace_back(std::string(pattern), values_[e->index].shown);
      }
      continue;
    }
    for (const auto& [name, index] : glob_names_) {
      if (params_[index].hidden) continue;
      if (seen.count(lower(name))) continue;
      if (util::glob_match(pattern, name, true)) {
        seen.insert(lower(name));
        out.emplace_back(name, values_[index].shown);
      }
    }
  }
  return out;
}

std::optional<std::string> config_store::get_one(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const lookup_entry* e = lookup(name);
  if (!e) return std::nullopt;
  return values_[e->index].shown;
}

std::int64_t config_store::get_int(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const lookup_entry* e = lookup(name);
  if (!e) throw std::out_of_range("unknown config parameter " + std::string(name));
  const param_def& p = params_[e->index];
  if (p.kind != param_kind::numeric) throw std::invalid_argument("config parameter is not numeric: " + p.name);
  std::int64_t v = values_[e->index].number;
  if (p.unsigned_bounds && v < 0) return std::numeric_limits<std::int64_t>::max();
  return v;
}

std::int64_t config_store::get_special_number(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const lookup_entry* e = lookup(name);
  if (!e) throw std::out_of_range("unknown config parameter " + std::string(name));
  return values_[e->index].number;
}

bool config_store::get_bool(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const lookup_entry* e = lookup(name);
  if (!e) throw std::out_of_range("unknown config parameter " + std::string(name));
  const param_def& p = params_[e->index];
  if (p.kind != param_kind::boolean) throw std::invalid_argument("config parameter is not yes/no: " + p.name);
  return values_[e->index].number != 0;
}

bool config_store::exists(std::string_view name) const { return lookup(name) != nullptr; }

namespace {
config_param_info info_of(const config_store::param_def& p) {
  return {p.name, p.alias, p.modifiable, p.multi_arg, p.sensitive, p.hidden};
}
}  // namespace

std::vector<config_param_info> config_store::params() const {
  std::vector<config_param_info> out;
  out.reserve(params_.size());
  for (const auto& p : params_) out.push_back(info_of(p));
  return out;
}

std::optional<config_param_info> config_store::find(std::string_view name) const {
  const lookup_entry* e = lookup(name);
  if (!e) return std::nullopt;
  return info_of(params_[e->index]);
}

bool config_store::set(std::span<const std::pair<std::string_view, std::string_view>> pairs, std::string& error,
                       bool client_is_local) {
  std::lock_guard serial(set_mutex_);
  auto failed = [&](std::string_view arg, std::string_view reason) {
    error = "CONFIG SET failed (possibly related to argument '" + std::string(arg) + "') - " + std::string(reason);
    return false;
  };

  // 1. Names, in order: the first problem is the answer.
  std::vector<lookup_entry> entries;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [name, value] : pairs) {
      const lookup_entry* e = lookup(name);
      if (!e) {
        error = "Unknown option or number of arguments for CONFIG SET - '" + std::string(name) + "'";
        return false;
      }
      const param_def& p = params_[e->index];
      if (!p.modifiable) return failed(name, "can't set immutable config");
      if (p.is_protected) {
        const std::string& allowed = values_[lookup("enable-protected-configs")->index].shown;
        if (!(allowed == "yes" || (allowed == "local" && client_is_local)))
          return failed(name, "can't set protected config");
      }
      for (const auto& prev : entries)
        if (prev.index == e->index && prev.via_alias == e->via_alias) return failed(name, "duplicate parameter");
      entries.push_back(*e);
    }
  }

  // 2. Values, in order, on a working copy (a name and its alias share one value).
  std::unordered_map<std::size_t, value_state> working;
  std::vector<std::size_t> order;  // indices, first-set order
  {
    std::shared_lock lock(mutex_);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const param_def& p = params_[entries[i].index];
      auto it = working.find(entries[i].index);
      const value_state& current = it != working.end() ? it->second : values_[entries[i].index];
      std::vector<std::string> argv;
      if (p.multi_arg) argv = split_spaces(pairs[i].second);
      else argv.emplace_back(pairs[i].second);
      value_state next;
      std::string reason;
      if (!parse_value(p, current, argv, next, reason))
        return failed(entries[i].via_alias ? p.alias : p.name, reason);
      // Redis's resizeReplicationBacklog() (a runtime apply, not at startup)
      // raises a small backlog to CONFIG_REPL_BACKLOG_MIN_SIZE.
      if (p.name == "repl-backlog-size" && next.number < repl_backlog_min_size) {
        next.number = repl_backlog_min_size;
        next.shown = format_number(p, next.number);
      }
      if (it == working.end()) order.push_back(entries[i].index);
      working[entries[i].index] = std::move(next);
    }
  }

  // 3. Commit, remembering what changed.
  std::vector<std::pair<std::size_t, value_state>> previous;  // changed params and their old values
  {
    std::unique_lock lock(mutex_);
    for (std::size_t index : order) {
      value_state& v = values_[index];
      if (v.shown == working[index].shown && v.number == working[index].number) continue;
      previous.emplace_back(index, v);
      v = working[index];
    }
  }
  if (previous.empty()) return true;

  // 4. Appliers; the first failure restores everything.
  auto appliers_of = [&](std::size_t index) {
    std::shared_lock lock(mutex_);
    auto it = apply_fns_.find(index);
    return it == apply_fns_.end() ? std::vector<std::function<bool(std::string_view, std::string&)>>{} : it->second;
  };
  for (std::size_t k = 0; k < previous.size(); ++k) {
    const std::size_t index = previous[k].first;
    std::string value = working[index].shown;
    for (const auto& fn : appliers_of(index)) {
      std::string reason;
      if (fn(value, reason)) continue;
      {
        std::unique_lock lock(mutex_);
        for (const auto& [i, old] : previous) values_[i] = old;
      }
      for (std::size_t r = 0; r <= k; ++r) {  // re-apply the restored values
        std::string ignored, old_value = previous[r].second.shown;
        for (const auto& again : appliers_of(previous[r].first)) again(old_value, ignored);
      }
      const param_def& p = params_[index];
      if (reason.empty()) {
        error = "CONFIG SET failed (possibly related to argument '" + p.name + "')";
        return false;
      }
      return failed(p.name, reason);
    }
  }

  // 5. Change callbacks.
  for (const auto& [index, old] : previous) {
    std::vector<std::function<void(std::string_view)>> fns;
    {
      std::shared_lock lock(mutex_);
      auto it = change_fns_.find(index);
      if (it != change_fns_.end()) fns = it->second;
    }
    const std::string value = working[index].shown;
    for (const auto& fn : fns) fn(value);
  }
  return true;
}

bool config_store::set_startup(std::string_view name, std::string_view value, std::string& error) {
  const std::string arg(value);
  return set_startup(name, std::span<const std::string>(&arg, 1), error);
}

bool config_store::set_startup(std::string_view name, std::span<const std::string> args, std::string& error) {
  const lookup_entry* e = lookup(name);
  if (!e) {
    error = "Bad directive or wrong number of arguments";
    return false;
  }
  std::lock_guard serial(set_mutex_);
  std::unique_lock lock(mutex_);
  return set_startup_locked(*e, args, error);
}

bool config_store::set_startup_locked(const lookup_entry& e, std::span<const std::string> args, std::string& error) {
  const param_def& p = params_[e.index];
  std::vector<std::string> argv(args.begin(), args.end());
  if (!p.multi_arg && argv.size() != 1) {
    error = "wrong number of arguments";
    return false;
  }
  if (p.multi_arg && argv.size() == 1 && !argv[0].empty()) {
    // redis.conf: one word of a multi-word parameter is split like a line.
    std::vector<std::string> words;
    if (!util::split_args(argv[0], words)) {
      error = "Unbalanced quotes in configuration line";
      return false;
    }
    argv = std::move(words);
  }
  value_state next;
  if (!parse_value(p, values_[e.index], argv, next, error)) return false;
  values_[e.index] = next;
  if (e.index == shards_index_) shards_set_ = true;
  if (e.index == threads_index_ && !shards_set_) values_[shards_index_] = next;
  return true;
}

void config_store::on_change(std::string_view name, std::function<void(std::string_view value)> fn) {
  const lookup_entry* e = lookup(name);
  if (!e) throw std::out_of_range("unknown config parameter " + std::string(name));
  std::unique_lock lock(mutex_);
  change_fns_[e->index].push_back(std::move(fn));
}

void config_store::on_apply(std::string_view name, std::function<bool(std::string_view value, std::string& error)> fn) {
  const lookup_entry* e = lookup(name);
  if (!e) throw std::out_of_range("unknown config parameter " + std::string(name));
  std::unique_lock lock(mutex_);
  apply_fns_[e->index].push_back(std::move(fn));
}

void config_store::set_config_file(std::string path) {
  std::unique_lock lock(mutex_);
  config_file_ = std::move(path);
}

std::string config_store::config_file() const {
  std::shared_lock lock(mutex_);
  return config_file_;
}

namespace {

bool parses_as_json_number(const std::string& s, nlohmann::ordered_json& out) {
  std::int64_t i = 0;
  if (util::parse_int64(s, i)) {
    out = i;
    return true;
  }
  if (!s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      s[0] != '0') {
    errno = 0;
    unsigned long long u = std::strtoull(s.c_str(), nullptr, 10);
    if (errno == 0) {
      out = static_cast<std::uint64_t>(u);
      return true;
    }
  }
  return false;
}

// The JSON form of a value: the old key's type when it fits, else the natural one.
nlohmann::ordered_json json_value(const config_store::param_def& p, const std::string& shown,
                                  const nlohmann::ordered_json* old) {
  nlohmann::ordered_json number;
  if (old && old->is_boolean() && p.kind == param_kind::boolean) return shown == "yes";
  if (old && old->is_number() && parses_as_json_number(shown, number)) return number;
  if (old && old->is_array()) {
    bool numbers = std::any_of(old->begin(), old->end(), [](const auto& e) { return e.is_number(); });
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& word : split_spaces(shown)) {
      if (numbers && parses_as_json_number(word, number)) arr.push_back(number);
      else arr.push_back(word);
    }
    return arr;
  }
  if (old) return shown;
  if (p.kind == param_kind::boolean) return shown == "yes";
  if (p.kind == param_kind::numeric && parses_as_json_number(shown, number)) return number;
  return shown;
}

}  // namespace

bool config_store::rewrite(std::string& error) {
  std::string path;
  std::vector<value_state> values;
  {
    std::shared_lock lock(mutex_);
    path = config_file_;
    values = values_;
  }
  if (path.empty()) {
    error = "The server is running without a config file";
    return false;
  }
  auto fail = [&](const std::string& reason) {
    error = "Rewriting config file: " + reason;
    return false;
  };

  nlohmann::ordered_json old = nlohmann::ordered_json::object();
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::string text;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    bool read_error = std::ferror(f) != 0;
    std::fclose(f);
    if (read_error) return fail("read error");
    try {
      old = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      return fail(e.what());
    }
    if (!old.is_object()) return fail("the config file is not a JSON object");
  } else if (errno != ENOENT) {  // a missing file is created, as Redis does
    return fail(std::strerror(errno));
  }

  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  std::vector<bool> written(params_.size(), false);
  for (const auto& [key, value] : old.items()) {
    const lookup_entry* e = lookup(key);
    if (!e) {
      out[key] = value;
      continue;
    }
    if (written[e->index]) continue;  // a name and its alias: keep the first
    written[e->index] = true;
    const param_def& p = params_[e->index];
    if (p.special == special_kind::replicaof && values[e->index].shown.empty()) continue;
    out[p.name] = json_value(p, values[e->index].shown, &value);
  }
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (written[i]) continue;
    const param_def& p = params_[i];
    bool always = p.special == special_kind::dir || p.special == special_kind::save;
    if (!always && values[i].shown == p.default_value) continue;
    if (p.special == special_kind::replicaof && values[i].shown.empty()) continue;
    out[p.name] = json_value(p, values[i].shown, nullptr);
  }
  const std::string content = out.dump(2) + "\n";

  // Atomically: a temporary file next to it, then rename().
  std::string tmp = path + ".XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd == -1) return fail(std::strerror(errno));
  std::size_t offset = 0;
  while (offset < content.size()) {
    ssize_t n = ::write(fd, content.data() + offset, content.size() - offset);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(std::strerror(err));
    }
    offset += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::fchmod(fd, 0644 & ~process_umask) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail(std::strerror(err));
  }
  ::close(fd);
  return true;
}

}  // namespace shrike::server
