// config_store (CONFIG GET/SET/REWRITE rules) and parse_launch_options.
// The expected error texts are the ones Redis 7.0.15 answers.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/config_store.hpp"
#include "server/keyspace_events.hpp"
#include "server/launch_options.hpp"

using shrike::server::config_store;
using shrike::server::launch_result;
using shrike::server::parse_launch_options;

namespace {

using pairs_t = std::vector<std::pair<std::string, std::string>>;

pairs_t config_get(const config_store& cfg, std::initializer_list<std::string_view> patterns) {
  std::vector<std::string_view> v(patterns);
  return cfg.get(v);
}

// CONFIG SET with its arguments; returns "OK" or the error text.
std::string config_set(config_store& cfg, std::initializer_list<std::string_view> args, bool local = false) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (auto it = args.begin(); it != args.end(); it += 2) pairs.emplace_back(*it, *(it + 1));
  std::string error;
  return cfg.set(pairs, error, local) ? "OK" : error;
}

std::string failed(const std::string& arg, const std::string& reason) {
  return "CONFIG SET failed (possibly related to argument '" + arg + "') - " + reason;
}

launch_result launch(config_store& cfg, std::vector<std::string> args) {
  args.insert(args.begin(), "shrike-server");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_launch_options(static_cast<int>(argv.size()), argv.data(), cfg);
}

// A fresh directory under the system's temporary directory, removed at the end.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shrike-config-test-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

