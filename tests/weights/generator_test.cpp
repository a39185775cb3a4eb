#include <catch2/catch.hpp>

#include <cmath>

#include "common/error.h"
#include "common/parallel.h"
#include "common/rng.h"
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

// The stream drawn in row-major order by one loop: what generate_weights must give on any number of
// threads (it fills chunks of the same stream in parallel, common/rng_fill.h).
TEST_CASE("generated weights are the one sequential stream, whatever the thread count", "[weights]") {
  const std::int64_t rows = 300, cols = 777;  // not a multiple of the fill's chunk
  for (auto dist : {WeightDist::normal, WeightDist::uniform, WeightDist::laplace}) {
    INFO(weight_dist_name(dist));
    Matrix want(rows, cols);
    Rng rng(4242);
    const double sigma = 1.0 / std::sqrt(static_cast<double>(cols));
    for (float& v : want.data()) {
      double x = 0;
      if (dist == WeightDist::normal) {
        x = sigma * rng.normal();
      } else if (dist == WeightDist::uniform) {
        x = std::sqrt(3.0) * sigma * (2.0 * rng.uniform() - 1.0);
      } else {
        const double u = rng.uniform() - 0.5;
        const double b = sigma / std::sqrt(2.0);
        x = -b * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u));
      }
      v = static_cast<float>(x);
    }
    for (int threads : {1, 3, 8}) {
      set_host_threads(threads);
      CHECK(generate_weights(rows, cols, 4242, dist) == want);
    }
    set_host_threads(0);
  }
}

TEST_CASE("Rng::discard(n) is n draws", "[weights]") {
  Rng a(7), b(7);
  for (int i = 0; i < 1000; ++i) a.next_u64();
  b.discard(1000);
  CHECK(a.next_u64() == b.next_u64());
}
