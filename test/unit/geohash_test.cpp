#include <boost/test/unit_test.hpp>

#include <cmath>

#include "util/geohash.hpp"

namespace geo = shrike::util::geo;

BOOST_AUTO_TEST_SUITE(geohash_suite)

// The figures of Redis's GEOADD/GEOHASH/GEODIST documentation (Sicily).
BOOST_AUTO_TEST_CASE(redis_documented_values) {
  BOOST_TEST(geo::score_of(13.361389, 38.115556) == 3479099956230698ULL);
  BOOST_TEST(geo::score_of(15.087269, 37.502669) == 3479447370796909ULL);
  double lon, lat;
  geo::position_of(3479099956230698.0, lon, lat);
  BOOST_TEST(geo::standard_geohash(lon, lat) == "sqc8b49rny0");
  double lon2, lat2;
  geo::position_of(3479447370796909.0, lon2, lat2);
  BOOST_TEST(geo::standard_geohash(lon2, lat2) == "sqdtr74hyu0");
  BOOST_TEST(std::llrint(geo::distance(lon, lat, lon2, lat2) * 10000) == 1662741516LL);  // 166274.1516 m
}

BOOST_AUTO_TEST_CASE(positions_round_trip_within_a_cell) {
  // A 26-step cell is 360/2^26 degrees of longitude wide and 170.1/2^26 of
  // latitude high: the decoded centre is at most half of that away.
  const double lon_half = 360.0 / (1 << 26) / 2, lat_half = (geo::lat_max - geo::lat_min) / (1 << 26) / 2;
  for (double lon = -180; lon <= 180; lon += 7.3)
    for (double lat = -85; lat <= 85; lat += 4.1) {
      double dlon, dlat;
      geo::position_of(static_cast<double>(geo::score_of(lon, lat)), dlon, dlat);
      BOOST_TEST(std::fabs(dlon - lon) <= lon_half);
      BOOST_TEST(std::fabs(dlat - lat) <= lat_half);
    }
}

BOOST_AUTO_TEST_CASE(encode_rejects_points_outside_the_index) {
  geo::cell c;
  BOOST_TEST(!geo::encode(180.1, 0, 26, c));
  BOOST_TEST(!geo::encode(0, 85.06, 26, c));
  BOOST_TEST(!geo::encode(0, 0, 0, c));
  BOOST_TEST(!geo::encode(0, 0, 33, c));
  BOOST_TEST(geo::encode(-180, -85.05112878, 26, c));
  BOOST_TEST(c.bits == 0);
}

BOOST_AUTO_TEST_CASE(score_range_of_a_cell_covers_its_points) {
  geo::cell c;
  BOOST_TEST(geo::encode(13.361389, 38.115556, 10, c));
  std::uint64_t min, max;
  geo::score_range(c, min, max);
  const auto score = geo::score_of(13.361389, 38.115556);
  BOOST_TEST(min <= score);
  BOOST_TEST(score < max);
  BOOST_TEST(max - min == (std::uint64_t{1} << 32));  // 52 - 2*10 free bits
}

BOOST_AUTO_TEST_CASE(search_cells_wrap_around_the_antimeridian) {
  geo::shape s;
  s.lon = 179.99;
  s.lat = 0;
  s.radius = 100;
  s.to_meters = 1000;
  const auto cells = geo::search_cells(s);
  geo::area centre, east;
  BOOST_TEST(geo::decode(cells[0], centre));
  BOOST_TEST(centre.lon.max == 180.0);
  BOOST_TEST(!cells[3].none());  // the circle crosses 180: east is kept...
  BOOST_TEST(geo::decode(cells[3], east));
  BOOST_TEST(east.lon.min == -180.0);  // ...and it is the westmost column
}

BOOST_AUTO_TEST_CASE(search_cells_drop_unreachable_neighbours) {
  // A zero radius searches the finest cell only (the point is not on an edge).
  geo::shape s;
  s.lon = 10.1234567;
  s.lat = 10.7654321;
  s.radius = 0;
  const auto cells = geo::search_cells(s);
  BOOST_TEST(cells[0].step == geo::max_step);
  BOOST_TEST(cells[0].bits == geo::score_of(s.lon, s.lat));
  for (std::size_t i = 1; i < cells.size(); ++i) BOOST_TEST(cells[i].none());
}

BOOST_AUTO_TEST_CASE(within_box_and_circle) {
  geo::shape circle;
  circle.lon = 0;
  circle.lat = 0;
  circle.radius = 100;
  circle.to_meters = 1000;
  double d = 0;
  BOOST_TEST(geo::within(circle, 0.5, 0.5, d));
  BOOST_TEST(d > 78000);
  BOOST_TEST(d < 79000);
  BOOST_TEST(!geo::within(circle, 1, 0.5, d));

  geo::shape box = circle;
  box.box = true;
  box.width = 400;  // km: +-1.8 degrees of longitude at the equator
  box.height = 100;
  BOOST_TEST(geo::within(box, 1.5, 0.2, d));
  BOOST_TEST(!geo::within(box, 0, 0.5, d));
  BOOST_TEST(!geo::within(box, 1.9, 0, d));
}

BOOST_AUTO_TEST_SUITE_END()
