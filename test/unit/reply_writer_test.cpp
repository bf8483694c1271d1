#include <boost/test/unit_test.hpp>
#include <string>

#include "resp/reply_writer.hpp"

using shrike::resp::reply_writer;

BOOST_AUTO_TEST_SUITE(reply_writer_suite)

BOOST_AUTO_TEST_CASE(resp2_shapes) {
  std::string out;
  reply_writer w(out);
  w.map(1);
  w.bulk("a");
  w.double_value(1.5);
  w.null();
  w.null_array();
  w.boolean(true);
  w.set(0);
  w.error("bad\r\nthing");
  w.error("-WRONGTYPE x");
  BOOST_TEST(out == "*2\r\n$1\r\na\r\n$3\r\n1.5\r\n$-1\r\n*-1\r\n:1\r\n*0\r\n-ERR bad  thing\r\n-WRONGTYPE x\r\n");
}

BOOST_AUTO_TEST_CASE(resp3_shapes) {
  std::string out;
  reply_writer w(out);
  w.set_protocol(3);
  w.map(1);
  w.bulk("a");
  w.double_value(1.5);
  w.null();
  w.boolean(false);
  w.set(1);
  w.integer(7);
  w.push(0);
  w.verbatim("hi");
  w.double_value(1.0 / 0.0);
  BOOST_TEST(out == "%1\r\n$1\r\na\r\n,1.5\r\n_\r\n#f\r\n~1\r\n:7\r\n>0\r\n=6\r\ntxt:hi\r\n,inf\r\n");
}

BOOST_AUTO_TEST_CASE(deferred_lengths) {
  std::string out;
  reply_writer w(out);
  w.bulk("x");
  auto m = w.begin_deferred();
  w.integer(1);
  w.integer(2);
  w.end_deferred_array(m, 2);
  BOOST_TEST(out == "$1\r\nx\r\n*2\r\n:1\r\n:2\r\n");
}

BOOST_AUTO_TEST_SUITE_END()
