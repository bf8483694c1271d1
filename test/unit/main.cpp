#define BOOST_TEST_MODULE shrike_unit_tests
#include <boost/test/unit_test.hpp>
