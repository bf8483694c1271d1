#include "persistence/rdb_writer.hpp"

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>

#include "persistence/crc64.hpp"
#include "persistence/encodings.hpp"
#include "persistence/lzf.hpp"
#include "persistence/rdb_format.hpp"
#include "store/access_stamp.hpp"
#include "store/hash_value.hpp"
#include "store/list_value.hpp"
#include "store/packed.hpp"
#include "store/set_value.hpp"
#include "store/stream_value.hpp"
#include "store/zset_value.hpp"
#include "util/numbers.hpp"

namespace shrike::persistence {

namespace {

using store::entry;
using store::value_type;

// quicklist.c: the byte limits of negative fills, the safety limit of
// positive ones, the per-element overhead estimate, and the size from which
// an element gets a PLAIN node of its own.
constexpr std::size_t fill_levels[] = {4096, 8192, 16384, 32768, 65536};
constexpr std::size_t size_safety_limit = 8192;
constexpr std::size_t size_estimate_overhead = 8;
constexpr std::size_t plain_threshold = std::size_t{1} << 30;

// _quicklistNodeAllowInsert for a node of `node_bytes` (lpBytes) holding `count` elements.
bool node_allows(std::size_t node_bytes, std::size_t count, int fill, std::size_t element_len) {
  const std::size_t new_sz = node_bytes + element_len + size_estimate_overhead;
  if (fill < 0) {
    const auto level = static_cast<std::size_t>(-fill) - 1;
    if (level < std::size(fill_levels) && new_sz <= fill_levels[level]) return true;
  }
  if (new_sz > size_safety_limit) return false;
  return static_cast<long long>(count) < fill;
}

// Bytes a listpack entry for `s` takes (lpEncodeGetType + backlen).
std::size_t listpack_entry_size(std::string_view s) {
  std::int64_t v;
  std::size_t len;
  if (util::parse_int64(s, v)) {
    len = v >= 0 && v <= 127                             ? 1
          : v >= -4096 && v <= 4095                      ? 2
          : v >= -32768 && v <= 32767                    ? 3
          : v >= -8388608 && v <= 8388607                ? 4
          : v >= -2147483648LL && v <= 2147483647LL      ? 5
                                                         : 9;
  } else {
    len = s.size() + (s.size() < 64 ? 1 : s.size() < 4096 ? 2 : 5);
  }
  return len + (len <= 127 ? 1 : len < 16383 ? 2 : len < 2097151 ? 3 : len < 268435455 ? 4 : 5);
}

// A score as zzlInsertAt stores it: an integer when double2ll allows,
// otherwise d2string's text.
void add_score(listpack_builder& lp, double d) {
  if (d >= static_cast<double>(-LLONG_MAX / 2) && d <= static_cast<double>(LLONG_MAX / 2)) {
    const auto ll = static_cast<long long>(d);
    if (static_cast<double>(ll) == d) return lp.add_int(ll);
  }
  if (std::isinf(d)) return lp.add(d < 0 ? "-inf" : "inf");
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  lp.add(std::string_view(buf, static_cast<std::size_t>(n)));
}

double raw_score(std::string_view element) {
  double d;
  std::memcpy(&d, element.data(), sizeof(d));
  return d;
}

// The 16-byte big-endian form of a stream id (rax keys, PEL entries).
void put_stream_id(std::string& out, const store::stream_id& id) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(id.ms >> (8 * i)));
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(id.seq >> (8 * i)));
}

// One entry of a stream chunk (store/stream_value.hpp's documented layout:
// [flags][ms - base.ms varint][seq varint][pairs varint]([len varint][bytes])*,
// flag bit 0 = deleted).
struct chunk_entry {
  bool deleted = false;
  store::stream_id id;
  std::vector<std::string_view> fields_values;
};

std::uint64_t read_varint(const char*& p) { return store::read_chunk_varint(p); }

std::vector<chunk_entry> decode_chunk(const store::stream_chunk& c) {
  std::vector<chunk_entry> out;
  const char* p = c.buf.data();
  const char* end = p + c.buf.size();
  while (p < end) {
    chunk_entry ce;
    ce.deleted = (static_cast<std::uint8_t>(*p++) & 1) != 0;
    ce.id.ms = c.base.ms + read_varint(p);
    ce.id.seq = read_varint(p);
    const std::uint64_t pairs = read_varint(p);
    for (std::uint64_t i = 0; i < 2 * pairs; ++i) {
      const std::uint64_t len = read_varint(p);
      ce.fields_values.emplace_back(p, len);
      p += len;
    }
    out.push_back(std::move(ce));
  }
  return out;
}

