#include <catch2/catch.hpp>

#include <cmath>

#include "common/rng.h"

using namespace stcsim;

TEST_CASE("the generator's stream is fixed by its seed", "[rng]") {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    CHECK(x == b.next_u64());
    (void)c.next_u64();
  }
  CHECK(Rng(7).next_u64() != Rng(8).next_u64());
  // xoshiro256** seeded through splitmix64 from 0: a fixed value guards against accidental changes
  // to the algorithm, which would silently change every generated matrix.
  CHECK(Rng(0).next_u64() == 0x99ec5f36cb75f2b4ULL);
}

TEST_CASE("derived seeds differ by name and index", "[rng]") {
  CHECK(derive_seed(1, "a") != derive_seed(1, "b"));
  CHECK(derive_seed(1, "a", 0) != derive_seed(1, "a", 1));
  CHECK(derive_seed(1, "a") == derive_seed(1, "a"));
}

TEST_CASE("uniform, normal and bounded draws have the right moments and ranges", "[rng]") {
  Rng r(123);
  const int n = 200000;
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    sum += x;
    sq += x * x;
  }
  CHECK(std::fabs(sum / n) < 0.01);
  CHECK(sq / n == Approx(1.0).epsilon(0.02));
  for (int i = 0; i < 1000; ++i) {
    const double u = r.uniform();
    CHECK((u >= 0.0 && u < 1.0));
    CHECK(r.below(7) < 7);
  }
}
