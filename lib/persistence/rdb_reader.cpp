#include "persistence/rdb_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <unordered_set>

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

// ---- rdb_input ----

namespace {
constexpr std::size_t block_size = std::size_t{1} << 16;
}  // namespace

rdb_input::rdb_input(std::string_view bytes) : total_(bytes.size()), buf_(bytes.data()), len_(bytes.size()) {}

rdb_input::rdb_input(std::FILE* file, std::uint64_t size)
    : file_(file), total_(size), storage_(new char[block_size]), buf_(storage_.get()) {}

void rdb_input::fold_crc() {
  if (pos_ > crc_pos_) crc_ = crc64(crc_, buf_ + crc_pos_, pos_ - crc_pos_);
  crc_pos_ = pos_;
}

bool rdb_input::refill() {
  if (!file_) return false;
  fold_crc();
  base_ += len_;
  pos_ = crc_pos_ = 0;
  len_ = std::fread(storage_.get(), 1, block_size, file_);
  return len_ > 0;
}

void rdb_input::read(void* dst, std::size_t n) {
  auto* d = static_cast<char*>(dst);
  while (n) {
    if (pos_ == len_ && !refill()) fail("Unexpected EOF reading RDB file");
    const std::size_t k = std::min(n, len_ - pos_);
    std::memcpy(d, buf_ + pos_, k);
    pos_ += k;
    d += k;
    n -= k;
  }
}

std::uint8_t rdb_input::byte() {
  if (pos_ == len_ && !refill()) fail("Unexpected EOF reading RDB file");
  return static_cast<std::uint8_t>(buf_[pos_++]);
}

std::uint64_t rdb_input::remaining() const {
  if (!total_ && file_) return UINT64_MAX;
  return total_ > offset() ? total_ - offset() : 0;
}

bool rdb_input::at_end() { return pos_ == len_ && !refill(); }

std::uint64_t rdb_input::crc() {
  fold_crc();
  return crc_;
}

// ---- values ----

namespace {

using store::value_type;

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 128)) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 128) out += "...";
  return out;
}

// moduleTypeNameByID: the 9-character name in the top 54 bits of the id.
std::string module_type_name(std::uint64_t id) {
  static constexpr char charset[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string name(9, ' ');
  id >>= 10;
  for (int j = 8; j >= 0; --j) {
    name[static_cast<std::size_t>(j)] = charset[id & 63];
    id >>= 6;
  }
  return name;
}

// The inline packed form (store/packed.hpp) built element by element.
class packed_builder {
 public:
  packed_builder() : bytes_(store::packed::header_size, '\0') {}
  void add(std::string_view s) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + store::packed::element_size(s.size()));
    store::packed::write_element(bytes_.data() + at, s);
    ++count_;
  }
  std::string finish() {
    std::memcpy(bytes_.data(), &count_, sizeof(count_));
    return std::move(bytes_);
  }

 private:
  std::string bytes_;
  std::uint32_t count_ = 0;
};

struct zset_item {
  std::string member;
  double score;
};

class value_reader {
 public:
  value_reader(rdb_input& in, const load_limits& lim) : in_(in), lim_(lim) {}

  decoded_value read(int type);

  std::uint64_t length() {
    bool encoded = false;
    const std::uint64_t n = length(&encoded);
    if (encoded) in_.fail("Unexpected string encoding where a length was expected");
    return n;
  }
  std::uint64_t length(bool* encoded);
  std::string string();
  std::uint64_t le(int bytes) {
    unsigned char b[8];
    in_.read(b, static_cast<std::size_t>(bytes));
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }

 private:
  double text_double();
  double binary_double() {
    const std::uint64_t bits = le(8);
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    return d;
  }
  store::stream_id raw_stream_id() {
    unsigned char b[16];
    in_.read(b, sizeof(b));
    store::stream_id id;
    for (int i = 0; i < 8; ++i) id.ms = (id.ms << 8) | b[i];
    for (int i = 8; i < 16; ++i) id.seq = (id.seq << 8) | b[i];
    return id;
  }
  std::vector<packed_element> listpack(std::string_view blob, const char* what);
  std::vector<packed_element> ziplist(std::string_view blob, const char* what);