// A chunk as the listpack node Redis would hold for the same entries: the
// master entry (live count, deleted count, the first entry's field names, 0),
// then every entry, tombstones included, delta-encoded against the node's
// first id, with SAMEFIELDS when its field names are the master's.
void build_stream_node(listpack_builder& lp, const store::stream_chunk& c, const std::vector<chunk_entry>& entries) {
  lp.reset();
  lp.add_int(c.live);
  lp.add_int(static_cast<std::int64_t>(c.total) - static_cast<std::int64_t>(c.live));
  std::vector<std::string_view> master;
  if (!entries.empty())
    for (std::size_t i = 0; i < entries.front().fields_values.size(); i += 2)
      master.push_back(entries.front().fields_values[i]);
  lp.add_int(static_cast<std::int64_t>(master.size()));
  for (auto f : master) lp.add(f);
  lp.add_int(0);
  for (const auto& ce : entries) {
    const std::size_t nfields = ce.fields_values.size() / 2;
    bool same = nfields == master.size();
    for (std::size_t i = 0; same && i < nfields; ++i) same = ce.fields_values[2 * i] == master[i];
    std::int64_t flags = ce.deleted ? rdb::stream_flag_deleted : 0;
    if (same) flags |= rdb::stream_flag_samefields;
    lp.add_int(flags);
    lp.add_int(static_cast<std::int64_t>(ce.id.ms - c.base.ms));
    lp.add_int(static_cast<std::int64_t>(ce.id.seq - c.base.seq));
    if (!same) lp.add_int(static_cast<std::int64_t>(nfields));
    for (std::size_t i = 0; i < nfields; ++i) {
      if (!same) lp.add(ce.fields_values[2 * i]);
      lp.add(ce.fields_values[2 * i + 1]);
    }
    auto lp_count = static_cast<std::int64_t>(nfields) + 3;
    if (!same) lp_count += static_cast<std::int64_t>(nfields) + 1;
    lp.add_int(lp_count);
  }
}

}  // namespace

aux_fields standard_aux(std::int64_t now_s, std::uint64_t used_memory) {
  return {{"redis-ver", rdb::redis_version},
          {"redis-bits", std::to_string(sizeof(void*) * 8)},
          {"ctime", std::to_string(now_s)},
          {"used-mem", std::to_string(used_memory)},
          {"aof-base", "0"}};
}

// Every public call appends through one of these: when it goes out of scope
// the bytes appended during the call are added to the CRC and the count.
class rdb_writer::appending {
 public:
  explicit appending(rdb_writer& w) : w_(w), start_(w.out_.size()) {}
  ~appending() {
    const std::size_t n = w_.out_.size() - start_;
    if (w_.opts_.checksum) w_.crc_ = crc64(w_.crc_, w_.out_.data() + start_, n);
    w_.written_ += n;
  }
  appending(const appending&) = delete;
  appending& operator=(const appending&) = delete;

 private:
  rdb_writer& w_;
  std::size_t start_;
};

std::uint8_t rdb_writer::type_of(const entry& e) {
  switch (e.type) {
    case value_type::string: return rdb::type_string;
    case value_type::list: return rdb::type_list_quicklist_2;
    case value_type::set: return e.holds_object() ? rdb::type_set : rdb::type_set_intset;
    case value_type::zset: return e.holds_object() ? rdb::type_zset_2 : rdb::type_zset_listpack;
    case value_type::hash: return e.holds_object() ? rdb::type_hash : rdb::type_hash_listpack;
    case value_type::stream: return rdb::type_stream_listpacks_2;
  }
  return rdb::type_string;
}

void rdb_writer::put_le64(std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  put(b, 8);
}

void rdb_writer::put_len(std::uint64_t len) {
  if (len < (1u << 6)) {
    put_byte(static_cast<std::uint8_t>(len));
  } else if (len < (1u << 14)) {
    put_byte(static_cast<std::uint8_t>((len >> 8) | 0x40));
    put_byte(static_cast<std::uint8_t>(len & 0xff));
  } else if (len <= UINT32_MAX) {
    put_byte(rdb::len_32bit);
    for (int i = 3; i >= 0; --i) put_byte(static_cast<std::uint8_t>(len >> (8 * i)));
  } else {
    put_byte(rdb::len_64bit);
    for (int i = 7; i >= 0; --i) put_byte(static_cast<std::uint8_t>(len >> (8 * i)));
  }
}

