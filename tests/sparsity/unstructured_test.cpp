#include <catch2/catch.hpp>

#include "support/sparsity_fixtures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/npy.h"
#include "sparsity/registry.h"
#include "sparsity/spec.h"
#include "sparsity/stats.h"
#include "weights/generator.h"

using namespace stcsim;
using namespace stcsim::testing;

namespace {

// True when no pruned |w| exceeds a kept one: the mask keeps the largest magnitudes.
bool keeps_largest(const Matrix& w, const Mask& mask) {
  float min_kept = INFINITY, max_pruned = 0.0f;
  for (std::size_t i = 0; i < w.data().size(); ++i) {
    const float a = std::fabs(w.data()[i]);
    if (mask.data()[i]) {
      min_kept = std::min(min_kept, a);
    } else {
      max_pruned = std::max(max_pruned, a);
    }
  }
  return max_pruned <= min_kept;
}

}  // namespace

TEST_CASE("unstructured specs are checked", "[sparsity][unstructured]") {
  const auto& reg = builtin_registry();
  CHECK(reg.make("unstructured(sparsity=0.9)")->spec() == "unstructured(sparsity=0.9)");
  CHECK(reg.make(" unstructured( sparsity = .50 ) ")->spec() == "unstructured(sparsity=0.5)");
  CHECK(reg.make("unstructured(sparsity=0)")->spec() == "unstructured(sparsity=0)");
  CHECK(reg.make("unstructured(sparsity=0.9)")->family() == "unstructured");
  CHECK(reg.make("unstructured(sparsity=0.9)")->nominal_density() == Approx(0.1));
  CHECK(reg.make("unstructured(sparsity=0.9)")->index_bits_per_value() == 0);

  CHECK_THROWS_WITH(reg.make("unstructured(sparsity=1.5)"), Catch::Contains("sparsity must be in [0, 1) (got 1.5)"));
  CHECK_THROWS_WITH(reg.make("unstructured(sparsity=-0.1)"), Catch::Contains("sparsity must be in [0, 1) (got -0.1)"));
  CHECK_THROWS_WITH(reg.make("unstructured(sparsity=1.0)"), Catch::Contains("sparsity must be in [0, 1) (got 1)"));
  CHECK_THROWS_WITH(reg.make("unstructured(sparsity=x)"), Catch::Contains("sparsity: 'x' is not a number"));
  CHECK_THROWS_WITH(reg.make("unstructured()"), Catch::Contains("missing parameter sparsity"));
  CHECK_THROWS_WITH(reg.make("unstructured"), Catch::Contains("missing parameter sparsity"));
  CHECK_THROWS_WITH(reg.make("unstructured(sparsity=0.5,b=4)"),
                    Catch::Contains("unknown parameter 'b' (known: sparsity)"));
}

TEST_CASE("unstructured keeps the largest magnitudes, ties at the lower index, and stores CSR",
          "[sparsity][unstructured]") {
  const Matrix w = matrix_of(2, 4,
                             {1, -2, 1, 0,  //
                              2, 1, 1, 0});
  const auto p = builtin_registry().make("unstructured(sparsity=0.5)");
  const Mask mask = p->build_mask(w);
  // Keep 4: the two |w| = 2, then the first two of the four 1s in row-major order.
  CHECK(mask == mask_of(2, 4,
                        {1, 1, 1, 0,  //
                         1, 0, 0, 0}));

  const auto c = p->compress(w, mask);
  CHECK(c->stored_values() == 4);
  CHECK(c->metadata_bytes() == 8 * 3 + 4 * 4);
  CHECK(c->details() == std::vector<std::pair<std::string, double>>{{"nnz", 4}});
  CHECK(p->decompress(*c) == apply_mask(w, mask));

  const std::string dir = tmp_dir("unstructured", "hand");
  CHECK(c->save(dir) == std::vector<std::string>{"values.npy", "row_ptr.npy", "col_idx.npy"});
  CHECK(load_npy_matrix(dir + "/row_ptr.npy") == matrix_of(1, 3, {0, 3, 4}));
  CHECK(load_npy_matrix(dir + "/col_idx.npy") == matrix_of(1, 4, {0, 1, 2, 0}));
  CHECK(load_npy_matrix(dir + "/values.npy") == matrix_of(1, 4, {1, -2, 1, 2}));
}