  decoded_value list(int type);
  decoded_value set_plain();
  decoded_value set_intset();
  decoded_value zset_plain(bool binary);
  decoded_value zset_packed(std::vector<packed_element> elements);
  decoded_value zset_from(std::vector<zset_item>& items, bool keep_packed);
  decoded_value hash_plain();
  decoded_value hash_from(std::vector<std::pair<std::string, std::string>>& pairs, bool packed);
  decoded_value hash_zipmap();
  decoded_value hash_packed(std::vector<packed_element> elements);
  decoded_value stream(int type);

  rdb_input& in_;
  const load_limits& lim_;
};

std::uint64_t value_reader::length(bool* encoded) {
  const std::uint8_t b = in_.byte();
  *encoded = false;
  switch (b >> 6) {
    case 3:
      *encoded = true;
      return b & 0x3f;
    case 0: return b & 0x3f;
    case 1: return (std::uint64_t{b & 0x3fu} << 8) | in_.byte();
    default: break;
  }
  if (b != rdb::len_32bit && b != rdb::len_64bit) in_.fail("Unknown length encoding " + std::to_string(b) + " in rdbLoadLen()");
  const int n = b == rdb::len_32bit ? 4 : 8;
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | in_.byte();
  return v;
}

std::string value_reader::string() {
  bool encoded;
  const std::uint64_t n = length(&encoded);
  if (!encoded) {
    if (n > in_.remaining()) in_.fail("Unexpected EOF reading RDB file (string of " + std::to_string(n) + " bytes)");
    std::string s(n, '\0');
    in_.read(s.data(), n);
    return s;
  }
  switch (n) {
    case rdb::enc_int8: return util::format_int64(static_cast<std::int8_t>(le(1)));
    case rdb::enc_int16: return util::format_int64(static_cast<std::int16_t>(le(2)));
    case rdb::enc_int32: return util::format_int64(static_cast<std::int32_t>(le(4)));
    case rdb::enc_lzf: {
      const std::uint64_t clen = length(), ulen = length();
      if (clen > in_.remaining()) in_.fail("Unexpected EOF reading RDB file (LZF string)");
      // One 3-byte back reference expands to at most 264 bytes.
      if (ulen > clen * 90 + 64) in_.fail("Invalid LZF compressed string");
      std::string c(clen, '\0');
      in_.read(c.data(), clen);
      std::string s(ulen, '\0');
      if (ulen == 0 || lzf_decompress(c.data(), clen, s.data(), ulen) != ulen)
        in_.fail("Invalid LZF compressed string");
      return s;
    }
    default: in_.fail("Unknown RDB string encoding type " + std::to_string(n));
  }
}

double value_reader::text_double() {
  const std::uint8_t len = in_.byte();
  switch (len) {
    case 255: return -HUGE_VAL;
    case 254: return HUGE_VAL;
    case 253: return std::nan("");
    default: {
      char buf[256];
      in_.read(buf, len);
      buf[len] = '\0';
      char* end = nullptr;
      const double d = std::strtod(buf, &end);
      if (end == buf) in_.fail("Invalid double value");
      return d;
    }
  }
}

std::vector<packed_element> value_reader::listpack(std::string_view blob, const char* what) {
  std::vector<packed_element> out;
  if (!parse_listpack(blob, out)) in_.fail(std::string(what) + " listpack integrity check failed.");
  return out;
}

std::vector<packed_element> value_reader::ziplist(std::string_view blob, const char* what) {
  std::vector<packed_element> out;
  if (!parse_ziplist(blob, out)) in_.fail(std::string(what) + " ziplist integrity check failed.");
  return out;
}

decoded_value value_reader::list(int type) {
  auto list = std::make_unique<store::list_value>();
  auto& items = list->items;
  if (type == rdb::type_list) {
    for (std::uint64_t n = length(); n; --n) items.push_back(string());
  } else if (type == rdb::type_list_ziplist) {
    const std::string blob = string();
    for (const auto& el : ziplist(blob, "List")) items.push_back(el.text());
  } else {
    for (std::uint64_t nodes = length(); nodes; --nodes) {
      std::uint64_t container = rdb::container_packed;
      if (type == rdb::type_list_quicklist_2) {
        container = length();
        if (container != rdb::container_packed && container != rdb::container_plain)
          in_.fail("Quicklist integrity check failed.");
      }
      std::string blob = string();
      if (blob.empty()) in_.fail("Quicklist integrity check failed (empty node).");
      if (container == rdb::container_plain) {
        items.push_back(std::move(blob));
        continue;
      }
      // Empty nodes are skipped, as Redis does.
      const auto elements = type == rdb::type_list_quicklist_2 ? listpack(blob, "Quicklist") : ziplist(blob, "Quicklist");
      for (const auto& el : elements) items.push_back(el.text());
    }
  }
  decoded_value v;
  v.type = value_type::list;
  v.empty = items.empty();
  v.object = std::move(list);
  return v;
}

