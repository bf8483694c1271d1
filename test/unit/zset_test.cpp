// Sorted sets: both encodings against a model (std::set ordered by score,
// member), conversions at the limits, range parsing, the pop API, results
// stored by the *STORE commands, and ranks in a 1,000,000-member set.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/command_table.hpp"
#include "store/database.hpp"
#include "store/zset_value.hpp"

namespace {

using shrike::store::database;
using shrike::store::entry;
namespace zset = shrike::store::zset;

constexpr std::int64_t now = 1'000'000;
constexpr zset::limits defaults{128, 64};
constexpr zset::limits always_skiplist{0, 64};

// What a sorted set should hold: pairs ordered by (score, member).
struct model {
  std::map<std::string, double> scores;
  std::set<std::pair<double, std::string>> order;

  void set(const std::string& m, double s) {
    if (auto it = scores.find(m); it != scores.end()) order.erase({it->second, m});
    scores[m] = s;
    order.insert({s, m});
  }
  void erase(const std::string& m) {
    if (auto it = scores.find(m); it != scores.end()) {
      order.erase({it->second, m});
      scores.erase(it);
    }
  }
};

entry* add(database& db, std::string_view key, double score, std::string_view member, const zset::limits& lim,
           unsigned flags = 0) {
  entry* e = db.lookup(key, now);
  if (!e) e = zset::create(db, key, lim.max_entries == 0, now);
  unsigned out;
  double newscore;
  BOOST_REQUIRE(zset::add(db, e, score, member, flags, out, newscore, lim));
  return e;
}

std::vector<std::pair<std::string, double>> contents(const entry* e) {
  std::vector<std::pair<std::string, double>> out;
  zset::with_view(e, [&](auto& v) {
    for (auto p = v.first(); p != v.end(); p = v.next(p)) out.emplace_back(std::string(v.member(p)), v.score(p));
  });
  return out;
}

// Every read of the view agrees with the model.
void check_against(const entry* e, const model& m) {
  BOOST_REQUIRE_EQUAL(zset::size(e), m.order.size());
  std::size_t rank = 0;
  for (const auto& [score, member] : m.order) {
    double s;
    BOOST_REQUIRE(zset::score_of(e, member, s));
    BOOST_REQUIRE_EQUAL(s, score);
    BOOST_REQUIRE_EQUAL(zset::rank_of(e, member, false), static_cast<std::int64_t>(rank));
    BOOST_REQUIRE_EQUAL(zset::rank_of(e, member, true), static_cast<std::int64_t>(m.order.size() - 1 - rank));
    zset::with_view(e, [&](auto& v) {
      auto p = v.at_rank(rank);
      BOOST_REQUIRE(v.member(p) == member);
      BOOST_REQUIRE_EQUAL(v.rank(p), rank);
    });
    ++rank;
  }
  // Backwards too (the skiplist's backward links).
  std::vector<std::string> reversed;
  zset::with_view(e, [&](auto& v) {
    for (auto p = v.last(); p != v.end(); p = v.prev(p)) reversed.emplace_back(v.member(p));
  });
  std::vector<std::string> expected;
  for (auto it = m.order.rbegin(); it != m.order.rend(); ++it) expected.push_back(it->second);
  BOOST_REQUIRE(reversed == expected);
}

// Random score ranges: first/last/count agree with a walk over the model.
void check_ranges(const entry* e, const model& m, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> bound(-2, 22);
  for (int i = 0; i < 50; ++i) {
    zset::score_range r{static_cast<double>(bound(rng)), static_cast<double>(bound(rng)), (rng() & 1) != 0,
                        (rng() & 1) != 0};
    std::vector<std::string> in;
    for (const auto& [s, member] : m.order)
      if (r.gte_min(s) && r.lte_max(s)) in.push_back(member);
    zset::with_view(e, [&](auto& v) {
      BOOST_REQUIRE_EQUAL(v.count_in(r), in.size());
      auto f = v.first_in(r);
      auto l = v.last_in(r);
      if (in.empty()) {
        BOOST_REQUIRE(f == v.end());
        BOOST_REQUIRE(l == v.end());
      } else {
        BOOST_REQUIRE(v.member(f) == in.front());
        BOOST_REQUIRE(v.member(l) == in.back());
      }
    });
  }
}

void random_operations(const zset::limits& lim, unsigned seed) {
  database db;
  model m;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> member(0, 199), score(0, 20), op(0, 9);
  for (int step = 0; step < 3000; ++step) {
    const std::string name = "m" + std::to_string(member(rng));
    entry* e = db.lookup("z", now);
    const int o = op(rng);
    if (o < 6 || !e) {
      const double s = score(rng);
      add(db, "z", s, name, lim);
      m.set(name, s);
    } else if (o < 8) {
      if (zset::erase(db, e, name)) m.erase(name);
    } else if (o == 8) {
      const double inc = score(rng) - 10;
      unsigned out;
      double newscore;
      BOOST_REQUIRE(zset::add(db, e, inc, name, zset::add_incr, out, newscore, lim));
      m.set(name, (m.scores.count(name) ? m.scores[name] : 0) + inc);
      BOOST_REQUIRE_EQUAL(newscore, m.scores[name]);
    } else {
      zset::score_range r{static_cast<double>(score(rng)), static_cast<double>(score(rng)), false, true};
      std::size_t expected = 0;
      for (auto it = m.order.begin(); it != m.order.end();) {
        if (r.gte_min(it->first) && r.lte_max(it->first)) {
          m.scores.erase(it->second);
          it = m.order.erase(it);
          ++expected;
        } else {
          ++it;
        }
      }
      BOOST_REQUIRE_EQUAL(zset::erase_score_range(db, e, r), expected);
    }
    e = db.lookup("z", now);
    if (e && zset::size(e) == 0) {
      db.erase_entry(e);
      e = nullptr;
    }
    if (step % 100 == 0 && e) {
      check_against(e, m);
      check_ranges(e, m, rng);
    }
  }
  if (entry* e = db.lookup("z", now)) check_against(e, m);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(zset_suite)

BOOST_AUTO_TEST_CASE(packed_order_scores_ranks) {
  database db;
  add(db, "z", 2, "b", defaults);
  add(db, "z", 1, "c", defaults);
  add(db, "z", 2, "a", defaults);
  entry* e = add(db, "z", 1, "d", defaults);
  BOOST_TEST(zset::is_packed(e));
  using items = std::vector<std::pair<std::string, double>>;
  BOOST_TEST((contents(e) == items{{"c", 1}, {"d", 1}, {"a", 2}, {"b", 2}}));
  BOOST_TEST(zset::rank_of(e, "a", false) == 2);
  BOOST_TEST(zset::rank_of(e, "a", true) == 1);
  BOOST_TEST(zset::rank_of(e, "x", false) == -1);
  // Moving a member re-sorts it.
  e = add(db, "z", 0, "b", defaults);
  BOOST_TEST((contents(e) == items{{"b", 0}, {"c", 1}, {"d", 1}, {"a", 2}}));
  BOOST_TEST(zset::erase(db, e, "c"));
  BOOST_TEST(!zset::erase(db, e, "c"));
  BOOST_TEST(zset::size(e) == 3u);
}

BOOST_AUTO_TEST_CASE(add_flags) {
  database db;
  entry* e = add(db, "z", 5, "a", defaults);
  unsigned out;
  double ns = 0;
  BOOST_TEST(zset::add(db, e, 1, "a", zset::add_nx, out, ns, defaults));
  BOOST_TEST(out == zset::added_nop);
  BOOST_TEST(zset::add(db, e, 1, "b", zset::add_xx, out, ns, defaults));
  BOOST_TEST(out == zset::added_nop);
  BOOST_TEST(zset::add(db, e, 4, "a", zset::add_gt, out, ns, defaults));
  BOOST_TEST(out == zset::added_nop);
  BOOST_TEST(zset::add(db, e, 6, "a", zset::add_gt, out, ns, defaults));
  BOOST_TEST(out == zset::added_updated);
  BOOST_TEST(zset::add(db, e, 2, "a", zset::add_incr, out, ns, defaults));
  BOOST_TEST(ns == 8.0);
  BOOST_TEST(zset::add(db, e, INFINITY, "a", zset::add_incr, out, ns, defaults));
  BOOST_TEST(!zset::add(db, e, -INFINITY, "a", zset::add_incr, out, ns, defaults));
  BOOST_TEST(out == zset::added_nan);
  BOOST_TEST(zset::add(db, e, 3, "new", zset::add_lt, out, ns, defaults));  // GT/LT only filter updates
  BOOST_TEST(out == zset::added_new);
}

BOOST_AUTO_TEST_CASE(converts_past_the_entry_limit_and_keeps_order) {
  database db;
  const zset::limits lim{4, 64};
  entry* e = nullptr;
  for (int i = 4; i >= 1; --i) e = add(db, "z", i, "m" + std::to_string(i), lim);
  BOOST_TEST(zset::is_packed(e));
  e = add(db, "z", 2.5, "x", lim);
  BOOST_TEST(!zset::is_packed(e));
  BOOST_TEST(std::string(e->object()->encoding_name()) == "skiplist");
  using items = std::vector<std::pair<std::string, double>>;
  BOOST_TEST((contents(e) == items{{"m1", 1}, {"m2", 2}, {"x", 2.5}, {"m3", 3}, {"m4", 4}}));
  // Removals never convert back.
  zset::erase(db, e, "x");
  zset::erase(db, e, "m1");
  BOOST_TEST(!zset::is_packed(db.lookup("z", now)));
}

BOOST_AUTO_TEST_CASE(converts_on_a_long_member_and_keeps_the_ttl) {
  database db;
  entry* e = add(db, "z", 1, "short", defaults);
  e = db.set_expire(e, now + 5000);
  e = add(db, "z", 2, std::string(65, 'x'), defaults);
  BOOST_TEST(!zset::is_packed(e));
  BOOST_TEST(database::expire_of(db.lookup("z", now)) == now + 5000);
  BOOST_TEST(zset::size(db.lookup("z", now)) == 2u);
}

BOOST_AUTO_TEST_CASE(model_packed) { random_operations({1'000'000, 64}, 1); }
BOOST_AUTO_TEST_CASE(model_skiplist) { random_operations(always_skiplist, 2); }
BOOST_AUTO_TEST_CASE(model_converting) { random_operations({40, 64}, 3); }

BOOST_AUTO_TEST_CASE(rank_range_removal_both_encodings) {
  for (const auto& lim : {defaults, always_skiplist}) {
    database db;
    for (int i = 0; i < 50; ++i) add(db, "z", i, "m" + std::to_string(i), lim);
    entry* e = db.lookup("z", now);
    BOOST_TEST(zset::erase_rank_range(db, e, 10, 19) == 10u);
    BOOST_TEST(zset::size(e) == 40u);
    BOOST_TEST(zset::rank_of(e, "m20", false) == 10);
    BOOST_TEST(zset::rank_of(e, "m9", false) == 9);
    BOOST_TEST(zset::rank_of(e, "m15", false) == -1);
    BOOST_TEST(zset::erase_rank_range(db, e, 0, 39) == 40u);
    BOOST_TEST(zset::size(e) == 0u);
  }
}

BOOST_AUTO_TEST_CASE(lex_ranges) {
  for (const auto& lim : {defaults, always_skiplist}) {
    database db;
    for (const char* m : {"a", "b", "c", "d", "e"}) add(db, "z", 0, m, lim);
    entry* e = db.lookup("z", now);
    auto members = [&](std::string_view min, std::string_view max) {
      zset::lex_range r;
      BOOST_REQUIRE(zset::parse_lex_range(min, max, r));
      std::string out;
      zset::with_view(e, [&](auto& v) {
        for (auto p = v.first_in(r); p != v.end() && r.lte_max(v.member(p)); p = v.next(p)) out += v.member(p);
      });
      return out;
    };
    BOOST_TEST(members("-", "+") == "abcde");
    BOOST_TEST(members("[b", "[d") == "bcd");
    BOOST_TEST(members("(b", "(d") == "c");
    BOOST_TEST(members("(b", "+") == "cde");
    BOOST_TEST(members("+", "-") == "");
    BOOST_TEST(members("[c", "[c") == "c");
    BOOST_TEST(members("(c", "[c") == "");
    zset::lex_range r;
    BOOST_TEST(zset::parse_lex_range("[b", "(e", r));
    BOOST_TEST(zset::erase_lex_range(db, e, r) == 3u);
    BOOST_TEST(members("-", "+") == "ae");
  }
  zset::lex_range r;
  BOOST_TEST(!zset::parse_lex_range("a", "+", r));
  BOOST_TEST(!zset::parse_lex_range("", "+", r));
  BOOST_TEST(!zset::parse_lex_range("-x", "+", r));
  BOOST_TEST(zset::parse_lex_range(std::string_view("+\0x", 3), "[", r));  // C-string rules, as Redis
}

BOOST_AUTO_TEST_CASE(score_range_parsing) {
  zset::score_range r;
  BOOST_TEST(zset::parse_score_range("(1.5", "inf", r));
  BOOST_TEST(r.min == 1.5);
  BOOST_TEST(r.minex);
  BOOST_TEST(!r.maxex);
  BOOST_TEST(std::isinf(r.max));
  BOOST_TEST(zset::parse_score_range("", "(", r));  // strtod of "" is 0
  BOOST_TEST((r.min == 0 && r.max == 0 && r.maxex));
  BOOST_TEST(zset::parse_score_range(" 1", "1e999", r));
  BOOST_TEST(zset::parse_score_range(std::string_view("2\0junk", 6), "3", r));
  BOOST_TEST(r.min == 2.0);
  BOOST_TEST(!zset::parse_score_range("nan", "1", r));
  BOOST_TEST(!zset::parse_score_range("1", "1x", r));
  BOOST_TEST(!zset::parse_score_range("((1", "2", r));
  BOOST_TEST((zset::score_range{5, 5, true, false}.empty()));
  BOOST_TEST(!(zset::score_range{5, 5, false, false}.empty()));
}

BOOST_AUTO_TEST_CASE(pop_reports_and_deletes_both_encodings) {
  for (const auto& lim : {defaults, always_skiplist}) {
    database db;
    for (int i = 1; i <= 5; ++i) add(db, "z", i, "m" + std::to_string(i), lim);
    std::vector<std::pair<std::string, double>> got;
    auto visit = [&](std::string_view m, double s) { got.emplace_back(std::string(m), s); };
    BOOST_TEST(zset::pop(db, db.lookup("z", now), false, 2, visit) == 2u);
    BOOST_TEST(zset::pop(db, db.lookup("z", now), true, 1, visit) == 1u);
    using items = std::vector<std::pair<std::string, double>>;
    BOOST_TEST((got == items{{"m1", 1}, {"m2", 2}, {"m5", 5}}));
    BOOST_TEST(zset::size(db.lookup("z", now)) == 2u);
    got.clear();
    BOOST_TEST(zset::pop(db, db.lookup("z", now), true, 10, visit) == 2u);
    BOOST_TEST((got == items{{"m4", 4}, {"m3", 3}}));
    BOOST_TEST(db.lookup("z", now) == nullptr);  // emptied: deleted
  }
}

BOOST_AUTO_TEST_CASE(store_sorted_picks_the_encoding_and_packs_minus_zero_as_zero) {
  database db;
  std::vector<zset::owned_item> items{{"a", -0.0}, {"b", 1.5}};
  entry* e = zset::store_sorted(db, "small", items, defaults, now);
  BOOST_TEST(zset::is_packed(e));
  double s;
  BOOST_TEST(zset::score_of(e, "a", s));
  BOOST_TEST(!std::signbit(s));  // a listpack keeps 0 as an integer
  e = zset::store_sorted(db, "large", items, {1, 64}, now);
  BOOST_TEST(!zset::is_packed(e));
  BOOST_TEST(zset::score_of(e, "a", s));
  BOOST_TEST(std::signbit(s));
  items.push_back({std::string(65, 'x'), 2});
  BOOST_TEST(!zset::is_packed(zset::store_sorted(db, "long", items, defaults, now)));
}

BOOST_AUTO_TEST_CASE(copy_of_a_skiplist_is_deep) {
  database db;
  for (int i = 0; i < 300; ++i) add(db, "z", i % 7, "m" + std::to_string(i), defaults);
  entry* e = db.lookup("z", now);
  BOOST_REQUIRE(!zset::is_packed(e));
  entry* copy = shrike::store::copy_entry(e, "z2");
  BOOST_TEST((contents(copy) == contents(e)));
  zset::erase(db, e, "m1");
  BOOST_TEST(zset::size(copy) == 300u);
  BOOST_TEST(copy->object()->memory_usage(SIZE_MAX) > 300u * 32);
  shrike::store::free_entry(copy);
}

BOOST_AUTO_TEST_CASE(skiplist_scan_returns_every_member) {
  database db;
  for (int i = 0; i < 1000; ++i) add(db, "z", i, "m" + std::to_string(i), always_skiplist);
  const auto& dict = shrike::store::as_zset_object(db.lookup("z", now)).dict();
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  do {
    cursor = dict.scan_step(cursor, [&](const entry* n) { seen.insert(std::string(n->key())); });
  } while (cursor);
  BOOST_TEST(seen.size() == 1000u);
}

// Score updates move a node with one search for its old place and one for
// its new place (in the list without it), interleaved: moves of every
// distance, both ways, onto equal scores (the member decides), next to the
// old place and in place, each checked in full (ranks from the spans both
// ways, the node at every rank, the backward links).
BOOST_AUTO_TEST_CASE(skiplist_score_updates_keep_order_and_spans) {
  database db;
  model m;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 64; ++i) {
    const std::string name = "m" + std::to_string(i);
    add(db, "z", i % 8, name, always_skiplist);
    m.set(name, i % 8);
  }
  std::uniform_int_distribution<int> pick(0, 63), score(0, 7), kind(0, 3);
  for (int step = 0; step < 4000; ++step) {
    const std::string name = "m" + std::to_string(pick(rng));
    const double current = m.scores[name];
    double s;
    switch (kind(rng)) {
      case 0: s = score(rng); break;                          // anywhere, ties likely
      case 1: s = current + ((rng() & 1) ? 0.5 : -0.5); break;  // next to its place
      case 2: s = current + ((rng() & 1) ? 1 : -1); break;      // among its neighbours' peers
      default: s = score(rng) + 0.25; break;                  // between two runs of ties
    }
    add(db, "z", s, name, always_skiplist);
    m.set(name, s);
    check_against(db.lookup("z", now), m);
  }
  // 0 and -0 compare equal: the node stays, the stored score changes.
  add(db, "z", 0.0, "m0", always_skiplist);
  m.set("m0", 0.0);
  entry* e = db.lookup("z", now);
  unsigned out;
  double ns;
  BOOST_REQUIRE(zset::add(db, e, -0.0, "m0", 0, out, ns, always_skiplist));
  check_against(e, m);
}

// The member hash shrinks as members go; a scan still returns each member
// left, and random picks return members.
BOOST_AUTO_TEST_CASE(skiplist_member_hash_shrinks_and_scans) {
  database db;
  for (int i = 0; i < 5000; ++i) add(db, "z", i, "m" + std::to_string(i), always_skiplist);
  entry* e = db.lookup("z", now);
  const auto& z = shrike::store::as_zset_object(e);
  const std::size_t full = z.dict().bucket_count();
  for (int i = 0; i < 4990; ++i) BOOST_REQUIRE(zset::erase(db, e, "m" + std::to_string(i)));
  BOOST_TEST(z.dict().bucket_count() < full);
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  do {
    cursor = z.dict().scan_step(cursor, [&](const entry* n) { seen.insert(std::string(n->key())); });
  } while (cursor);
  BOOST_TEST(seen.size() == 10u);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20; ++i) BOOST_TEST(seen.count(std::string(z.dict().random_entry(rng)->key())) == 1u);
  BOOST_TEST(zset::rank_of(e, "m4990", false) == 0);
  BOOST_TEST(zset::rank_of(e, "m4999", false) == 9);
}