void check_one_line_error(const launch_result& r, const std::string& needle) {
  BOOST_TEST(r.exit_now);
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output.find('\n') == std::string::npos, r.output);
  BOOST_TEST(r.output.rfind("shrike-server: ", 0) == 0, r.output);
  BOOST_TEST(r.output.find(needle) != std::string::npos, r.output << " should contain " << needle);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_as_redis_shows_them) {
  config_store cfg;
  BOOST_TEST(*cfg.get_one("maxmemory") == "0");
  BOOST_TEST(*cfg.get_one("save") == "3600 1 300 100 60 10000");
  BOOST_TEST(*cfg.get_one("bind") == "* -::*");
  BOOST_TEST(*cfg.get_one("port") == "6379");
  BOOST_TEST(*cfg.get_one("client-output-buffer-limit") ==
             "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  BOOST_TEST(*cfg.get_one("proto-max-bulk-len") == "536870912");
  BOOST_TEST(*cfg.get_one("latency-tracking-info-percentiles") == "50 99 99.9");
  BOOST_TEST(*cfg.get_one("maxmemory-policy") == "noeviction");
  BOOST_TEST(*cfg.get_one("unixsocketperm") == "0");
  BOOST_TEST(*cfg.get_one("dir") == std::filesystem::current_path().string());
  BOOST_TEST(cfg.get_int("databases") == 16);
  BOOST_TEST(cfg.get_int("maxclients") == 10000);
  BOOST_TEST(cfg.get_bool("appendonly") == false);
  BOOST_TEST(cfg.get_bool("rdbchecksum") == true);
  BOOST_TEST(cfg.get_int("threads") >= 1);
  BOOST_TEST(cfg.get_int("shards") == cfg.get_int("threads"));
  BOOST_CHECK_THROW(cfg.get_int("nope"), std::out_of_range);
  BOOST_CHECK_THROW(cfg.get_int("appendonly"), std::invalid_argument);
  BOOST_CHECK_THROW(cfg.get_bool("port"), std::invalid_argument);
  BOOST_TEST(!cfg.get_one("nope").has_value());
}

BOOST_AUTO_TEST_CASE(get_exact_names_and_aliases) {
  config_store cfg;
  BOOST_TEST((config_get(cfg, {"slaveof"}) == pairs_t{{"slaveof", ""}}));
  BOOST_TEST((config_get(cfg, {"replicaof"}) == pairs_t{{"replicaof", ""}}));
  // An exact name is reported as written; the same name twice once.
  BOOST_TEST((config_get(cfg, {"SLAVEOF"}) == pairs_t{{"SLAVEOF", ""}}));
  BOOST_TEST((config_get(cfg, {"MAXMEMORY", "maxmemory"}) == pairs_t{{"MAXMEMORY", "0"}}));
  BOOST_TEST(config_get(cfg, {"nonexist"}).empty());
  // Hidden parameters: only by exact name.
  BOOST_TEST((config_get(cfg, {"use-exit-on-panic"}) == pairs_t{{"use-exit-on-panic", "no"}}));
  BOOST_TEST(config_get(cfg, {"*exit*"}).empty());
  BOOST_TEST((config_get(cfg, {"lua-time-limit"}) == pairs_t{{"lua-time-limit", "5000"}}));
}

BOOST_AUTO_TEST_CASE(get_globs) {
  config_store cfg;
  BOOST_TEST((config_get(cfg, {"slave*of"}) == pairs_t{{"slaveof", ""}}));
  auto all = config_get(cfg, {"*"});
  std::map<std::string, std::string> m(all.begin(), all.end());
  BOOST_TEST(m.size() == all.size());  // each name once
  // Redis 7.0.15 (TLS build) shows 192 names; plus threads and shards.
  BOOST_TEST(all.size() == 194u);
  BOOST_TEST(m.count("replicaof") == 1u);
  BOOST_TEST(m.count("slaveof") == 1u);
  BOOST_TEST(m.count("hash-max-ziplist-entries") == 1u);
  BOOST_TEST(m.count("threads") == 1u);
  BOOST_TEST(m.count("use-exit-on-panic") == 0u);
  // Globs are case-insensitive; an exact name already reported is not repeated.
  auto mm = config_get(cfg, {"maxmemory", "MAXMEM*"});
  BOOST_TEST(mm.size() == 5u);
  BOOST_TEST(mm[0].first == "maxmemory");
  auto zs = config_get(cfg, {"zset-max-*", "zset-max-zip*"});
  BOOST_TEST(zs.size() == 4u);
  BOOST_TEST(config_get(cfg, {"[st]ave"}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(set_name_errors) {
  config_store cfg;
  BOOST_TEST(config_set(cfg, {"nope", "1"}) == "Unknown option or number of arguments for CONFIG SET - 'nope'");
  BOOST_TEST(config_set(cfg, {"daemonize", "yes"}) == failed("daemonize", "can't set immutable config"));
  BOOST_TEST(config_set(cfg, {"unixsocketperm", "777"}) == failed("unixsocketperm", "can't set immutable config"));
  BOOST_TEST(config_set(cfg, {"replicaof", "127.0.0.1 6380"}) == failed("replicaof", "can't set immutable config"));
  BOOST_TEST(config_set(cfg, {"slaveof", "no one"}) == failed("slaveof", "can't set immutable config"));
  BOOST_TEST(config_set(cfg, {"threads", "2"}) == failed("threads", "can't set immutable config"));
  BOOST_TEST(config_set(cfg, {"dir", "/"}) == failed("dir", "can't set protected config"));
  BOOST_TEST(config_set(cfg, {"dbfilename", "x.rdb"}) == failed("dbfilename", "can't set protected config"));
  BOOST_TEST(config_set(cfg, {"timeout", "1", "timeout", "2"}) == failed("timeout", "duplicate parameter"));
  BOOST_TEST(config_set(cfg, {"timeout", "1", "TIMEOUT", "2"}) == failed("TIMEOUT", "duplicate parameter"));
  // The first problem in argument order wins; names are checked before values.
  BOOST_TEST(config_set(cfg, {"timeout", "1", "nope", "1", "daemonize", "yes"}) ==
             "Unknown option or number of arguments for CONFIG SET - 'nope'");
  BOOST_TEST(config_set(cfg, {"daemonize", "yes", "nope", "1"}) == failed("daemonize", "can't set immutable config"));
  BOOST_TEST(config_set(cfg, {"timeout", "abc", "daemonize", "yes"}) ==
             failed("daemonize", "can't set immutable config"));
  BOOST_TEST(config_set(cfg, {"timeout", "abc", "maxmemory", "abc"}) ==
             failed("timeout", "argument couldn't be parsed into an integer"));
  // A name and its alias are different entries: both set, the last wins.
  BOOST_TEST(config_set(cfg, {"replica-priority", "1", "slave-priority", "2"}) == "OK");
  BOOST_TEST(*cfg.get_one("replica-priority") == "2");
  // Value errors name the parameter (or alias) in lower case.
  BOOST_TEST(config_set(cfg, {"SLAVE-PRIORITY", "x"}) ==
             failed("slave-priority", "argument couldn't be parsed into an integer"));
}

BOOST_AUTO_TEST_CASE(set_value_errors) {
  config_store cfg;
  const std::string not_int = "argument couldn't be parsed into an integer";
  BOOST_TEST(config_set(cfg, {"port", "abc"}) == failed("port", not_int));
  BOOST_TEST(config_set(cfg, {"timeout", "1k"}) == failed("timeout", not_int));
  BOOST_TEST(config_set(cfg, {"timeout", "01"}) == failed("timeout", not_int));
  BOOST_TEST(config_set(cfg, {"timeout", " 1"}) == failed("timeout", not_int));
  BOOST_TEST(config_set(cfg, {"timeout", "-1"}) ==
             failed("timeout", "argument must be between 0 and 2147483647 inclusive"));
  BOOST_TEST(config_set(cfg, {"maxclients", "0"}) ==
             failed("maxclients", "argument must be between 1 and 4294967295 inclusive"));
  BOOST_TEST(config_set(cfg, {"maxclients", "-1"}) ==
             failed("maxclients", "argument must be between 1 and 4294967295 inclusive"));
  BOOST_TEST(config_set(cfg, {"maxclients", "abc"}) == failed("maxclients", not_int));
  BOOST_TEST(config_set(cfg, {"proto-max-bulk-len", "1000"}) ==
             failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"));
  BOOST_TEST(config_set(cfg, {"proto-max-bulk-len", "10000000000000000000"}) ==
             failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"));
  BOOST_TEST(config_set(cfg, {"activerehashing", "maybe"}) ==
             failed("activerehashing", "argument must be 'yes' or 'no'"));
  BOOST_TEST(config_set(cfg, {"loglevel", "foo"}) ==
             failed("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning"));
  BOOST_TEST(config_set(cfg, {"maxmemory-clients", "101%"}) ==
             failed("maxmemory-clients", "percentage argument must be less or equal to 100"));
  for (const char* bad : {"-5", "-5%", "abc"})
    BOOST_TEST(config_set(cfg, {"maxmemory-clients", bad}) ==
               failed("maxmemory-clients", "argument must be a memory or percent value"));
  BOOST_TEST(config_set(cfg, {"cluster-announce-hostname", "bad_host"}) ==
             failed("cluster-announce-hostname", "Hostnames may only contain alphanumeric characters, hyphens or dots"));
  BOOST_TEST(config_set(cfg, {"proc-title-template", "{bad}"}) ==
             failed("proc-title-template", "template format is invalid or contains unknown variables"));
  BOOST_TEST(config_set(cfg, {"proc-title-template", "{title}"}) ==
             failed("proc-title-template", "template format is invalid or contains unknown variables"));
  BOOST_TEST(config_set(cfg, {"proc-title-template", "{port} {{x"}) == "OK");
  BOOST_TEST(config_set(cfg, {"activedefrag", "yes"}).find("Active defragmentation cannot be enabled") !=
             std::string::npos);
  BOOST_TEST(config_set(cfg, {"activedefrag", "no"}) == "OK");
}

BOOST_AUTO_TEST_CASE(memory_units) {
  config_store cfg;
  const std::pair<const char*, const char*> cases[] = {
      {"1k", "1000"},       {"1K", "1000"},       {"1kb", "1024"}, {"1KB", "1024"},
      {"1m", "1000000"},    {"1mb", "1048576"},   {"1Mb", "1048576"},
      {"1g", "1000000000"}, {"1Gb", "1073741824"}, {"2GB", "2147483648"},
      {"1b", "1"},          {"", "0"},            {"123", "123"},
      {"99999999999999999999", "18446744073709551615"},  // saturates, as strtoull does
  };
  for (auto [in, shown] : cases) {
    BOOST_TEST(config_set(cfg, {"maxmemory", in}) == "OK", in);
    BOOST_TEST(*cfg.get_one("maxmemory") == shown, in);
  }
  BOOST_TEST(cfg.get_int("maxmemory") == std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"-1", "1.5g", "+5", "1 kb", "1tb", "k1"})
    BOOST_TEST(config_set(cfg, {"maxmemory", bad}) == failed("maxmemory", "argument must be a memory value"), bad);
  BOOST_TEST(config_set(cfg, {"maxmemory", "100mb"}) == "OK");
  BOOST_TEST(cfg.get_int("maxmemory") == 100 * 1024 * 1024);
  // Percentages (maxmemory-clients) are kept as Redis keeps them: negative.
  BOOST_TEST(config_set(cfg, {"maxmemory-clients", "10%"}) == "OK");
  BOOST_TEST(*cfg.get_one("maxmemory-clients") == "10%");
  BOOST_TEST(cfg.get_int("maxmemory-clients") == -10);
  BOOST_TEST(config_set(cfg, {"maxmemory-clients", "1kb"}) == "OK");
  BOOST_TEST(*cfg.get_one("maxmemory-clients") == "1024");
}

BOOST_AUTO_TEST_CASE(multi_set_is_all_or_nothing) {
  config_store cfg;
  BOOST_TEST(config_set(cfg, {"timeout", "5", "maxmemory", "bad"}) ==
             failed("maxmemory", "argument must be a memory value"));
  BOOST_TEST(*cfg.get_one("timeout") == "0");
  BOOST_TEST(config_set(cfg, {"timeout", "5", "maxmemory", "1mb", "appendonly", "yes"}) == "OK");
  BOOST_TEST(*cfg.get_one("timeout") == "5");
  BOOST_TEST(*cfg.get_one("maxmemory") == "1048576");
  BOOST_TEST(*cfg.get_one("appendonly") == "yes");
}

BOOST_AUTO_TEST_CASE(enums_and_special_values) {
  config_store cfg;
  BOOST_TEST(config_set(cfg, {"loglevel", "NOTICE"}) == "OK");
  BOOST_TEST(*cfg.get_one("loglevel") == "notice");
  BOOST_TEST(config_set(cfg, {"oom-score-adj", "relative"}) == "OK");
  BOOST_TEST(*cfg.get_one("oom-score-adj") == "yes");  // the first name of that value
  BOOST_TEST(config_set(cfg, {"shutdown-on-sigint", "save now"}) == "OK");
  BOOST_TEST(*cfg.get_one("shutdown-on-sigint") == "save now");
  BOOST_TEST(config_set(cfg, {"shutdown-on-sigint", "save nosave"}) ==
             failed("shutdown-on-sigint", "shutdown options SAVE and NOSAVE can't be used simultaneously"));
  const std::string sig = "argument(s) must be one of the following: default, save, nosave, now, force";
  BOOST_TEST(config_set(cfg, {"shutdown-on-sigint", ""}) == failed("shutdown-on-sigint", sig));
  BOOST_TEST(config_set(cfg, {"shutdown-on-sigint", "bogus"}) == failed("shutdown-on-sigint", sig));

  const std::string bad_save = "Invalid save parameters";
  for (const char* bad : {"100 10 20", "0 10", "10 -1", "100 10  20 5", "x 1"})
    BOOST_TEST(config_set(cfg, {"save", bad}) == failed("save", bad_save), bad);
  BOOST_TEST(config_set(cfg, {"save", "100 10 20 5"}) == "OK");
  BOOST_TEST(*cfg.get_one("save") == "100 10 20 5");
  BOOST_TEST(config_set(cfg, {"save", ""}) == "OK");
  BOOST_TEST(*cfg.get_one("save") == "");

  BOOST_TEST(config_set(cfg, {"notify-keyspace-events", "KEA"}) == "OK");
  BOOST_TEST(*cfg.get_one("notify-keyspace-events") == "AKE");
  BOOST_TEST(config_set(cfg, {"notify-keyspace-events", "Kg$lshzxetdnm"}) == "OK");
  BOOST_TEST(*cfg.get_one("notify-keyspace-events") == "AKm");
  BOOST_TEST(config_set(cfg, {"notify-keyspace-events", "Q"}) ==
             failed("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."));

  BOOST_TEST(config_set(cfg, {"client-output-buffer-limit", "normal 1mb 2mb 3"}) == "OK");
  BOOST_TEST(*cfg.get_one("client-output-buffer-limit") ==
             "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  BOOST_TEST(config_set(cfg, {"client-output-buffer-limit", "master 1 2 3"}) ==
             failed("client-output-buffer-limit", "Invalid client class specified in buffer limit configuration."));
  BOOST_TEST(config_set(cfg, {"client-output-buffer-limit", "normal 1 2"}) ==
             failed("client-output-buffer-limit", "Wrong number of arguments in buffer limit configuration."));
  BOOST_TEST(config_set(cfg, {"client-output-buffer-limit", "normal x 2 3"}) ==
             failed("client-output-buffer-limit",
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."));

  BOOST_TEST(config_set(cfg, {"latency-tracking-info-percentiles", "50 99.99 100"}) == "OK");
  BOOST_TEST(*cfg.get_one("latency-tracking-info-percentiles") == "50 99.99 100");
  BOOST_TEST(config_set(cfg, {"latency-tracking-info-percentiles", "101"}) ==
             failed("latency-tracking-info-percentiles",
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"));
  BOOST_TEST(config_set(cfg, {"latency-tracking-info-percentiles", "abc"}) ==
             failed("latency-tracking-info-percentiles", "Invalid latency-tracking-info-percentiles parameters"));
  BOOST_TEST(*cfg.get_one("latency-tracking-info-percentiles") == "50 99.99 100");

  BOOST_TEST(config_set(cfg, {"oom-score-adj-values", "1 2"}) == failed("oom-score-adj-values", "wrong number of arguments"));
  BOOST_TEST(config_set(cfg, {"oom-score-adj-values", "1 2 3000"}) ==
             failed("oom-score-adj-values", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."));
  BOOST_TEST(config_set(cfg, {"bind", "127.0.0.1 ::1"}) == "OK");
  BOOST_TEST(*cfg.get_one("bind") == "127.0.0.1 ::1");
  // hz is capped to 1..500 (Redis's updateHZ).
  BOOST_TEST(config_set(cfg, {"hz", "1000"}) == "OK");
  BOOST_TEST(*cfg.get_one("hz") == "500");
  BOOST_TEST(config_set(cfg, {"hz", "0"}) == "OK");
  BOOST_TEST(*cfg.get_one("hz") == "1");
  BOOST_TEST(config_set(cfg, {"requirepass", "secret"}) == "OK");
  BOOST_TEST(*cfg.get_one("requirepass") == "secret");
  BOOST_TEST(cfg.find("requirepass")->sensitive);
}

BOOST_AUTO_TEST_CASE(protected_configs) {
  temp_dir tmp;
  config_store cfg;
  std::string error;
  BOOST_TEST(cfg.set_startup("enable-protected-configs", "local", error));
  BOOST_TEST(config_set(cfg, {"dir", tmp.path.string()}) == failed("dir", "can't set protected config"));
  BOOST_TEST(config_set(cfg, {"dir", tmp.path.string()}, true) == "OK");
  BOOST_TEST(*cfg.get_one("dir") == std::filesystem::canonical(tmp.path).string());
  BOOST_TEST(cfg.set_startup("enable-protected-configs", "yes", error));
  BOOST_TEST(config_set(cfg, {"dir", (tmp.path / "missing").string()}) == failed("dir", "No such file or directory"));
  BOOST_TEST(config_set(cfg, {"dbfilename", "a/b.rdb"}) ==
             failed("dbfilename", "dbfilename can't be a path, just a filename"));
  BOOST_TEST(config_set(cfg, {"dbfilename", "b.rdb"}) == "OK");
}

BOOST_AUTO_TEST_CASE(change_callbacks_and_appliers) {
  config_store cfg;
  std::vector<std::string> seen;
  cfg.on_change("replica-priority", [&](std::string_view v) { seen.emplace_back(v); });
  BOOST_TEST(config_set(cfg, {"slave-priority", "7"}) == "OK");
  BOOST_TEST(config_set(cfg, {"replica-priority", "7"}) == "OK");  // no change: no call
  BOOST_TEST((seen == std::vector<std::string>{"7"}));

  bool refuse = true;
  cfg.on_apply("port", [&](std::string_view, std::string& error) {
    if (refuse) error = "Unable to listen on this port. Check server logs.";
    return !refuse;
  });
  BOOST_TEST(config_set(cfg, {"timeout", "9", "port", "7000"}) ==
             failed("port", "Unable to listen on this port. Check server logs."));
  BOOST_TEST(*cfg.get_one("port") == "6379");
  BOOST_TEST(*cfg.get_one("timeout") == "0");
  refuse = false;
  BOOST_TEST(config_set(cfg, {"timeout", "9", "port", "7000"}) == "OK");
  BOOST_TEST(cfg.get_int("port") == 7000);
  BOOST_CHECK_THROW(cfg.on_change("nope", [](std::string_view) {}), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(concurrent_get_and_set) {
  config_store cfg;
  std::atomic<int> calls{0}, bad{0};  // Boost.Test assertions are not thread-safe: count, check after
  cfg.on_change("timeout", [&](std::string_view) { ++calls; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (t % 2) {
          if (config_set(cfg, {"timeout", std::to_string(i % 7), "maxmemory", "1mb"}) != "OK") ++bad;
        } else {
          if (config_get(cfg, {"time*"}).size() != 1u || cfg.get_int("timeout") >= 7) ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(bad.load() == 0);
  BOOST_TEST(calls.load() > 0);
}

BOOST_AUTO_TEST_CASE(startup_values) {
  config_store cfg;
  std::string error;
  BOOST_TEST(cfg.set_startup("daemonize", "no", error));
  BOOST_TEST(cfg.set_startup("replicaof", "10.0.0.1 6380", error));
  BOOST_TEST(*cfg.get_one("slaveof") == "10.0.0.1 6380");
  const std::vector<std::string> two = {"host", "+6381"};
  BOOST_TEST(cfg.set_startup("slaveof", two, error));
  BOOST_TEST(*cfg.get_one("replicaof") == "host 6381");
  BOOST_TEST(cfg.set_startup("replicaof", "no one", error));
  BOOST_TEST(*cfg.get_one("replicaof") == "");
  BOOST_TEST(!cfg.set_startup("replicaof", "host 70000", error));
  BOOST_TEST(error == "Invalid master port");
  BOOST_TEST(!cfg.set_startup("replicaof", "host", error));
  BOOST_TEST(error == "wrong number of arguments");
  BOOST_TEST(!cfg.set_startup("port", "x", error));
  BOOST_TEST(error == "argument couldn't be parsed into an integer");
  const std::vector<std::string> port_words = {"1", "2"};
  BOOST_TEST(!cfg.set_startup("port", port_words, error));
  BOOST_TEST(error == "wrong number of arguments");
  BOOST_TEST(cfg.set_startup("save", "", error));
  BOOST_TEST(*cfg.get_one("save") == "");
  BOOST_TEST(cfg.set_startup("save", "\"900\" 1", error));
  BOOST_TEST(*cfg.get_one("save") == "900 1");
  BOOST_TEST(!cfg.set_startup("save", "\"900 1", error));
  BOOST_TEST(error == "Unbalanced quotes in configuration line");
  // shards follow threads until set themselves.
  BOOST_TEST(cfg.set_startup("threads", "3", error));
  BOOST_TEST(cfg.get_int("shards") == 3);
  BOOST_TEST(cfg.set_startup("shards", "8", error));
  BOOST_TEST(cfg.set_startup("threads", "2", error));
  BOOST_TEST(cfg.get_int("shards") == 8);
  BOOST_TEST(!cfg.set_startup("threads", "0", error));
  BOOST_TEST(error == "argument must be between 1 and 1024 inclusive");
}

BOOST_AUTO_TEST_CASE(rewrite_json_file) {
  config_store cfg;
  std::string error;
  BOOST_TEST(!cfg.rewrite(error));
  BOOST_TEST(error == "The server is running without a config file");

  temp_dir tmp;
  const std::string file =
      tmp.write("shrike.json", R"({"comment": "kept", "port": 7000, "appendonly": false, "slaveof": ["h", 1]})");
  cfg.set_config_file(file);
  BOOST_TEST(cfg.set_startup("port", "7000", error));
  BOOST_TEST(cfg.set_startup("replicaof", "h 1", error));
  BOOST_TEST(config_set(cfg, {"appendonly", "yes", "maxmemory", "1mb", "loglevel", "warning", "port", "7001"}) == "OK");
  BOOST_TEST(cfg.rewrite(error), error);
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(std::ifstream(file));
  BOOST_TEST(j["comment"] == "kept");
  BOOST_TEST(j["port"] == 7001);
  BOOST_TEST(j["appendonly"] == true);
  BOOST_TEST(!j.contains("slaveof"));
  BOOST_TEST((j["replicaof"] == nlohmann::ordered_json::array({"h", 1})));
  BOOST_TEST(j["maxmemory"] == 1048576);
  BOOST_TEST(j["loglevel"] == "warning");
  BOOST_TEST(j["save"] == "3600 1 300 100 60 10000");
  BOOST_TEST(j.contains("dir"));
  BOOST_TEST(!j.contains("timeout"));  // at its default
  BOOST_TEST(j.begin().key() == "comment");  // order kept

  // The rewritten file (without the foreign key) starts a server with the same values.
  j.erase("comment");
  std::ofstream(file) << j.dump(2);
  config_store again;
  launch_result r = launch(again, {"--config", file});
  BOOST_TEST(!r.exit_now, r.output);
  BOOST_TEST(*again.get_one("maxmemory") == "1048576");
  BOOST_TEST(*again.get_one("replicaof") == "h 1");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(launch_options)

BOOST_AUTO_TEST_CASE(command_line) {
  config_store cfg;
  launch_result r = launch(cfg, {"--port", "7000", "--bind", "127.0.0.1", "-::1", "--threads", "3", "--save", "",
                                 "--appendonly", "yes", "--replicaof", "10.0.0.1", "6380", "--list-max-listpack-size",
                                 "-2", "--MAXMEMORY", "1gb", "--timeout=30", "--slave-priority", "5", "--loglevel",
                                 "warning", "--dir", std::filesystem::temp_directory_path().string()});
  BOOST_TEST(!r.exit_now, r.output);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(cfg.get_int("port") == 7000);
  BOOST_TEST(*cfg.get_one("bind") == "127.0.0.1 -::1");
  BOOST_TEST(cfg.get_int("threads") == 3);
  BOOST_TEST(cfg.get_int("shards") == 3);
  BOOST_TEST(*cfg.get_one("save") == "");
  BOOST_TEST(cfg.get_bool("appendonly"));
  BOOST_TEST(*cfg.get_one("replicaof") == "10.0.0.1 6380");
  BOOST_TEST(*cfg.get_one("list-max-listpack-size") == "-2");
  BOOST_TEST(*cfg.get_one("maxmemory") == "1073741824");
  BOOST_TEST(cfg.get_int("timeout") == 30);
  BOOST_TEST(cfg.get_int("replica-priority") == 5);
  BOOST_TEST(*cfg.get_one("loglevel") == "warning");
  BOOST_TEST(cfg.config_file().empty());
}

BOOST_AUTO_TEST_CASE(save_and_replicaof_forms) {
  {
    config_store cfg;
    BOOST_TEST(!launch(cfg, {"--replicaof", "h 6380", "--save"}).exit_now);
    BOOST_TEST(*cfg.get_one("replicaof") == "h 6380");
    BOOST_TEST(*cfg.get_one("save") == "");
  }
  {
    config_store cfg;
    BOOST_TEST(!launch(cfg, {"--save", "--port", "1234"}).exit_now);
    BOOST_TEST(*cfg.get_one("save") == "");
    BOOST_TEST(cfg.get_int("port") == 1234);
  }
  {
    config_store cfg;  // several --save accumulate, an empty one clears
    BOOST_TEST(!launch(cfg, {"--save", "900 1", "--save", "300", "10"}).exit_now);
    BOOST_TEST(*cfg.get_one("save") == "900 1 300 10");
    BOOST_TEST(!launch(cfg, {"--save", "900 1", "--save", "", "--save", "60 5"}).exit_now);
    BOOST_TEST(*cfg.get_one("save") == "60 5");
  }
}

BOOST_AUTO_TEST_CASE(help_and_version) {
  config_store cfg;
  launch_result r = launch(cfg, {"--help"});
  BOOST_TEST(r.exit_now);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.output.find("Usage: shrike-server") != std::string::npos);
  BOOST_TEST(r.output.find("--replicaof") != std::string::npos);
  r = launch(cfg, {"--version"});
  BOOST_TEST(r.exit_now);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.output.rfind("Shrike server v=", 0) == 0);
  BOOST_TEST(r.output.find(" redis_version=7.0.15") != std::string::npos);
  BOOST_TEST(r.output.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_file_and_override_order) {
  temp_dir tmp;
  const std::string file = tmp.write("conf.json", R"({
  "port": 7100,
  "appendonly": true,
  "maxmemory": "2mb",
  "replicaof": ["10.1.1.1", 6390],
  "save": "",
  "bind": "127.0.0.1",
  "loglevel": "verbose",
  "latency-tracking-info-percentiles": [50, 99.5]
})");
  config_store cfg;
  // The command line wins over the file, wherever --config appears.
  launch_result r = launch(cfg, {"--port", "7200", "--config", file, "--loglevel", "debug"});
  BOOST_TEST(!r.exit_now, r.output);
  BOOST_TEST(cfg.get_int("port") == 7200);
  BOOST_TEST(*cfg.get_one("loglevel") == "debug");
  BOOST_TEST(cfg.get_bool("appendonly"));
  BOOST_TEST(*cfg.get_one("maxmemory") == "2097152");
  BOOST_TEST(*cfg.get_one("replicaof") == "10.1.1.1 6390");
  BOOST_TEST(*cfg.get_one("save") == "");
  BOOST_TEST(*cfg.get_one("bind") == "127.0.0.1");
  BOOST_TEST(*cfg.get_one("latency-tracking-info-percentiles") == "50 99.5");
  BOOST_TEST(cfg.config_file() == file);

  config_store first_arg;  // redis-server's form: the config file first
  r = launch(first_arg, {file, "--port", "7300"});
  BOOST_TEST(!r.exit_now, r.output);
  BOOST_TEST(first_arg.get_int("port") == 7300);
  BOOST_TEST(*first_arg.get_one("loglevel") == "verbose");
}

BOOST_AUTO_TEST_CASE(command_line_errors) {
  config_store cfg;
  check_one_line_error(launch(cfg, {"--foo", "1"}), "'--foo'");
  check_one_line_error(launch(cfg, {"--port", "abc"}),
                       "invalid value 'abc' for '--port': argument couldn't be parsed into an integer");
  check_one_line_error(launch(cfg, {"--port"}), "--port");
  check_one_line_error(launch(cfg, {"--port", "1", "2"}), "invalid value '1 2' for '--port': wrong number of arguments");
  check_one_line_error(launch(cfg, {"--appendonly", "maybe"}), "argument must be 'yes' or 'no'");
  check_one_line_error(launch(cfg, {"--replicaof", "h"}), "invalid value 'h' for '--replicaof': wrong number of arguments");
  check_one_line_error(launch(cfg, {"--save", "10"}), "invalid value '10' for '--save': Invalid save parameters");
  check_one_line_error(launch(cfg, {"--threads", "0"}), "argument must be between 1 and 1024 inclusive");
  check_one_line_error(launch(cfg, {"--port", "1", "--", "x"}), "unexpected argument");
}

BOOST_AUTO_TEST_CASE(json_file_errors) {
  temp_dir tmp;
  config_store cfg;
  check_one_line_error(launch(cfg, {"--config", (tmp.path / "missing.json").string()}),
                       "cannot read config file '" + (tmp.path / "missing.json").string() +
                           "': No such file or directory");

  std::string f = tmp.write("bad_value.json", "{\n  \"port\": \"abc\"\n}\n");
  check_one_line_error(launch(cfg, {"--config", f}), "invalid value 'abc' for 'port' in " + f +
                                                         " at line 2, column 3: argument couldn't be parsed into an integer");

  f = tmp.write("bad_key.json", "{\n  \"port\": 1,\n  \"nosuch\": 2\n}\n");
  check_one_line_error(launch(cfg, {"--config", f}), "unknown option 'nosuch' in " + f + " at line 3, column 3");

  f = tmp.write("bad_type.json", "{\"timeout\": {\"a\": 1}}");
  check_one_line_error(launch(cfg, {"--config", f}), "invalid type for 'timeout' in " + f + " at line 1, column 2");
  f = tmp.write("bad_array.json", "{\"port\": [1]}");
  check_one_line_error(launch(cfg, {"--config", f}), "invalid type for 'port'");
  f = tmp.write("null.json", "{\"dir\": null}");
  check_one_line_error(launch(cfg, {"--config", f}), "invalid type for 'dir'");

  f = tmp.write("malformed.json", "{\n  \"port\": 1,\n  \"timeout\" 2\n}\n");
  check_one_line_error(launch(cfg, {"--config", f}), "malformed JSON in " + f + " at line 3, column");

  f = tmp.write("array.json", "[1, 2]");
  check_one_line_error(launch(cfg, {"--config", f}), "must contain a JSON object");

  f = tmp.write("bad_bool.json", "{\"appendonly\": \"maybe\"}");
  check_one_line_error(launch(cfg, {"--config", f}), "for 'appendonly' in " + f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_keyspace_events)

// The shown text drops 'n' next to 'A' (Redis's keyspaceEventsFlagsToString);
// the parsed bits the server uses keep it.
BOOST_AUTO_TEST_CASE(notify_keyspace_events_keeps_its_bits) {
  config_store cfg;
  BOOST_TEST(cfg.get_special_number("notify-keyspace-events") == 0);
  BOOST_TEST(config_set(cfg, {"notify-keyspace-events", "KEAn"}) == "OK");
  BOOST_TEST(*cfg.get_one("notify-keyspace-events") == "AKE");
  namespace notify = shrike::server::notify;
  BOOST_TEST(cfg.get_special_number("notify-keyspace-events") ==
             (notify::all | notify::keyspace | notify::keyevent | notify::new_key));
  BOOST_TEST(config_set(cfg, {"notify-keyspace-events", "Ex?"}) != "OK");
  BOOST_TEST(*cfg.get_one("notify-keyspace-events") == "AKE");
}

BOOST_AUTO_TEST_SUITE_END()