decoded_value value_reader::set_plain() {
  decoded_value v;
  v.type = value_type::set;
  const std::uint64_t n = length();
  if (n == 0) {
    v.empty = true;
    return v;
  }
  std::unique_ptr<store::set_object> object;
  std::unordered_set<std::int64_t> ints;
  auto to_object = [&] {
    object = std::make_unique<store::set_object>();
    for (std::int64_t i : ints) object->add(store::int_text(i).view());
    ints.clear();
  };
  const bool too_many = n > store::intset_cap(static_cast<std::int64_t>(lim_.set_max_intset));
  if (too_many) to_object();
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::string member = string();
    bool added;
    std::int64_t num;
    if (!object && util::parse_int64(member, num)) {
      added = ints.insert(num).second;
    } else {
      if (!object) to_object();
      added = object->add(member);
    }
    if (!added) in_.fail("Duplicate set members detected");
  }
  if (object) {
    v.encoding = store::set_encoding_hashtable;
    v.object = std::move(object);
    return v;
  }
  std::vector<std::int64_t> sorted(ints.begin(), ints.end());
  std::sort(sorted.begin(), sorted.end());
  v.bytes = store::intset::encode(sorted, v.encoding);
  return v;
}

decoded_value value_reader::set_intset() {
  const std::string blob = string();
  decoded_value v;
  v.type = value_type::set;
  std::string_view contents;
  if (!parse_intset(blob, v.encoding, contents)) in_.fail("Intset integrity check failed.");
  const std::size_t count = contents.size() / v.encoding;
  if (count <= lim_.set_max_intset) {
    v.bytes.assign(contents);
    return v;
  }
  // Too many members for the configured limit: a hash table (setTypeConvert).
  auto object = std::make_unique<store::set_object>();
  for (std::size_t i = 0; i < count; ++i) {
    std::int64_t num = 0;
    std::memcpy(&num, contents.data() + i * v.encoding, v.encoding);  // little endian
    const int bits = 8 * v.encoding;
    if (bits < 64 && (num >> (bits - 1)) & 1) num |= ~((std::int64_t{1} << bits) - 1);
    object->add(store::int_text(num).view());
  }
  v.encoding = store::set_encoding_hashtable;
  v.object = std::move(object);
  return v;
}

decoded_value value_reader::zset_from(std::vector<zset_item>& items, bool keep_packed) {
  decoded_value v;
  v.type = value_type::zset;
  if (items.empty()) {
    v.empty = true;
    return v;
  }
  std::unordered_set<std::string_view> seen;
  for (const auto& it : items) {
    if (std::isnan(it.score)) in_.fail("Zset with NAN score detected");
    if (!seen.insert(it.member).second) in_.fail("Duplicate zset fields detected");
  }
  if (!keep_packed) {
    auto z = std::make_unique<store::zset_object>();
    for (const auto& it : items) z->insert(it.score, it.member);
    v.encoding = store::zset::encoding_skiplist;
    v.object = std::move(z);
    return v;
  }
  const auto before = [](const zset_item& a, const zset_item& b) {
    return store::zsl::less(a.score, a.member, b.score, b.member);
  };
  if (!std::is_sorted(items.begin(), items.end(), before)) std::stable_sort(items.begin(), items.end(), before);
  packed_builder pb;
  for (const auto& it : items) {
    pb.add(it.member);
    const double stored = store::zset::packed_score(it.score);
    pb.add(std::string_view(reinterpret_cast<const char*>(&stored), sizeof(stored)));
  }
  v.encoding = store::zset::encoding_packed;
  v.bytes = pb.finish();
  return v;
}

decoded_value value_reader::zset_plain(bool binary) {
  std::vector<zset_item> items;
  std::size_t longest = 0;
  for (std::uint64_t n = length(); n; --n) {
    zset_item it;
    it.member = string();
    it.score = binary ? binary_double() : text_double();
    longest = std::max(longest, it.member.size());
    items.push_back(std::move(it));
  }
  // Converted *after* loading, as zsetConvert (rdbLoadObject).
  const bool packed = items.size() <= lim_.zset_max_entries && longest <= lim_.zset_max_value;
  return zset_from(items, packed);
}

