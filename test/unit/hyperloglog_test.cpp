#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "util/hyperloglog.hpp"

namespace hll = shrike::util::hll;

BOOST_AUTO_TEST_SUITE(hyperloglog_suite)

BOOST_AUTO_TEST_CASE(empty_value_is_one_xzero) {
  const std::string s = hll::create();
  BOOST_TEST(s == std::string("HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff", 18));
  BOOST_TEST(hll::valid(s));
  BOOST_TEST(!hll::is_dense(s));
  std::string copy = s;
  std::uint64_t card = 1;
  bool recomputed = false;
  BOOST_TEST(hll::count(copy, card, recomputed));  // a zero cache is valid
  BOOST_TEST(card == 0u);
  BOOST_TEST(!recomputed);
}

BOOST_AUTO_TEST_CASE(validity_as_redis_checks_it) {
  BOOST_TEST(!hll::valid("HYLL"));
  BOOST_TEST(!hll::valid(std::string("HYLX\x01", 5) + std::string(11, '\0')));
  BOOST_TEST(!hll::valid(std::string("HYLL\x02", 5) + std::string(11, '\0')));
  BOOST_TEST(!hll::valid(std::string("HYLL\x00", 5) + std::string(20, '\0')));  // dense of the wrong size
  BOOST_TEST(hll::valid(std::string("HYLL\x00", 5) + std::string(hll::dense_size - 5, '\0')));
}

BOOST_AUTO_TEST_CASE(estimates_within_the_standard_error) {
  // 0.81% standard error at 16384 registers: 5% is a safe bound.
  for (int n : {10, 1000, 20000}) {
    std::string s = hll::create();
    for (int i = 0; i < n; ++i) BOOST_TEST(hll::add(s, "element:" + std::to_string(i), 3000) >= 0);
    std::uint64_t card = 0;
    bool recomputed = false;
    BOOST_TEST(hll::count(s, card, recomputed));
    BOOST_TEST(recomputed);
    BOOST_TEST(std::fabs(static_cast<double>(card) - n) <= 0.05 * n + 1);
    BOOST_TEST(hll::is_dense(s) == (n >= 20000));  // past 3000 sparse bytes it went dense
  }
}

BOOST_AUTO_TEST_CASE(re_adding_changes_nothing) {
  std::string s = hll::create();
  BOOST_TEST(hll::add(s, "a", 3000) == 1);
  const std::string before = s;
  BOOST_TEST(hll::add(s, "a", 3000) == 0);
  BOOST_TEST(s == before);
}

BOOST_AUTO_TEST_CASE(sparse_and_dense_merge_alike) {
  std::string sparse = hll::create();
  for (int i = 0; i < 500; ++i) hll::add(sparse, "x" + std::to_string(i), 3000);
  std::string dense = sparse;
  BOOST_TEST(hll::to_dense(dense));
  BOOST_TEST(dense.size() == hll::dense_size);
  hll::raw_registers a{}, b{};
  BOOST_TEST(hll::merge_into(a, sparse));
  BOOST_TEST(hll::merge_into(b, dense));
  BOOST_TEST((a == b));
  std::uint64_t c1 = 0, c2 = 0;
  bool r;
  BOOST_TEST(hll::count(sparse, c1, r));
  BOOST_TEST(hll::count(dense, c2, r));
  BOOST_TEST(c1 == c2);
  BOOST_TEST(hll::count(a) == c1);
}

BOOST_AUTO_TEST_CASE(corrupt_sparse_data_is_detected) {
  std::string s = hll::create();
  s.back() = '\x00';  // the XZERO now covers 16128 registers, not 16384
  hll::invalidate_cache(s);  // else PFCOUNT answers from the cache
  std::uint64_t card;
  bool r;
  BOOST_TEST(!hll::count(s, card, r));
  hll::raw_registers max{};
  BOOST_TEST(!hll::merge_into(max, s));
  BOOST_TEST(!hll::to_dense(s));
}

BOOST_AUTO_TEST_SUITE_END()
