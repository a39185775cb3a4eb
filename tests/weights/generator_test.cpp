#include <catch2/catch.hpp>

#include <cmath>

#include "common/error.h"
#include "weights/generator.h"

using namespace stcsim;

TEST_CASE("generated weights are deterministic and scaled by fan-in", "[weights]") {
  for (auto dist : {WeightDist::normal, WeightDist::uniform, WeightDist::laplace}) {
    INFO(weight_dist_name(dist));
    const Matrix a = generate_weights(64, 1024, 99, dist);
    CHECK(a == generate_weights(64, 1024, 99, dist));
    CHECK(a != generate_weights(64, 1024, 100, dist));
    double sq = 0;
    for (float v : a.data()) sq += static_cast<double>(v) * v;
    // Variance 1/cols for every distribution.
    CHECK(sq / static_cast<double>(a.size()) == Approx(1.0 / 1024).epsilon(0.05));
  }
  CHECK(parse_weight_dist("laplace") == WeightDist::laplace);
  CHECK_FALSE(parse_weight_dist("cauchy"));
  CHECK_THROWS_AS(generate_weights(0, 4, 1), ShapeError);
}
