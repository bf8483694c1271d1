// Hash values: listpack edits and order, the one-way conversion to a
// hashtable at the limits, the object form, and the size of the inline form.
#include <boost/test/unit_test.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/hash_value.hpp"

using namespace shrike::store;

namespace {

constexpr std::int64_t now = 1'000'000;

entry* new_hash(database& db, std::string_view key) {
  return db.add_inline(key, value_type::hash, hash_encoding_listpack, packed::empty_value(), now);
}

entry* set(database& db, entry* e, std::string_view f, std::string_view v, const hash_limits& lim = {}) {
  bool created;
  return hash_set(db, e, f, v, lim, created);
}

std::vector<std::pair<std::string, std::string>> pairs_of(const entry* e) {
  std::vector<std::pair<std::string, std::string>> out;
  hash_for_each(e, [&](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
  return out;
}

std::string get(const entry* e, std::string_view f) {
  std::string_view v;
  return hash_get(e, f, v) ? std::string(v) : std::string("<none>");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hash_suite)

BOOST_AUTO_TEST_CASE(listpack_keeps_insertion_order_through_updates_and_deletes) {
  database db;
  entry* e = new_hash(db, "h");
  bool created;
  e = hash_set(db, e, "z", "1", {}, created);
  BOOST_TEST(created);
  e = set(db, e, "a", "2");
  e = set(db, e, "m", "3");
  e = hash_set(db, e, "a", "a much longer value than before", {}, created);  // grows in place
  BOOST_TEST(!created);
  e = set(db, e, "z", "");  // shrinks in place
  using pv = std::vector<std::pair<std::string, std::string>>;
  BOOST_TEST((pairs_of(e) == pv{{"z", ""}, {"a", "a much longer value than before"}, {"m", "3"}}));
  bool erased;
  e = hash_erase(db, e, "a", erased);
  BOOST_TEST(erased);
  e = hash_erase(db, e, "a", erased);
  BOOST_TEST(!erased);
  BOOST_TEST((pairs_of(e) == pv{{"z", ""}, {"m", "3"}}));
  BOOST_TEST(hash_length(e) == 2u);
  BOOST_TEST(!e->holds_object());
  BOOST_TEST(db.lookup("h", now) == e);
}

BOOST_AUTO_TEST_CASE(binary_fields_and_long_lengths_round_trip) {
  database db;
  entry* e = new_hash(db, "h");
  const std::string bin("\0\r\n\xff", 4);
  const std::string long_value(300, 'v');  // a two-byte varint length
  e = set(db, e, bin, long_value, {512, 1000});
  e = set(db, e, "", bin, {512, 1000});
  BOOST_TEST(!e->holds_object());
  BOOST_TEST(get(e, bin) == long_value);
  BOOST_TEST(get(e, "") == bin);
  BOOST_TEST(get(e, std::string("\0", 1)) == "<none>");
}

BOOST_AUTO_TEST_CASE(converts_past_the_entry_limit_and_never_back) {
  database db;
  const hash_limits lim{4, 64};
  entry* e = new_hash(db, "h");
  for (int i = 0; i < 4; ++i) e = set(db, e, "f" + std::to_string(i), "v", lim);
  BOOST_TEST(!e->holds_object());
  e = set(db, e, "f0", "updated", lim);  // an update does not add an entry
  BOOST_TEST(!e->holds_object());
  e = set(db, e, "f4", "v", lim);
  BOOST_TEST(e->holds_object());
  BOOST_TEST(e->encoding == hash_encoding_hashtable);
  BOOST_TEST(std::string(e->object()->encoding_name()) == "hashtable");
  BOOST_TEST(hash_length(e) == 5u);
  BOOST_TEST(get(e, "f0") == "updated");
  bool erased;
  for (int i = 0; i < 4; ++i) e = hash_erase(db, e, "f" + std::to_string(i), erased);
  BOOST_TEST(e->holds_object());
  BOOST_TEST(hash_length(e) == 1u);
}

BOOST_AUTO_TEST_CASE(converts_on_a_long_field_or_value) {
  database db;
  const hash_limits lim{512, 8};
  entry* a = set(db, new_hash(db, "a"), "12345678", "12345678", lim);
  BOOST_TEST(!a->holds_object());
  entry* b = set(db, new_hash(db, "b"), "123456789", "v", lim);
  BOOST_TEST(b->holds_object());
  entry* c = set(db, new_hash(db, "c"), "f", "123456789", lim);
  BOOST_TEST(c->holds_object());
  BOOST_TEST(get(c, "f") == "123456789");
}

BOOST_AUTO_TEST_CASE(conversion_keeps_the_ttl_and_the_contents) {
  database db;
  entry* e = new_hash(db, "h");
  e = db.set_expire(e, now + 5000);
  std::map<std::string, std::string> expect;
  for (int i = 0; i < 600; ++i) {
    std::string f = "field" + std::to_string(i), v = "value" + std::to_string(i * 7);
    e = set(db, e, f, v);
    expect[f] = v;
  }
  BOOST_TEST(e->holds_object());
  BOOST_TEST(database::expire_of(db.lookup("h", now)) == now + 5000);
  auto got = pairs_of(e);
  BOOST_TEST(got.size() == expect.size());
  for (auto& [f, v] : got) BOOST_TEST(expect[f] == v);
}

BOOST_AUTO_TEST_CASE(object_values_grow_past_their_block) {
  database db;
  entry* e = new_hash(db, "h");
  for (int i = 0; i < 1000; ++i) e = set(db, e, "f" + std::to_string(i), "x");
  BOOST_TEST(e->holds_object());
  // Values that no longer fit their field's block move it to a bigger one;
  // every other field must stay reachable through the bucket chains.
  for (int i = 0; i < 1000; i += 3) e = set(db, e, "f" + std::to_string(i), std::string(100 + i, 'y'));
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST(get(e, "f" + std::to_string(i)) == (i % 3 == 0 ? std::string(100 + i, 'y') : std::string("x")));
  BOOST_TEST(as_hash_object(e).memory_usage(SIZE_MAX) > 1000u * 24);
}

BOOST_AUTO_TEST_CASE(copy_is_deep_for_both_encodings) {
  database db;
  entry* small = set(db, new_hash(db, "small"), "f", "v");
  entry* big = new_hash(db, "big");
  for (int i = 0; i < 600; ++i) big = set(db, big, "f" + std::to_string(i), "v");
  entry* small_copy = copy_entry(small, "small2");
  entry* big_copy = copy_entry(big, "big2");
  db.attach(small_copy);
  db.attach(big_copy);
  big = set(db, big, "f1", "changed");
  small = set(db, small, "f", "changed");
  BOOST_TEST(get(big_copy, "f1") == "v");
  BOOST_TEST(get(small_copy, "f") == "v");
  BOOST_TEST(big_copy->holds_object());
  BOOST_TEST(hash_length(big_copy) == 600u);
}

BOOST_AUTO_TEST_CASE(random_pairs_come_from_the_hash) {
  database db;
  std::mt19937_64 rng(7);
  entry* small = new_hash(db, "small");
  for (int i = 0; i < 5; ++i) small = set(db, small, "f" + std::to_string(i), "v" + std::to_string(i));
  entry* big = new_hash(db, "big");
  for (int i = 0; i < 600; ++i) big = set(db, big, "f" + std::to_string(i), "v" + std::to_string(i));
  std::map<std::string, int> seen;
  for (int i = 0; i < 500; ++i) {
    std::string_view f, v;
    hash_random_pair(small, rng, f, v);
    BOOST_TEST(v.substr(1) == f.substr(1));
    ++seen[std::string(f)];
    hash_random_pair(big, rng, f, v);
    BOOST_TEST(get(big, f) == std::string(v));
  }
  BOOST_TEST(seen.size() == 5u);  // every field of the listpack shows up
}

BOOST_AUTO_TEST_CASE(inline_form_costs_about_its_bytes) {
  // The memory benchmark: small hashes of 10 short fields, the whole key in
  // one block. (HSET of all fields on a new key allocates the exact size.)
  database db;
  entry* e = new_hash(db, "hash:00000001");
  for (int j = 0; j < 10; ++j) e = set(db, e, "field" + std::to_string(j), "value" + std::to_string(100 + j));
  const std::size_t payload = e->val_len;  // 4 + 10 x (1 + 6 + 1 + 8)
  BOOST_TEST(payload == 164u);
  const std::size_t block = e->block_size();
  BOOST_TEST_MESSAGE("10-field hash grown field by field: block " << block << " B for " << payload
                                                                  << " B of listpack");
  // Small inline collections grow to their exact size (not by sds's
  // doubling): only malloc's rounding is left over.
  BOOST_TEST(block <= sizeof(entry) + 13 + payload + 16);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(memory_usage_samples_extrapolate_from_their_average) {
  database db;
  entry* e = new_hash(db, "h");
  // Fields of one length: a 5-field sample predicts the whole closely
  // (blocks made when the hash left its packed form may differ a little).
  for (int i = 0; i < 1000; ++i) e = set(db, e, "f" + std::to_string(1000 + i), "value-of-ten");
  const auto& h = as_hash_object(e);
  const double sampled = static_cast<double>(h.memory_usage(5)), exact = static_cast<double>(h.memory_usage(SIZE_MAX));
  BOOST_TEST(sampled > exact * 0.95);
  BOOST_TEST(sampled < exact * 1.05);
  BOOST_TEST(h.memory_usage(SIZE_MAX) >= 1000u * 24);
  // One big field: measuring all elements sees it.
  e = set(db, e, "f1000", std::string(100000, 'y'));
  BOOST_TEST(as_hash_object(e).memory_usage(SIZE_MAX) >= 1000u * 24 + 100000);
}
