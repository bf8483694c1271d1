#include "store/zset_value.hpp"

#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "store/packed.hpp"

namespace shrike::store::zset {

namespace {

using lex_kind = lex_range::kind;

double read_score(std::string_view element) {
  double d;
  std::memcpy(&d, element.data(), sizeof(d));
  return d;
}

// A pair found in a packed value, with its byte span.
struct packed_hit {
  std::size_t offset = 0, end = 0;
  double score = 0;
};

bool packed_find(const entry* e, std::string_view member, packed_hit& hit) {
  packed::reader r(e->str());
  while (!r.done()) {
    const std::size_t off = r.offset();
    std::string_view m = r.next();
    std::string_view s = r.next();
    if (m == member) {
      hit = {off, r.offset(), read_score(s)};
      return true;
    }
  }
  return false;
}

// zzlInsert: before the first pair that sorts after (score, member).
entry* packed_insert(database& db, entry* e, std::string_view member, double score) {
  std::size_t at = e->val_len;
  packed::reader r(e->str());
  while (!r.done()) {
    const std::size_t off = r.offset();
    std::string_view m = r.next();
    const double s = read_score(r.next());
    if (s > score || (s == score && m.compare(member) > 0)) {
      at = off;
      break;
    }
  }
  const double stored = packed_score(score);
  char bytes[sizeof(double)];
  std::memcpy(bytes, &stored, sizeof(stored));
  return packed::insert(db, e, at, {member, std::string_view(bytes, sizeof(bytes))});
}

entry* convert_to_skiplist(database& db, entry* e) {
  packed_view v(e);
  auto* z = new zset_object;
  for (std::size_t i = 0; i < v.size(); ++i) z->insert(v.score(i), v.member(i));
  return db.convert_to_object(e, z, encoding_skiplist);
}

// sdscmplex: the "-" and "+" bounds are below and above every string.
int compare_lex(lex_kind ak, std::string_view a, lex_kind bk, std::string_view b) {
  if (ak != lex_kind::value && ak == bk) return 0;
  if (ak == lex_kind::lowest || bk == lex_kind::highest) return -1;
  if (ak == lex_kind::highest || bk == lex_kind::lowest) return 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// One bound of a score range, parsed as a C string (arguments may hold NULs:
// strtod stops at the first one, as in Redis).
bool parse_score_bound(std::string_view arg, double& value, bool& exclusive) {
  std::string text(arg.substr(0, arg.find('\0')));
  const char* p = text.c_str();
  exclusive = *p == '(';
  if (exclusive) ++p;
  char* end = nullptr;
  value = std::strtod(p, &end);
  return *end == '\0' && !std::isnan(value);
}

bool parse_lex_bound(std::string_view arg, lex_kind& kind, std::string_view& value, bool& exclusive) {
  if (arg.empty()) return false;
  switch (arg[0]) {
    case '+':
    case '-':
      if (arg.size() > 1 && arg[1] != '\0') return false;
      kind = arg[0] == '+' ? lex_kind::highest : lex_kind::lowest;
      exclusive = true;
      return true;
    case '(':
    case '[':
      kind = lex_kind::value;
      exclusive = arg[0] == '(';
      value = arg.substr(1);
      return true;
    default:
      return false;
  }
}

}  // namespace

double packed_score(double d) {
  // double2ll: an integral value in this range is kept as an integer.
  if (d < static_cast<double>(-LLONG_MAX / 2) || d > static_cast<double>(LLONG_MAX / 2)) return d;
  const auto ll = static_cast<long long>(d);
  return static_cast<double>(ll) == d ? static_cast<double>(ll) : d;
}

bool parse_score_range(std::string_view min, std::string_view max, score_range& out) {
  return parse_score_bound(min, out.min, out.minex) && parse_score_bound(max, out.max, out.maxex);
}

bool lex_range::gte_min(std::string_view v) const {
  const int c = compare_lex(kind::value, v, min_kind, min);
  return minex ? c > 0 : c >= 0;
}

bool lex_range::lte_max(std::string_view v) const {
  const int c = compare_lex(kind::value, v, max_kind, max);
  return maxex ? c < 0 : c <= 0;
}

bool lex_range::empty() const {
  const int c = compare_lex(min_kind, min, max_kind, max);
  return c > 0 || (c == 0 && (minex || maxex));
}

bool parse_lex_range(std::string_view min, std::string_view max, lex_range& out) {
  return parse_lex_bound(min, out.min_kind, out.min, out.minex) && parse_lex_bound(max, out.max_kind, out.max, out.maxex);
}

// ---- packed_view ----

packed_view::packed_view(const entry* e) : bytes_(e->val_len) {
  std::string_view v = e->str();
  items_.reserve(packed::count(v) / 2);
  packed::reader r(v);
  while (!r.done()) {
    const std::size_t off = r.offset();
    std::string_view m = r.next();
    items_.push_back({m, read_score(r.next()), off});
  }
}

packed_view::pos packed_view::find(std::string_view member) const {
  for (std::size_t i = 0; i < items_.size(); ++i)
    if (items_[i].member == member) return i;
  return npos;
}

packed_view::pos packed_view::first_in(const score_range& r) const {
  if (r.empty() || items_.empty() || !r.gte_min(items_.back().score) || !r.lte_max(items_.front().score))
    return npos;
  for (std::size_t i = 0; i < items_.size(); ++i)
    if (r.gte_min(items_[i].score)) return r.lte_max(items_[i].score) ? i : npos;
  return npos;
}

packed_view::pos packed_view::last_in(const score_range& r) const {
  if (r.empty() || items_.empty() || !r.gte_min(items_.back().score) || !r.lte_max(items_.front().score))
    return npos;
  for (std::size_t i = items_.size(); i-- > 0;)
    if (r.lte_max(items_[i].score)) return r.gte_min(items_[i].score) ? i : npos;
  return npos;
}

// The lex walks compare members only: with unequal scores the members need
// not be sorted, and these scans give what Redis's listpack scans give.
packed_view::pos packed_view::first_in(const lex_range& r) const {
  if (r.empty() || items_.empty() || !r.gte_min(items_.back().member) || !r.lte_max(items_.front().member))
    return npos;
  for (std::size_t i = 0; i < items_.size(); ++i)
    if (r.gte_min(items_[i].member)) return r.lte_max(items_[i].member) ? i : npos;
  return npos;
}

packed_view::pos packed_view::last_in(const lex_range& r) const {
  if (r.empty() || items_.empty() || !r.gte_min(items_.back().member) || !r.lte_max(items_.front().member))
    return npos;
  for (std::size_t i = items_.size(); i-- > 0;)
    if (r.lte_max(items_[i].member)) return r.gte_min(items_[i].member) ? i : npos;
  return npos;
}

std::size_t packed_view::count_in(const score_range& r) const {
  std::size_t n = 0;
  for (pos p = first_in(r); p != npos && r.lte_max(items_[p].score); p = next(p)) ++n;
  return n;
}

std::size_t packed_view::count_in(const lex_range& r) const {
  std::size_t n = 0;
  for (pos p = first_in(r); p != npos && r.lte_max(items_[p].member); p = next(p)) ++n;
  return n;
}

// ---- skiplist_view ----

skiplist_view::pos skiplist_view::first_in(const score_range& r) const {
  if (r.empty() || !size() || !r.gte_min(score(last())) || !r.lte_max(score(first()))) return nullptr;
  std::size_t n;
  entry* x = z_->last_where([&](const entry* f) { return !r.gte_min(zsl::score(f)); }, n);
  x = x ? next(x) : first();
  return x && r.lte_max(score(x)) ? x : nullptr;
}

skiplist_view::pos skiplist_view::last_in(const score_range& r) const {
  if (r.empty() || !size() || !r.gte_min(score(last())) || !r.lte_max(score(first()))) return nullptr;
  std::size_t n;
  entry* x = z_->last_where([&](const entry* f) { return r.lte_max(zsl::score(f)); }, n);
  return x && r.gte_min(score(x)) ? x : nullptr;
}

skiplist_view::pos skiplist_view::first_in(const lex_range& r) const {
  if (r.empty() || !size() || !r.gte_min(member(last())) || !r.lte_max(member(first()))) return nullptr;
  std::size_t n;
  entry* x = z_->last_where([&](const entry* f) { return !r.gte_min(f->key()); }, n);
  x = x ? next(x) : first();
  return x && r.lte_max(member(x)) ? x : nullptr;
}

skiplist_view::pos skiplist_view::last_in(const lex_range& r) const {
  if (r.empty() || !size() || !r.gte_min(member(last())) || !r.lte_max(member(first()))) return nullptr;
  std::size_t n;
  entry* x = z_->last_where([&](const entry* f) { return r.lte_max(f->key()); }, n);
  return x && r.gte_min(member(x)) ? x : nullptr;
}

// ZCOUNT/ZLEXCOUNT on a skiplist: from the ranks of the first and the last
// node in range, as Redis counts them.
template <class Range>
std::size_t skiplist_view::count_between(const Range& r) const {
  entry* f = first_in(r);
  if (!f) return 0;
  const std::size_t len = size();
  std::size_t count = len - rank(f);
  if (entry* l = last_in(r)) count -= len - (rank(l) + 1);
  return count;
}

std::size_t skiplist_view::count_in(const score_range& r) const { return count_between(r); }
std::size_t skiplist_view::count_in(const lex_range& r) const { return count_between(r); }

// ---- whole values ----

entry* ensure_skiplist(database& db, entry* e) { return is_packed(e) ? convert_to_skiplist(db, e) : e; }

std::size_t size(const entry* e) {
  return e->holds_object() ? as_zset_object(e).size() : packed::count(e->str()) / 2;
}

bool score_of(const entry* e, std::string_view member, double& score) {
  if (e->holds_object()) {
    const entry* n = as_zset_object(e).find(member);
    if (!n) return false;
    score = zsl::score(n);
    return true;
  }
  packed_hit hit;
  if (!packed_find(e, member, hit)) return false;
  score = hit.score;
  return true;
}

std::int64_t rank_of(const entry* e, std::string_view member, bool reverse) {
  const std::size_t len = size(e);
  std::size_t r;
  if (e->holds_object()) {
    const auto& z = as_zset_object(e);
    const entry* n = z.find(member);
    if (!n) return -1;
    r = z.rank(n);
  } else {
    packed::reader rd(e->str());
    for (r = 0; !rd.done(); ++r) {
      std::string_view m = rd.next();
      rd.next();
      if (m == member) break;
    }
    if (r == len) return -1;
  }
  return static_cast<std::int64_t>(reverse ? len - 1 - r : r);
}

entry* create(database& db, std::string_view key, bool skiplist, std::int64_t now_ms) {
  if (!skiplist) return db.add_inline(key, value_type::zset, encoding_packed, packed::empty_value(), now_ms);
  entry* e = db.add_object(key, value_type::zset, new zset_object, now_ms);
  e->encoding = encoding_skiplist;
  return e;
}

bool add(database& db, entry*& e, double score, std::string_view member, unsigned flags, unsigned& out,
         double& newscore, const limits& lim) {
  const bool incr = flags & add_incr, nx = flags & add_nx, xx = flags & add_xx;
  const bool gt = flags & add_gt, lt = flags & add_lt;
  out = 0;
  if (std::isnan(score)) {
    out = added_nan;
    return false;
  }
  // Existing members: NX skips them, INCR adds to them, GT/LT filter them.
  auto update = [&](double current, auto&& apply) {
    if (nx) {
      out |= added_nop;
      return true;
    }
    if (incr) {
      score += current;
      if (std::isnan(score)) {
        out |= added_nan;
        return false;
      }
    }
    if ((lt && score >= current) || (gt && score <= current)) {
      out |= added_nop;
      return true;
    }
    newscore = score;
    if (score != current) {
      apply();
      out |= added_updated;
    }
    return true;
  };

  if (!e->holds_object()) {
    packed_hit hit;
    if (packed_find(e, member, hit)) {
      return update(hit.score, [&] {
        e = packed::erase(db, e, hit.offset, hit.end, 2);
        e = packed_insert(db, e, member, score);
      });
    }
    if (xx) {
      out |= added_nop;
      return true;
    }
    // Checked before inserting: the member that would break a limit is added
    // to the skiplist.
    if (size(e) + 1 <= lim.max_entries && member.size() <= lim.max_value) {
      e = packed_insert(db, e, member, score);
      newscore = score;
      out |= added_new;
      return true;
    }
    e = convert_to_skiplist(db, e);
  }

  auto& z = as_zset_object(e);
  if (entry* n = z.find(member)) return update(zsl::score(n), [&] { z.update_score(n, score); });
  if (xx) {
    out |= added_nop;
    return true;
  }
  z.insert(score, member);
  newscore = score;
  out |= added_new;
  return true;
}

bool erase(database& db, entry*& e, std::string_view member) {
  if (e->holds_object()) {
    auto& z = as_zset_object(e);
    entry* n = z.find(member);
    if (!n) return false;
    z.erase(n);
    return true;
  }
  packed_hit hit;
  if (!packed_find(e, member, hit)) return false;
  e = packed::erase(db, e, hit.offset, hit.end, 2);
  return true;
}

std::size_t erase_rank_range(database& db, entry*& e, std::size_t start, std::size_t end) {
  const std::size_t n = end - start + 1;
  if (e->holds_object()) {
    auto& z = as_zset_object(e);
    std::size_t left = n;
    return z.erase_while(z.at_rank(start), [&](const entry*) { return left-- > 0; });
  }
  packed_view v(e);
  e = packed::erase(db, e, v.offset(start), v.end_offset(end), static_cast<std::uint32_t>(2 * n));
  return n;
}

namespace {

// zzlDeleteRangeBy* / zslDeleteRangeBy*: from the first pair in range while
// the upper bound holds.
template <class Range, class Key>
std::size_t erase_range(database& db, entry*& e, const Range& r, Key key) {
  if (e->holds_object()) {
    auto& z = as_zset_object(e);
    std::size_t ignored;
    entry* x = z.last_where([&](const entry* f) { return !r.gte_min(key(zsl::score(f), f->key())); }, ignored);
    x = x ? zset_object::next(x) : z.first();
    if (!x) return 0;
    return z.erase_while(x, [&](const entry* f) { return r.lte_max(key(zsl::score(f), f->key())); });
  }
  packed_view v(e);
  const auto first = v.first_in(r);
  if (first == packed_view::npos) return 0;
  auto last = first;
  while (v.next(last) != packed_view::npos && r.lte_max(key(v.score(v.next(last)), v.member(v.next(last)))))
    last = v.next(last);
  const std::size_t n = last - first + 1;
  e = packed::erase(db, e, v.offset(first), v.end_offset(last), static_cast<std::uint32_t>(2 * n));
  return n;
}

}  // namespace

std::size_t erase_score_range(database& db, entry*& e, const score_range& r) {
  return erase_range(db, e, r, [](double s, std::string_view) { return s; });
}

std::size_t erase_lex_range(database& db, entry*& e, const lex_range& r) {
  return erase_range(db, e, r, [](double, std::string_view m) { return m; });
}

std::size_t pop(database& db, entry* e, bool from_max, std::size_t count, const pop_visitor& visit) {
  const std::size_t len = size(e);
  const std::size_t n = count < len ? count : len;
  if (n == 0) return 0;
  if (e->holds_object()) {
    auto& z = as_zset_object(e);
    for (std::size_t i = 0; i < n; ++i) {
      entry* node = from_max ? z.last() : z.first();
      visit(node->key(), zsl::score(node));
      z.erase(node);
    }
  } else {
    packed_view v(e);
    if (from_max) {
      for (std::size_t i = 0; i < n; ++i) visit(v.member(len - 1 - i), v.score(len - 1 - i));
    } else {
      for (std::size_t i = 0; i < n; ++i) visit(v.member(i), v.score(i));
    }
    if (n < len) {
      const std::size_t first = from_max ? len - n : 0;
      packed::erase(db, e, v.offset(first), v.end_offset(first + n - 1), static_cast<std::uint32_t>(2 * n));
      return n;
    }
  }
  if (n == len) db.erase_entry(e);
  return n;
}

entry* store_sorted(database& db, std::string_view key, const std::vector<owned_item>& items, const limits& lim,
                    std::int64_t now_ms) {
  std::size_t longest = 0;
  for (const auto& it : items) longest = it.member.size() > longest ? it.member.size() : longest;
  if (items.size() > lim.max_entries || longest > lim.max_value) {
    auto* z = new zset_object;
    for (const auto& it : items) z->insert(it.score, it.member);
    entry* e = db.add_object(key, value_type::zset, z, now_ms);
    e->encoding = encoding_skiplist;
    return e;
  }
  std::string bytes(packed::header_size, '\0');
  for (const auto& it : items) {
    char element[16];
    const std::size_t at = bytes.size();
    bytes.resize(at + packed::element_size(it.member.size()));
    packed::write_element(bytes.data() + at, it.member);
    const double stored = packed_score(it.score);
    char* end = packed::write_element(element, std::string_view(reinterpret_cast<const char*>(&stored), sizeof(stored)));
    bytes.append(element, end);
  }
  const auto count = static_cast<std::uint32_t>(2 * items.size());
  std::memcpy(bytes.data(), &count, sizeof(count));
  return db.add_inline(key, value_type::zset, encoding_packed, bytes, now_ms);
}

}  // namespace shrike::store::zset