decoded_value value_reader::zset_packed(std::vector<packed_element> elements) {
  if (elements.size() % 2) in_.fail("Zset listpack with an odd number of elements");
  std::vector<zset_item> items;
  for (std::size_t i = 0; i < elements.size(); i += 2) {
    zset_item it;
    it.member = elements[i].text();
    const auto& s = elements[i + 1];
    if (s.is_int) {
      it.score = static_cast<double>(s.num);
    } else {
      // zzlStrtod: strtod over (at most 127 bytes of) the text.
      const std::string text(s.str.substr(0, 127));
      it.score = std::strtod(text.c_str(), nullptr);
    }
    items.push_back(std::move(it));
  }
  return zset_from(items, items.size() <= lim_.zset_max_entries);
}

decoded_value value_reader::hash_from(std::vector<std::pair<std::string, std::string>>& pairs, bool packed) {
  decoded_value v;
  v.type = value_type::hash;
  if (pairs.empty()) {
    v.empty = true;
    return v;
  }
  if (!packed) {
    auto h = std::make_unique<store::hash_object>();
    for (const auto& [f, val] : pairs)
      if (!h->set(f, val)) in_.fail("Duplicate hash fields detected");
    v.encoding = store::hash_encoding_hashtable;
    v.object = std::move(h);
    return v;
  }
  std::unordered_set<std::string_view> seen;
  packed_builder pb;
  for (const auto& [f, val] : pairs) {
    if (!seen.insert(f).second) in_.fail("Duplicate hash fields detected");
    pb.add(f);
    pb.add(val);
  }
  v.encoding = store::hash_encoding_listpack;
  v.bytes = pb.finish();
  return v;
}

decoded_value value_reader::hash_plain() {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t longest = 0;
  for (std::uint64_t n = length(); n; --n) {
    std::string f = string();
    std::string val = string();
    longest = std::max({longest, f.size(), val.size()});
    pairs.emplace_back(std::move(f), std::move(val));
  }
  return hash_from(pairs, pairs.size() <= lim_.hash_max_entries && longest <= lim_.hash_max_value);
}

decoded_value value_reader::hash_zipmap() {
  const std::string blob = string();
  std::vector<std::pair<std::string_view, std::string_view>> raw;
  if (!parse_zipmap(blob, raw)) in_.fail("Zipmap integrity check failed.");
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t longest = 0;
  for (auto [f, val] : raw) {
    longest = std::max({longest, f.size(), val.size()});
    pairs.emplace_back(f, val);
  }
  return hash_from(pairs, pairs.size() <= lim_.hash_max_entries && longest <= lim_.hash_max_value);
}

decoded_value value_reader::hash_packed(std::vector<packed_element> elements) {
  if (elements.size() % 2) in_.fail("Hash listpack with an odd number of elements");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::size_t i = 0; i < elements.size(); i += 2) pairs.emplace_back(elements[i].text(), elements[i + 1].text());
  return hash_from(pairs, pairs.size() <= lim_.hash_max_entries);
}