void rdb_writer::put_string(std::string_view s) {
  const std::size_t len = s.size();
  if (len <= 11) {
    std::int64_t v;
    if (util::parse_int64(s, v) && v >= INT32_MIN && v <= INT32_MAX) {
      if (v >= -128 && v <= 127) {
        put_byte(0xc0 | rdb::enc_int8);
        put_byte(static_cast<std::uint8_t>(v));
      } else if (v >= -32768 && v <= 32767) {
        put_byte(0xc0 | rdb::enc_int16);
        for (int i = 0; i < 2; ++i) put_byte(static_cast<std::uint8_t>(v >> (8 * i)));
      } else {
        put_byte(0xc0 | rdb::enc_int32);
        for (int i = 0; i < 4; ++i) put_byte(static_cast<std::uint8_t>(v >> (8 * i)));
      }
      return;
    }
  }
  if (opts_.compress && len > 20) {
    // Worth it only when it saves at least 4 bytes (rdbSaveLzfStringObject).
    const std::size_t max_out = len - 4;
    scratch_.resize(max_out + 1);
    const std::size_t n = lzf_compress(s.data(), len, scratch_.data(), max_out);
    if (n > 0) {
      put_byte(0xc0 | rdb::enc_lzf);
      put_len(n);
      put_len(len);
      put(scratch_.data(), n);
      return;
    }
  }
  put_len(len);
  put(s.data(), len);
}

void rdb_writer::header(const aux_fields& aux) {
  appending a(*this);
  char magic[16];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", rdb::version);
  put(magic, 9);
  for (const auto& [k, v] : aux) {
    put_byte(rdb::opcode_aux);
    put_string(k);
    put_string(v);
  }
  if (opts_.functions)
    for (const auto& code : *opts_.functions) {
      put_byte(rdb::opcode_function2);
      put_string(code);
    }
}

void rdb_writer::select_db(std::size_t db, std::uint64_t keys, std::uint64_t expires) {
  appending a(*this);
  put_byte(rdb::opcode_selectdb);
  put_len(db);
  put_byte(rdb::opcode_resizedb);
  put_len(keys);
  put_len(expires);
}

void rdb_writer::key(const entry& e, std::int64_t now_ms) {
  appending a(*this);
  if (e.has_expire()) {
    put_byte(rdb::opcode_expiretime_ms);
    put_le64(static_cast<std::uint64_t>(e.expiry()->at_ms));
  }
  if (opts_.save_idle) {
    const std::int64_t idle = now_ms / 1000 - static_cast<std::int64_t>(e.lru);
    put_byte(rdb::opcode_idle);
    put_len(static_cast<std::uint64_t>(idle > 0 ? idle : 0));
  }
  if (opts_.save_freq) {
    put_byte(rdb::opcode_freq);
    put_byte(static_cast<std::uint8_t>(store::access_stamp::lfu_counter(e.lru, now_ms)));
  }
  put_byte(type_of(e));
  put_string(e.key());
}

void rdb_writer::value_type(const entry& e) {
  appending a(*this);
  put_byte(type_of(e));
}

void rdb_writer::value(const entry& e) {
  appending a(*this);
  switch (e.type) {
    case value_type::string: return put_string(e.str());
    case value_type::list: return put_list(e);
    case value_type::set: return put_set(e);
    case value_type::zset: return put_zset(e);
    case value_type::hash: return put_hash(e);
    case value_type::stream: return put_stream(e);
  }
}

void rdb_writer::finish() {
  {
    appending a(*this);
    put_byte(rdb::opcode_eof);
  }
  put_le64(crc_);  // the trailer is not part of the checksum
  written_ += 8;
}

