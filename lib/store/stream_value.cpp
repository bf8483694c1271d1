#include "store/stream_value.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>

#include "util/numbers.hpp"

namespace shrike::store {

std::uint64_t read_chunk_varint(const char*& p) {
  std::uint64_t v = 0;
  int shift = 0;
  for (;;) {
    const auto b = static_cast<std::uint8_t>(*p++);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
    shift += 7;
  }
}

namespace {

constexpr std::uint8_t flag_deleted = 1;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t get_varint(const char*& p) { return read_chunk_varint(p); }

// One entry of a chunk, decoded up to its fields.
struct decoded {
  std::size_t off = 0;     // of the flags byte
  std::uint8_t flags = 0;
  stream_id id;
  std::uint64_t pairs = 0;
  const char* fields = nullptr;
  std::size_t next = 0;    // offset of the following entry
};

decoded decode(const stream_chunk& c, std::size_t off) {
  decoded d;
  d.off = off;
  const char* p = c.buf.data() + off;
  d.flags = static_cast<std::uint8_t>(*p++);
  d.id.ms = c.base.ms + get_varint(p);
  d.id.seq = get_varint(p);
  d.pairs = get_varint(p);
  d.fields = p;
  for (std::uint64_t i = 0; i < d.pairs * 2; ++i) {
    const std::uint64_t len = get_varint(p);
    p += len;
  }
  d.next = static_cast<std::size_t>(p - c.buf.data());
  return d;
}

void fields_of(const decoded& d, std::vector<std::string_view>& out) {
  out.clear();
  const char* p = d.fields;
  for (std::uint64_t i = 0; i < d.pairs * 2; ++i) {
    const std::uint64_t len = get_varint(p);
    out.emplace_back(p, len);
    p += len;
  }
}

// string2ull: an int64 that is not negative, else whatever strtoull takes whole.
bool parse_ull(std::string_view s, std::uint64_t& v) {
  std::int64_t ll;
  if (util::parse_int64(s, ll)) {
    if (ll < 0) return false;
    v = static_cast<std::uint64_t>(ll);
    return true;
  }
  const std::string copy(s);
  errno = 0;
  char* end = nullptr;
  v = std::strtoull(copy.c_str(), &end, 10);
  return errno != EINVAL && errno != ERANGE && !copy.empty() && *end == '\0';
}

std::size_t alloc_size(const std::string& s) {
  // Short strings live inside the object (SSO): no heap block.
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace

std::string stream_id::str() const { return std::to_string(ms) + "-" + std::to_string(seq); }

bool stream_id::incr() {
  if (seq == UINT64_MAX) {
    if (ms == UINT64_MAX) {
      ms = seq = 0;
      return false;
    }
    ++ms;
    seq = 0;
  } else {
    ++seq;
  }
  return true;
}

bool stream_id::decr() {
  if (seq == 0) {
    if (ms == 0) {
      ms = seq = UINT64_MAX;
      return false;
    }
    --ms;
    seq = UINT64_MAX;
  } else {
    --seq;
  }
  return true;
}

bool parse_stream_id(std::string_view s, stream_id& id, std::uint64_t missing_seq, bool strict, bool* seq_given) {
  if (s.size() > 127) return false;
  if (strict && (s == "-" || s == "+")) return false;
  if (seq_given) *seq_given = true;
  if (s == "-") {
    id = {0, 0};
    return true;
  }
  if (s == "+") {
    id = stream_id::max();
    return true;
  }
  const auto dash = s.find('-');
  std::uint64_t ms, seq;
  if (!parse_ull(s.substr(0, dash), ms)) return false;
  if (dash != std::string_view::npos) {
    const auto tail = s.substr(dash + 1);
    if (seq_given && tail == "*") {
      seq = 0;
      *seq_given = false;
    } else if (!parse_ull(tail, seq)) {
      return false;
    }
  } else {
    seq = missing_seq;
  }
  id = {ms, seq};
  return true;
}

stream_consumer* stream_group::find_consumer(std::string_view name) {
  auto it = consumers.find(name);
  return it == consumers.end() ? nullptr : &it->second;
}

stream_consumer& stream_group::create_consumer(std::string_view name, std::int64_t now_ms) {
  auto& c = consumers[std::string(name)];
  c.name = std::string(name);
  c.seen_time = now_ms;
  return c;
}

std::size_t stream_group::delete_consumer(std::string_view name) {
  auto it = consumers.find(name);
  if (it == consumers.end()) return 0;
  const std::size_t pending = it->second.pel.size();
  for (const auto& id : it->second.pel) pel.erase(id);
  consumers.erase(it);
  return pending;
}

stream_consumer& stream_group::touch_consumer(std::string_view name, std::int64_t now_ms) {
  if (stream_consumer* c = find_consumer(name)) {
    c->seen_time = now_ms;
    return *c;
  }
  return create_consumer(name, now_ms);
}

stream_nack& stream_group::deliver(const stream_id& id, stream_consumer& c, std::int64_t now_ms) {
  auto [it, fresh] = pel.try_emplace(id);
  stream_nack& n = it->second;
  if (!fresh && n.owner) n.owner->pel.erase(id);
  n.owner = &c;
  n.delivery_time = now_ms;
  n.delivery_count = 1;
  c.pel.insert(id);
  return n;
}

stream_group::pending_map::iterator stream_group::add_unowned(const stream_id& id, std::int64_t now_ms) {
  auto [it, fresh] = pel.try_emplace(id);
  if (fresh) it->second.delivery_time = now_ms;
  return it;
}

void stream_group::transfer(pending_map::iterator it, stream_consumer& c) {
  stream_nack& n = it->second;
  if (n.owner == &c) return;
  if (n.owner) n.owner->pel.erase(it->first);
  n.owner = &c;
  c.pel.insert(it->first);
}

stream_group::pending_map::iterator stream_group::remove_pending(pending_map::iterator it) {
  if (it->second.owner) it->second.owner->pel.erase(it->first);
  return pel.erase(it);
}

std::size_t stream_value::memory_usage(std::size_t /*samples: measured exactly*/) const {
  std::size_t n = sizeof(*this) + chunks_.capacity() * sizeof(stream_chunk);
  for (const auto& c : chunks_) n += alloc_size(c.buf);
  for (const auto& [name, g] : groups) {
    n += 64 + name.size() + g.pel.size() * 64;
    for (const auto& [cname, cons] : g.consumers) n += 64 + cname.size() + cons.pel.size() * 48;
  }
  return n;
}

value_object* stream_value::clone() const {
  auto* copy = new stream_value;
  copy->chunks_ = chunks_;
  copy->length = length;
  copy->last_id = last_id;
  copy->first_id = first_id;
  copy->max_deleted_id = max_deleted_id;
  copy->entries_added = entries_added;
  // The PEL points at consumers: rebuild those links in the copy.
  for (const auto& [name, g] : groups) {
    auto& ng = copy->groups[name];
    ng.last_id = g.last_id;
    ng.entries_read = g.entries_read;
    ng.consumers = g.consumers;
    ng.pel = g.pel;
    for (auto& [id, nack] : ng.pel) nack.owner = &ng.consumers.find(nack.owner->name)->second;
  }
  return copy;
}

void stream_value::append(const stream_id& id, std::span<const std::string_view> fv,
                          const stream_node_limits& limits) {
  constexpr std::int64_t node_size_cap = std::int64_t{1} << 30;  // STREAM_LISTPACK_MAX_SIZE
  std::size_t payload = 0;
  for (auto s : fv) payload += s.size();
  bool fresh = chunks_.empty();
  if (!fresh) {
    const auto& c = chunks_.back();
    const std::int64_t max_bytes =
        limits.max_bytes <= 0 || limits.max_bytes > node_size_cap ? node_size_cap : limits.max_bytes;
    fresh = static_cast<std::int64_t>(c.buf.size() + payload) >= max_bytes ||
            (limits.max_entries > 0 && static_cast<std::int64_t>(c.total) >= limits.max_entries);
  }
  if (fresh) {
    // A finished chunk keeps no slack: it is the bulk of a big stream's memory.
    if (!chunks_.empty()) chunks_.back().buf.shrink_to_fit();
    chunks_.emplace_back();
    chunks_.back().base = id;
  }
  auto& c = chunks_.back();
  c.buf.push_back(0);
  put_varint(c.buf, id.ms - c.base.ms);
  put_varint(c.buf, id.seq);
  put_varint(c.buf, fv.size() / 2);
  for (auto s : fv) {
    put_varint(c.buf, s.size());
    c.buf.append(s);
  }
  c.last = id;
  ++c.total;
  ++c.live;
  ++length;
  ++entries_added;
  last_id = id;
  if (length == 1) first_id = id;
}

std::size_t stream_value::range(const stream_id& start, const stream_id& end, std::size_t count, bool rev,
                                const entry_fn& fn) const {
  if (start > end) return 0;
  std::size_t n = 0;
  std::vector<std::string_view> fv;
  if (!rev) {
    auto it = std::lower_bound(chunks_.begin(), chunks_.end(), start,
                               [](const stream_chunk& c, const stream_id& id) { return c.last < id; });
    for (; it != chunks_.end(); ++it) {
      if (it->base > end) return n;
      for (std::size_t off = 0; off < it->buf.size();) {
        const decoded d = decode(*it, off);
        off = d.next;
        if (d.id < start || (d.flags & flag_deleted)) continue;
        if (d.id > end) return n;
        fields_of(d, fv);
        fn(d.id, fv);
        if (++n == count) return n;
      }
    }
    return n;
  }
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), end,
                             [](const stream_id& id, const stream_chunk& c) { return id < c.base; });
  std::vector<std::size_t> offsets;
  while (it != chunks_.begin()) {
    --it;
    if (it->last < start) return n;
    offsets.clear();
    for (std::size_t off = 0; off < it->buf.size(); off = decode(*it, off).next) offsets.push_back(off);
    for (auto o = offsets.rbegin(); o != offsets.rend(); ++o) {
      const decoded d = decode(*it, *o);
      if (d.id > end || (d.flags & flag_deleted)) continue;
      if (d.id < start) return n;
      fields_of(d, fv);
      fn(d.id, fv);
      if (++n == count) return n;
    }
  }
  return n;
}

bool stream_value::contains(const stream_id& id) const {
  bool found = false;
  range(id, id, 1, false, [&](const stream_id&, std::span<const std::string_view>) { found = true; });
  return found;
}

bool stream_value::remove(const stream_id& id) {
  auto it = std::lower_bound(chunks_.begin(), chunks_.end(), id,
                             [](const stream_chunk& c, const stream_id& x) { return c.last < x; });
  if (it == chunks_.end() || it->base > id) return false;
  for (std::size_t off = 0; off < it->buf.size();) {
    const decoded d = decode(*it, off);
    if (d.id == id) {
      if (d.flags & flag_deleted) return false;
      it->buf[off] = static_cast<char>(d.flags | flag_deleted);
      --it->live;
      --length;
      if (it->live == 0) chunks_.erase(it);
      return true;
    }
    if (d.id > id) return false;
    off = d.next;
  }
  return false;
}

std::int64_t stream_value::trim(const stream_trim_args& args) {
  using strategy = stream_trim_args::strategy;
  if (args.how == strategy::none) return 0;
  std::int64_t deleted = 0;
  std::size_t i = 0;
  while (i < chunks_.size()) {
    auto& c = chunks_[i];
    if (args.how == strategy::maxlen && length <= static_cast<std::uint64_t>(args.maxlen)) break;
    const std::int64_t entries = c.live;
    if (args.limit && deleted + entries > args.limit) break;
    const bool whole = args.how == strategy::maxlen
                           ? length - static_cast<std::uint64_t>(entries) >= static_cast<std::uint64_t>(args.maxlen)
                           : c.last < args.minid;
    if (whole) {
      length -= static_cast<std::uint64_t>(entries);
      deleted += entries;
      ++i;
      continue;
    }
    if (args.approx) break;
    // Tombstone entries inside this chunk, then stop (as Redis does).
    for (std::size_t off = 0; off < c.buf.size();) {
      const decoded d = decode(c, off);
      const bool stop = args.how == strategy::maxlen ? length <= static_cast<std::uint64_t>(args.maxlen)
                                                     : d.id >= args.minid;
      if (stop) break;
      if (!(d.flags & flag_deleted)) {
        c.buf[off] = static_cast<char>(d.flags | flag_deleted);
        --c.live;
        --length;
        ++deleted;
      }
      off = d.next;
    }
    break;
  }
  chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(i));
  if (length == 0)
    first_id = {};
  else if (deleted)
    refresh_first_id();
  return deleted;
}