decoded_value value_reader::stream(int type) {
  auto s = std::make_unique<store::stream_value>();
  auto as_int = [&](const packed_element& el) {
    std::int64_t v;
    if (el.is_int) return el.num;
    if (!util::parse_int64(el.str, v)) in_.fail("Stream listpack integrity check failed (integer expected).");
    return v;
  };
  // Entries are appended in file order, each node of the file as one chunk;
  // tombstones are appended too and deleted once all are in, so that no
  // chunk empties on the way.
  std::vector<store::stream_id> deleted_ids;
  bool any = false;
  store::stream_id prev;
  std::vector<std::string> fv_storage;
  std::vector<std::string_view> fv;
  for (std::uint64_t nodes = length(); nodes; --nodes) {
    const std::string key = string();
    if (key.size() != 16) in_.fail("Stream node key entry is not the size of a stream ID");
    store::stream_id master;
    for (int i = 0; i < 8; ++i) master.ms = (master.ms << 8) | static_cast<std::uint8_t>(key[static_cast<std::size_t>(i)]);
    for (int i = 8; i < 16; ++i) master.seq = (master.seq << 8) | static_cast<std::uint8_t>(key[static_cast<std::size_t>(i)]);
    const std::string blob = string();
    const auto el = listpack(blob, "Stream");
    if (el.empty()) in_.fail("Empty listpack inside stream");
    auto bad = [&] { in_.fail("Stream listpack integrity check failed."); };
    std::size_t p = 0;
    auto next_int = [&] {
      if (p >= el.size()) bad();
      return as_int(el[p++]);
    };
    const std::int64_t live = next_int(), dead = next_int(), master_fields = next_int();
    if (live < 0 || dead < 0 || master_fields < 0 || static_cast<std::size_t>(master_fields) > el.size()) bad();
    const std::size_t mf_at = p;
    p += static_cast<std::size_t>(master_fields);
    if (next_int() != 0) bad();  // master entry terminator
    std::int64_t seen_live = 0, seen_dead = 0;
    bool first_in_node = true;
    while (p < el.size()) {
      const std::int64_t flags = next_int();
      store::stream_id id;
      id.ms = master.ms + static_cast<std::uint64_t>(next_int());
      id.seq = master.seq + static_cast<std::uint64_t>(next_int());
      const bool same = flags & rdb::stream_flag_samefields;
      const std::int64_t nfields = same ? master_fields : next_int();
      if (nfields < 0 || static_cast<std::size_t>(nfields) > el.size()) bad();
      const auto n = static_cast<std::size_t>(nfields);
      if (p + (same ? n : 2 * n) > el.size()) bad();
      fv_storage.clear();
      for (std::size_t i = 0; i < n; ++i) {
        fv_storage.push_back(same ? el[mf_at + i].text() : el[p++].text());
        fv_storage.push_back(el[p++].text());
      }
      std::int64_t lp_count = nfields + 3;
      if (!same) lp_count += nfields + 1;
      if (next_int() != lp_count) bad();
      if (any && !(prev < id)) in_.fail("Stream entries are not in ascending ID order");
      any = true;
      prev = id;
      fv.assign(fv_storage.begin(), fv_storage.end());
      // The node's first entry starts a chunk; the others join it.
      s->append(id, fv, store::stream_node_limits{first_in_node ? 1 : 0, 0});
      first_in_node = false;
      if (flags & rdb::stream_flag_deleted) {
        deleted_ids.push_back(id);
        ++seen_dead;
      } else {
        ++seen_live;
      }
    }
    if (seen_live != live || seen_dead != dead) bad();
    if (live == 0) in_.fail("Stream listpack node without live entries");
  }
  for (const auto& id : deleted_ids) s->remove(id);
  const std::uint64_t live_count = s->length;
  s->length = length();
  s->last_id.ms = length();
  s->last_id.seq = length();
  if (type == rdb::type_stream_listpacks_2) {
    s->first_id.ms = length();
    s->first_id.seq = length();
    s->max_deleted_id.ms = length();
    s->max_deleted_id.seq = length();
    s->entries_added = length();
  } else {
    s->first_id = s->first_live();
    s->max_deleted_id = {};
    s->entries_added = s->length;
  }
  if (s->length != live_count) in_.fail("Stream length inconsistent with its entries");
  if (any && s->last_id < prev) in_.fail("Stream last ID is below its last entry");

  for (std::uint64_t groups = length(); groups; --groups) {
    const std::string name = string();
    store::stream_id last;
    last.ms = length();
    last.seq = length();
    std::int64_t entries_read = type == rdb::type_stream_listpacks_2 ? static_cast<std::int64_t>(length())
                                                                       : s->estimate_distance(last);
    auto [git, fresh] = s->groups.try_emplace(name);
    if (!fresh) in_.fail("Duplicated consumer group name " + printable(name));
    store::stream_group& g = git->second;
    g.last_id = last;
    g.entries_read = entries_read;
    for (std::uint64_t n = length(); n; --n) {
      const store::stream_id id = raw_stream_id();
      store::stream_nack nack;
      nack.delivery_time = static_cast<std::int64_t>(le(8));
      nack.delivery_count = length();
      if (!g.pel.emplace(id, nack).second) in_.fail("Duplicated global PEL entry loading stream consumer group");
    }
    for (std::uint64_t n = length(); n; --n) {
      const std::string cname = string();
      if (g.find_consumer(cname)) in_.fail("Duplicate stream consumer detected.");
      store::stream_consumer& c = g.create_consumer(cname, 0);
      c.seen_time = static_cast<std::int64_t>(le(8));
      for (std::uint64_t k = length(); k; --k) {
        const store::stream_id id = raw_stream_id();
        auto it = g.pel.find(id);
        if (it == g.pel.end()) in_.fail("Consumer entry not found in group global PEL");
        if (it->second.owner) in_.fail("Duplicated consumer PEL entry loading a stream consumer group");
        it->second.owner = &c;
        c.pel.insert(id);
      }
    }
    for (const auto& [id, nack] : g.pel)
      if (!nack.owner) in_.fail("Stream CG PEL entry without consumer");
  }
  decoded_value v;
  v.type = value_type::stream;
  v.object = std::move(s);
  return v;
}