// Ranks and rank ranges of a 1M-member set come from the skiplist's span
// widths (O(log n)), not from a walk: this builds one through the store API
// and checks the answers at several positions.
BOOST_AUTO_TEST_CASE(million_members_ranks) {
  database db;
  constexpr int n = 1'000'000;
  entry* e = zset::create(db, "big", true, now);
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
  char name[16];
  for (int i : order) {
    std::snprintf(name, sizeof(name), "m%07d", i);
    unsigned out;
    double ns;
    zset::add(db, e, i, name, 0, out, ns, defaults);
  }
  BOOST_REQUIRE_EQUAL(zset::size(e), static_cast<std::size_t>(n));
  for (int i : {0, 1, 2, 999, 123'456, 500'000, 777'777, 999'998, 999'999}) {
    std::snprintf(name, sizeof(name), "m%07d", i);
    BOOST_TEST(zset::rank_of(e, name, false) == i);
    BOOST_TEST(zset::rank_of(e, name, true) == n - 1 - i);
    zset::with_view(e, [&](auto& v) {
      auto p = v.at_rank(static_cast<std::size_t>(i));
      BOOST_TEST(v.member(p) == std::string_view(name));
      BOOST_TEST(v.score(p) == static_cast<double>(i));
    });
  }
  // ZRANGE big 500000 500004 and a score range's first node.
  zset::with_view(e, [&](auto& v) {
    auto p = v.at_rank(500'000);
    for (int i = 500'000; i < 500'005; ++i, p = v.next(p)) BOOST_TEST(v.score(p) == static_cast<double>(i));
    zset::score_range r{250'000.5, 250'010, false, false};
    BOOST_TEST(v.score(v.first_in(r)) == 250'001.0);
    BOOST_TEST(v.count_in(r) == 10u);
  });
  // Ranks stay right after updates and removals in the middle.
  unsigned out;
  double ns;
  zset::add(db, e, -1, "m0500000", 0, out, ns, defaults);
  BOOST_TEST(zset::rank_of(e, "m0500000", false) == 0);
  BOOST_TEST(zset::rank_of(e, "m0500001", false) == 500'001);
  BOOST_TEST(zset::erase_rank_range(db, e, 1, 100'000) == 100'000u);
  BOOST_TEST(zset::rank_of(e, "m0500001", false) == 400'001);
  BOOST_TEST(zset::rank_of(e, "m0000000", false) == -1);
}

// The dispatcher routes the multi-key commands by their key specs.
BOOST_AUTO_TEST_CASE(key_positions_of_multi_key_commands) {
  using shrike::commands::command_table;
  shrike::commands::register_all_commands();
  auto keys = [](std::vector<std::string_view> argv) {
    std::string error;
    const auto* row = command_table::instance().lookup(argv, error);
    BOOST_REQUIRE_MESSAGE(row != nullptr, error);
    std::vector<int> out;
    command_table::key_positions(*row, argv, out);
    return out;
  };
  using v = std::vector<int>;
  BOOST_TEST((keys({"zunionstore", "dst", "2", "a", "b"}) == v{1, 3, 4}));
  BOOST_TEST((keys({"zinterstore", "dst", "2", "a", "b", "weights", "1", "2"}) == v{1, 3, 4}));
  BOOST_TEST((keys({"zdiffstore", "dst", "1", "a"}) == v{1, 3}));
  BOOST_TEST((keys({"zunion", "2", "a", "b", "withscores"}) == v{2, 3}));
  BOOST_TEST((keys({"zintercard", "2", "a", "b", "limit", "1"}) == v{2, 3}));
  BOOST_TEST((keys({"zrangestore", "dst", "src", "0", "-1"}) == v{1, 2}));
  BOOST_TEST((keys({"zmpop", "2", "a", "b", "min", "count", "2"}) == v{2, 3}));
  BOOST_TEST((keys({"zadd", "k", "1", "a"}) == v{1}));
}

BOOST_AUTO_TEST_SUITE_END()
