// GEO commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS[_RO],
// GEORADIUSBYMEMBER[_RO], GEOSEARCH and GEOSEARCHSTORE, as Redis 7.0's geo.c.
//
// A GEO key is a sorted set whose scores are 52-bit geohashes
// (util/geohash.hpp). GEOADD is ZADD with those scores (and replicates as
// ZADD); a search scans the score ranges of the 3x3 grid cells around its
// centre and keeps the members inside the circle or box.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "commands/propagation.hpp"
#include "commands/zset_shared.hpp"
#include "util/geohash.hpp"

namespace shrike::commands {

namespace {

using store::entry;
using store::value_type;
namespace zset = store::zset;
namespace geo = util::geo;

// ---- arguments (geo.c's extract*OrReply) ----

// A unit's size in meters; false after replying the error.
bool unit_arg(command_context& ctx, std::size_t i, double& to_meters) {
  const std::string_view u = ctx.arg(i);
  if (iequals(u, "m")) to_meters = 1;
  else if (iequals(u, "km")) to_meters = 1000;
  else if (iequals(u, "ft")) to_meters = 0.3048;
  else if (iequals(u, "mi")) to_meters = 1609.34;
  else {
    ctx.out.error("unsupported unit provided. please use M, KM, FT, MI");
    return false;
  }
  return true;
}

bool double_arg(command_context& ctx, std::size_t i, double& v, std::string_view message = errors::not_float) {
  if (util::parse_double(ctx.arg(i), v)) return true;
  ctx.out.error(message);
  return false;
}

// longitude latitude, inside the indexable area.
bool lon_lat_args(command_context& ctx, std::size_t i, double& lon, double& lat) {
  if (!double_arg(ctx, i, lon) || !double_arg(ctx, i + 1, lat)) return false;
  if (lon < geo::lon_min || lon > geo::lon_max || lat < geo::lat_min || lat > geo::lat_max) {
    const int n = std::snprintf(nullptr, 0, "invalid longitude,latitude pair %f,%f", lon, lat);
    std::string text(static_cast<std::size_t>(n) + 1, '\0');
    std::snprintf(text.data(), text.size(), "invalid longitude,latitude pair %f,%f", lon, lat);
    text.pop_back();
    ctx.out.error(text);
    return false;
  }
  return true;
}

// radius unit
bool radius_args(command_context& ctx, std::size_t i, geo::shape& s) {
  double r;
  if (!double_arg(ctx, i, r, "need numeric radius")) return false;
  if (r < 0) {
    ctx.out.error("radius cannot be negative");
    return false;
  }
  s.radius = r;
  return unit_arg(ctx, i + 1, s.to_meters);
}

// width height unit
bool box_args(command_context& ctx, std::size_t i, geo::shape& s) {
  double w, h;
  if (!double_arg(ctx, i, w, "need numeric width") || !double_arg(ctx, i + 1, h, "need numeric height")) return false;
  if (h < 0 || w < 0) {
    ctx.out.error("height or width cannot be negative");
    return false;
  }
  s.width = w;
  s.height = h;
  return unit_arg(ctx, i + 2, s.to_meters);
}

// ---- replies ----

// A distance with 4 decimals, rounded as Redis's fixedpoint_d2string
// (llrint of the value times 10^4); a bulk string in RESP3 too.
void reply_distance(command_context& ctx, double d) {
  const long long scaled = std::llrint(d * 10000.0);
  const unsigned long long mag =
      scaled < 0 ? 0ULL - static_cast<unsigned long long>(scaled) : static_cast<unsigned long long>(scaled);
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%s%llu.%04llu", scaled < 0 ? "-" : "", mag / 10000, mag % 10000);
  ctx.out.bulk(std::string_view(buf, static_cast<std::size_t>(n)));
}

// A coordinate as addReplyHumanLongDouble prints it.
void reply_coordinate(command_context& ctx, double v) { ctx.out.double_text(util::format_long_double_human(v)); }

// The source key as a sorted set: nullptr when absent; false after WRONGTYPE.
bool source_zset(command_context& ctx, std::string_view key, const entry*& out) {
  out = read_key(ctx, ctx.db(key), key);
  return !out || check_type(ctx, out, value_type::zset);
}

// ---- GEOADD key [NX|XX] [CH] longitude latitude member [...] ----

void cmd_geoadd(command_context& ctx) {
  unsigned flags = 0;
  bool ch = false;
  std::size_t first = 2;
  for (; first < ctx.argc(); ++first) {
    const std::string_view opt = ctx.arg(first);
    if (iequals(opt, "nx")) flags |= zset::add_nx;
    else if (iequals(opt, "xx")) flags |= zset::add_xx;
    else if (iequals(opt, "ch")) ch = true;
    else break;
  }
  const std::size_t rest = ctx.argc() - first;
  if (rest % 3 || rest == 0 || ((flags & zset::add_nx) && (flags & zset::add_xx)))
    return ctx.out.error(errors::syntax);

  std::vector<double> scores(rest / 3);
  for (std::size_t j = 0; j < scores.size(); ++j) {
    double lon, lat;
    if (!lon_lat_args(ctx, first + 3 * j, lon, lat)) return;
    scores[j] = static_cast<double>(geo::score_of(lon, lat));
  }
  zadd_members(ctx, ctx.arg(1), flags, ch, scores, first + 2, 3);

  // Redis runs GEOADD as the ZADD it rewrites it into, and replicates that.
  if (!ctx.effects) return;
  std::vector<std::string> zadd{"zadd"};
  for (std::size_t i = 1; i < first; ++i) zadd.emplace_back(ctx.arg(i));
  for (std::size_t j = 0; j < scores.size(); ++j) {
    zadd.push_back(util::format_int64(static_cast<std::int64_t>(scores[j])));
    zadd.emplace_back(ctx.arg(first + 3 * j + 2));
  }
  propagate_as(ctx, std::move(zadd));
}

// ---- GEOPOS, GEODIST, GEOHASH ----

// GEOPOS and GEOHASH: one reply element per member argument, `missing()`
// for a member (or a key) that is not there, else `found(lon, lat)`.
template <class Missing, class Found>
void reply_per_member(command_context& ctx, Missing&& missing, Found&& found) {
  const entry* z;
  if (!source_zset(ctx, ctx.arg(1), z)) return;
  ctx.out.array(ctx.argc() - 2);
  for (std::size_t i = 2; i < ctx.argc(); ++i) {
    double score;
    if (!z || !zset::score_of(z, ctx.arg(i), score)) {
      missing();
      continue;
    }
    double lon, lat;
    geo::position_of(score, lon, lat);
    found(lon, lat);
  }
}

void cmd_geopos(command_context& ctx) {
  reply_per_member(
      ctx, [&] { ctx.out.null_array(); },
      [&](double lon, double lat) {
        ctx.out.array(2);
        reply_coordinate(ctx, lon);
        reply_coordinate(ctx, lat);
      });
}

void cmd_geodist(command_context& ctx) {
  double to_meters = 1;
  if (ctx.argc() == 5) {
    if (!unit_arg(ctx, 4, to_meters)) return;
  } else if (ctx.argc() > 5) {
    return ctx.out.error(errors::syntax);
  }
  const entry* z;
  if (!source_zset(ctx, ctx.arg(1), z)) return;
  double s1, s2;
  if (!z || !zset::score_of(z, ctx.arg(2), s1) || !zset::score_of(z, ctx.arg(3), s2)) return ctx.out.null();
  double lon1, lat1, lon2, lat2;
  geo::position_of(s1, lon1, lat1);
  geo::position_of(s2, lon2, lat2);
  reply_distance(ctx, geo::distance(lon1, lat1, lon2, lat2) / to_meters);
}

void cmd_geohash(command_context& ctx) {
  reply_per_member(
      ctx, [&] { ctx.out.null(); },
      [&](double lon, double lat) { ctx.out.bulk(geo::standard_geohash(lon, lat)); });
}

// ---- the searches (georadiusGeneric) ----

enum search_kind : unsigned {
  around_coords = 1,   // GEORADIUS[_RO]
  around_member = 2,   // GEORADIUSBYMEMBER[_RO]
  read_only = 4,       // the _RO forms: no STORE
  geosearch = 8,       // GEOSEARCH, GEOSEARCHSTORE
  geosearch_store = 16,
};

struct match {
  double lon, lat, dist, score;
  std::string member;
};

// The members of `z` inside the shape, cell by cell in Redis's order
// (membersOfAllNeighbors); stops at `limit` matches when it is not 0.
std::vector<match> find_matches(const entry* z, const geo::shape& s, std::size_t limit) {
  const auto cells = geo::search_cells(s);
  std::vector<match> out;
  zset::with_view(z, [&](auto& v) {
    std::size_t last = 0;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].none()) continue;
      // Huge radii make neighbours coincide. As Redis, only a repeat of the
      // last cell scanned after the centre is skipped.
      if (last != 0 && cells[i] == cells[last]) continue;
      if (limit && out.size() >= limit) break;
      std::uint64_t min, max;
      geo::score_range(cells[i], min, max);
      const zset::score_range r{static_cast<double>(min), static_cast<double>(max), false, true};
      for (auto p = v.first_in(r); p != v.end() && r.lte_max(v.score(p)); p = v.next(p)) {
        match m{0, 0, 0, v.score(p), {}};
        geo::position_of(m.score, m.lon, m.lat);
        if (geo::within(s, m.lon, m.lat, m.dist)) {
          m.member = v.member(p);
          out.push_back(std::move(m));
        }
        if (limit && out.size() >= limit) break;
      }
      last = i;
    }
  });
  return out;
}