TEST_CASE("unstructured keeps exactly rows * cols - round(sparsity * rows * cols)", "[sparsity][unstructured]") {
  const auto& reg = builtin_registry();
  struct Case {
    const char* spec;
    std::int64_t rows, cols, kept;
  };
  // 0.9 * 262144 = 235929.6 rounds to 235930; 0.5 * 15 = 7.5 rounds away from zero to 8.
  for (const Case& k :
       {Case{"unstructured(sparsity=0.9)", 256, 1024, 262144 - 235930}, Case{"unstructured(sparsity=0.5)", 3, 5, 7},
        Case{"unstructured(sparsity=0)", 7, 13, 91}, Case{"unstructured(sparsity=0.99)", 1, 1, 0},
        Case{"unstructured(sparsity=0.4)", 1, 1, 1}, Case{"unstructured(sparsity=0.875)", 256, 1024, 32768}}) {
    INFO(k.spec << " " << k.rows << "x" << k.cols);
    const auto p = reg.make(k.spec);
    const Matrix w = generate_weights(k.rows, k.cols, 17, WeightDist::laplace);
    const Mask mask = p->build_mask(w);
    CHECK(count_kept(mask) == k.kept);
    CHECK(keeps_largest(w, mask));
  }
  // Many equal magnitudes: ties go to the lower flat index.
  const Matrix ones(8, 8, -1.0f);
  const Mask mask = reg.make("unstructured(sparsity=0.75)")->build_mask(ones);
  CHECK(count_kept(mask) == 16);
  CHECK(mask.at(1, 7) == 1);
  CHECK(mask.at(2, 0) == 0);
}

TEST_CASE("unstructured masks equal a full sort by (|w| descending, index ascending)", "[sparsity][unstructured]") {
  for (double sparsity : {0.0, 0.3, 0.5, 0.9, 0.999}) {
    INFO("sparsity " << sparsity);
    // Small integers: many ties.
    Matrix w = generate_weights(37, 101, 6, WeightDist::laplace);
    for (float& x : w.data()) x = std::round(x * 20.0f);
    std::vector<std::int64_t> order(static_cast<std::size_t>(w.size()));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      const float fa = std::fabs(w.data()[static_cast<std::size_t>(a)]),
                  fb = std::fabs(w.data()[static_cast<std::size_t>(b)]);
      return fa > fb || (fa == fb && a < b);
    });
    const std::int64_t keep = w.size() - std::llround(sparsity * static_cast<double>(w.size()));
    Mask expected(w.rows(), w.cols(), 0);
    for (std::int64_t i = 0; i < keep; ++i)
      expected.data()[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = 1;
    const auto p = builtin_registry().make("unstructured(sparsity=" + format_param(sparsity) + ")");
    CHECK(p->build_mask(w) == expected);
  }
}

TEST_CASE("unstructured metadata size matches its formula", "[sparsity][unstructured]") {
  const auto& reg = builtin_registry();
  for (const char* spec : {"unstructured(sparsity=0.9)", "unstructured(sparsity=0.5)", "unstructured(sparsity=0)"}) {
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{64, 4096}, {33, 130}, {7, 13}, {1, 1}}) {
      const auto p = reg.make(spec);
      const Matrix w = generate_weights(rows, cols, 3);
      const Mask mask = p->build_mask(w);
      const auto c = p->compress(w, mask);
      INFO(spec << " " << rows << "x" << cols);
      CHECK(c->stored_values() == count_kept(mask));
      CHECK(c->metadata_bytes() == static_cast<std::uint64_t>(8 * (rows + 1) + 4 * count_kept(mask)));
    }
  }
}

TEST_CASE("unstructured accepts any mask of the right shape", "[sparsity][unstructured]") {
  const auto p = builtin_registry().make("unstructured(sparsity=0.9)");
  const Matrix w = generate_weights(5, 6, 2);
  Mask mask(5, 6, 0);
  mask.at(0, 0) = mask.at(4, 5) = mask.at(2, 3) = 1;  // fewer than the sparsity says: still conforming
  CHECK_NOTHROW(p->check_mask(mask));
  CHECK_NOTHROW(p->check_mask(Mask(5, 6, 1)));
  const auto c = p->compress(w, mask);
  CHECK(p->decompress(*c) == apply_mask(w, mask));
  CHECK_THROWS_WITH(p->compress(w, Mask(6, 5, 1)), Catch::Contains("mask is 6x5 but the matrix is 5x6"));
}

TEST_CASE("unstructured pruning of a 4096 x 4096 matrix keeps exactly the largest", "[sparsity][unstructured]") {
  const Matrix w = generate_weights(4096, 4096, 99);
  const auto p = builtin_registry().make("unstructured(sparsity=0.9)");
  const Mask mask = p->build_mask(w);
  CHECK(count_kept(mask) == 4096 * 4096 - std::llround(0.9 * 4096 * 4096));
  CHECK(keeps_largest(w, mask));
}
