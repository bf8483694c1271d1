// Stream values: id parsing and ordering, chunk boundaries, range scans in
// both directions, tombstones, trimming (exact and whole-chunk), groups, PEL
// and consumer bookkeeping, entries-read and lag, XINFO's radix-tree shape.
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

namespace {

// The PEL invariant: an id is in a consumer's PEL iff the group PEL has it
// with that owner.
bool pel_consistent(const stream_group& g) {
  std::size_t listed = 0;
  for (const auto& [name, c] : g.consumers) {
    for (const auto& id : c.pel) {
      auto it = g.pel.find(id);
      if (it == g.pel.end() || it->second.owner != &c) return false;
    }
    listed += c.pel.size();
  }
  return listed == g.pel.size();
}

}  // namespace

BOOST_AUTO_TEST_CASE(pel_bookkeeping) {
  stream_group g;
  auto& alice = g.touch_consumer("alice", 5);
  BOOST_TEST(alice.seen_time == 5);
  BOOST_TEST(&g.touch_consumer("alice", 9) == &alice);
  BOOST_TEST(alice.seen_time == 9);
  auto& bob = g.touch_consumer("bob", 9);

  // XREADGROUP `>`: new pending entries, delivered once, now.
  auto& n1 = g.deliver({1, 0}, alice, 100);
  g.deliver({2, 0}, alice, 100);
  BOOST_TEST(n1.delivery_count == 1u);
  BOOST_TEST(n1.delivery_time == 100);
  BOOST_TEST(alice.pel.size() == 2u);
  // Delivered again (after XGROUP SETID) to someone else: moved, count reset.
  n1.delivery_count = 7;
  auto& again = g.deliver({1, 0}, bob, 200);
  BOOST_TEST(&again == &n1);
  BOOST_TEST(again.owner == &bob);
  BOOST_TEST(again.delivery_count == 1u);
  BOOST_TEST(again.delivery_time == 200);
  BOOST_TEST(alice.pel.size() == 1u);
  BOOST_TEST(bob.pel.size() == 1u);
  BOOST_TEST(pel_consistent(g));

  // XCLAIM: transfer keeps the delivery data; to the owner itself, nothing moves.
  auto it = g.pel.find({2, 0});
  g.transfer(it, bob);
  BOOST_TEST(alice.pel.empty());
  BOOST_TEST(bob.pel.size() == 2u);
  g.transfer(it, bob);
  BOOST_TEST(bob.pel.size() == 2u);
  BOOST_TEST(pel_consistent(g));

  // XCLAIM FORCE: an unowned entry, then handed over.
  auto forced = g.add_unowned({3, 0}, 300);
  BOOST_TEST(forced->second.owner == nullptr);
  BOOST_TEST(forced->second.delivery_count == 1u);
  BOOST_TEST(forced->second.delivery_time == 300);
  BOOST_TEST(g.add_unowned({1, 0}, 400)->second.owner == &bob);  // existing entries stay as they are
  g.transfer(forced, alice);
  BOOST_TEST(forced->second.owner == &alice);
  BOOST_TEST(pel_consistent(g));

  // XACK / XAUTOCLAIM of a deleted entry: gone from both PELs.
  auto next = g.remove_pending(g.pel.find({1, 0}));
  BOOST_TEST((next->first == stream_id{2, 0}));
  BOOST_TEST(bob.pel.size() == 1u);
  BOOST_TEST(pel_consistent(g));

  // XGROUP DELCONSUMER drops its pending entries.
  BOOST_TEST(g.delete_consumer("bob") == 1u);
  BOOST_TEST(g.pel.size() == 1u);
  BOOST_TEST(pel_consistent(g));
}

BOOST_AUTO_TEST_CASE(group_counters_and_lag) {
  stream_value s;
  for (std::uint64_t i = 1; i <= 4; ++i) add(s, i, 0);
  stream_group g;  // XGROUP CREATE s g 0: entries_read unknown
  BOOST_TEST(s.group_lag(g).value() == 4);  // estimated: before the first entry
  // Reading everything makes the counter exact.
  for (std::uint64_t i = 1; i <= 4; ++i) s.advance_group(g, {i, 0});
  BOOST_TEST(g.entries_read == 4);
  BOOST_TEST(s.group_lag(g).value() == 0);

  stream_group late;  // XGROUP CREATE s late 2-0
  late.last_id = {2, 0};
  BOOST_TEST(!s.group_lag(late).has_value());  // in the middle: unknown
  s.advance_group(late, {3, 0});
  BOOST_TEST(late.entries_read == -1);  // still unknown: 3-0 is not the last entry
  s.advance_group(late, {4, 0});
  BOOST_TEST(late.entries_read == 4);  // the last entry: exact again

  stream_group counted;  // XGROUP CREATE s counted 2-0 ENTRIESREAD 2
  counted.last_id = {2, 0};
  counted.entries_read = 2;
  BOOST_TEST(s.group_lag(counted).value() == 2);
  // A deletion ahead of the group makes its counter useless for the lag...
  BOOST_TEST(s.remove({3, 0}));
  s.max_deleted_id = {3, 0};
  BOOST_TEST(!s.group_lag(counted).has_value());
  // ... yet reading past it just counts one more (Redis's own estimate: the
  // deleted entry is counted as read by nobody, so the lag stays at 1).
  s.advance_group(counted, {4, 0});
  BOOST_TEST(counted.entries_read == 3);
  BOOST_TEST(s.group_lag(counted).value() == 1);

  stream_value empty;
  stream_group none;
  BOOST_TEST(empty.group_lag(none).value() == 0);
}

BOOST_AUTO_TEST_CASE(radix_tree_shape) {
  // Values read from Redis 7.0 (XINFO STREAM) for the same entries.
  stream_value s;
  BOOST_TEST(s.radix_tree_keys() == 0u);
  BOOST_TEST(s.radix_tree_nodes() == 1u);
  struct point {
    std::uint64_t entries, keys, nodes;
  };
  std::uint64_t added = 0;
  for (const point& p : {point{100, 1, 2}, point{101, 2, 6}, point{250, 3, 8}, point{1000, 10, 22},
                         point{5000, 50, 102}, point{30000, 300, 606}}) {
    for (; added < p.entries; ++added) add(s, (added + 1) * 7, (added + 1) % 3);
    BOOST_TEST(s.radix_tree_keys() == p.keys);
    BOOST_TEST(s.radix_tree_nodes() == p.nodes);
  }
}

BOOST_AUTO_TEST_SUITE_END()
