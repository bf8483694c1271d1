#include <boost/test/unit_test.hpp>

#include "util/glob.hpp"

using shrike::util::glob_match;

BOOST_AUTO_TEST_SUITE(glob_suite)

BOOST_AUTO_TEST_CASE(redis_rules) {
  BOOST_TEST(!glob_match("*", ""));  // as Redis: the loop never runs for an empty string
  BOOST_TEST(glob_match("h?llo", "hello"));
  BOOST_TEST(!glob_match("h?llo", "hllo"));
  BOOST_TEST(glob_match("h*llo", "heeeello"));
  BOOST_TEST(glob_match("h[ae]llo", "hallo"));
  BOOST_TEST(!glob_match("h[ae]llo", "hillo"));
  BOOST_TEST(glob_match("h[^e]llo", "hallo"));
  BOOST_TEST(!glob_match("h[^e]llo", "hello"));
  BOOST_TEST(glob_match("h[a-b]llo", "hbllo"));
  BOOST_TEST(glob_match("h[b-a]llo", "hallo"));  // reversed range
  BOOST_TEST(glob_match("h\\*llo", "h*llo"));
  BOOST_TEST(!glob_match("h\\*llo", "hello"));
  BOOST_TEST(glob_match("*a*b*", "xxaxxbxx"));
  BOOST_TEST(!glob_match("*a*b*c", "xxaxxbxx"));
  BOOST_TEST(glob_match("HELLO", "hello", true));
  BOOST_TEST(glob_match("[\\]]", "]"));
}

BOOST_AUTO_TEST_SUITE_END()
