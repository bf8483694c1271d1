#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "acl/acl.hpp"
#include "acl/registry.hpp"
#include "acl/user.hpp"
#include "util/sha256.hpp"

namespace acl = shrike::acl;
using shrike::commands::command_metadata;

namespace {

acl::user make(std::initializer_list<std::string_view> rules) {
  acl::user u("u", false);
  for (auto r : rules) BOOST_REQUIRE(u.apply(r, false) == acl::rule_error::none);
  u.finish();
  return u;
}

acl::verdict run(const acl::user& u, std::vector<std::string_view> argv) {
  const auto* cmd = command_metadata::instance().lookup(argv);
  BOOST_REQUIRE(cmd);
  return acl::check(u, *cmd, argv);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acl_suite)

BOOST_AUTO_TEST_CASE(sha256_vectors) {
  BOOST_TEST(shrike::util::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(shrike::util::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(shrike::util::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Fed in pieces that straddle blocks: the same digest.
  shrike::util::sha256 s;
  const std::string a(1000, 'a');
  for (std::size_t i = 0; i < a.size(); i += 7) s.update(std::string_view(a).substr(i, 7));
  const auto d = s.finish();
  BOOST_TEST(d[0] == 0x41);  // sha256("a" * 1000) = 41edece4...
  BOOST_TEST(d[1] == 0xed);
}

BOOST_AUTO_TEST_CASE(rules_and_errors) {
  acl::user u("u", false);
  BOOST_TEST(u.describe() == "off resetchannels -@all");
  BOOST_TEST((u.apply("on", false) == acl::rule_error::none));
  BOOST_TEST((u.apply("nosuch", false) == acl::rule_error::syntax));
  BOOST_TEST((u.apply("+nosuch", false) == acl::rule_error::unknown_name));
  BOOST_TEST((u.apply("+config|get|x", false) == acl::rule_error::first_arg_of_subcommand));
  BOOST_TEST((u.apply("+debug|", false) == acl::rule_error::syntax));
  BOOST_TEST((u.apply("#abc", false) == acl::rule_error::bad_hash));
  BOOST_TEST((u.apply("<nopass", false) == acl::rule_error::no_such_password));
  BOOST_TEST((u.apply("allkeys", false) == acl::rule_error::none));
  BOOST_TEST((u.apply("~x", false) == acl::rule_error::key_after_all));
  BOOST_TEST((u.apply("&*", false) == acl::rule_error::none));
  BOOST_TEST((u.apply("&x", false) == acl::rule_error::channel_after_all));
  BOOST_TEST((u.apply(">pw", false) == acl::rule_error::none));
  BOOST_TEST(u.passwords.front() == acl::hash_password("pw"));
  BOOST_TEST((u.apply("%RW~", false) == acl::rule_error::key_after_all));
  BOOST_TEST((u.apply("resetkeys", false) == acl::rule_error::none));
  BOOST_TEST((u.apply("%R~r*", false) == acl::rule_error::none));
  BOOST_TEST((u.apply("%W~r*", false) == acl::rule_error::none));  // same pattern: permissions merge
  BOOST_TEST((u.apply("(~x* +get)", false) == acl::rule_error::none));
  BOOST_TEST(u.describe() == "on #" + acl::hash_password("pw") + " ~r* &* -@all (~x* resetchannels -@all +get)");
}

BOOST_AUTO_TEST_CASE(describe_best_fit) {
  BOOST_TEST(acl::describe_commands(make({"+@all"}).selectors[0]) == "+@all");
  BOOST_TEST(acl::describe_commands(make({"+@all", "-@dangerous"}).selectors[0]) == "+@all -@dangerous");
  BOOST_TEST(acl::describe_commands(make({"-@all", "+@hash", "+@set"}).selectors[0]) == "-@all +@set +@hash");
  BOOST_TEST(acl::describe_commands(make({"+@all", "-get"}).selectors[0]) == "+@all -get");
  BOOST_TEST(acl::describe_commands(make({"-@all", "+select|0"}).selectors[0]) == "-@all +select|0");
  BOOST_TEST(acl::describe_commands(make({"-@all", "+config|get"}).selectors[0]) == "-@all +config|get");
  // A container rule covers its subcommands.
  BOOST_TEST(acl::describe_commands(make({"-@all", "+config"}).selectors[0]) == "-@all +config");
}

BOOST_AUTO_TEST_CASE(permission_checks) {
  const auto u = make({"on", "~k*", "%R~r*", "%W~w*", "&ch*", "-@all", "+get", "+set", "+lmove", "+publish",
                       "+psubscribe", "+select|0"});
  BOOST_TEST(!u.unrestricted);
  BOOST_TEST(run(u, {"get", "k1"}).ok());
  BOOST_TEST((run(u, {"get", "x"}).reason == acl::denial::key));
  BOOST_TEST(run(u, {"get", "x"}).pos == 1);
  BOOST_TEST(run(u, {"get", "r1"}).ok());
  BOOST_TEST((run(u, {"set", "r1", "v"}).reason == acl::denial::key));
  BOOST_TEST(run(u, {"set", "w1", "v"}).ok());
  // LMOVE reads and deletes its source: %R~ alone is not enough.
  BOOST_TEST((run(u, {"lmove", "r1", "w1", "left", "left"}).reason == acl::denial::key));
  BOOST_TEST(run(u, {"lmove", "k1", "w1", "left", "left"}).ok());
  BOOST_TEST((run(u, {"del", "k1"}).reason == acl::denial::command));
  BOOST_TEST(run(u, {"select", "0"}).ok());
  BOOST_TEST((run(u, {"select", "1"}).reason == acl::denial::command));
  BOOST_TEST(run(u, {"auth", "a", "b"}).ok());  // no-auth commands are always allowed
  BOOST_TEST(run(u, {"publish", "ch1", "m"}).ok());
  BOOST_TEST((run(u, {"publish", "other", "m"}).reason == acl::denial::channel));
  BOOST_TEST(run(u, {"psubscribe", "ch*"}).ok());  // a pattern must match an allowed pattern literally
  BOOST_TEST((run(u, {"psubscribe", "ch1"}).reason == acl::denial::channel));

  // Selectors: any one allowing everything wins; else channel > key > command.
  const auto s = make({"on", "-@all", "+get", "~a*", "(+set ~b*)"});
  BOOST_TEST(run(s, {"get", "a1"}).ok());
  BOOST_TEST(run(s, {"set", "b1", "v"}).ok());
  BOOST_TEST((run(s, {"set", "a1", "v"}).reason == acl::denial::key));
  BOOST_TEST((run(s, {"del", "a1"}).reason == acl::denial::command));
}

BOOST_AUTO_TEST_CASE(registry_snapshots) {
  acl::registry reg;
  const auto e0 = reg.epoch();
  BOOST_TEST(reg.default_user()->unrestricted);
  BOOST_TEST(!reg.default_requires_auth());
  std::vector<std::string_view> rules{"on", ">pw", "+@all"};
  acl::user_ptr before, after;
  BOOST_TEST(reg.set_user("alice", rules, false, &before, &after).empty());
  BOOST_TEST(!before);
  BOOST_TEST(reg.epoch() > e0);
  const auto uid = after->uid;
  std::vector<std::string_view> bad{"~x", "nosuch"};
  BOOST_TEST(reg.set_user("alice", bad, false) == "Error in ACL SETUSER modifier 'nosuch': Syntax error");
  BOOST_TEST(reg.find("alice")->selectors[0].keys.empty());  // all or nothing
  BOOST_TEST(reg.find("alice")->uid == uid);
  std::vector<std::string_view> open{"(~x", "+get"};
  BOOST_TEST(reg.set_user("alice", open, false) == "Unmatched parenthesis in acl selector starting at '(~x'.");
  std::vector<std::string_view> names{"alice", "default"};
  BOOST_TEST(reg.delete_users(names).size() == 1);
  BOOST_TEST(!reg.find("alice"));
  reg.set_default_password("secret");
  BOOST_TEST(reg.default_requires_auth());
  reg.set_default_password("");
  BOOST_TEST(reg.default_nopass());
}

BOOST_AUTO_TEST_CASE(argument_helpers) {
  std::vector<std::string> out;
  BOOST_TEST(acl::split_args("a \"b c\" 'd e' \"\\x41\\n\"", out));
  BOOST_TEST(out == (std::vector<std::string>{"a", "b c", "d e", "A\n"}));
  BOOST_TEST(!acl::split_args("\"open", out));
  BOOST_TEST(!acl::split_args("\"a\"b", out));
  std::vector<std::string_view> in{"on", "(~a", "+get)", "(~b)", "off"};
  std::size_t bad = 0;
  BOOST_TEST(acl::merge_selector_args(in, out, bad));
  BOOST_TEST(out == (std::vector<std::string>{"on", "(~a +get)", "(~b)", "off"}));
  std::vector<std::string_view> unclosed{"on", "(~a", "+get"};
  BOOST_TEST(!acl::merge_selector_args(unclosed, out, bad));
  BOOST_TEST(bad == 1);
}

BOOST_AUTO_TEST_SUITE_END()