void geo_search(command_context& ctx, std::size_t src_idx, unsigned kind) {
  const std::string_view cmd_name = ctx.arg(0);
  const entry* z;
  if (!source_zset(ctx, ctx.arg(src_idx), z)) return;

  geo::shape shape;
  std::size_t base = 0;
  std::string_view store_key;
  bool store = false;
  if (kind & around_coords) {
    base = 6;
    if (!lon_lat_args(ctx, 2, shape.lon, shape.lat) || !radius_args(ctx, 4, shape)) return;
  } else if (kind & around_member) {
    base = 5;
    // Without the key nothing else is read: the reply is empty whatever the
    // radius says, as in Redis.
    if (z) {
      double score;
      if (!zset::score_of(z, ctx.arg(2), score)) return ctx.out.error("could not decode requested zset member");
      geo::position_of(score, shape.lon, shape.lat);
      if (!radius_args(ctx, 3, shape)) return;
    }
  } else {
    base = 2;
    if (kind & geosearch_store) {
      base = 3;
      store = true;
      store_key = ctx.arg(1);
    }
  }

  bool withdist = false, withhash = false, withcoord = false, any = false, storedist = false;
  bool frommember = false, fromlonlat = false, byradius = false, bybox = false;
  enum class order { none, asc, desc } sort = order::none;
  std::int64_t count = 0;
  const std::size_t remaining = ctx.argc() > base ? ctx.argc() - base : 0;
  const bool is_search = kind & geosearch;
  const bool may_store = !(kind & read_only) && !is_search;
  for (std::size_t i = 0; i < remaining; ++i) {
    const std::size_t at = base + i;
    const std::string_view a = ctx.arg(at);
    if (iequals(a, "withdist")) {
      withdist = true;
    } else if (iequals(a, "withhash")) {
      withhash = true;
    } else if (iequals(a, "withcoord")) {
      withcoord = true;
    } else if (iequals(a, "any")) {
      any = true;
    } else if (iequals(a, "asc")) {
      sort = order::asc;
    } else if (iequals(a, "desc")) {
      sort = order::desc;
    } else if (iequals(a, "count") && i + 1 < remaining) {
      if (!int_arg(ctx, at + 1, count)) return;
      if (count <= 0) return ctx.out.error("COUNT must be > 0");
      ++i;
    } else if ((iequals(a, "store") || iequals(a, "storedist")) && i + 1 < remaining && may_store) {
      store = true;
      store_key = ctx.arg(at + 1);
      storedist = iequals(a, "storedist");
      ++i;
    } else if (iequals(a, "storedist") && is_search && (kind & geosearch_store)) {
      storedist = true;
    } else if (iequals(a, "frommember") && i + 1 < remaining && is_search && !fromlonlat) {
      if (z) {
        double score;
        if (!zset::score_of(z, ctx.arg(at + 1), score))
          return ctx.out.error("could not decode requested zset member");
        geo::position_of(score, shape.lon, shape.lat);
      }
      frommember = true;
      ++i;
    } else if (iequals(a, "fromlonlat") && i + 2 < remaining && is_search && !frommember) {
      if (!lon_lat_args(ctx, at + 1, shape.lon, shape.lat)) return;
      fromlonlat = true;
      i += 2;
    } else if (iequals(a, "byradius") && i + 2 < remaining && is_search && !bybox) {
      if (!radius_args(ctx, at + 1, shape)) return;
      shape.box = false;
      byradius = true;
      i += 2;
    } else if (iequals(a, "bybox") && i + 3 < remaining && is_search && !byradius) {
      if (!box_args(ctx, at + 1, shape)) return;
      shape.box = true;
      bybox = true;
      i += 3;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }

  if (store && (withdist || withhash || withcoord))
    return ctx.out.error(std::string(kind & geosearch_store ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS") +
                         " is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
  if (is_search && !(frommember || fromlonlat))
    return ctx.out.error("exactly one of FROMMEMBER or FROMLONLAT can be specified for " + std::string(cmd_name));
  if (is_search && !(byradius || bybox))
    return ctx.out.error("exactly one of BYRADIUS and BYBOX can be specified for " + std::string(cmd_name));
  if (any && !count) return ctx.out.error("the ANY argument requires COUNT argument");

  if (!store) propagate_nothing(ctx);
  if (!z) {
    if (store) return store_zset_result(ctx, store_key, {}, "");
    return ctx.out.array(0);
  }
  // COUNT means the closest ones, unless ANY asks for the first found.
  if (count != 0 && sort == order::none && !any) sort = order::asc;

  auto matches = find_matches(z, shape, any ? static_cast<std::size_t>(count) : 0);
  if (matches.empty() && !store) return ctx.out.array(0);
  const std::size_t returned =
      count == 0 || matches.size() < static_cast<std::size_t>(count) ? matches.size() : static_cast<std::size_t>(count);
  // Stable, as glibc's qsort (a merge sort) is for Redis.
  if (sort == order::asc)
    std::stable_sort(matches.begin(), matches.end(), [](const match& a, const match& b) { return a.dist < b.dist; });
  else if (sort == order::desc)
    std::stable_sort(matches.begin(), matches.end(), [](const match& a, const match& b) { return a.dist > b.dist; });

  if (!store) {
    const std::size_t extras = std::size_t{withdist} + std::size_t{withhash} + std::size_t{withcoord};
    ctx.out.array(returned);
    for (std::size_t i = 0; i < returned; ++i) {
      const match& m = matches[i];
      if (extras) ctx.out.array(extras + 1);
      ctx.out.bulk(m.member);
      if (withdist) reply_distance(ctx, m.dist / shape.to_meters);
      if (withhash) ctx.out.integer(static_cast<std::int64_t>(m.score));
      if (withcoord) {
        ctx.out.array(2);
        reply_coordinate(ctx, m.lon);
        reply_coordinate(ctx, m.lat);
      }
    }
    return;
  }

  std::vector<zset::owned_item> items;
  items.reserve(returned);
  for (std::size_t i = 0; i < returned; ++i)
    items.push_back({std::move(matches[i].member), storedist ? matches[i].dist / shape.to_meters : matches[i].score});
  std::sort(items.begin(), items.end(), [](const zset::owned_item& a, const zset::owned_item& b) {
    return store::zsl::less(a.score, a.member, b.score, b.member);
  });
  // A member found twice (coinciding cells of a world-sized search) is stored once.
  items.erase(std::unique(items.begin(), items.end(),
                          [](const zset::owned_item& a, const zset::owned_item& b) { return a.member == b.member; }),
              items.end());
  store_zset_result(ctx, store_key, items, is_search ? "geosearchstore" : "georadiusstore");
}

void cmd_georadius(command_context& ctx) { geo_search(ctx, 1, around_coords); }
void cmd_georadius_ro(command_context& ctx) { geo_search(ctx, 1, around_coords | read_only); }
void cmd_georadiusbymember(command_context& ctx) { geo_search(ctx, 1, around_member); }
void cmd_georadiusbymember_ro(command_context& ctx) { geo_search(ctx, 1, around_member | read_only); }
void cmd_geosearch(command_context& ctx) { geo_search(ctx, 1, geosearch); }
void cmd_geosearchstore(command_context& ctx) { geo_search(ctx, 2, geosearch | geosearch_store); }

}  // namespace

void register_geo_commands(command_table& t) {
  t.add("geoadd", exec_kind::keyed, cmd_geoadd);
  t.add("geopos", exec_kind::keyed, cmd_geopos);
  t.add("geodist", exec_kind::keyed, cmd_geodist);
  t.add("geohash", exec_kind::keyed, cmd_geohash);
  // STORE/STOREDIST may name a key anywhere in the argument list (the last
  // one wins), so these two hold every shard rather than trust a key spec.
  t.add("georadius", exec_kind::all_shards, cmd_georadius);
  t.add("georadiusbymember", exec_kind::all_shards, cmd_georadiusbymember);
  t.add("georadius_ro", exec_kind::keyed, cmd_georadius_ro);
  t.add("georadiusbymember_ro", exec_kind::keyed, cmd_georadiusbymember_ro);
  t.add("geosearch", exec_kind::keyed, cmd_geosearch);
  t.add("geosearchstore", exec_kind::keyed, cmd_geosearchstore);
}

}  // namespace shrike::commands
