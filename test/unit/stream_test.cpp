// Stream values: id parsing and ordering, chunk boundaries, range scans in
// both directions, tombstones, trimming (exact and whole-chunk), groups.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <vector>

#include "store/stream_value.hpp"

using namespace shrike::store;

namespace {

void add(stream_value& s, std::uint64_t ms, std::uint64_t seq, std::string_view f = "f", std::string_view v = "v") {
  const std::string_view fv[] = {f, v};
  s.append({ms, seq}, fv);
}

std::vector<stream_id> ids(const stream_value& s, stream_id a, stream_id b, std::size_t count = 0, bool rev = false) {
  std::vector<stream_id> out;
  s.range(a, b, count, rev, [&](const stream_id& id, std::span<const std::string_view>) { out.push_back(id); });
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stream)

BOOST_AUTO_TEST_CASE(id_parsing) {
  stream_id id;
  bool seq_given;
  BOOST_TEST(parse_stream_id("5-3", id, 0, true, nullptr));
  BOOST_TEST((id == stream_id{5, 3}));
  BOOST_TEST(parse_stream_id("5", id, UINT64_MAX, false, nullptr));
  BOOST_TEST((id == stream_id{5, UINT64_MAX}));
  BOOST_TEST(parse_stream_id("7-*", id, 0, true, &seq_given));
  BOOST_TEST(!seq_given);
  BOOST_TEST(!parse_stream_id("7-*", id, 0, true, nullptr));
  BOOST_TEST(!parse_stream_id("-", id, 0, true, nullptr));
  BOOST_TEST(parse_stream_id("+", id, 0, false, nullptr));
  BOOST_TEST((id == stream_id::max()));
  BOOST_TEST(!parse_stream_id("1-x", id, 0, false, nullptr));
  BOOST_TEST(!parse_stream_id("-1", id, 0, false, nullptr));
  BOOST_TEST(parse_stream_id("18446744073709551615-18446744073709551615", id, 0, true, nullptr));
  BOOST_TEST((id == stream_id::max()));
  BOOST_TEST((stream_id{1, 9} < stream_id{2, 0}));
  stream_id m = stream_id::max();
  BOOST_TEST(!m.incr());
  stream_id z{3, 0};
  BOOST_TEST(z.decr());
  BOOST_TEST((z == stream_id{2, UINT64_MAX}));
}

BOOST_AUTO_TEST_CASE(chunks_and_ranges) {
  stream_value s;
  for (std::uint64_t i = 1; i <= 250; ++i) add(s, i, 0);
  BOOST_TEST(s.chunk_count() == 3u);
  BOOST_TEST(s.length == 250u);
  auto all = ids(s, {0, 0}, stream_id::max());
  BOOST_TEST(all.size() == 250u);
  BOOST_TEST(all.front().ms == 1u);
  auto mid = ids(s, {99, 0}, {102, 0});
  BOOST_TEST(mid.size() == 4u);
  auto rev = ids(s, {0, 0}, {150, 0}, 3, true);
  BOOST_TEST(rev.size() == 3u);
  BOOST_TEST(rev[0].ms == 150u);
  BOOST_TEST(rev[2].ms == 148u);
  BOOST_TEST(s.contains({100, 0}));
  BOOST_TEST(!s.contains({100, 1}));
  // Big values open chunks early.
  stream_value big;
  const std::string v(3000, 'x');
  add(big, 1, 0, "f", v);
  add(big, 2, 0, "f", v);
  BOOST_TEST(big.chunk_count() == 2u);
  auto fields = std::vector<std::string>{};
  big.range({2, 0}, {2, 0}, 0, false, [&](const stream_id&, std::span<const std::string_view> fv) {
    for (auto f : fv) fields.emplace_back(f);
  });
  BOOST_TEST(fields.size() == 2u);
  BOOST_TEST(fields[1] == v);
}

BOOST_AUTO_TEST_CASE(tombstones) {
  stream_value s;
  for (std::uint64_t i = 1; i <= 150; ++i) add(s, i, 0);
  BOOST_TEST(s.remove({1, 0}));
  BOOST_TEST(!s.remove({1, 0}));
  BOOST_TEST(!s.remove({500, 0}));
  BOOST_TEST(s.length == 149u);
  BOOST_TEST(s.first_live().ms == 2u);
  for (std::uint64_t i = 101; i <= 150; ++i) BOOST_TEST(s.remove({i, 0}));
  BOOST_TEST(s.chunk_count() == 1u);  // the emptied chunk goes
  BOOST_TEST(s.last_live().ms == 100u);
  BOOST_TEST(ids(s, {0, 0}, stream_id::max(), 0, true).size() == 99u);
}

BOOST_AUTO_TEST_CASE(trimming) {
  stream_value s;
  for (std::uint64_t i = 1; i <= 250; ++i) add(s, i, 0);
  stream_trim_args approx;
  approx.how = stream_trim_args::strategy::maxlen;
  approx.approx = true;
  approx.maxlen = 120;
  BOOST_TEST(s.trim(approx) == 100);  // only whole chunks
  BOOST_TEST(s.length == 150u);
  stream_trim_args exact = approx;
  exact.approx = false;
  BOOST_TEST(s.trim(exact) == 30);
  BOOST_TEST(s.length == 120u);
  BOOST_TEST(s.first_id.ms == 131u);
  stream_trim_args minid;
  minid.how = stream_trim_args::strategy::minid;
  minid.minid = {240, 0};
  BOOST_TEST(s.trim(minid) == 109);
  BOOST_TEST(s.first_id.ms == 240u);
  stream_trim_args all = exact;
  all.maxlen = 0;
  BOOST_TEST(s.trim(all) == 11);
  BOOST_TEST(s.length == 0u);
  BOOST_TEST(s.chunk_count() == 0u);
  BOOST_TEST(s.first_id.is_zero());
}

BOOST_AUTO_TEST_CASE(groups_and_clone) {
  stream_value s;
  for (std::uint64_t i = 1; i <= 3; ++i) add(s, i, 0);
  auto& g = s.groups["g"];
  auto& alice = g.create_consumer("alice", 10);
  g.pel[{1, 0}] = stream_nack{10, 1, &alice};
  alice.pel.insert({1, 0});
  std::unique_ptr<stream_value> copy(static_cast<stream_value*>(s.clone()));
  auto& cg = copy->groups.at("g");
  BOOST_TEST(cg.pel.at({1, 0}).owner == cg.find_consumer("alice"));
  BOOST_TEST(cg.pel.at({1, 0}).owner != &alice);
  BOOST_TEST(g.delete_consumer("alice") == 1u);
  BOOST_TEST(g.pel.empty());
  BOOST_TEST(cg.pel.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
