// Persistence: CRC-64, LZF, the compact encodings, and the RDB writer and
// reader in both directions (every type in every encoding, TTLs, streams with
// groups, DUMP payloads, corrupt and truncated input).
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "persistence/crc64.hpp"
#include "persistence/encodings.hpp"
#include "persistence/lzf.hpp"
#include "persistence/rdb_reader.hpp"
#include "persistence/rdb_writer.hpp"
#include "store/database.hpp"
#include "store/hash_value.hpp"
#include "store/list_value.hpp"
#include "store/packed.hpp"
#include "store/set_value.hpp"
#include "store/stream_value.hpp"
#include "store/zset_value.hpp"

using namespace shrike;
using namespace shrike::persistence;
using store::entry;
using store::value_type;

namespace {

constexpr std::int64_t now = 1'700'000'000'000;

std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// A canonical text of a value, independent of its encoding and of hash order.
std::string canonical(const entry* e) {
  std::string out = std::to_string(static_cast<int>(e->type)) + ":";
  switch (e->type) {
    case value_type::string: return out + std::string(e->str());
    case value_type::list:
      for (const auto& s : store::as_list(e)->items) out += s + "|";
      return out;
    case value_type::set: {
      std::set<std::string> m;
      store::set_for_each(e, [&](std::string_view s) { m.emplace(s); });
      for (const auto& s : m) out += s + "|";
      return out;
    }
    case value_type::hash: {
      std::map<std::string, std::string> m;
      store::hash_for_each(e, [&](std::string_view f, std::string_view v) { m.emplace(f, v); });
      for (const auto& [f, v] : m) out += f + "=" + v + "|";
      return out;
    }
    case value_type::zset:
      store::zset::with_view(e, [&](auto& v) {
        for (auto p = v.first(); p != v.end(); p = v.next(p))
          out += std::string(v.member(p)) + "@" + std::to_string(v.score(p)) + "|";
      });
      return out;
    case value_type::stream: {
      const auto& s = *static_cast<const store::stream_value*>(e->object());
      out += "len=" + std::to_string(s.length) + " last=" + s.last_id.str() + " first=" + s.first_id.str() +
             " maxdel=" + s.max_deleted_id.str() + " added=" + std::to_string(s.entries_added) + " chunks=" +
             std::to_string(s.chunk_count()) + ";";
      s.range({0, 0}, store::stream_id::max(), 0, false,
              [&](const store::stream_id& id, std::span<const std::string_view> fv) {
                out += id.str() + "{";
                for (auto x : fv) out += std::string(x) + ",";
                out += "}";
              });
      for (const auto& [name, g] : s.groups) {
        out += " group " + name + " last=" + g.last_id.str() + " read=" + std::to_string(g.entries_read);
        for (const auto& [id, n] : g.pel)
          out += " pel " + id.str() + "/" + std::to_string(n.delivery_time) + "/" + std::to_string(n.delivery_count) +
                 "/" + n.owner->name;
        for (const auto& [cname, c] : g.consumers) {
          out += " consumer " + cname + " seen=" + std::to_string(c.seen_time) + " [";
          for (const auto& id : c.pel) out += id.str() + ",";
          out += "]";
        }
      }
      return out;
    }
  }
  return out;
}

const char* encoding_of(const entry* e) {
  if (e->holds_object()) return e->object()->encoding_name();
  switch (e->type) {
    case value_type::set: return "intset";
    case value_type::hash:
    case value_type::zset: return "listpack";
    default: return "string";
  }
}

store::hash_limits hash_lim{512, 64};
store::zset::limits zset_lim{128, 64};

entry* make_hash(store::database& db, std::string_view key, int fields, std::size_t value_len = 5) {
  entry* e = db.add_inline(key, value_type::hash, store::hash_encoding_listpack, store::packed::empty_value(), now);
  for (int i = 0; i < fields; ++i) {
    bool created;
    e = store::hash_set(db, e, "f" + std::to_string(i), std::string(value_len, static_cast<char>('a' + i % 26)),
                        hash_lim, created);
  }
  return e;
}

entry* make_set(store::database& db, std::string_view key, const std::vector<std::string>& members) {
  entry* e = db.add_inline(key, value_type::set, 2, {}, now);
  for (const auto& m : members) {
    bool added;
    e = store::set_add(db, e, m, 512, added);
  }
  return e;
}

entry* make_zset(store::database& db, std::string_view key, int n, double step = 1.5, std::size_t member_len = 3) {
  entry* e = store::zset::create(db, key, false, now);
  for (int i = 0; i < n; ++i) {
    unsigned out;
    double ns;
    std::string member = "m" + std::to_string(i) + std::string(member_len, 'x');
    store::zset::add(db, e, i * step - 3, member, 0, out, ns, zset_lim);
  }
  return e;
}

entry* make_list(store::database& db, std::string_view key, const std::vector<std::string>& items) {
  auto* l = new store::list_value;
  for (const auto& s : items) l->items.push_back(s);
  return db.add_object(key, value_type::list, l, now);
}

store::stream_value* make_stream(store::database& db, std::string_view key, int entries) {
  auto* s = new store::stream_value;
  for (int i = 1; i <= entries; ++i) {
    const std::string v = "value-" + std::to_string(i), n = std::to_string(i);
    const store::stream_id id{1000 + static_cast<std::uint64_t>(i / 3), static_cast<std::uint64_t>(i % 3)};
    if (i % 7 == 0) {
      const std::string_view fv[] = {"other", v, "x", "12"};
      s->append(id, fv);
    } else {
      const std::string_view fv[] = {"name", v, "n", n};
      s->append(id, fv);
    }
  }
  db.add_object(key, value_type::stream, s, now);
  return s;
}

// Writes `src` (one database) as a whole RDB file.
std::string write_file(store::database& src, const rdb_save_options& opts = {}) {
  std::string out;
  rdb_writer w(out, opts);
  w.header(standard_aux(now / 1000, 12345));
  w.select_db(0, src.size(), src.expires_count());
  src.for_each([&](const entry* e) {
    w.key(*e, now);
    w.value(*e);
  });
  w.finish();
  return out;
}

load_result read_file(std::string_view bytes, store::database& dst, const load_limits& lim = {}) {
  rdb_input in(bytes);
  load_options opts;
  opts.databases = 1;
  opts.limits = lim;
  opts.now_ms = now;
  return read_rdb(in, [&](std::size_t, std::string_view) -> store::database& { return dst; }, opts);
}

void expect_same(store::database& a, store::database& b) {
  BOOST_TEST(a.size() == b.size());
  a.for_each([&](const entry* x) {
    entry* y = b.lookup(x->key(), now);
    BOOST_TEST_REQUIRE(y != nullptr, "missing key " << x->key());
    BOOST_TEST(canonical(x) == canonical(y), "value of " << x->key());
    BOOST_TEST(std::string(encoding_of(x)) == std::string(encoding_of(y)), "encoding of " << x->key());
    BOOST_TEST(store::database::expire_of(x) == store::database::expire_of(y), "ttl of " << x->key());
  });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rdb)

BOOST_AUTO_TEST_CASE(crc64_matches_redis) {
  BOOST_TEST(crc64(0, "123456789") == 0xe9c6d914c4b8d9caULL);
  // Chunked = whole.
  std::string text(1000, '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 31 + 7);
  std::uint64_t chunked = 0;
  for (std::size_t i = 0; i < text.size(); i += 13) chunked = crc64(chunked, std::string_view(text).substr(i, 13));
  BOOST_TEST(chunked == crc64(0, text));
  BOOST_TEST(crc64(0, "") == 0u);
}

BOOST_AUTO_TEST_CASE(lzf_round_trip) {
  std::mt19937_64 rng(7);
  for (std::size_t len : {21u, 64u, 100u, 1000u, 5000u, 70000u}) {
    for (int kind = 0; kind < 3; ++kind) {
      std::string in(len, 'a');
      for (auto& c : in)
        c = kind == 0 ? 'a' : kind == 1 ? static_cast<char>('a' + rng() % 4) : static_cast<char>(rng());
      std::string out(len + len / 32 + 64, '\0');  // room for incompressible input
      const std::size_t n = lzf_compress(in.data(), in.size(), out.data(), out.size());
      BOOST_TEST_REQUIRE(n > 0);
      std::string back(len, '\0');
      BOOST_TEST(lzf_decompress(out.data(), n, back.data(), back.size()) == len);
      BOOST_TEST(back == in);
      if (kind == 0 || (kind == 1 && len >= 64)) BOOST_TEST(n < len);
    }
  }
  // Incompressible input does not fit in len - 4 bytes.
  std::string noise(100, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  std::string out(96, '\0');
  BOOST_TEST(lzf_compress(noise.data(), noise.size(), out.data(), 96) == 0u);
  // A back reference pointing before the start is rejected.
  const char bad[] = {'\x20', '\x05'};
  char dst[16];
  BOOST_TEST(lzf_decompress(bad, 2, dst, sizeof(dst)) == 0u);
}

BOOST_AUTO_TEST_CASE(lzf_output_is_liblzf_output) {
  // DUMP of SET aaa (50 x "a") on redis-server 7.0.15: c3 09 32 + these 9 bytes.
  const std::string in(50, 'a');
  char out[64];
  const std::size_t n = lzf_compress(in.data(), in.size(), out, 46);
  BOOST_TEST(hex(std::string_view(out, n)) == "016161e02500016161");
}

BOOST_AUTO_TEST_CASE(listpack_encodings) {
  listpack_builder lp;
  const std::vector<std::string> items = {"0",      "127",   "128",         "-1",       "4095",   "-4096",
                                          "32767",  "-32768", "8388607",    "-8388608", "2147483647",
                                          "-2147483648", "9223372036854775807", "-9223372036854775808",
                                          "007",    "",       std::string(63, 'x'), std::string(64, 'y'),
                                          std::string(4095, 'z'), std::string(4096, 'w'), "-0", "1.5"};
  for (const auto& s : items) lp.add(s);
  const std::string bytes = lp.finish();
  std::vector<packed_element> back;
  BOOST_TEST_REQUIRE(parse_listpack(bytes, back));
  BOOST_TEST_REQUIRE(back.size() == items.size());
  for (std::size_t i = 0; i < items.size(); ++i) BOOST_TEST(back[i].text() == items[i]);
  BOOST_TEST(back[0].is_int);
  BOOST_TEST(!back[14].is_int);  // "007" is not canonical
  BOOST_TEST(!back[20].is_int);  // nor is "-0"
  // Known bytes: lpAppend("a"), lpAppend("1"), lpAppend("-100").
  listpack_builder small;
  small.add("a");
  small.add("1");
  small.add("-100");
  BOOST_TEST(hex(small.finish()) == "0f00000003008161020101df9c02ff");
  // Corruption is detected.
  std::string broken = bytes;
  broken[10] = static_cast<char>(0xf7);
  back.clear();
  BOOST_TEST(!parse_listpack(broken, back));
  back.clear();
  BOOST_TEST(!parse_listpack(std::string_view(bytes).substr(0, bytes.size() - 1), back));
}

BOOST_AUTO_TEST_CASE(ziplist_intset_zipmap_decoding) {
  std::vector<packed_element> el;
  BOOST_TEST_REQUIRE(parse_ziplist(unhex("0f0000000c0000000200" "00f3" "02f6" "ff"), el));
  BOOST_TEST_REQUIRE(el.size() == 2u);
  BOOST_TEST(el[0].num == 2);
  BOOST_TEST(el[1].num == 5);
  el.clear();
  BOOST_TEST(!parse_ziplist(unhex("0f0000000b0000000200" "00f3" "02f6" "ff"), el));  // wrong tail

  std::uint8_t width;
  std::string_view contents;
  const std::string is = unhex("02000000" "03000000" "fffe" "0100" "0500");
  BOOST_TEST_REQUIRE(parse_intset(is, width, contents));
  BOOST_TEST(width == 2);
  BOOST_TEST(contents.size() == 6u);
  BOOST_TEST(build_intset(width, contents) == is);
  BOOST_TEST(!parse_intset(unhex("02000000" "02000000" "0500" "0100"), width, contents));  // not sorted

  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  const std::string zm = std::string("\x02\x03" "foo" "\x03\x00" "bar" "\x05" "hello" "\x05\x00" "world" "\xff", 24);
  BOOST_TEST_REQUIRE(parse_zipmap(zm, pairs));
  BOOST_TEST(pairs.size() == 2u);
  BOOST_TEST(pairs[1].first == "hello");
  BOOST_TEST(pairs[1].second == "world");
}

BOOST_AUTO_TEST_CASE(dump_payloads_match_redis) {
  // DUMP replies of redis-server 7.0.15 for the same values, CRC included.
  store::database db;
  db.set_string("k", "12", now);
  db.set_string("big", "123456789012", now);
  db.set_string("neg", "-40000", now);
  db.set_string("txt", "hello", now);
  db.set_string("aaa", std::string(50, 'a'), now);
  make_list(db, "l", {"a", "1", "-100"});
  auto dump = [&](const char* key) { return hex(create_dump_payload(*db.lookup(key, now))); };
  BOOST_TEST(dump("k") == "00c00c0a003c2af8515c04bcd5");
  BOOST_TEST(dump("big") == "000c3132333435363738393031320a00911001b1d116e7ac");
  BOOST_TEST(dump("neg") == "00c2c063ffff0a00ab5d46751b1daa83");
  BOOST_TEST(dump("txt") == "000568656c6c6f0a006372df766534200a");
  BOOST_TEST(dump("aaa") == "00c30932016161e025000161610a0009ac48b9ab15fbc9");
  BOOST_TEST(dump("l") == "1201020f0f00000003008161020101df9c02ff0a003b7dcf119eeb955f");
}

BOOST_AUTO_TEST_CASE(round_trip_every_type_and_encoding) {
  store::database src;
  src.set_string("str", "hello world", now);
  src.set_string("int", "-12345", now);
  src.set_string("bigint", "9223372036854775807", now);
  src.set_string("long", std::string(1000, 'q') + "tail", now);
  src.set_string("binary", std::string("\0\xff\r\n\x01 bin", 9), now);
  src.set_string("empty", "", now);
  src.set_string("ttl", "v", now, now + 100000);
  make_hash(src, "hash_small", 5);
  make_hash(src, "hash_big", 600);
  make_hash(src, "hash_long_value", 3, 100);
  make_set(src, "set_int", {"1", "-5", "100000", "3"});
  make_set(src, "set_wide", {"1", "9000000000"});
  make_set(src, "set_str", {"a", "b", "1"});
  {
    std::vector<std::string> many;
    for (int i = 0; i < 600; ++i) many.push_back(std::to_string(i * 3));
    make_set(src, "set_many", many);
  }
  make_zset(src, "zset_small", 10);
  make_zset(src, "zset_big", 200);
  make_zset(src, "zset_long_member", 3, 1.0, 80);
  {
    entry* z = make_zset(src, "zset_specials", 0);
    unsigned out;
    double ns;
    for (auto [s, m] : std::vector<std::pair<double, const char*>>{
             {-HUGE_VAL, "ninf"}, {HUGE_VAL, "pinf"}, {0.1, "tenth"}, {1e300, "huge"}, {-0.0, "negzero"}, {4611686018427387904.0, "big"}})
      store::zset::add(src, z, s, m, 0, out, ns, zset_lim);
  }
  make_list(src, "list_small", {"a", "1", "b", "-7"});
  {
    std::vector<std::string> items;
    for (int i = 0; i < 3000; ++i) items.push_back("element-" + std::to_string(i));
    make_list(src, "list_big", items);
  }
  make_list(src, "list_fat", {std::string(10000, 'f'), "x", std::string(9000, 'g')});
  {
    store::stream_value* s = make_stream(src, "stream", 250);
    s->remove({1000 + 10 / 3, 10 % 3});
    s->max_deleted_id = {1000 + 10 / 3, 10 % 3};
    auto& g = s->groups["g1"];
    g.last_id = {1050, 0};
    g.entries_read = 150;
    auto& c1 = g.create_consumer("alice", now - 5000);
    auto& c2 = g.create_consumer("bob", now - 100);
    g.deliver({1001, 0}, c1, now - 4000);
    g.deliver({1002, 1}, c2, now - 3000).delivery_count = 3;
    g.deliver({1003, 2}, c1, now - 2000);
    auto& g2 = s->groups["empty-group"];
    g2.entries_read = -1;
  }
  make_stream(src, "stream_empty", 0);

  const std::string file = write_file(src);
  BOOST_TEST(file.substr(0, 9) == "REDIS0010");
  store::database dst;
  const load_result res = read_file(file, dst);
  BOOST_TEST(res.version == 10);
  BOOST_TEST(res.checksum_checked);
  BOOST_TEST(res.keys_loaded == src.size());
  expect_same(src, dst);
  // And the file we write from the loaded copy is the same file (hash order aside).
  store::database again;
  read_file(write_file(dst), again);
  expect_same(dst, again);
}

BOOST_AUTO_TEST_CASE(load_applies_the_configured_limits) {
  store::database src;
  make_hash(src, "h", 10);
  make_zset(src, "z", 10);
  make_set(src, "s", {"1", "2", "3", "4"});
  const std::string file = write_file(src);
  load_limits small;
  small.hash_max_entries = 5;
  small.zset_max_entries = 5;
  small.set_max_intset = 3;
  store::database dst;
  read_file(file, dst, small);
  BOOST_TEST(std::string(encoding_of(dst.lookup("h", now))) == "hashtable");
  BOOST_TEST(std::string(encoding_of(dst.lookup("z", now))) == "skiplist");
  BOOST_TEST(std::string(encoding_of(dst.lookup("s", now))) == "hashtable");
  BOOST_TEST(canonical(dst.lookup("h", now)) == canonical(src.lookup("h", now)));
  BOOST_TEST(canonical(dst.lookup("z", now)) == canonical(src.lookup("z", now)));
}

BOOST_AUTO_TEST_CASE(expired_keys_are_skipped) {
  store::database src;
  src.set_string("gone", "v", now, now - 1);
  src.set_string("kept", "v", now, now + 1);
  store::database dst;
  const auto res = read_file(write_file(src), dst);
  BOOST_TEST(res.keys_expired == 1u);
  BOOST_TEST(res.keys_loaded == 1u);
  BOOST_TEST(dst.size() == 1u);
  BOOST_TEST(store::database::expire_of(dst.lookup("kept", now)) == now + 1);
}

BOOST_AUTO_TEST_CASE(truncated_or_corrupt_files_fail_cleanly) {
  store::database src;
  src.set_string("s", std::string(300, 'x') + "y", now);
  make_hash(src, "h", 4);
  make_zset(src, "z", 200);
  make_list(src, "l", {"a", "b"});
  make_stream(src, "st", 20);
  const std::string file = write_file(src);
  // Every truncation is an error, never a crash or a silent partial load.
  for (std::size_t n = 0; n < file.size(); ++n) {
    store::database dst;
    BOOST_CHECK_THROW(read_file(std::string_view(file).substr(0, n), dst), rdb_error);
  }
  // A flipped byte is caught, by the structure checks or by the CRC.
  for (std::size_t i = 9; i < file.size(); i += 7) {
    std::string bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    store::database dst;
    BOOST_CHECK_THROW(read_file(bad, dst), rdb_error);
  }
  // The error names the offset.
  std::string bad = file;
  bad[bad.size() - 1] ^= 1;
  store::database dst;
  try {
    read_file(bad, dst);
    BOOST_FAIL("expected an error");
  } catch (const rdb_error& e) {
    BOOST_TEST(std::string(e.what()).find("Wrong RDB checksum") != std::string::npos);
    BOOST_TEST(e.offset() == file.size() - 8);
  }
  // A zero checksum is not checked (rdbchecksum no).
  std::string unchecked = write_file(src, rdb_save_options{true, false, -2, false});
  BOOST_TEST(unchecked.substr(unchecked.size() - 8) == std::string(8, '\0'));
  store::database dst2;
  BOOST_TEST(!read_file(unchecked, dst2).checksum_checked);
  BOOST_TEST(dst2.size() == src.size());
}

BOOST_AUTO_TEST_CASE(random_corruption_never_crashes) {
  // With the CRC check off, mutated files reach the structure checks: each
  // must load or fail with rdb_error (run under ASan/UBSan in CI builds).
  store::database src;
  src.set_string("s", std::string(300, 'x') + "y", now);
  src.set_string("n", "123", now, now + 5000);
  make_hash(src, "h", 4);
  make_hash(src, "hb", 600);
  make_set(src, "i", {"1", "2", "70000"});
  make_set(src, "ss", {"a", "b"});
  make_zset(src, "z", 20);
  make_zset(src, "zb", 200);
  make_list(src, "l", {"a", "b", "12345", std::string(100, 'l')});
  store::stream_value* st = make_stream(src, "st", 30);
  auto& g = st->groups["g"];
  g.deliver({1001, 0}, g.create_consumer("c", now), now);
  const std::string file = write_file(src);
  std::mt19937_64 rng(2024);
  int loaded = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bad = file;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[9 + rng() % (bad.size() - 9)] = static_cast<char>(rng());
    store::database dst;
    rdb_input in(bad);
    load_options opts;
    opts.databases = 1;
    opts.now_ms = now;
    opts.verify_checksum = false;
    try {
      read_rdb(in, [&](std::size_t, std::string_view) -> store::database& { return dst; }, opts);
      ++loaded;
    } catch (const rdb_error&) {
    }
  }
  BOOST_TEST(loaded < 3000);
}

BOOST_AUTO_TEST_CASE(dump_payloads) {
  store::database db;
  make_hash(db, "h", 3);
  const std::string payload = create_dump_payload(*db.lookup("h", now));
  BOOST_TEST(verify_dump_payload(payload));
  decoded_value v = read_dump_payload(payload, {});
  BOOST_TEST(!v.empty);
  store::database other;
  entry* e = store_value(other, "h", std::move(v), now);
  BOOST_TEST(canonical(e) == canonical(db.lookup("h", now)));
  // The version and the CRC are checked.
  std::string bad = payload;
  bad[0] ^= 1;
  BOOST_TEST(!verify_dump_payload(bad));
  bad = payload;
  bad[bad.size() - 10] = 11;  // RDB version 11
  BOOST_TEST(!verify_dump_payload(bad));
  BOOST_TEST(!verify_dump_payload("short"));
}

BOOST_AUTO_TEST_CASE(old_encodings_load) {
  // A RESTORE payload of a ziplist hash (type 13) as Redis 6 wrote it:
  // {"a": "1", "bb": "x"} and a zipmap hash, a ziplist zset, a v1 quicklist.
  auto payload = [](std::string body) {
    body.push_back(9);
    body.push_back(0);
    const std::uint64_t crc = crc64(0, body);
    for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>(crc >> (8 * i)));
    return body;
  };
  auto as_string = [](std::string blob) {
    std::string s;
    s.push_back(static_cast<char>(blob.size()));
    return s + blob;
  };
  // ziplist: "a", 1, "bb", "x"
  const std::string zl = unhex("17000000" "13000000" "0400" "000161" "03f2" "02026262" "040178" "ff");
  {
    store::database db;
    decoded_value v = read_dump_payload(payload("\x0d" + as_string(zl)), {});
    entry* e = store_value(db, "h", std::move(v), now);
    BOOST_TEST(canonical(e) == "4:a=1|bb=x|");
    BOOST_TEST(std::string(encoding_of(e)) == "listpack");
  }
  {
    store::database db;
    const std::string zm = std::string("\x01\x01" "f" "\x01\x00" "v" "\xff", 7);
    entry* e = store_value(db, "h", read_dump_payload(payload("\x09" + as_string(zm)), {}), now);
    BOOST_TEST(canonical(e) == "4:f=v|");
  }
  {
    store::database db;
    entry* e = store_value(db, "z", read_dump_payload(payload("\x0c" + as_string(zl)), {}), now);
    BOOST_TEST(canonical(e) == "3:bb@0.000000|a@1.000000|");  // "x" reads as 0
  }
  {
    store::database db;
    entry* e = store_value(db, "l", read_dump_payload(payload(std::string("\x0e\x01", 2) + as_string(zl)), {}), now);
    BOOST_TEST(canonical(e) == "1:a|1|bb|x|");
  }
  {
    // ZSET (type 3) with text doubles: "m" 2.5, "n" inf.
    store::database db;
    entry* e = store_value(db, "z", read_dump_payload(payload(std::string("\x03\x02\x01m\x03" "2.5" "\x01n\xfe", 11)), {}), now);
    BOOST_TEST(canonical(e) == "3:m@2.500000|n@inf|");
  }
}

BOOST_AUTO_TEST_SUITE_END()
