#pragma once
// Sorted set values in their two encodings, switched as Redis 7.0 switches
// them (t_zset.c):
//
//  * packed ("listpack"): inline in the key's block (store/packed.hpp),
//    member,score element pairs sorted by (score, member); the score element
//    is the 8 raw bytes of a double. Lookups are linear, as in a listpack.
//  * skiplist: a zset_object (store/zset_skiplist.hpp).
//
// A sorted set is packed while it has at most zset-max-listpack-entries
// members, each at most zset-max-listpack-value bytes long; adding past either
// limit converts it for good (removals never convert back). Results of the
// *STORE commands are built whole and take whichever encoding fits, as
// Redis's zsetConvertToListpackIfNeeded decides.
//
// A listpack keeps an integral score as an integer, so -0 comes back as 0;
// the packed form stores scores through packed_score() to match.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/entry.hpp"
#include "store/zset_skiplist.hpp"

namespace shrike::store::zset {

// entry::encoding of a sorted set key.
inline constexpr std::uint8_t encoding_packed = 0;
inline constexpr std::uint8_t encoding_skiplist = 1;

// The *-max-listpack-* limits in force for a command.
struct limits {
  std::size_t max_entries;
  std::size_t max_value;
};

// The score a listpack gives back for `d` (-0 becomes 0).
double packed_score(double d);

// A score interval, min and max inclusive unless *ex (zrangespec).
struct score_range {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
  bool gte_min(double v) const { return minex ? v > min : v >= min; }
  bool lte_max(double v) const { return maxex ? v < max : v <= max; }
  bool empty() const { return min > max || (min == max && (minex || maxex)); }
};
// zslParseRange: "(" marks an open end; the rest goes through strtod as a C
// string (so blanks in front and an empty number are accepted). False on a
// bad bound ("min or max is not a float").
bool parse_score_range(std::string_view min, std::string_view max, score_range& out);

// A member interval (zlexrangespec): "-" and "+" are the smallest and the
// largest string, "[x" includes x, "(x" excludes it.
struct lex_range {
  enum class kind : std::uint8_t { value, lowest, highest };
  kind min_kind = kind::value, max_kind = kind::value;
  std::string_view min, max;
  bool minex = false, maxex = false;
  bool gte_min(std::string_view v) const;
  bool lte_max(std::string_view v) const;
  bool empty() const;
};
// zslParseLexRange; false on a bad bound ("min or max not valid string range item").
bool parse_lex_range(std::string_view min, std::string_view max, lex_range& out);

// Read access to a packed value: its pairs decoded once into an array, so
// positions are indexes (and ranks). Views into the block: valid until the
// key is written.
class packed_view {
 public:
  using pos = std::size_t;
  static constexpr pos npos = static_cast<pos>(-1);

  explicit packed_view(const entry* e);

  std::size_t size() const { return items_.size(); }
  pos end() const { return npos; }
  pos first() const { return items_.empty() ? npos : 0; }
  pos last() const { return items_.empty() ? npos : items_.size() - 1; }
  pos next(pos p) const { return p + 1 < items_.size() ? p + 1 : npos; }
  pos prev(pos p) const { return p == 0 ? npos : p - 1; }
  pos at_rank(std::size_t r) const { return r; }
  std::size_t rank(pos p) const { return p; }
  std::string_view member(pos p) const { return items_[p].member; }
  double score(pos p) const { return items_[p].score; }
  pos find(std::string_view member) const;

  // The first/last pair in a range, found the way Redis walks a listpack
  // (zzlFirstInRange, zzlLastInLexRange, ...), and the pairs counted from the
  // first one on (ZCOUNT, ZLEXCOUNT).
  pos first_in(const score_range& r) const;
  pos last_in(const score_range& r) const;
  pos first_in(const lex_range& r) const;
  pos last_in(const lex_range& r) const;
  std::size_t count_in(const score_range& r) const;
  std::size_t count_in(const lex_range& r) const;

  // Byte offsets of pair p in the packed value (for edits).
  std::size_t offset(pos p) const { return items_[p].offset; }
  std::size_t end_offset(pos p) const { return p + 1 < items_.size() ? items_[p + 1].offset : bytes_; }

 private:
  struct slot {
    std::string_view member;
    double score;
    std::size_t offset;
  };
  std::vector<slot> items_;
  std::size_t bytes_;
};

// The same interface over a skiplist; positions are nodes. O(log n) searches.
class skiplist_view {
 public:
  using pos = entry*;

