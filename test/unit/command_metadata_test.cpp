// Command metadata: lookups, derived fields (legacy key range, movablekeys,
// implicit ACL categories), key positions and COMMAND INFO / DOCS bytes.
// The golden replies were captured from redis-server 7.0.15.
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "commands/command_metadata.hpp"
#include "resp/reply_writer.hpp"

namespace {

using shrike::commands::command_info;
using shrike::commands::command_metadata;

const command_info& command(std::string_view name) {
  const command_info* c = command_metadata::instance().find_by_full_name(name);
  BOOST_REQUIRE_MESSAGE(c != nullptr, "unknown command " << name);
  return *c;
}

// Key positions of a call given as one string of space-separated words.
std::vector<int> keys_of(std::string_view line, bool expect_ok = true) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < line.size()) {
    std::size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    words.emplace_back(line.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string_view> argv(words.begin(), words.end());
  const command_info* cmd = command_metadata::instance().lookup(argv);
  BOOST_REQUIRE_MESSAGE(cmd != nullptr, "no command for " << line);
  std::vector<int> out;
  std::string error;
  bool ok = shrike::commands::key_positions(*cmd, argv, out, &error);
  BOOST_CHECK_MESSAGE(ok == expect_ok, line << ": " << error);
  return out;
}

void check_range(std::string_view name, int first, int last, int step) {
  const command_info& c = command(name);
  BOOST_TEST_CONTEXT(name) {
    BOOST_TEST(c.first_key == first);
    BOOST_TEST(c.last_key == last);
    BOOST_TEST(c.key_step == step);
  }
}

std::string info_bytes(std::string_view name, int protocol) {
  std::string out;
  shrike::resp::reply_writer w(out);
  w.set_protocol(protocol);
  shrike::commands::write_command_info(w, command(name));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(command_metadata_suite)

BOOST_AUTO_TEST_CASE(lookup_is_case_insensitive) {
  const auto& md = command_metadata::instance();
  const command_info* get = md.find("get");
  BOOST_REQUIRE(get != nullptr);
  BOOST_TEST(md.find("GET") == get);
  BOOST_TEST(md.find("gEt") == get);
  BOOST_TEST(get->name == "get");
  BOOST_TEST(md.find("nosuchcommand") == nullptr);

  const command_info* config = md.find("CONFIG");
  BOOST_REQUIRE(config != nullptr);
  BOOST_TEST(config->is_container());
  BOOST_TEST(config->arity == -2);
  const command_info* config_get = md.find_subcommand(*config, "GeT");
  BOOST_REQUIRE(config_get != nullptr);
  BOOST_TEST(config_get->name == "config|get");
  BOOST_TEST(config_get->parent == config);
  BOOST_TEST(md.find_by_full_name("CONFIG|GET") == config_get);
  BOOST_TEST(md.find_by_full_name("config|nope") == nullptr);
  BOOST_TEST(md.find_by_full_name("get|x") == nullptr);
  BOOST_TEST(md.find_by_full_name("config|get|x") == nullptr);
  BOOST_TEST(md.find_by_full_name("config") == config);
}

BOOST_AUTO_TEST_CASE(all_lists_top_level_commands_in_order) {
  const auto& all = command_metadata::instance().all();
  BOOST_TEST(all.size() == 240u);  // COMMAND COUNT of redis-server 7.0.15
  for (std::size_t i = 1; i < all.size(); ++i) BOOST_TEST((all[i - 1]->name < all[i]->name));
  for (const command_info* c : all) BOOST_TEST(c->parent == nullptr);
}

BOOST_AUTO_TEST_CASE(legacy_key_ranges) {
  check_range("get", 1, 1, 1);
  check_range("mset", 1, -1, 2);
  check_range("blpop", 1, -2, 1);
  check_range("xread", 0, 0, 0);
  check_range("rename", 1, 2, 1);
  check_range("ping", 0, 0, 0);
  using shrike::commands::flag_movablekeys;
  BOOST_TEST(command("xread").has(flag_movablekeys));
  BOOST_TEST(command("eval").has(flag_movablekeys));
  BOOST_TEST(command("sort").has(flag_movablekeys));
  BOOST_TEST(command("zunionstore").has(flag_movablekeys));
  BOOST_TEST(command("migrate").has(flag_movablekeys));
  BOOST_TEST(!command("get").has(flag_movablekeys));
  BOOST_TEST(!command("mset").has(flag_movablekeys));
  BOOST_TEST(!command("blpop").has(flag_movablekeys));
}

BOOST_AUTO_TEST_CASE(implicit_acl_categories) {
  using namespace shrike::commands;
  BOOST_TEST(command("get").acl_categories == (acl_read | acl_string | acl_fast));
  BOOST_TEST(command("set").acl_categories == (acl_write | acl_string | acl_slow));
  BOOST_TEST((command("blpop").acl_categories & acl_blocking) != 0u);
  BOOST_TEST((command("config|set").acl_categories & (acl_admin | acl_dangerous)) ==
             (acl_admin | acl_dangerous));
  // Read-only scripting commands are not @read.
  BOOST_TEST((command("eval_ro").acl_categories & acl_read) == 0u);
  BOOST_TEST(acl_category_from_name("SortedSet") == acl_sortedset);
  BOOST_TEST(acl_category_from_name("nope") == 0u);
}

BOOST_AUTO_TEST_CASE(key_positions_follow_key_specs) {
  BOOST_TEST(keys_of("get k") == std::vector<int>({1}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("SET k v") == std::vector<int>({1}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("set k v EX 10 GET") == std::vector<int>({1}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("mset a 1 b 2 c 3") == std::vector<int>({1, 3, 5}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of("zunionstore d 2 a b weights 1 2") == std::vector<int>({1, 3, 4}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of("xread count 1 block 0 streams a b 0 0") == std::vector<int>({6, 7}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of("xreadgroup group g c streams a 0") == std::vector<int>({5}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of("eval s 2 a b c") == std::vector<int>({3, 4}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("blpop a b 0") == std::vector<int>({1, 2}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("blmpop 0 2 a b left") == std::vector<int>({3, 4}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(key_positions_special_rules) {
  BOOST_TEST(keys_of("sort k") == std::vector<int>({1}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("sort k by p limit 0 1 get # store d") == std::vector<int>({1, 10}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of("sort k store d store e") == std::vector<int>({1, 5}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of("sort_ro k by x") == std::vector<int>({1}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("migrate h p k 0 100") == std::vector<int>({3}), boost::test_tools::per_element());
  BOOST_TEST(keys_of("georadius k 0 0 1 km store d storedist e") == std::vector<int>({1, 7, 9}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(key_positions_of_migrate_keys_option) {
  std::vector<std::string_view> argv = {"migrate", "h", "p", "", "0", "100", "copy", "keys", "a", "b"};
  std::vector<int> out;
  std::vector<std::uint32_t> flags;
  BOOST_REQUIRE(shrike::commands::key_positions(command("migrate"), argv, out, nullptr, &flags));
  BOOST_TEST(out == std::vector<int>({8, 9}), boost::test_tools::per_element());
  BOOST_REQUIRE(flags.size() == 2u);
  using namespace shrike::commands;
  BOOST_TEST(flags[0] == (key_rw | key_access | key_delete));
}

BOOST_AUTO_TEST_CASE(key_positions_of_subcommands) {
  // CONFIG GET has no keys; OBJECT ENCODING's key is after the subcommand.
  BOOST_TEST(keys_of("config get maxmemory").empty());
  BOOST_TEST(!shrike::commands::has_key_arguments(command("config|get")));
  BOOST_TEST(keys_of("OBJECT encoding k") == std::vector<int>({2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(key_positions_errors) {
  std::string error;
  std::vector<int> out;
  std::vector<std::string_view> argv = {"zunionstore", "d", "0", "a"};
  BOOST_TEST(!shrike::commands::key_positions(command("zunionstore"), argv, out, &error));
  BOOST_TEST(error == "Invalid arguments specified for command");

  argv = {"get", "a", "b"};
  BOOST_TEST(!shrike::commands::key_positions(command("get"), argv, out, &error));
  BOOST_TEST(error == "Invalid number of arguments specified for command");

  argv = {"xread", "streams", "a"};
  BOOST_TEST(!shrike::commands::key_positions(command("xread"), argv, out, &error));

  // EVAL may have no keys at all (no_mandatory_keys).
  BOOST_TEST(keys_of("eval s 0").empty());
  BOOST_TEST(keys_of("eval s abc a").empty());
}

BOOST_AUTO_TEST_CASE(command_info_get_matches_redis) {
  const std::string expected =
      "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n"
      "+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\n"
      "begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n"
      "$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n"
      ":0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
  BOOST_TEST(info_bytes("get", 2) == expected);
}

BOOST_AUTO_TEST_CASE(command_info_get_resp3_matches_redis) {
  const std::string expected =
      "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n"
      "+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\n"
      "begin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n"
      "$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n"
      ":0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
  BOOST_TEST(info_bytes("get", 3) == expected);
}

BOOST_AUTO_TEST_CASE(command_info_set_matches_redis) {
  const std::string expected =
      "*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n"
      "+@string\r\n+@slow\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the "
      "optional `GET` argument\r\n$5\r\nflags\r\n*4\r\n+RW\r\n+access\r\n+update\r\n"
      "+variable_flags\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n"
      "*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n"
      "spec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
  BOOST_TEST(info_bytes("set", 2) == expected);
}

BOOST_AUTO_TEST_CASE(command_docs_incr_matches_redis) {
  std::string out;
  shrike::resp::reply_writer w(out);
  w.set_protocol(3);
  shrike::commands::write_command_docs(w, command("incr"));
  const std::string expected =
      "%5\r\n$7\r\nsummary\r\n$43\r\nIncrement the integer value of a key by one\r\n$5\r\nsince\r\n"
      "$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\n"
      "arguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\n"
      "key_spec_index\r\n:0\r\n";
  BOOST_TEST(out == expected);
}

BOOST_AUTO_TEST_CASE(subcommand_filter) {
  const command_info& config = command("config");
  std::string all_out;
  shrike::resp::reply_writer all_writer(all_out);
  shrike::commands::write_command_info(all_writer, config);
  std::string filtered_out;
  shrike::resp::reply_writer filtered_writer(filtered_out);
  shrike::commands::write_command_info(filtered_writer, config, [](const command_info& c) {
    return c.name == "config|get";
  });
  BOOST_TEST(filtered_out.size() < all_out.size());
  BOOST_TEST(filtered_out.find("config|get") != std::string::npos);
  BOOST_TEST(filtered_out.find("config|set") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
