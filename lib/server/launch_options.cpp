#include "server/launch_options.hpp"

#include "acl/acl.hpp"
#include "util/version.hpp"

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#ifndef SHRIKE_VERSION
#define SHRIKE_VERSION "0.0.0"
#endif

namespace shrike::server {

namespace {

namespace po = boost::program_options;
using ordered_json = nlohmann::ordered_json;

constexpr const char* program = "shrike-server";

struct position {
  int line = 0;
  int column = 0;
};

// Where each key of the top-level JSON object starts (1-based line and
// column of its opening quote; the first occurrence of a repeated key).
std::unordered_map<std::string, position> top_level_key_positions(std::string_view text) {
  std::unordered_map<std::string, position> out;
  int depth = 0, line = 1, column = 1;
  std::size_t i = 0;
  auto advance = [&] {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    ++i;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      position start{line, column};
      std::size_t begin = i;
      advance();
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) advance();
        advance();
      }
      if (i >= text.size()) break;
      advance();
      std::string_view literal = text.substr(begin, i - begin);
      std::size_t j = i;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r' || text[j] == '\n')) ++j;
      if (depth == 1 && j < text.size() && text[j] == ':') {
        try {
          out.emplace(nlohmann::json::parse(literal).get<std::string>(), start);
        } catch (const nlohmann::json::exception&) {
        }
      }
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    advance();
  }
  return out;
}

// Keeps an error on one line: control characters are escaped.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else out += c;
  }
  return out;
}

launch_result failure(const std::string& message) {
  return {1, true, std::string(program) + ": " + one_line(message)};
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += ' ';
    out += words[i];
  }
  return out;
}

// redis-server's grouping: "--name" takes every following word up to the next
// one starting with "--" (so "-2" and "-::*" are values); "--name=value" too.
std::vector<po::option> redis_style_parser(std::vector<std::string>& args) {
  std::vector<po::option> out;
  if (args.empty() || args[0].size() <= 2 || args[0].compare(0, 2, "--") != 0) return out;
  po::option opt;
  std::string name = args[0].substr(2);
  opt.original_tokens.push_back(args[0]);
  std::size_t i = 1;
  if (auto eq = name.find('='); eq != std::string::npos) {
    opt.value.push_back(name.substr(eq + 1));
    name.resize(eq);
  } else {
    for (; i < args.size() && args[i].compare(0, 2, "--") != 0; ++i) {
      opt.value.push_back(args[i]);
      opt.original_tokens.push_back(args[i]);
    }
  }
  opt.string_key = name;
  args.erase(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i));
  out.push_back(std::move(opt));
  return out;
}

struct main_option {
  const char* name;
  const char* value_name;
  const char* help;
};

// The options --help lists; every other parameter works the same way.
constexpr main_option main_options[] = {
    {"port", "PORT", "TCP port to listen on (default 6379)"},
    {"bind", "ADDR...", "addresses to listen on (default \"* -::*\")"},
    {"threads", "N", "worker threads (default: the CPUs available)"},
    {"shards", "N", "keyspace shards (default: as many as threads)"},
    {"databases", "N", "number of databases (default 16)"},
    {"dir", "DIR", "directory of the RDB and AOF files (default: the current one)"},
    {"dbfilename", "FILE", "RDB file name (default dump.rdb)"},
    {"save", "\"SECS CHANGES...\"", "snapshot points; \"\" disables (default \"3600 1 300 100 60 10000\")"},
    {"appendonly", "yes|no", "append-only file (default no)"},
    {"requirepass", "PASSWORD", "password of the default user"},
    {"maxclients", "N", "maximum number of clients (default 10000)"},
    {"timeout", "SECS", "close clients idle this long; 0 never (default 0)"},
    {"loglevel", "LEVEL", "debug, verbose, notice or warning (default notice)"},
    {"logfile", "FILE", "log file; \"\" is standard output (default \"\")"},
    {"replicaof", "HOST PORT", "replicate the server at HOST PORT"},
};

po::typed_value<std::vector<std::string>>* words_value(const std::string& name, const char* value_name) {
  auto* v = po::value<std::vector<std::string>>()->multitoken();
  if (name == "save") v->zero_tokens();  // `--save` alone means `--save ""`, as in redis-server
  if (value_name) v->value_name(value_name);
  return v;
}

