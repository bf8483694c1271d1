// Set values: the inline intset (order, widths, membership by exact integer
// text), the one-way conversion to a hashtable, and set_builder's encoding
// and order rules for computed results.
#include <boost/test/unit_test.hpp>
#include <climits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/set_value.hpp"

using namespace shrike::store;

namespace {

constexpr std::int64_t now = 1'000'000;

entry* new_set(database& db, std::string_view key, std::initializer_list<std::string_view> members,
               std::size_t max = 512) {
  set_builder b(max);
  for (auto m : members) b.add(m);
  return b.store(db, key, now);
}

entry* add(database& db, entry* e, std::string_view m, std::size_t max = 512) {
  bool added;
  return set_add(db, e, m, max, added);
}

std::vector<std::string> members_of(const entry* e) {
  std::vector<std::string> out;
  set_for_each(e, [&](std::string_view m) { out.emplace_back(m); });
  return out;
}

using strings = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(set_suite)

BOOST_AUTO_TEST_CASE(intset_is_sorted_and_widens_on_demand) {
  database db;
  entry* e = new_set(db, "s", {"3", "1", "2"});
  BOOST_TEST(!e->holds_object());
  BOOST_TEST(e->encoding == 2);
  BOOST_TEST((members_of(e) == strings{"1", "2", "3"}));
  e = add(db, e, "-40000");
  BOOST_TEST(e->encoding == 4);
  e = add(db, e, "9223372036854775807");
  BOOST_TEST(e->encoding == 8);
  e = add(db, e, "-9223372036854775808");
  BOOST_TEST((members_of(e) == strings{"-9223372036854775808", "-40000", "1", "2", "3", "9223372036854775807"}));
  BOOST_TEST(e->val_len == 6u * 8);
  bool erased;
  e = set_erase(db, e, "9223372036854775807", erased);
  e = set_erase(db, e, "-9223372036854775808", erased);
  BOOST_TEST(erased);
  BOOST_TEST(e->encoding == 8);  // as Redis: never narrowed
  BOOST_TEST(set_size(e) == 4u);
  BOOST_TEST(!e->holds_object());
}

BOOST_AUTO_TEST_CASE(membership_needs_the_exact_integer_text) {
  database db;
  entry* e = new_set(db, "s", {"10", "-5", "0"});
  BOOST_TEST(set_contains(e, "10"));
  BOOST_TEST(set_contains(e, "-5"));
  BOOST_TEST(set_contains(e, "0"));
  for (const char* m : {"010", "10.0", " 10", "+10", "-0", "ten", ""}) BOOST_TEST(!set_contains(e, m));
  bool added;
  e = set_add(db, e, "10", 512, added);
  BOOST_TEST(!added);
  e = set_add(db, e, "010", 512, added);  // not an integer in string2ll's sense
  BOOST_TEST(added);
  BOOST_TEST(e->holds_object());
  BOOST_TEST(set_contains(e, "010"));
  BOOST_TEST(set_contains(e, "10"));
}

BOOST_AUTO_TEST_CASE(converts_past_the_intset_limit_and_never_back) {
  database db;
  entry* e = new_set(db, "s", {"1", "2"}, 3);
  e = add(db, e, "3", 3);
  BOOST_TEST(!e->holds_object());
  e = add(db, e, "3", 3);
  BOOST_TEST(!e->holds_object());
  e = add(db, e, "4", 3);
  BOOST_TEST(e->holds_object());
  BOOST_TEST(e->encoding == set_encoding_hashtable);
  bool erased;
  e = set_erase(db, e, "4", erased);
  e = set_erase(db, e, "3", erased);
  BOOST_TEST(e->holds_object());
  std::set<std::string> got;
  for (auto& m : members_of(e)) got.insert(m);
  BOOST_TEST((got == std::set<std::string>{"1", "2"}));
}

BOOST_AUTO_TEST_CASE(conversion_keeps_the_ttl) {
  database db;
  entry* e = new_set(db, "s", {"1"});
  e = db.set_expire(e, now + 100);
  e = add(db, e, "x");
  BOOST_TEST(e->holds_object());
  BOOST_TEST(database::expire_of(db.lookup("s", now)) == now + 100);
}

BOOST_AUTO_TEST_CASE(builder_follows_redis_history_rules) {
  database db;
  set_builder ints(512);
  for (const char* m : {"5", "-1", "3", "5"}) ints.add(m);
  BOOST_TEST(ints.is_intset());
  strings order;
  ints.for_each([&](std::string_view m) { order.emplace_back(m); });
  BOOST_TEST((order == strings{"-1", "3", "5"}));

  // A non-integer converts for good, even once it is removed again (SDIFF's
  // second algorithm builds results this way).
  set_builder mixed(512);
  mixed.add("1");
  mixed.add("x");
  BOOST_TEST(mixed.erase("x"));
  BOOST_TEST(!mixed.is_intset());
  entry* e = mixed.store(db, "m", now);
  BOOST_TEST(e->holds_object());
  BOOST_TEST(set_contains(e, "1"));

  set_builder many(2);
  many.add("1");
  many.add("2");
  BOOST_TEST(many.is_intset());
  many.add("3");
  BOOST_TEST(!many.is_intset());
  BOOST_TEST(many.size() == 3u);

  set_builder none(0);  // set-max-intset-entries 0: even one member converts
  none.add("1");
  BOOST_TEST(!none.is_intset());
}

BOOST_AUTO_TEST_CASE(object_form_clone_and_random_members) {
  database db;
  entry* e = new_set(db, "s", {"a"});
  for (int i = 0; i < 1000; ++i) e = add(db, e, "m" + std::to_string(i));
  entry* copy = copy_entry(e, "s2");
  db.attach(copy);
  bool erased;
  e = set_erase(db, e, "m1", erased);
  BOOST_TEST(set_contains(copy, "m1"));
  BOOST_TEST(set_size(copy) == 1001u);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; ++i) BOOST_TEST(set_contains(e, set_random_member(e, rng)));
  entry* small = new_set(db, "small", {"7", "8", "9"});
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(set_random_member(small, rng));
  BOOST_TEST((seen == std::set<std::string>{"7", "8", "9"}));
}

BOOST_AUTO_TEST_CASE(intset_is_compact) {
  database db;
  set_builder b(512);
  for (int i = 0; i < 100; ++i) b.add(std::to_string(i));
  entry* e = b.store(db, "s", now);
  BOOST_TEST(e->val_len == 200u);  // 100 members x 2 bytes, no header
  BOOST_TEST(e->block_size() <= sizeof(entry) + 1 + 200 + 16);
}

BOOST_AUTO_TEST_SUITE_END()
