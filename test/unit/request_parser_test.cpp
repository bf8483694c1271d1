// The request parser fed every input split at every fragment size.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "resp/request_parser.hpp"

using shrike::resp::request;
using shrike::resp::request_parser;

namespace {

struct outcome {
  std::vector<std::vector<std::string>> requests;
  std::string error;
};

// Feeds `input` in chunks of `chunk` bytes into a growing buffer, the way a
// session does: parse from the request start, keep the unconsumed tail.
outcome feed(const std::string& input, std::size_t chunk, shrike::resp::parser_limits limits = {}) {
  outcome out;
  request_parser parser(limits);
  std::string buffer;
  std::size_t pos = 0;
  for (std::size_t sent = 0; sent < input.size();) {
    std::size_t n = std::min(chunk, input.size() - sent);
    buffer.append(input, sent, n);
    sent += n;
    for (;;) {
      request req;
      std::size_t consumed = 0;
      auto st = parser.parse(std::string_view(buffer).substr(pos), req, consumed);
      if (st == request_parser::status::need_more) break;
      if (st == request_parser::status::error) {
        out.error = parser.error_text();
        return out;
      }
      pos += consumed;
      if (!req.argv.empty()) {
        std::vector<std::string> args(req.argv.begin(), req.argv.end());
        out.requests.push_back(std::move(args));
      }
    }
  }
  return out;
}

void check_all_fragmentations(const std::string& input, const std::vector<std::vector<std::string>>& expected,
                              const std::string& error = "") {
  for (std::size_t chunk : {input.size(), std::size_t{1000}, std::size_t{100}, std::size_t{10}, std::size_t{5},
                            std::size_t{2}, std::size_t{1}}) {
    if (chunk == 0) continue;
    auto got = feed(input, chunk);
    BOOST_TEST_CONTEXT("chunk " << chunk) {
      BOOST_TEST(got.error == error);
      BOOST_REQUIRE_EQUAL(got.requests.size(), expected.size());
      for (std::size_t i = 0; i < expected.size(); ++i) BOOST_TEST(got.requests[i] == expected[i]);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_parser_suite)

BOOST_AUTO_TEST_CASE(multibulk_pipeline) {
  std::string in = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n";
  check_all_fragmentations(in, {{"SET", "k", "hello"}, {"PING"}});
}

BOOST_AUTO_TEST_CASE(binary_safe_bulk) {
  std::string v("a\r\nb\0c", 6);
  std::string in = "*2\r\n$4\r\nECHO\r\n$6\r\n" + v + "\r\n";
  check_all_fragmentations(in, {{"ECHO", v}});
}

BOOST_AUTO_TEST_CASE(inline_commands) {
  check_all_fragmentations("PING\r\nSET k \"a b\\x41\"\r\nGET 'k'\n\r\n", {{"PING"}, {"SET", "k", "a bA"}, {"GET", "k"}});
}

BOOST_AUTO_TEST_CASE(empty_and_zero_count_requests_are_skipped) {
  check_all_fragmentations("*0\r\n*-1\r\n   \r\n*1\r\n$4\r\nPING\r\n", {{"PING"}});
}

BOOST_AUTO_TEST_CASE(protocol_errors) {
  check_all_fragmentations("*1\r\n$4\r\nPING\r\n*x\r\n", {{"PING"}}, "Protocol error: invalid multibulk length");
  check_all_fragmentations("*1\r\n$-2\r\n", {}, "Protocol error: invalid bulk length");
  check_all_fragmentations("*1\r\n:4\r\n", {}, "Protocol error: expected '$', got ':'");
  check_all_fragmentations("SET k \"abc\r\n", {}, "Protocol error: unbalanced quotes in request");
  check_all_fragmentations("*1\r\n$536870913\r\n", {}, "Protocol error: invalid bulk length");
  check_all_fragmentations("*+1\r\n", {}, "Protocol error: invalid multibulk length");
}

BOOST_AUTO_TEST_CASE(limits) {
  std::string big_inline(70 * 1024, 'a');
  BOOST_TEST(feed(big_inline, big_inline.size()).error == "Protocol error: too big inline request");
  std::string big_count = "*" + std::string(70 * 1024, '1');
  BOOST_TEST(feed(big_count, big_count.size()).error == "Protocol error: too big mbulk count string");
  std::string big_bulk_len = "*1\r\n$" + std::string(70 * 1024, '1');
  BOOST_TEST(feed(big_bulk_len, big_bulk_len.size()).error == "Protocol error: too big bulk count string");
}

std::string multibulk(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

BOOST_AUTO_TEST_CASE(configured_bulk_limit) {
  shrike::resp::parser_limits limits;
  limits.max_bulk_len = 1024 * 1024;
  const std::string at_limit = multibulk({"ECHO", std::string(1024 * 1024, 'x')});
  auto got = feed(at_limit, at_limit.size(), limits);
  BOOST_TEST(got.error.empty());
  BOOST_REQUIRE_EQUAL(got.requests.size(), 1U);
  BOOST_TEST(got.requests[0][1].size() == 1024U * 1024U);
  BOOST_TEST(feed("*2\r\n$4\r\nECHO\r\n$1048577\r\n", 3, limits).error == "Protocol error: invalid bulk length");
}

BOOST_AUTO_TEST_CASE(unauthenticated_limits) {
  shrike::resp::parser_limits limits;
  limits.unauthenticated = true;
  const std::vector<std::string> ten(10, "a");
  BOOST_TEST(feed(multibulk(ten), 1, limits).requests.size() == 1U);
  const std::vector<std::string> eleven(11, "a");
  BOOST_TEST(feed(multibulk(eleven), 1, limits).error == "Protocol error: unauthenticated multibulk length");
  BOOST_TEST(feed(multibulk(eleven), 1).error.empty());  // the same request once authenticated
  const std::string bulk_at_limit = multibulk({"AUTH", std::string(16384, 'p')});
  BOOST_TEST(feed(bulk_at_limit, bulk_at_limit.size(), limits).requests.size() == 1U);
  const std::string bulk_over = multibulk({"AUTH", std::string(16385, 'p')});
  BOOST_TEST(feed(bulk_over, 7, limits).error == "Protocol error: unauthenticated bulk length");
  // A malformed length is "invalid" before it is "unauthenticated", as in Redis.
  BOOST_TEST(feed("*1\r\n$-1\r\n", 1, limits).error == "Protocol error: invalid bulk length");
  // set_limits applies to the next request.
  request_parser parser(limits);
  const std::string input = multibulk(eleven);
  request req;
  std::size_t consumed = 0;
  BOOST_TEST((parser.parse(input, req, consumed) == request_parser::status::error));
  request_parser relaxed(limits);
  relaxed.set_limits({});
  BOOST_TEST((relaxed.parse(input, req, consumed) == request_parser::status::complete));
  BOOST_TEST(req.argv.size() == 11U);
}

BOOST_AUTO_TEST_CASE(large_pipeline_in_one_buffer) {
  std::string in;
  for (int i = 0; i < 100000; ++i) in += "*2\r\n$4\r\nINCR\r\n$1\r\nx\r\n";
  auto got = feed(in, in.size());
  BOOST_TEST(got.requests.size() == 100000u);
  BOOST_TEST(got.error.empty());
}

BOOST_AUTO_TEST_SUITE_END()