// The textual words of a JSON value, or false for a type the parameter can't take.
bool json_words(const ordered_json& v, bool multi_arg, std::vector<std::string>& words) {
  auto scalar = [](const ordered_json& e, std::string& out) {
    if (e.is_string()) out = e.get<std::string>();
    else if (e.is_boolean()) out = e.get<bool>() ? "yes" : "no";
    else if (e.is_number()) out = e.dump();
    else return false;
    return true;
  };
  words.clear();
  std::string word;
  if (scalar(v, word)) {
    words.push_back(word);
    return true;
  }
  if (!multi_arg || !v.is_array()) return false;
  for (const auto& e : v) {
    if (!scalar(e, word)) return false;
    words.push_back(word);
  }
  return true;
}

// A `user` line (ACL rules, acl/acl.hpp): one string is split as redis.conf
// splits a line ("alice on >pw ~* +@all"); several words are taken as they are.
bool add_user_line(config_store& cfg, std::vector<std::string> words, std::vector<std::string>& seen,
                   std::string& error) {
  if (words.size() == 1) {
    const std::string line = words[0];
    if (!acl::split_args(line, words)) {
      error = "unbalanced quotes";
      return false;
    }
  }
  if (!acl::validate_user_line(words, seen, error)) return false;
  cfg.add_user_line(std::move(words));
  return true;
}

// `overridden`: parameters the command line sets, whose values in the file
// are not even checked (the same file serves a container and a local test
// run with another port and dir).
launch_result load_config_file(const std::string& path, config_store& cfg, std::vector<std::string>& users,
                               const std::set<std::string>& overridden) {
  std::string text;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return failure("cannot read config file '" + path + "': " + std::strerror(errno));
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) return failure("cannot read config file '" + path + "': " + std::strerror(err));
  }
  ordered_json doc;
  try {
    doc = ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 7: syntax error ..."
    std::string what = e.what();
    const std::string marker = "parse error ";
    auto pos = what.find(marker);
    std::string detail = pos == std::string::npos ? what : what.substr(pos + marker.size());
    if (detail.compare(0, 3, "at ") != 0) detail = "at byte " + std::to_string(e.byte) + ": " + detail;
    return failure("malformed JSON in " + path + " " + detail);
  }
  if (!doc.is_object()) return failure("config file " + path + " must contain a JSON object");

  const auto positions = top_level_key_positions(text);
  auto where = [&](const std::string& key) {
    std::string s = "in " + path;
    if (auto it = positions.find(key); it != positions.end())
      s += " at line " + std::to_string(it->second.line) + ", column " + std::to_string(it->second.column);
    return s;
  };
  for (const auto& [key, value] : doc.items()) {
    if (key == "user") {  // "user": "alice on >pw ~* +@all", or an array of such lines
      std::vector<std::string> lines;
      bool ok = value.is_string() || (value.is_array() && !value.empty());
      if (value.is_string()) {
        lines.push_back(value.get<std::string>());
      } else if (value.is_array()) {
        for (const auto& e : value) {
          ok = ok && e.is_string();
          if (ok) lines.push_back(e.get<std::string>());
        }
      }
      if (!ok)
        return failure("invalid type for 'user' " + where(key) + ": expected a string or an array of strings, got " +
                       std::string(value.type_name()));
      for (const auto& line : lines) {
        std::string error;
        if (!add_user_line(cfg, {line}, users, error))
          return failure("invalid value '" + line + "' for 'user' " + where(key) + ": " + error);
      }
      continue;
    }
    auto info = cfg.find(key);
    if (!info) return failure("unknown option '" + key + "' " + where(key));
    if (overridden.count(info->name)) continue;
    std::vector<std::string> words;
    if (!json_words(value, info->multi_arg, words)) {
      return failure("invalid type for '" + key + "' " + where(key) + ": expected a string, number or boolean" +
                     (info->multi_arg ? " (or an array of them)" : "") + ", got " +
                     std::string(value.type_name()));
    }
    std::string error;
    if (!cfg.set_startup(key, words, error))
      return failure("invalid value '" + join(words) + "' for '" + key + "' " + where(key) + ": " + error);
  }
  return {};
}

}  // namespace