  explicit skiplist_view(const entry* e) : z_(&as_zset_object(e)) {}

  std::size_t size() const { return z_->size(); }
  pos end() const { return nullptr; }
  pos first() const { return z_->first(); }
  pos last() const { return z_->last(); }
  pos next(pos p) const { return zset_object::next(p); }
  pos prev(pos p) const { return zset_object::prev(p); }
  pos at_rank(std::size_t r) const { return z_->at_rank(r); }
  std::size_t rank(pos p) const { return z_->rank(p); }
  std::string_view member(pos p) const { return p->key(); }
  double score(pos p) const { return zsl::score(p); }
  pos find(std::string_view member) const { return z_->find(member); }

  pos first_in(const score_range& r) const;
  pos last_in(const score_range& r) const;
  pos first_in(const lex_range& r) const;
  pos last_in(const lex_range& r) const;
  std::size_t count_in(const score_range& r) const;
  std::size_t count_in(const lex_range& r) const;

  const zset_object& object() const { return *z_; }

 private:
  template <class Range>
  std::size_t count_between(const Range& r) const;
  const zset_object* z_;
};

// Calls f(view) with the view that fits the encoding of `e`; the algorithms
// of the range commands are written once against both.
template <class F>
decltype(auto) with_view(const entry* e, F&& f) {
  if (e->holds_object()) {
    skiplist_view v(e);
    return f(v);
  }
  packed_view v(e);
  return f(v);
}

std::size_t size(const entry* e);
inline bool is_packed(const entry* e) { return !e->holds_object(); }
// zsetScore: false when `member` is absent.
bool score_of(const entry* e, std::string_view member, double& score);
// zsetRank: 0-based rank from the low end (or the high end when `reverse`), -1 if absent.
std::int64_t rank_of(const entry* e, std::string_view member, bool reverse);

// A new, empty sorted set at `key` (absent) in the given encoding.
entry* create(database& db, std::string_view key, bool skiplist, std::int64_t now_ms);

// zsetAdd. Input flags:
enum : unsigned { add_incr = 1, add_nx = 2, add_xx = 4, add_gt = 8, add_lt = 16 };
// Output flags:
enum : unsigned { added_nan = 1, added_new = 2, added_updated = 4, added_nop = 8 };
// Adds or updates `member`; converts to a skiplist when a new member breaks
// the limits. With add_incr, `score` is an increment. `newscore` receives the
// resulting score unless nothing was done. Returns false (out = added_nan)
// when the score would be NaN. `e` may move.
bool add(database& db, entry*& e, double score, std::string_view member, unsigned flags, unsigned& out,
         double& newscore, const limits& lim);

// zsetConvert to the skiplist encoding, for good (SORT does it to the sorted
// sets it reads). Returns the entry to use (the block may move).
entry* ensure_skiplist(database& db, entry* e);

// zsetDel: false when absent. Never deletes the key; `e` may move.
bool erase(database& db, entry*& e, std::string_view member);
// Range removals (ZREMRANGEBY*). Ranks are 0-based, inclusive and valid.
// They never delete the key; `e` may move.
std::size_t erase_rank_range(database& db, entry*& e, std::size_t start, std::size_t end);
std::size_t erase_score_range(database& db, entry*& e, const score_range& r);
std::size_t erase_lex_range(database& db, entry*& e, const lex_range& r);

// Pops up to `count` members from the low-score end (or the high end when
// `from_max`) of the sorted set at `e` in `db`, reporting each, in pop order,
// to visit(member, score) (the member view lives only for the call), and
// deletes the key when it becomes empty. Returns how many were popped.
// ZPOPMIN, ZPOPMAX and ZMPOP use it; so can the blocking BZPOP*/BZMPOP.
using pop_visitor = std::function<void(std::string_view member, double score)>;
std::size_t pop(database& db, entry* e, bool from_max, std::size_t count, const pop_visitor& visit);

// One member of a result being built (the *STORE commands).
struct owned_item {
  std::string member;
  double score;
};
// Stores `items` (sorted by (score, member), members unique, not empty) as a
// new sorted set at `key` (absent): packed when the limits allow it, a
// skiplist otherwise.
entry* store_sorted(database& db, std::string_view key, const std::vector<owned_item>& items, const limits& lim,
                    std::int64_t now_ms);

}  // namespace shrike::store::zset