decoded_value value_reader::read(int type) {
  switch (type) {
    case rdb::type_string: {
      decoded_value v;
      v.bytes = string();
      return v;
    }
    case rdb::type_list:
    case rdb::type_list_ziplist:
    case rdb::type_list_quicklist:
    case rdb::type_list_quicklist_2: return list(type);
    case rdb::type_set: return set_plain();
    case rdb::type_set_intset: return set_intset();
    case rdb::type_zset: return zset_plain(false);
    case rdb::type_zset_2: return zset_plain(true);
    case rdb::type_zset_ziplist: {
      const std::string blob = string();
      return zset_packed(ziplist(blob, "Zset"));
    }
    case rdb::type_zset_listpack: {
      const std::string blob = string();
      return zset_packed(listpack(blob, "Zset"));
    }
    case rdb::type_hash: return hash_plain();
    case rdb::type_hash_zipmap: return hash_zipmap();
    case rdb::type_hash_ziplist: {
      const std::string blob = string();
      return hash_packed(ziplist(blob, "Hash"));
    }
    case rdb::type_hash_listpack: {
      const std::string blob = string();
      return hash_packed(listpack(blob, "Hash"));
    }
    case rdb::type_stream_listpacks:
    case rdb::type_stream_listpacks_2: return stream(type);
    case rdb::type_module:
    case rdb::type_module_2: {
      const std::uint64_t id = length();
      in_.fail("The RDB file contains module data I can't load: no matching module type '" + module_type_name(id) +
               "' (Shrike has no modules)");
    }
    default: in_.fail("Unknown RDB encoding type " + std::to_string(type));
  }
}

}  // namespace

decoded_value read_value(rdb_input& in, int type, const load_limits& limits) {
  value_reader r(in, limits);
  return r.read(type);
}

store::entry* store_value(store::database& db, std::string_view key, decoded_value&& v, std::int64_t now_ms) {
  if (v.type == value_type::string) return db.set_string(key, v.bytes, now_ms);
  if (v.object) {
    store::entry* e = db.add_object(key, v.type, v.object.release(), now_ms);
    e->encoding = v.encoding;
    return e;
  }
  return db.add_inline(key, v.type, v.encoding, v.bytes, now_ms);
}

bool verify_dump_payload(std::string_view p) {
  if (p.size() < 10) return false;
  const auto* footer = reinterpret_cast<const unsigned char*>(p.data() + p.size() - 10);
  const int version = footer[0] | (footer[1] << 8);
  if (version > rdb::version) return false;
  std::uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) stored = (stored << 8) | footer[2 + i];
  return crc64(0, p.data(), p.size() - 8) == stored;
}

decoded_value read_dump_payload(std::string_view payload, const load_limits& limits) {
  // As RESTORE reads it: the footer is not cut off, a value that claims more
  // bytes than it has reads into it.
  rdb_input in(payload);
  const int type = in.byte();
  if (!rdb::is_object_type(type)) in.fail("Unknown RDB encoding type " + std::to_string(type));
  return read_value(in, type, limits);
}

// ---- files ----