launch_result parse_launch_options(int argc, const char* const* argv, config_store& cfg) {
  po::options_description general("General options");
  general.add_options()                                  //
      ("help,h", "print this help and exit")             //
      ("version,v", "print the version and exit")        //
      ("config", po::value<std::string>()->value_name("FILE.json"),
       "read parameters from a JSON object file; the command line overrides it");

  po::options_description listed("Server options (as redis-server's; any other Redis 7.0 parameter works as --name value too)");
  std::unordered_map<std::string, bool> is_listed;
  for (const auto& o : main_options) {
    listed.add_options()(o.name, words_value(o.name, o.value_name), o.help);
    is_listed[o.name] = true;
  }
  po::options_description hidden;
  hidden.add_options()("user", words_value("user", nullptr), "");  // ACL users, as redis.conf's `user` lines
  for (const auto& p : cfg.params()) {
    if (!is_listed.count(p.name)) hidden.add_options()(p.name.c_str(), words_value(p.name, nullptr), "");
    if (!p.alias.empty()) hidden.add_options()(p.alias.c_str(), words_value(p.alias, nullptr), "");
  }
  po::options_description all;
  all.add(general).add(listed).add(hidden);

  std::vector<std::string> args;
  std::string config_path;
  int first = 1;
  if (argc > 1 && argv[1][0] != '-' && argv[1][0] != '\0') {  // redis-server's "config file first" form
    config_path = argv[1];
    first = 2;
  }
  for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);

  po::parsed_options parsed(&all);
  try {
    const int style = (po::command_line_style::default_style & ~po::command_line_style::allow_guessing) |
                      po::command_line_style::long_case_insensitive;
    parsed = po::command_line_parser(args).options(all).style(style).extra_style_parser(redis_style_parser).run();
  } catch (const po::error& e) {
    return failure(e.what());
  }

  bool help = false, version = false;
  std::vector<const po::option*> settings;
  for (const auto& o : parsed.options) {
    if (o.string_key.empty() || o.position_key >= 0) {
      return failure("unexpected argument '" + (o.original_tokens.empty() ? std::string() : o.original_tokens[0]) +
                     "'");
    }
    if (o.string_key == "help") help = true;
    else if (o.string_key == "version") version = true;
    else if (o.string_key == "config") config_path = o.value.empty() ? std::string() : o.value[0];
    else settings.push_back(&o);
  }
  if (help) {
    std::ostringstream out;
    out << "Usage: " << program << " [FILE.json] [options]\n\n" << general << "\n" << listed;
    std::string text = out.str();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return {0, true, text};
  }
  if (version) {
    return {0, true, std::string("Shrike server v=") + SHRIKE_VERSION + " redis_version=" + util::redis_version};
  }

  std::vector<std::string> users;  // names declared by `user` lines
  if (!config_path.empty()) {
    std::set<std::string> overridden;
    for (const po::option* o : settings)
      if (auto info = cfg.find(o->string_key)) overridden.insert(info->name);
    if (launch_result r = load_config_file(config_path, cfg, users, overridden); r.exit_now) return r;
    std::error_code ec;
    auto absolute = std::filesystem::absolute(config_path, ec);
    cfg.set_config_file(ec ? config_path : absolute.lexically_normal().string());
  }

  // Several --save accumulate, an empty one clears: applied once, at the end.
  bool have_save = false;
  std::vector<std::string> save_words;
  for (const po::option* o : settings) {
    const std::string& name = o->string_key;
    std::string error;
    if (name == "user") {
      if (!add_user_line(cfg, o->value, users, error))
        return failure("invalid value '" + join(o->value) + "' for '--user': " + error);
      continue;
    }
    auto info = cfg.find(name);
    if (info && info->name == "save") {
      have_save = true;
      if (o->value.empty() || (o->value.size() == 1 && o->value[0].empty())) {
        save_words.clear();
        continue;
      }
      if (!cfg.set_startup(name, o->value, error))
        return failure("invalid value '" + join(o->value) + "' for '--" + name + "': " + error);
      std::istringstream words(*cfg.get_one("save"));
      for (std::string w; words >> w;) save_words.push_back(w);
      continue;
    }
    if (!cfg.set_startup(name, o->value, error))
      return failure("invalid value '" + join(o->value) + "' for '--" + name + "': " + error);
  }
  if (have_save) {
    std::string error;
    bool ok = save_words.empty() ? cfg.set_startup("save", "", error) : cfg.set_startup("save", save_words, error);
    if (!ok) return failure("invalid value '" + join(save_words) + "' for '--save': " + error);
  }
  if (!users.empty() && !cfg.get_one("aclfile").value_or("").empty())
    return failure("'user' and 'aclfile' can't be used together: define the ACL users in one place");
  return {};
}

}  // namespace shrike::server
