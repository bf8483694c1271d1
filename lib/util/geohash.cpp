#include "util/geohash.hpp"

#include <cmath>

namespace shrike::util::geo {

namespace {

// Redis's constants, kept as Redis spells them: distances computed with
// another value of pi/180 or of the radius would differ in the last digits.
constexpr double deg_to_rad_factor = M_PI / 180.0;
constexpr double earth_radius_m = 6372797.560856;  // quadratic mean radius of WGS-84
constexpr double mercator_max = 20037726.37;

double deg_rad(double deg) { return deg * deg_to_rad_factor; }
double rad_deg(double rad) { return rad / deg_to_rad_factor; }

// Spreads the 32 bits of v to the even bit positions of a 64-bit word.
std::uint64_t spread(std::uint32_t v) {
  std::uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

// The inverse: gathers the even bits of x into 32 bits.
std::uint32_t gather(std::uint64_t x) {
  x &= 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<std::uint32_t>(x);
}

// Latitude in the even bits, longitude in the odd ones.
std::uint64_t interleave(std::uint32_t lat_index, std::uint32_t lon_index) {
  return spread(lat_index) | (spread(lon_index) << 1);
}

// The neighbour `dlon` columns east and `dlat` rows north of c, wrapping
// around at the edges of the grid as Redis's geohash_move_x/y do. Only the
// moved axis is reduced to `step` bits: a point on the east edge (longitude
// 180) encodes one column past the grid, and its north and south neighbours
// stay in that column in Redis too.
cell moved(cell c, int dlon, int dlat) {
  const std::uint64_t mask = (std::uint64_t{1} << c.step) - 1;
  std::uint64_t lon_bits = c.bits & 0xAAAAAAAAAAAAAAAAULL;
  std::uint64_t lat_bits = c.bits & 0x5555555555555555ULL;
  if (dlon != 0) {
    const std::uint64_t lon = (gather(c.bits >> 1) + static_cast<std::uint64_t>(static_cast<std::int64_t>(dlon))) & mask;
    lon_bits = spread(static_cast<std::uint32_t>(lon)) << 1;
  }
  if (dlat != 0) {
    const std::uint64_t lat = (gather(c.bits) + static_cast<std::uint64_t>(static_cast<std::int64_t>(dlat))) & mask;
    lat_bits = spread(static_cast<std::uint32_t>(lat));
  }
  return {lon_bits | lat_bits, c.step};
}

// geohashEstimateStepsByRadius: the precision whose cells (plus neighbours)
// cover the radius; coarser near the poles.
int estimate_steps(double range_m, double lat) {
  if (range_m == 0) return max_step;
  int step = 1;
  while (range_m < mercator_max) {
    range_m *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > max_step) step = max_step;
  return step;
}

// geohashBoundingBox: {min lon, min lat, max lon, max lat} of the shape. The
// longitude span is taken at the edge nearer the pole, where it is widest.
std::array<double, 4> bounding_box(const shape& s) {
  const double height = s.to_meters * (s.box ? s.height / 2 : s.radius);
  const double width = s.to_meters * (s.box ? s.width / 2 : s.radius);
  const double lat_delta = rad_deg(height / earth_radius_m);
  const double lon_delta_top = rad_deg(width / earth_radius_m / std::cos(deg_rad(s.lat + lat_delta)));
  const double lon_delta_bottom = rad_deg(width / earth_radius_m / std::cos(deg_rad(s.lat - lat_delta)));
  const double lon_delta = s.lat < 0 ? lon_delta_bottom : lon_delta_top;
  return {s.lon - lon_delta, s.lat - lat_delta, s.lon + lon_delta, s.lat + lat_delta};
}

}  // namespace

bool encode(double lon, double lat, int step, cell& out, interval lon_range, interval lat_range) {
  if (step > 32 || step <= 0) return false;
  if ((lat_range.min == 0 && lat_range.max == 0) || (lon_range.min == 0 && lon_range.max == 0)) return false;
  if (lon > lon_max || lon < lon_min || lat > lat_max || lat < lat_min) return false;
  if (lat < lat_range.min || lat > lat_range.max || lon < lon_range.min || lon > lon_range.max) return false;
  double lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min);
  double lon_offset = (lon - lon_range.min) / (lon_range.max - lon_range.min);
  lat_offset *= static_cast<double>(std::uint64_t{1} << step);
  lon_offset *= static_cast<double>(std::uint64_t{1} << step);
  out = {interleave(static_cast<std::uint32_t>(lat_offset), static_cast<std::uint32_t>(lon_offset)), step};
  return true;
}

bool decode(cell c, area& out) {
  if (c.none()) return false;
  const std::uint32_t lat_index = gather(c.bits);
  const std::uint32_t lon_index = gather(c.bits >> 1);
  const double cells = static_cast<double>(std::uint64_t{1} << c.step);
  const double lat_scale = lat_max - lat_min;
  const double lon_scale = lon_max - lon_min;
  out.lat.min = lat_min + (lat_index * 1.0 / cells) * lat_scale;
  out.lat.max = lat_min + ((lat_index + 1) * 1.0 / cells) * lat_scale;
  out.lon.min = lon_min + (lon_index * 1.0 / cells) * lon_scale;
  out.lon.max = lon_min + ((lon_index + 1) * 1.0 / cells) * lon_scale;
  return true;
}

std::uint64_t score_of(double lon, double lat) {
  cell c;
  encode(lon, lat, max_step, c);
  return c.bits;  // 2 * 26 bits: already aligned to 52
}

void position_of(double score, double& lon, double& lat) {
  // The cast is Redis's (uint64_t) of the score; only GEOADD's integral
  // scores below 2^52 name real cells, other scores decode to whatever
  // their bits say, as in Redis.
  area a;
  decode({static_cast<std::uint64_t>(score), max_step}, a);
  lon = (a.lon.min + a.lon.max) / 2;
  if (lon > lon_max) lon = lon_max;
  if (lon < lon_min) lon = lon_min;
  lat = (a.lat.min + a.lat.max) / 2;
  if (lat > lat_max) lat = lat_max;
  if (lat < lat_min) lat = lat_min;
}

std::string standard_geohash(double lon, double lat) {
  static constexpr char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  cell c;
  encode(lon, lat, max_step, c, {-180, 180}, {-90, 90});
  std::string out(11, '0');
  // 52 bits make ten 5-bit characters; the eleventh is '0', as in Redis.
  for (int i = 0; i < 10; ++i) out[static_cast<std::size_t>(i)] = alphabet[(c.bits >> (52 - (i + 1) * 5)) & 0x1f];
  return out;
}

void score_range(cell c, std::uint64_t& min, std::uint64_t& max) {
  const int shift = 52 - c.step * 2;
  min = c.bits << shift;
  max = (c.bits + 1) << shift;
}

double lat_distance(double lat1, double lat2) { return earth_radius_m * std::fabs(deg_rad(lat2) - deg_rad(lat1)); }

double distance(double lon1, double lat1, double lon2, double lat2) {
  const double lon1r = deg_rad(lon1);
  const double lon2r = deg_rad(lon2);
  const double v = std::sin((lon2r - lon1r) / 2);
  if (v == 0.0) return lat_distance(lat1, lat2);
  const double lat1r = deg_rad(lat1);
  const double lat2r = deg_rad(lat2);
  const double u = std::sin((lat2r - lat1r) / 2);
  const double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * earth_radius_m * std::asin(std::sqrt(a));
}

bool within(const shape& s, double lon, double lat, double& dist) {
  if (!s.box) {
    dist = distance(s.lon, s.lat, lon, lat);
    return dist <= s.radius * s.to_meters;
  }
  // The latitude test is the cheap one, so it goes first.
  if (lat_distance(lat, s.lat) > s.height * s.to_meters / 2) return false;
  if (distance(lon, lat, s.lon, lat) > s.width * s.to_meters / 2) return false;
  dist = distance(s.lon, s.lat, lon, lat);
  return true;
}

std::array<cell, 9> search_cells(const shape& s) {
  const auto [min_lon, min_lat, max_lon, max_lat] = bounding_box(s);
  double radius_m = s.box ? std::sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2)) : s.radius;
  radius_m *= s.to_meters;
  int steps = estimate_steps(radius_m, s.lat);

  cell centre;
  encode(s.lon, s.lat, steps, centre);
  // The estimate can leave the shape poking out of the 3x3 block when the
  // centre sits near its edge: then one step coarser.
  area n, so, e, w;
  decode(moved(centre, 0, 1), n);
  decode(moved(centre, 0, -1), so);
  decode(moved(centre, 1, 0), e);
  decode(moved(centre, -1, 0), w);
  if (steps > 1 && (n.lat.max < max_lat || so.lat.min > min_lat || e.lon.max < max_lon || w.lon.min > min_lon)) {
    --steps;
    encode(s.lon, s.lat, steps, centre);
  }
  std::array<cell, 9> cells = {centre,
                               moved(centre, 0, 1),    // north
                               moved(centre, 0, -1),   // south
                               moved(centre, 1, 0),    // east
                               moved(centre, -1, 0),   // west
                               moved(centre, 1, 1),    // north-east
                               moved(centre, -1, 1),   // north-west
                               moved(centre, 1, -1),   // south-east
                               moved(centre, -1, -1)};  // south-west
  // Neighbours on a side the shape does not reach past the centre cell are
  // left out.
  if (steps >= 2) {
    area a;
    decode(centre, a);
    enum { north = 1, south, east, west, north_east, north_west, south_east, south_west };
    auto drop = [&](std::initializer_list<int> which) {
      for (int i : which) cells[static_cast<std::size_t>(i)] = cell{};
    };
    if (a.lat.min < min_lat) drop({south, south_west, south_east});
    if (a.lat.max > max_lat) drop({north, north_east, north_west});
    if (a.lon.min < min_lon) drop({west, south_west, north_west});
    if (a.lon.max > max_lon) drop({east, south_east, north_east});
  }
  return cells;
}

}  // namespace shrike::util::geo