load_result read_rdb(rdb_input& in, const database_for& target, const load_options& opts) {
  load_result res;
  value_reader r(in, opts.limits);
  char magic[9];
  in.read(magic, sizeof(magic));
  if (std::memcmp(magic, "REDIS", 5) != 0) in.fail("Wrong signature trying to load DB from file");
  int version = 0;
  for (int i = 5; i < 9; ++i) {
    if (magic[i] < '0' || magic[i] > '9') in.fail("Wrong signature trying to load DB from file");
    version = version * 10 + (magic[i] - '0');
  }
  if (version < 1 || version > rdb::version) in.fail("Can't handle RDB format version " + std::to_string(version));
  res.version = version;

  std::size_t db = 0;
  std::int64_t expire_at = -1, idle = -1, freq = -1;
  for (;;) {
    const std::uint64_t record_at = in.offset();
    const int type = in.byte();
    switch (type) {
      case rdb::opcode_expiretime:
        expire_at = static_cast<std::int64_t>(static_cast<std::int32_t>(r.le(4))) * 1000;
        continue;
      case rdb::opcode_expiretime_ms:
        expire_at = static_cast<std::int64_t>(r.le(8));
        continue;
      case rdb::opcode_freq:
        freq = in.byte();
        continue;
      case rdb::opcode_idle:
        idle = static_cast<std::int64_t>(std::min<std::uint64_t>(r.length(), INT64_MAX));
        continue;
      case rdb::opcode_selectdb: {
        const std::uint64_t id = r.length();
        if (id >= opts.databases)
          in.fail("Data file was created with a Redis server configured to handle more than " +
                  std::to_string(opts.databases) + " databases (SELECTDB " + std::to_string(id) + ")");
        db = static_cast<std::size_t>(id);
        continue;
      }
      case rdb::opcode_resizedb:
        r.length();
        r.length();
        continue;
      case rdb::opcode_aux: {
        std::string k = r.string();
        std::string v = r.string();
        res.aux.emplace_back(std::move(k), std::move(v));
        continue;
      }
      case rdb::opcode_module_aux:
        in.fail("The RDB file contains AUX module data I can't load: no matching module '" +
                module_type_name(r.length()) + "' (Shrike has no modules)");
      case rdb::opcode_function2: {
        if (!opts.on_function)
          in.fail("The RDB file contains a function library (FUNCTION2), which this load cannot take");
        std::string code = r.string();
        try {
          opts.on_function(std::move(code));
        } catch (const std::exception& e) {
          in.fail(std::string("Failed loading library, ") + e.what());
        }
        continue;
      }
      case rdb::opcode_function:
        in.fail("The RDB file contains a function library in the format of Redis 7.0 release candidates (FUNCTION)");
      case rdb::opcode_eof: break;
      default:
        if (!rdb::is_object_type(type)) in.fail("Unknown RDB encoding type " + std::to_string(type));
    }
    if (type == rdb::opcode_eof) break;

    std::string key = r.string();
    decoded_value v;
    try {
      v = r.read(type);
    } catch (const rdb_error& e) {
      throw rdb_error(std::string(e.what()) + " (reading key '" + printable(key) + "' of DB " + std::to_string(db) +
                          ", record at offset " + std::to_string(record_at) + ")",
                      e.offset());
    }
    if (v.empty) {
      ++res.empty_keys_skipped;
    } else if (opts.skip_expired && expire_at != -1 && expire_at < opts.now_ms) {
      ++res.keys_expired;
    } else {
      store::database& d = target(db, key);
      if (d.lookup(key, opts.now_ms))
        throw rdb_error("RDB has duplicated key '" + printable(key) + "' in DB " + std::to_string(db), record_at);
      store::entry* e = store_value(d, key, std::move(v), opts.now_ms);
      if (expire_at != -1) e = d.set_expire(e, expire_at);
      // objectSetLRUOrLFU: the FREQ under an LFU policy, the IDLE otherwise.
      if (store::access_stamp::lfu_mode.load(std::memory_order_relaxed)) {
        if (freq >= 0) e->lru = store::access_stamp::with_counter(freq, opts.now_ms);
      } else if (idle >= 0) {
        const std::int64_t at = opts.now_ms / 1000 - idle;
        e->lru = static_cast<std::uint32_t>(at > 0 ? at : 0);
      }
      ++res.keys_loaded;
    }
    expire_at = idle = freq = -1;
  }
  if (version >= 5) {
    const std::uint64_t expected = in.crc();
    const std::uint64_t stored = r.le(8);
    if (opts.verify_checksum && stored != 0) {
      if (stored != expected) {
        char buf[128];
        std::snprintf(buf, sizeof(buf), "Wrong RDB checksum expected: (%llx) but got (%llx)",
                      static_cast<unsigned long long>(expected), static_cast<unsigned long long>(stored));
        throw rdb_error(buf, in.offset() - 8);
      }
      res.checksum_checked = true;
    }
  }
  return res;
}

}  // namespace shrike::persistence
