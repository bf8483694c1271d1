// SORT and SORT_RO (sort.c of Redis 7.0): the elements of a list, set or
// sorted set, sorted as numbers or strings, by themselves or by the values of
// other keys (BY pattern), replying with them or with other keys' values (GET
// pattern), or storing the result as a list (STORE).
//
// A pattern names keys that can live in any shard, so both commands run with
// every shard's gate held (exec_kind::all_shards), as KEYS does.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "acl/acl.hpp"
#include "commands/blocking.hpp"
#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "store/hash_value.hpp"
#include "store/list_value.hpp"
#include "store/set_value.hpp"
#include "store/zset_value.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;

// Arguments are C strings to Redis where it looks for '*', '#' and "->".
std::string_view c_string(std::string_view s) { return s.substr(0, s.find('\0')); }

// lookupKeyByPattern: what `pattern` names for `element`. "#" is the element
// itself; otherwise the first '*' becomes the element and names a string key,
// or with "->field" after the '*' a field of a hash key. Nothing when the
// pattern has no '*' or the key (field) is missing or of another type.
std::optional<std::string> value_by_pattern(command_context& ctx, std::string_view pattern,
                                            std::string_view element) {
  const std::string_view c = c_string(pattern);
  if (c == "#") return std::string(element);
  const std::size_t star = c.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  const std::size_t arrow = c.find("->", star + 1);
  const bool hash_field = arrow != std::string_view::npos && arrow + 2 < c.size();
  const std::string_view field = hash_field ? pattern.substr(arrow + 2) : std::string_view();
  const std::size_t suffix_end = hash_field ? arrow : pattern.size();

  std::string key;
  key.reserve(pattern.size() + element.size());
  key.append(pattern.substr(0, star)).append(element).append(pattern.substr(star + 1, suffix_end - star - 1));
  entry* e = read_key(ctx, ctx.db(key), key);
  if (!e) return std::nullopt;
  if (hash_field) {
    std::string_view value;
    if (e->type != value_type::hash || !store::hash_get(e, field, value)) return std::nullopt;
    return std::string(value);
  }
  if (e->type != value_type::string) return std::nullopt;
  return std::string(e->str());
}

struct sort_item {
  std::string element;
  double score = 0;                // numeric sorting
  std::optional<std::string> by;   // ALPHA with BY: the weight, if its key exists
};

