// Store: the packed inline encoding (store/packed.hpp), inline -> object
// conversion, and list values (COPY, expiry layout changes).
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/list_value.hpp"
#include "store/packed.hpp"

using namespace shrike::store;

namespace {

std::vector<std::string> elements(const entry* e) {
  std::vector<std::string> out;
  packed::reader r(e->str());
  while (!r.done()) out.emplace_back(r.next());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(packed_and_list_suite)

BOOST_AUTO_TEST_CASE(varint_lengths_round_trip) {
  for (std::size_t len : {0u, 1u, 127u, 128u, 300u, 16383u, 16384u, 70000u}) {
    std::string s(len, 'x');
    std::string buf(packed::element_size(len), '\0');
    char* end = packed::write_element(buf.data(), s);
    BOOST_TEST(static_cast<std::size_t>(end - buf.data()) == buf.size());
    std::string_view back;
    BOOST_TEST(packed::read_element(buf, 0, back) == buf.size());
    BOOST_TEST(back.size() == len);
  }
  BOOST_TEST(packed::varint_size(127) == 1u);
  BOOST_TEST(packed::varint_size(128) == 2u);
}

BOOST_AUTO_TEST_CASE(insert_erase_replace_keep_count_and_order) {
  database db;
  const std::int64_t now = 1'000'000;
  entry* e = db.add_inline("h", value_type::hash, 0, packed::empty_value(), now);
  BOOST_TEST(packed::count(e->str()) == 0u);
  e = packed::insert(db, e, e->val_len, {"f1", "v1"});
  e = packed::insert(db, e, e->val_len, {"f2", std::string(200, 'b')});  // a 2-byte length
  e = packed::insert(db, e, packed::header_size, {"f0", ""});            // at the front
  BOOST_TEST(packed::count(e->str()) == 6u);
  BOOST_TEST((elements(e) == std::vector<std::string>{"f0", "", "f1", "v1", "f2", std::string(200, 'b')}));
  // Replace "v1" by a longer and then a shorter value.
  auto find = [&](std::string_view what, std::size_t& pos, std::size_t& end) {
    packed::reader r(e->str());
    while (!r.done()) {
      pos = r.offset();
      if (r.next() == what) {
        end = r.offset();
        return true;
      }
    }
    return false;
  };
  std::size_t pos = 0, end = 0;
  BOOST_TEST(find("v1", pos, end));
  e = packed::replace(db, e, pos, end, std::string(300, 'c'));
  BOOST_TEST(elements(e)[3] == std::string(300, 'c'));
  BOOST_TEST(find(std::string(300, 'c'), pos, end));
  e = packed::replace(db, e, pos, end, "z");
  BOOST_TEST((elements(e) == std::vector<std::string>{"f0", "", "f1", "z", "f2", std::string(200, 'b')}));
  // Erase the pair f1,z.
  BOOST_TEST(find("f1", pos, end));
  std::size_t pair_end = end;
  std::string_view skip;
  pair_end = packed::read_element(e->str(), pair_end, skip);
  e = packed::erase(db, e, pos, pair_end, 2);
  BOOST_TEST(packed::count(e->str()) == 4u);
  BOOST_TEST((elements(e) == std::vector<std::string>{"f0", "", "f2", std::string(200, 'b')}));
  BOOST_TEST(db.lookup("h", now) == e);  // the table follows the block when it moves
}

BOOST_AUTO_TEST_CASE(convert_to_object_keeps_key_and_ttl) {
  database db;
  const std::int64_t now = 1'000'000;
  entry* e = db.add_inline("k", value_type::list, 0, packed::empty_value(), now);
  e = db.set_expire(e, now + 5000);
  auto* list = new list_value;
  list->items = {"a", "b"};
  e = db.convert_to_object(e, list, 1);
  BOOST_TEST(e->holds_object());
  BOOST_TEST(as_list(e)->items.size() == 2u);
  BOOST_TEST(database::expire_of(e) == now + 5000);
  BOOST_TEST(db.lookup("k", now) == e);
  // Dropping the TTL moves the block; the object goes with it.
  e = db.persist(e);
  BOOST_TEST(e->holds_object());
  BOOST_TEST(as_list(e)->items.back() == "b");
  BOOST_TEST(database::expire_of(e) == -1);
}

BOOST_AUTO_TEST_CASE(copy_of_a_list_is_deep) {
  database db;
  const std::int64_t now = 1'000'000;
  auto* list = new list_value;
  list->items = {"x", "y", "z"};
  entry* e = db.add_object("src", value_type::list, list, now);
  entry* c = copy_entry(e, "dst");
  db.attach(c);
  as_list(e)->items.pop_front();
  BOOST_TEST(as_list(c)->items.size() == 3u);
  BOOST_TEST(as_list(e)->items.size() == 2u);
  BOOST_TEST(std::string(c->object()->encoding_name()) == "quicklist");
  BOOST_TEST(c->object()->memory_usage(SIZE_MAX) > 3 * sizeof(std::string));
}

BOOST_AUTO_TEST_SUITE_END()
