// The replication backlog's ring: offsets, wrap-around, what it can serve,
// and resizing that keeps the newest bytes.
#include <boost/test/unit_test.hpp>

#include <string>

#include "replication/backlog.hpp"

using shrike::replication::backlog;

BOOST_AUTO_TEST_SUITE(replication_backlog)

BOOST_AUTO_TEST_CASE(offsets_and_coverage) {
  backlog b(8, 101);  // the next byte fed is stream offset 101
  BOOST_TEST(b.size() == 0u);
  BOOST_TEST(b.covers(101));
  BOOST_TEST(!b.covers(100));
  BOOST_TEST(!b.covers(102));
  b.append("abcde");
  BOOST_TEST(b.first_offset() == 101u);
  BOOST_TEST(b.next_offset() == 106u);
  std::string out;
  b.copy_from(103, out);
  BOOST_TEST(out == "cde");
  BOOST_TEST(b.covers(106));
  BOOST_TEST(!b.covers(107));
}

BOOST_AUTO_TEST_CASE(wraps_and_keeps_the_newest_bytes) {
  backlog b(8, 1);
  b.append("0123456");
  b.append("789ab");  // 12 bytes fed, 8 kept: "456789ab"
  BOOST_TEST(b.size() == 8u);
  BOOST_TEST(b.first_offset() == 5u);
  BOOST_TEST(!b.covers(4));
  std::string out;
  b.copy_from(5, out);
  BOOST_TEST(out == "456789ab");
  out.clear();
  b.copy_from(11, out);
  BOOST_TEST(out == "ab");
  b.append("a much longer chunk than the ring");
  out.clear();
  b.copy_from(b.first_offset(), out);
  BOOST_TEST(out == "the ring");
  BOOST_TEST(b.next_offset() == 13u + 33u);
}

BOOST_AUTO_TEST_CASE(resize_keeps_the_tail) {
  backlog b(8, 1);
  b.append("abcdefgh");
  b.resize(4);
  std::string out;
  b.copy_from(b.first_offset(), out);
  BOOST_TEST(out == "efgh");
  BOOST_TEST(b.first_offset() == 5u);
  b.resize(16);
  b.append("ijkl");
  out.clear();
  b.copy_from(b.first_offset(), out);
  BOOST_TEST(out == "efghijkl");
  BOOST_TEST(b.next_offset() == 13u);
}

BOOST_AUTO_TEST_SUITE_END()