void rdb_writer::put_list(const entry& e) {
  const std::deque<std::string>& items = store::as_list(&e)->items;
  // First pass: the node boundaries quicklistPushTail would make.
  struct node {
    std::size_t count;
    bool plain;
  };
  std::vector<node> nodes;
  std::size_t node_bytes = 0;
  for (const auto& s : items) {
    if (s.size() >= plain_threshold) {
      nodes.push_back({1, true});
      continue;
    }
    if (nodes.empty() || nodes.back().plain || !node_allows(node_bytes, nodes.back().count, opts_.list_fill, s.size())) {
      nodes.push_back({0, false});
      node_bytes = 7;  // an empty listpack
    }
    ++nodes.back().count;
    node_bytes += listpack_entry_size(s);
  }
  put_len(nodes.size());
  listpack_builder lp;
  auto it = items.begin();
  for (const auto& n : nodes) {
    if (n.plain) {
      put_len(rdb::container_plain);
      put_string(*it++);
      continue;
    }
    put_len(rdb::container_packed);
    lp.reset();
    for (std::size_t i = 0; i < n.count; ++i) lp.add(*it++);
    put_string(lp.finish());
  }
}

void rdb_writer::put_set(const entry& e) {
  if (!e.holds_object()) return put_string(build_intset(e.encoding, e.str()));
  const auto& set = store::as_set_object(&e);
  put_len(set.size());
  set.table().for_each([&](const entry* m) { put_string(m->key()); });
}

void rdb_writer::put_zset(const entry& e) {
  if (!e.holds_object()) {
    listpack_builder lp;
    store::packed::reader r(e.str());
    while (!r.done()) {
      lp.add(r.next());
      add_score(lp, raw_score(r.next()));
    }
    return put_string(lp.finish());
  }
  const auto& z = store::as_zset_object(&e);
  put_len(z.size());
  for (const entry* n = z.last(); n; n = store::zset_object::prev(n)) {
    put_string(n->key());
    std::uint64_t bits;
    const double d = store::zsl::score(n);
    std::memcpy(&bits, &d, sizeof(bits));
    put_le64(bits);
  }
}

void rdb_writer::put_hash(const entry& e) {
  if (!e.holds_object()) {
    listpack_builder lp;
    store::packed::reader r(e.str());
    while (!r.done()) lp.add(r.next());
    return put_string(lp.finish());
  }
  const auto& h = store::as_hash_object(&e);
  put_len(h.size());
  h.table().for_each([&](const entry* f) {
    put_string(f->key());
    put_string(f->str());
  });
}

void rdb_writer::put_stream(const entry& e) {
  const auto& s = *static_cast<const store::stream_value*>(e.object());
  put_len(s.chunks().size());
  listpack_builder lp;
  std::string key;
  for (const auto& c : s.chunks()) {
    key.clear();
    put_stream_id(key, c.base);
    put_string(key);
    build_stream_node(lp, c, decode_chunk(c));
    put_string(lp.finish());
  }
  put_len(s.length);
  put_len(s.last_id.ms);
  put_len(s.last_id.seq);
  put_len(s.first_id.ms);
  put_len(s.first_id.seq);
  put_len(s.max_deleted_id.ms);
  put_len(s.max_deleted_id.seq);
  put_len(s.entries_added);
  put_len(s.groups.size());
  std::string raw_id;
  for (const auto& [name, g] : s.groups) {
    put_string(name);
    put_len(g.last_id.ms);
    put_len(g.last_id.seq);
    put_len(static_cast<std::uint64_t>(g.entries_read));  // -1 (unknown) as 2^64-1, as Redis
    put_len(g.pel.size());
    for (const auto& [id, nack] : g.pel) {
      raw_id.clear();
      put_stream_id(raw_id, id);
      put(raw_id.data(), raw_id.size());
      put_le64(static_cast<std::uint64_t>(nack.delivery_time));
      put_len(nack.delivery_count);
    }
    put_len(g.consumers.size());
    for (const auto& [cname, consumer] : g.consumers) {
      put_string(cname);
      put_le64(static_cast<std::uint64_t>(consumer.seen_time));
      put_len(consumer.pel.size());
      for (const auto& id : consumer.pel) {
        raw_id.clear();
        put_stream_id(raw_id, id);
        put(raw_id.data(), raw_id.size());
      }
    }
  }
}

std::string create_dump_payload(const entry& e, const rdb_save_options& opts) {
  std::string out;
  rdb_save_options o = opts;
  o.checksum = true;  // DUMP payloads always carry their CRC
  rdb_writer w(out, o);
  w.value_type(e);
  w.value(e);
  out.push_back(static_cast<char>(rdb::version & 0xff));
  out.push_back(static_cast<char>((rdb::version >> 8) & 0xff));
  const std::uint64_t crc = crc64(0, out.data(), out.size());
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

}  // namespace shrike::persistence
