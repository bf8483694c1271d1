#pragma once
// The geohash arithmetic behind the GEO commands, as Redis 7.0 does it
// (geohash.c, geohash_helper.c).
//
// A position is stored as a sorted-set score: 26 bits of latitude and 26 bits
// of longitude interleaved (longitude in the odd bits). A grid cell at any
// precision ("step": bits per axis) is then one contiguous score range, and a
// search scans the cell around the centre plus its eight neighbours.
//
// Everything here must match Redis to the last bit, not just be a correct
// geohash: replies list matches in the order the cells are scanned, print
// positions with 17 digits and distances with 4 decimals, so the same
// floating-point operations run in the same order as Redis's.
#include <array>
#include <cstdint>
#include <string>

namespace shrike::util::geo {

// The indexable area (EPSG:900913 has no poles).
inline constexpr double lat_min = -85.05112878;
inline constexpr double lat_max = 85.05112878;
inline constexpr double lon_min = -180;
inline constexpr double lon_max = 180;
inline constexpr int max_step = 26;  // 52-bit scores

struct interval {
  double min = 0, max = 0;
};

// A grid cell: `bits` holds 2*step interleaved bits. The all-zero cell marks
// a neighbour the search skips.
struct cell {
  std::uint64_t bits = 0;
  int step = 0;
  bool none() const { return bits == 0 && step == 0; }
  friend bool operator==(const cell&, const cell&) = default;
};

struct area {
  interval lon, lat;
};

// geohashEncode: the cell of precision `step` (1..32) holding the point, over
// the given axis ranges. False when the point is outside them or outside the
// indexable area.
bool encode(double lon, double lat, int step, cell& out, interval lon_range = {lon_min, lon_max},
            interval lat_range = {lat_min, lat_max});
// geohashDecode over the indexable area; false for the all-zero cell.
bool decode(cell c, area& out);

// The score GEOADD stores for a point (a 26-step cell aligned to 52 bits).
std::uint64_t score_of(double lon, double lat);
// decodeGeohash: the centre of the 26-step cell a score names, clamped to
// the indexable area.
void position_of(double score, double& lon, double& lat);
// The 11-character standard geohash (latitude over -90..90) GEOHASH prints.
std::string standard_geohash(double lon, double lat);

// [min, max) scores of the members inside cell `c` (scoresOfGeoHashBox).
void score_range(cell c, std::uint64_t& min, std::uint64_t& max);

// Haversine distance in meters (geohashGetDistance), and its shortcut for
// points on one meridian.
double distance(double lon1, double lat1, double lon2, double lat2);
double lat_distance(double lat1, double lat2);

// What a search covers: a circle (BYRADIUS) or an axis-aligned box (BYBOX)
// around a centre. Sizes are in the request's unit; `to_meters` converts.
struct shape {
  bool box = false;
  double lon = 0, lat = 0;
  double to_meters = 1;
  double radius = 0;
  double width = 0, height = 0;
};

// Whether the point is inside the shape; `dist` gets its distance in meters
// from the centre when it is.
bool within(const shape& s, double lon, double lat, double& dist);

// The cells a search scans, in Redis's order: the centre, then north, south,
// east, west, north-east, north-west, south-east, south-west; cells the shape
// cannot reach are none().
std::array<cell, 9> search_cells(const shape& s);

}  // namespace shrike::util::geo
