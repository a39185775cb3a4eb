// The contract every pattern keeps, checked over a list of specs and shapes (including shapes that
// do not divide by the pattern's group or tile sizes).
#include <catch2/catch.hpp>

#include <cmath>

#include "common/rng.h"
#include "sparsity/registry.h"
#include "sparsity/stats.h"
#include "weights/generator.h"

using namespace stcsim;

namespace {

// Every built-in family appears here at least once; a new pattern adds its specs.
const char* const kSpecs[] = {
    "dense", "2:4", "1:4", "2:8", "4:8", "1:2", "3:16", "15:16",
    "64:2:8", "4:2:8", "1:1:4", "16:2:16",
    "block(b=32,sparsity=0.75)", "block(b=4,sparsity=0.5)",
    "unstructured(sparsity=0.9)", "unstructured(sparsity=0.5)",
    "tw(g=128,sparsity=0.75)", "tw(g=16,sparsity=0.5)", "tw(g=7,sparsity=0.3)",
    "tvw(g=128,sparsity=0.5,n=2,m=4)", "tvw(g=32,sparsity=0.25,n=1,m=4)",
};

struct Shape {
  std::int64_t rows, cols;
};
const Shape kShapes[] = {{64, 64}, {96, 256}, {7, 13}, {1, 1}, {33, 130}};

}  // namespace

TEST_CASE("every pattern builds conforming masks that compress and decompress exactly", "[sparsity]") {
  const auto& reg = builtin_registry();
  for (const char* spec : kSpecs) {
    const auto p = reg.make(spec);
    for (const auto& s : kShapes) {
      INFO("pattern " << spec << " on " << s.rows << "x" << s.cols);
      const Matrix w = generate_weights(s.rows, s.cols, 42, WeightDist::normal);
      const Mask mask = p->build_mask(w);
      REQUIRE(mask.rows() == s.rows);
      REQUIRE(mask.cols() == s.cols);
      REQUIRE_NOTHROW(p->check_mask(mask));
      const auto c = p->compress(w, mask);
      CHECK(c->rows() == s.rows);
      CHECK(c->cols() == s.cols);
      CHECK(p->decompress(*c) == apply_mask(w, mask));
      CHECK(c->stored_values() >= count_kept(mask));
    }
  }
}

TEST_CASE("spec strings round-trip through their canonical form", "[sparsity]") {
  const auto& reg = builtin_registry();
  for (const char* spec : kSpecs) {
    const auto p = reg.make(spec);
    INFO(spec);
    CHECK(reg.make(p->spec())->spec() == p->spec());
  }
}

TEST_CASE("masks are deterministic", "[sparsity]") {
  const auto& reg = builtin_registry();
  const Matrix w = generate_weights(128, 256, 9, WeightDist::laplace);
  for (const char* spec : kSpecs) {
    INFO(spec);
    const auto p = reg.make(spec);
    CHECK(p->build_mask(w) == p->build_mask(w));
  }
}

TEST_CASE("on divisible shapes the density equals the pattern's nominal density", "[sparsity]") {
  const auto& reg = builtin_registry();
  const Matrix w = generate_weights(256, 1024, 5, WeightDist::normal);
  for (const char* spec : kSpecs) {
    INFO(spec);
    const auto p = reg.make(spec);
    const Mask mask = p->build_mask(w);
    const auto c = p->compress(w, mask);
    const auto st = measure(*p, w, mask, *c, DType::fp16);
    // Exact (within less than one weight) unless the pattern prunes in coarser units; see granularity().
    const double nominal_kept = p->nominal_density() * static_cast<double>(w.size());
    INFO("kept " << st.kept << ", nominal " << nominal_kept << ", granularity " << p->granularity(w.rows(), w.cols()));
    CHECK(std::abs(static_cast<double>(st.kept) - nominal_kept) <
          static_cast<double>(p->granularity(w.rows(), w.cols())));
  }
}

TEST_CASE("magnitude pruning keeps at least what a random mask of the same pattern keeps", "[sparsity]") {
  const auto& reg = builtin_registry();
  const Matrix w = generate_weights(128, 512, 11, WeightDist::laplace);
  // A random mask of the same pattern: the pattern's own mask built on random scores.
  const Matrix scores = generate_weights(128, 512, 12345, WeightDist::uniform);
  for (const char* spec : kSpecs) {
    INFO(spec);
    const auto p = reg.make(spec);
    const Mask by_magnitude = p->build_mask(w);
    const Mask random = p->build_mask(scores);
    REQUIRE_NOTHROW(p->check_mask(random));
    const auto [abs_mag, sq_mag] = magnitude_kept(w, by_magnitude);
    const auto [abs_rnd, sq_rnd] = magnitude_kept(w, random);
    CHECK(abs_mag >= abs_rnd);
    CHECK(sq_mag >= sq_rnd);
    // Both masks lie within granularity() of the same nominal count; for exact patterns (1) they are equal.
    CHECK(std::abs(count_kept(by_magnitude) - count_kept(random)) <= 2 * (p->granularity(w.rows(), w.cols()) - 1));
  }
}

TEST_CASE("a mask of the wrong shape is refused", "[sparsity]") {
  const auto& reg = builtin_registry();
  const Matrix w = generate_weights(8, 16, 1);
  for (const char* spec : kSpecs) {
    INFO(spec);
    const auto p = reg.make(spec);
    CHECK_THROWS_AS(p->compress(w, Mask(8, 12, 1)), MaskError);
  }
}
