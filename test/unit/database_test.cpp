// Store: key table growth/shrink under SCAN, expiry with an injected clock.
#include <boost/test/unit_test.hpp>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/database.hpp"

using shrike::store::database;
using shrike::store::entry;

BOOST_AUTO_TEST_SUITE(database_suite)

BOOST_AUTO_TEST_CASE(set_get_overwrite_and_erase) {
  database db;
  const std::int64_t now = 1'000'000;
  db.set_string("k", "v1", now);
  BOOST_TEST(db.lookup("k", now)->str() == "v1");
  db.set_string("k", std::string(100, 'x'), now);
  BOOST_TEST(db.lookup("k", now)->str() == std::string(100, 'x'));
  BOOST_TEST(db.size() == 1u);
  BOOST_TEST(db.erase("k"));
  BOOST_TEST(!db.lookup("k", now));
}

BOOST_AUTO_TEST_CASE(lazy_and_active_expiry_with_fake_clock) {
  database db;
  std::mt19937_64 rng(1);
  const std::int64_t t0 = 5'000'000;
  for (int i = 0; i < 1000; ++i) db.set_string("k" + std::to_string(i), "v", t0, t0 + 100);
  db.set_string("persistent", "v", t0);
  BOOST_TEST(db.expires_count() == 1000u);
  BOOST_TEST(db.lookup("k1", t0 + 99) != nullptr);
  BOOST_TEST(db.lookup("k1", t0 + 100) == nullptr);  // lazy expiry deletes it
  BOOST_TEST(db.size() == 1000u);
  bool more = true;
  while (more) db.active_expire(t0 + 100, 100000, rng, more);
  BOOST_TEST(db.size() == 1u);
  BOOST_TEST(db.expires_count() == 0u);
  BOOST_TEST(db.expired_total() == 1000u);
}

namespace {
// Records what the store reports through its expiry hook.
struct recording_listener : shrike::store::key_listener {
  bool on = true;
  std::vector<std::pair<std::size_t, std::string>> seen;
  bool wants_expired() const override { return on; }
  void expired(std::size_t db, std::string_view key) override { seen.emplace_back(db, std::string(key)); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(every_expiry_reaches_the_listener_after_the_delete) {
  database db, other;
  recording_listener l;
  db.set_listener(&l, 3);
  std::mt19937_64 rng(1);
  const std::int64_t t0 = 1'000;
  db.set_string("lazy", "v", t0, t0 + 10);
  db.set_string("active", "v", t0, t0 + 10);
  BOOST_TEST(!db.lookup("lazy", t0 + 10));
  bool more = true;
  while (more) db.active_expire(t0 + 10, 100, rng, more);
  db.set_string("random", "v", t0, t0 + 10);
  BOOST_TEST(!db.random_key(t0 + 10, rng));
  using seen_t = std::vector<std::pair<std::size_t, std::string>>;
  BOOST_TEST((l.seen == seen_t{{3, "lazy"}, {3, "active"}, {3, "random"}}));
  BOOST_TEST(db.expired_total() == 3u);
  // Off: still counted and deleted, not reported.
  l.on = false;
  db.set_string("quiet", "v", t0, t0 + 10);
  BOOST_TEST(!db.lookup("quiet", t0 + 10));
  BOOST_TEST(l.seen.size() == 3u);
  BOOST_TEST(db.expired_total() == 4u);
  // SWAPDB exchanges the contents, not the listener or the db number.
  l.on = true;
  other.set_string("swapped", "v", t0, t0 + 10);
  db.swap(other);
  BOOST_TEST(!db.lookup("swapped", t0 + 10));
  BOOST_TEST((l.seen.back() == std::pair<std::size_t, std::string>{3, "swapped"}));
}

BOOST_AUTO_TEST_CASE(ttl_survives_block_moves) {
  database db;
  const std::int64_t now = 1'000;
  entry* e = db.set_string("k", "v", now);
  e = db.set_expire(e, now + 5000);
  e = db.resize_string(e, 10'000);  // forces a move to a bigger block
  BOOST_TEST(database::expire_of(db.lookup("k", now)) == now + 5000);
  e = db.persist(db.lookup("k", now));
  BOOST_TEST(database::expire_of(e) == -1);
  BOOST_TEST(db.expires_count() == 0u);
}

BOOST_AUTO_TEST_CASE(scan_returns_every_key_while_the_table_grows_and_shrinks) {
  database db;
  const std::int64_t now = 1;
  for (int i = 0; i < 500; ++i) db.set_string("stable" + std::to_string(i), "v", now);
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  int step = 0;
  do {
    for (int k = 0; k < 3; ++k) cursor = db.scan_step(cursor, [&](entry* e) { seen.insert(std::string(e->key())); });
    // Grow, then shrink the table in the middle of the scan.
    if (step == 20)
      for (int i = 0; i < 5000; ++i) db.set_string("extra" + std::to_string(i), "v", now);
    if (step == 200)
      for (int i = 0; i < 5000; ++i) db.erase("extra" + std::to_string(i));
    ++step;
  } while (cursor != 0);
  for (int i = 0; i < 500; ++i) BOOST_TEST(seen.count("stable" + std::to_string(i)) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