// compareStringObjects: bytes, then length.
int compare_binary(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// strcoll on the C strings, as Redis compares for a reply (LC_COLLATE of the
// C locale: bytes, up to the first NUL).
int compare_collated(std::string_view a, std::string_view b) { return compare_binary(c_string(a), c_string(b)); }

struct sort_order {
  bool alpha = false, by = false, store = false, desc = false;

  // sortCompare.
  int compare(const sort_item& a, const sort_item& b) const {
    int c;
    if (!alpha) {
      if (a.score > b.score) {
        c = 1;
      } else if (a.score < b.score) {
        c = -1;
      } else {
        // Equal scores: by the elements, so the result is deterministic.
        c = compare_binary(a.element, b.element);
      }
    } else if (by) {
      if (!a.by || !b.by) {
        c = a.by.has_value() == b.by.has_value() ? 0 : (a.by ? 1 : -1);
      } else {
        c = store ? compare_binary(*a.by, *b.by) : compare_collated(*a.by, *b.by);
      }
    } else {
      c = store ? compare_binary(a.element, b.element) : compare_collated(a.element, b.element);
    }
    return desc ? -c : c;
  }
};

// The elements to sort. With `dontsort`, lists and sorted sets give only the
// range [start, end] in their own order (reversed for DESC), and start/end are
// moved to index that range.
std::vector<sort_item> load_items(store::database& db, entry*& e, bool dontsort, bool desc,
                                  std::int64_t& start, std::int64_t& end) {
  std::vector<sort_item> items;
  if (!e) return items;
  auto add = [&](std::string_view element) { items.push_back(sort_item{std::string(element), 0, std::nullopt}); };
  if (e->type == value_type::list) {
    const auto& l = store::as_list(e)->items;
    const auto len = static_cast<std::int64_t>(l.size());
    if (!dontsort) {
      for (const auto& v : l) add(v);
      return items;
    }
    if (end >= start) {
      for (std::int64_t i = start; i <= end; ++i) add(l[static_cast<std::size_t>(desc ? len - 1 - i : i)]);
      end -= start;
      start = 0;
    }
    return items;
  }
  if (e->type == value_type::set) {
    store::set_for_each(e, add);
    return items;
  }
  // Sorted set (Redis converts it to a skiplist for good first).
  e = store::zset::ensure_skiplist(db, e);
  store::zset::with_view(e, [&](const auto& v) {
    if (!dontsort) {
      for (auto p = v.first(); p != v.end(); p = v.next(p)) add(v.member(p));
      return;
    }
    const auto len = static_cast<std::int64_t>(v.size());
    if (end < start) return;
    for (std::int64_t i = start; i <= end; ++i) add(v.member(v.at_rank(static_cast<std::size_t>(desc ? len - 1 - i : i))));
    end -= start;
    start = 0;
  });
  return items;
}

// The numeric weight of a value as Redis reads it (strtod on the C string);
// false when it is not a number (or NaN, or out of range).
bool parse_weight(const std::string& text, double& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(out);
}

// setKey with the sorted list, or the key deleted when the result is empty.
void store_list(command_context& ctx, std::string_view dst, std::vector<std::string>&& values) {
  auto& db = ctx.db(dst);
  if (values.empty()) {
    if (db.erase(dst)) notify_event(ctx, notify::generic, "del", dst);
    else propagate_nothing(ctx);
    return;
  }
  // (The lookup also expires an outdated value, with its event.)
  const bool created = db.lookup(dst, ctx.now_ms) == nullptr;
  db.erase(dst);
  auto* list = new store::list_value;
  list->items.assign(std::make_move_iterator(values.begin()), std::make_move_iterator(values.end()));
  db.add_object(dst, value_type::list, list, ctx.now_ms);
  if (created) {
    notify_new(ctx, dst);
    signal_key_ready(ctx, dst);
  }
  notify_event(ctx, notify::list, "sortstore", dst);
}

void sort_generic(command_context& ctx, bool readonly) {
  sort_order order;
  bool dontsort = false;
  std::int64_t limit_start = 0, limit_count = -1;
  std::optional<std::string_view> by, store_key;
  std::vector<std::string_view> gets;
  std::optional<bool> any_key;  // may the user read every key (asked once, when needed)
  auto may_read_any_key = [&] {
    if (!any_key) {
      server::client_state& c = ctx.script_caller ? *ctx.script_caller : ctx.client;
      any_key = acl::may_read_any_key(ctx.srv, c, *ctx.row->info, ctx.argv);
    }
    return *any_key;
  };

  for (std::size_t j = 2; j < ctx.argc(); ++j) {
    const std::size_t left = ctx.argc() - j - 1;
    const std::string_view opt = ctx.arg(j);
    if (iequals(opt, "asc")) {
      order.desc = false;
    } else if (iequals(opt, "desc")) {
      order.desc = true;
    } else if (iequals(opt, "alpha")) {
      order.alpha = true;
    } else if (iequals(opt, "limit") && left >= 2) {
      if (!int_arg(ctx, j + 1, limit_start) || !int_arg(ctx, j + 2, limit_count)) return;
      j += 2;
    } else if (!readonly && iequals(opt, "store") && left >= 1) {
      store_key = ctx.arg(++j);
    } else if (iequals(opt, "by") && left >= 1) {
      by = ctx.arg(++j);
      // A constant BY (no '*') means: do not sort.
      if (c_string(*by).find('*') == std::string_view::npos) {
        dontsort = true;
      } else if (!may_read_any_key()) {
        return ctx.out.error("BY option of SORT denied due to insufficient ACL permissions.");
      }
    } else if (iequals(opt, "get") && left >= 1) {
      if (!may_read_any_key()) return ctx.out.error("GET option of SORT denied due to insufficient ACL permissions.");
      gets.push_back(ctx.arg(++j));
    } else {
      return ctx.out.error(errors::syntax);
    }
  }

  const std::string_view key = ctx.arg(1);
  auto& db = ctx.db(key);
  entry* e = read_key(ctx, db, key);
  if (e && e->type != value_type::set && e->type != value_type::list && e->type != value_type::zset)
    return ctx.out.error(errors::wrong_type);

  // A set has no order of its own: what is stored or replicated (scripts)
  // must not depend on its layout, so it is sorted as strings.
  if (dontsort && e && e->type == value_type::set && (store_key || ctx.script_caller)) {
    dontsort = false;
    order.alpha = true;
    by.reset();
  }
  order.by = by.has_value() && !dontsort;
  order.store = store_key.has_value();

  std::int64_t length = 0;
  if (e) {
    if (e->type == value_type::list) length = static_cast<std::int64_t>(store::as_list(e)->items.size());
    else if (e->type == value_type::set) length = static_cast<std::int64_t>(store::set_size(e));
    else length = static_cast<std::int64_t>(store::zset::size(e));
  }
  // LIMIT, clamped to the length.
  std::int64_t start = std::min(std::max<std::int64_t>(limit_start, 0), length);
  limit_count = std::min(std::max<std::int64_t>(limit_count, -1), length);
  std::int64_t end = limit_count < 0 ? length - 1 : start + limit_count - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;

  std::vector<sort_item> items = load_items(db, e, dontsort, order.desc, start, end);

  bool not_a_number = false;
  if (!dontsort) {
    for (auto& item : items) {
      std::optional<std::string> weight;
      if (by) {
        weight = value_by_pattern(ctx, *by, item.element);
        if (!weight) continue;
      }
      if (order.alpha) {
        if (by) item.by = std::move(weight);
      } else if (!parse_weight(by ? *weight : item.element, item.score)) {
        not_a_number = true;
      }
    }
    if (!not_a_number)
      std::stable_sort(items.begin(), items.end(),
                       [&](const sort_item& a, const sort_item& b) { return order.compare(a, b) < 0; });
  }
  if (not_a_number) return ctx.out.error("One or more scores can't be converted into double");

  const std::size_t picked = end >= start ? static_cast<std::size_t>(end - start + 1) : 0;
  if (!store_key) {
    ctx.out.array(gets.empty() ? picked : picked * gets.size());
    for (std::size_t i = 0; i < picked; ++i) {
      const std::string& element = items[static_cast<std::size_t>(start) + i].element;
      if (gets.empty()) ctx.out.bulk(element);
      for (std::string_view pattern : gets) {
        if (auto v = value_by_pattern(ctx, pattern, element)) {
          ctx.out.bulk(*v);
        } else {
          ctx.out.null();
        }
      }
    }
    return propagate_nothing(ctx);
  }
  std::vector<std::string> values;
  values.reserve(gets.empty() ? picked : picked * gets.size());
  for (std::size_t i = 0; i < picked; ++i) {
    std::string& element = items[static_cast<std::size_t>(start) + i].element;
    if (gets.empty()) values.push_back(std::move(element));
    for (std::string_view pattern : gets) values.push_back(value_by_pattern(ctx, pattern, element).value_or(""));
  }
  const auto stored = static_cast<std::int64_t>(values.size());
  store_list(ctx, *store_key, std::move(values));
  ctx.out.integer(stored);
}

void cmd_sort(command_context& ctx) { sort_generic(ctx, false); }
void cmd_sort_ro(command_context& ctx) { sort_generic(ctx, true); }

}  // namespace

void register_sort_commands(command_table& t) {
  t.add("sort", exec_kind::all_shards, cmd_sort);
  t.add("sort_ro", exec_kind::all_shards, cmd_sort_ro);
}

}  // namespace shrike::commands