void stream_value::refresh_first_id() { first_id = first_live(); }

stream_id stream_value::first_live() const {
  stream_id out;
  range({0, 0}, stream_id::max(), 1, false, [&](const stream_id& id, std::span<const std::string_view>) { out = id; });
  return out;
}

stream_id stream_value::last_live() const {
  stream_id out;
  range({0, 0}, stream_id::max(), 1, true, [&](const stream_id& id, std::span<const std::string_view>) { out = id; });
  return out;
}

bool stream_value::range_has_tombstones(const stream_id& start, const stream_id& end) const {
  if (!length || max_deleted_id.is_zero()) return false;
  if (first_id > max_deleted_id) return false;
  return start <= max_deleted_id && max_deleted_id <= end;
}

std::int64_t stream_value::estimate_distance(const stream_id& id) const {
  if (!entries_added) return 0;
  if (!length && id <= last_id) return static_cast<std::int64_t>(entries_added);
  if (id == last_id) return static_cast<std::int64_t>(entries_added);
  if (id > last_id) return -1;
  if (max_deleted_id.is_zero() || max_deleted_id < first_id) {
    if (id < first_id) return static_cast<std::int64_t>(entries_added - length);
    if (id == first_id) return static_cast<std::int64_t>(entries_added - length + 1);
  }
  return -1;
}

