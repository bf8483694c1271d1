#include <boost/test/unit_test.hpp>

#include <string>

#include "scripting/sha1.hpp"

using shrike::scripting::sha1_hex;

BOOST_AUTO_TEST_SUITE(scripting_suite)

// FIPS 180 vectors, and the lengths around the padding boundaries (55/56/64).
BOOST_AUTO_TEST_CASE(sha1_vectors) {
  BOOST_TEST(sha1_hex("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  BOOST_TEST(sha1_hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  BOOST_TEST(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
             "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  BOOST_TEST(sha1_hex(std::string(1000000, 'a')) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  BOOST_TEST(sha1_hex(std::string(55, 'x')) == "cef734ba81a024479e09eb5a75b6ddae62e6abf1");
  BOOST_TEST(sha1_hex(std::string(56, 'x')) == "901305367c259952f4e7af8323f480d59f81335b");
  BOOST_TEST(sha1_hex(std::string(64, 'x')) == "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163");
  // The name EVAL gives a script: the SHA-1 of its body.
  BOOST_TEST(sha1_hex("return 1") == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

BOOST_AUTO_TEST_SUITE_END()