void stream_value::advance_group(stream_group& g, const stream_id& id) const {
  if (g.entries_read != -1 && !range_has_tombstones(id, stream_id::max()))
    ++g.entries_read;
  else if (entries_added)
    g.entries_read = estimate_distance(id);
  g.last_id = id;
}

std::optional<std::int64_t> stream_value::group_lag(const stream_group& g) const {
  const auto added = static_cast<std::int64_t>(entries_added);
  if (!entries_added) return 0;
  if (g.entries_read != -1 && !range_has_tombstones(g.last_id, stream_id::max())) return added - g.entries_read;
  const std::int64_t read = estimate_distance(g.last_id);
  if (read == -1) return std::nullopt;
  return added - read;
}

namespace {

using radix_key = std::array<std::uint8_t, 16>;

// Nodes of a compressed radix tree holding keys[lo, hi) below a position at
// `depth` bytes: a run of bytes shared by every key is one compressed node,
// a position where keys differ is one branching node, a key's end is a leaf.
std::size_t radix_nodes(const std::vector<radix_key>& keys, std::size_t lo, std::size_t hi, std::size_t depth) {
  if (hi - lo == 1) return depth == 16 ? 1 : 2;
  std::size_t split = depth;
  while (keys[lo][split] == keys[hi - 1][split]) ++split;  // sorted: first and last decide
  std::size_t n = split > depth ? 2 : 1;  // (compressed run +) branching node
  for (std::size_t i = lo; i < hi;) {
    std::size_t j = i + 1;
    while (j < hi && keys[j][split] == keys[i][split]) ++j;
    n += radix_nodes(keys, i, j, split + 1);
    i = j;
  }
  return n;
}

}  // namespace

std::size_t stream_value::radix_tree_nodes() const {
  if (chunks_.empty()) return 1;
  std::vector<radix_key> keys;
  keys.reserve(chunks_.size());
  for (const auto& c : chunks_) {
    radix_key k;
    for (int b = 0; b < 8; ++b) {
      k[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(c.base.ms >> (56 - 8 * b));
      k[static_cast<std::size_t>(8 + b)] = static_cast<std::uint8_t>(c.base.seq >> (56 - 8 * b));
    }
    keys.push_back(k);
  }
  return radix_nodes(keys, 0, keys.size(), 0);
}

}  // namespace shrike::store
