#include <catch2/catch.hpp>

#include "support/sparsity_fixtures.h"

#include <cmath>
#include <filesystem>
#include <string>

#include "common/checked.h"
#include "common/npy.h"
#include "sparsity/registry.h"
#include "sparsity/spec.h"
#include "sparsity/stats.h"
#include "weights/generator.h"

using namespace stcsim;
using namespace stcsim::testing;

namespace {

// Blocks of a mask that are kept (their first element; check_mask has made them whole).
std::int64_t kept_blocks(const Mask& m, std::int64_t b) {
  std::int64_t n = 0;
  for (std::int64_t r = 0; r < m.rows(); r += b) {
    for (std::int64_t c = 0; c < m.cols(); c += b) n += m.at(r, c) ? 1 : 0;
  }
  return n;
}

std::string fmt_spec(std::int64_t b, double sparsity) {
  return "block(b=" + std::to_string(b) + ",sparsity=" + format_param(sparsity) + ")";
}

// The documented rule written the plain way: sort all blocks by (sum |w|, index), prune while the
// total stays within round(sparsity * rows * cols).
Mask reference_mask(const Matrix& w, std::int64_t b, double sparsity) {
  const std::int64_t nbr = ceil_div(w.rows(), b), nbc = ceil_div(w.cols(), b);
  std::vector<std::pair<double, std::int64_t>> blocks;
  for (std::int64_t k = 0; k < nbr * nbc; ++k) {
    double s = 0.0;
    for (std::int64_t r = (k / nbc) * b; r < std::min(w.rows(), (k / nbc + 1) * b); ++r) {
      for (std::int64_t c = (k % nbc) * b; c < std::min(w.cols(), (k % nbc + 1) * b); ++c) s += std::fabs(w.at(r, c));
    }
    blocks.emplace_back(s, k);
  }
  std::sort(blocks.begin(), blocks.end());
  const std::int64_t target = std::llround(sparsity * static_cast<double>(w.size()));
  Mask m(w.rows(), w.cols(), 1);
  std::int64_t pruned = 0;
  for (const auto& [s, k] : blocks) {
    const std::int64_t r0 = (k / nbc) * b, c0 = (k % nbc) * b;
    const std::int64_t r1 = std::min(w.rows(), r0 + b), c1 = std::min(w.cols(), c0 + b);
    if (pruned + (r1 - r0) * (c1 - c0) > target) break;
    pruned += (r1 - r0) * (c1 - c0);
    for (std::int64_t r = r0; r < r1; ++r) {
      for (std::int64_t c = c0; c < c1; ++c) m.at(r, c) = 0;
    }
  }
  return m;
}

}  // namespace

TEST_CASE("block specs are checked", "[sparsity][block]") {
  const auto& reg = builtin_registry();
  CHECK(reg.make("block(b=32,sparsity=0.75)")->spec() == "block(b=32,sparsity=0.75)");
  CHECK(reg.make(" block( sparsity = .5 , b = 4 ) ")->spec() == "block(b=4,sparsity=0.5)");
  CHECK(reg.make("block(b=1,sparsity=0)")->spec() == "block(b=1,sparsity=0)");
  CHECK(reg.make("block(b=4096,sparsity=0.999)")->spec() == "block(b=4096,sparsity=0.999)");
  CHECK(reg.make("block(b=8,sparsity=0.3)")->family() == "block");
  CHECK(reg.make("block(b=8,sparsity=0.3)")->nominal_density() == Approx(0.7));
  CHECK_FALSE(reg.make("block(b=8,sparsity=0.3)")->is_nm());

  CHECK_THROWS_WITH(reg.make("block(b=32,sparsity=1.5)"), Catch::Contains("sparsity must be in [0, 1) (got 1.5)"));
  CHECK_THROWS_WITH(reg.make("block(b=32,sparsity=-0.1)"), Catch::Contains("sparsity must be in [0, 1) (got -0.1)"));
  CHECK_THROWS_WITH(reg.make("block(b=32,sparsity=1.0)"), Catch::Contains("sparsity must be in [0, 1) (got 1)"));
  CHECK_THROWS_WITH(reg.make("block(b=32,sparsity=half)"), Catch::Contains("sparsity: 'half' is not a number"));
  CHECK_THROWS_WITH(reg.make("block(b=0,sparsity=0.5)"), Catch::Contains("b must be in 1..4096 (got 0)"));
  CHECK_THROWS_WITH(reg.make("block(b=4097,sparsity=0.5)"), Catch::Contains("b must be in 1..4096 (got 4097)"));
  CHECK_THROWS_WITH(reg.make("block(b=2.5,sparsity=0.5)"), Catch::Contains("b: '2.5' is not an integer"));
  CHECK_THROWS_WITH(reg.make("block(sparsity=0.5)"), Catch::Contains("missing parameter b"));
  CHECK_THROWS_WITH(reg.make("block(b=32)"), Catch::Contains("missing parameter sparsity"));
  CHECK_THROWS_WITH(reg.make("block"), Catch::Contains("missing parameter"));
  CHECK_THROWS_WITH(reg.make("block(b=32,sparsity=0.5,g=2)"), Catch::Contains("unknown parameter 'g'"));
  CHECK_THROWS_AS(reg.make("block(b=32,sparsity=0.5,b=16)"), SpecError);
}

TEST_CASE("block prunes whole blocks, lowest sum |w| first, and stores BSR", "[sparsity][block]") {
  // b = 2 on 3 x 5: blocks (0,0) 2x2, (0,1) 2x2, (0,2) 2x1, (1,0) 1x2, (1,1) 1x2, (1,2) 1x1.
  const Matrix w = matrix_of(3, 5,
                             {1, 1, 5, 5, 9,  //
                              1, 1, 5, 5, 9,  //
                              2, 2, 0.5f, 0.25f, 3});
  const auto p = builtin_registry().make("block(b=2,sparsity=0.5)");
  const Mask mask = p->build_mask(w);
  // Target round(0.5 * 15) = 8 pruned. Scores: (1,1) 0.75, (1,2) 3, (0,0) 4, (1,0) 4, (0,2) 18, (0,1) 20.
  // Prune (1,1): 2, (1,2): 3, (0,0) before (1,0) on the tie: 7; (1,0) would make 9 > 8, so pruning stops.
  CHECK(mask == mask_of(3, 5,
                        {0, 0, 1, 1, 1,  //
                         0, 0, 1, 1, 1,  //
                         1, 1, 0, 0, 0}));
  CHECK(count_kept(mask) == 8);

  const auto c = p->compress(w, mask);
  CHECK(c->stored_values() == 3 * 4);  // three kept blocks, the edge ones padded to 2 x 2
  CHECK(c->metadata_bytes() == 8 * 3 + 4 * 3);
  CHECK(p->decompress(*c) == apply_mask(w, mask));
  CHECK(c->details() == std::vector<std::pair<std::string, double>>{{"blocks_total", 6}, {"blocks_kept", 3}});

  const std::string dir = tmp_dir("block", "hand");
  CHECK(c->save(dir) == std::vector<std::string>{"values.npy", "block_row_ptr.npy", "block_col_idx.npy"});
  CHECK(load_npy_matrix(dir + "/block_row_ptr.npy") == matrix_of(1, 3, {0, 2, 3}));
  CHECK(load_npy_matrix(dir + "/block_col_idx.npy") == matrix_of(1, 3, {1, 2, 0}));
  // Blocks (0,1), (0,2) and (1,0), each 2 x 2 row-major; (0,2) padded on the right, (1,0) below.
  CHECK(load_npy_matrix(dir + "/values.npy") == matrix_of(3, 4, {5, 5, 5, 5, 9, 0, 9, 0, 2, 2, 0, 0}));
}

TEST_CASE("block pruning stops at the first block that would overshoot the target", "[sparsity][block]") {
  // All ones: scores are element counts, so the smaller edge blocks go first. 33 x 130 with b = 32:
  // block row 1 is 1 high, block column 4 is 2 wide. Target round(0.75 * 4290) = 3218.
  // Pruned: (1,4) 2, (1,0..3) 4 x 32, (0,4) 64, (0,0) and (0,1) 1024 each = 2242; (0,2) would give 3266.
  const Matrix w(33, 130, 1.0f);
  const auto p = builtin_registry().make("block(b=32,sparsity=0.75)");
  const Mask mask = p->build_mask(w);
  CHECK(count_kept(mask) == 4290 - 2242);
  CHECK(mask.at(0, 63) == 0);
  CHECK(mask.at(31, 64) == 1);
  CHECK(mask.at(31, 127) == 1);
  CHECK(mask.at(32, 64) == 0);
  CHECK(mask.at(0, 128) == 0);
  CHECK(kept_blocks(mask, 32) == 2);
}

TEST_CASE("block masks equal the plain full-sort rule, ties and edge blocks included", "[sparsity][block]") {
  struct Case {
    std::int64_t b, rows, cols;
    double sparsity;
  };
  for (const Case& k : {Case{32, 33, 130, 0.75}, Case{2, 9, 10, 0.5}, Case{3, 10, 11, 0.3}, Case{1, 64, 64, 0.3},
                        Case{1, 50, 70, 0.99}, Case{4, 256, 100, 0.9}, Case{5, 23, 23, 0.6}, Case{7, 7, 7, 0.5}}) {
    INFO("b=" << k.b << " sparsity=" << k.sparsity << " on " << k.rows << "x" << k.cols);
    // Small integers: many blocks tie, so the order of ties is checked too.
    Matrix w = generate_weights(k.rows, k.cols, 8, WeightDist::uniform);
    for (float& x : w.data()) x = std::round(x * 4.0f);
    const auto p = builtin_registry().make(fmt_spec(k.b, k.sparsity));
    CHECK(p->build_mask(w) == reference_mask(w, k.b, k.sparsity));
  }
}

TEST_CASE("block keeps exactly 1 - sparsity where the target is a whole number of blocks", "[sparsity][block]") {
  const auto& reg = builtin_registry();
  struct Case {
    const char* spec;
    std::int64_t b, rows, cols, kept_blocks;
  };
  for (const Case& k :
       {Case{"block(b=32,sparsity=0.75)", 32, 256, 1024, 64}, Case{"block(b=4,sparsity=0.5)", 4, 256, 1024, 8192},
        Case{"block(b=16,sparsity=0.25)", 16, 64, 64, 12}, Case{"block(b=8,sparsity=0)", 8, 20, 20, 9},
        Case{"block(b=1,sparsity=0.9)", 1, 10, 10, 10}}) {
    INFO(k.spec << " " << k.rows << "x" << k.cols);
    const auto p = reg.make(k.spec);
    const Mask mask = p->build_mask(generate_weights(k.rows, k.cols, 31, WeightDist::laplace));
    CHECK_NOTHROW(p->check_mask(mask));
    CHECK(kept_blocks(mask, k.b) == k.kept_blocks);
  }
  const auto p = reg.make("block(b=32,sparsity=0.75)");
  const Matrix w = generate_weights(256, 1024, 5);
  const Mask mask = p->build_mask(w);
  CHECK(count_kept(mask) == 256 * 1024 / 4);
  const auto st = measure(*p, w, mask, *p->compress(w, mask), DType::fp16);
  CHECK(st.density == 0.25);
  CHECK(st.metadata_bytes == 8 * 9 + 4 * 64);
  CHECK(st.details == std::vector<std::pair<std::string, double>>{{"blocks_total", 256}, {"blocks_kept", 64}});
}

TEST_CASE("block metadata size and stored values match their formulas", "[sparsity][block]") {
  const auto& reg = builtin_registry();
  for (const char* spec : {"block(b=32,sparsity=0.75)", "block(b=4,sparsity=0.5)", "block(b=7,sparsity=0.3)",
                           "block(b=1,sparsity=0.5)", "block(b=64,sparsity=0)"}) {
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{64, 4096}, {33, 130}, {7, 13}, {1, 1}, {100, 3}}) {
      const auto p = reg.make(spec);
      const std::int64_t b = std::stoll(split_spec(spec).named.at("b"));
      const Matrix w = generate_weights(rows, cols, 3);
      const Mask mask = p->build_mask(w);
      const auto c = p->compress(w, mask);
      const std::int64_t kept = kept_blocks(mask, b);
      INFO(spec << " " << rows << "x" << cols);
      CHECK(c->metadata_bytes() == static_cast<std::uint64_t>(8 * (ceil_div(rows, b) + 1) + 4 * kept));
      CHECK(c->stored_values() == kept * b * b);
      // Never more pruned than the target.
      CHECK(rows * cols - count_kept(mask) <=
            std::llround(std::stod(split_spec(spec).named.at("sparsity")) * rows * cols));
    }
  }
}

TEST_CASE("a block mask with a partly kept block is refused, naming the block", "[sparsity][block]") {
  const auto p = builtin_registry().make("block(b=2,sparsity=0.5)");
  Mask mask(3, 5, 0);
  mask.at(0, 0) = mask.at(0, 1) = mask.at(1, 0) = mask.at(1, 1) = 1;  // block (0,0) whole: fine
  CHECK_NOTHROW(p->check_mask(mask));
  mask.at(2, 4) = 1;  // block (1,2) is the 1 x 1 corner: whole too
  CHECK_NOTHROW(p->check_mask(mask));
  mask.at(2, 2) = 1;  // block (1,1) is 1 x 2: half kept
  CHECK_THROWS_AS(p->check_mask(mask), MaskError);
  CHECK_THROWS_WITH(p->check_mask(mask),
                    Catch::Contains("block (1, 1) at rows 2..2, columns 2..3 keeps 1 of 2 values"));
  CHECK_THROWS_AS(p->compress(Matrix(3, 5), mask), MaskError);
}

TEST_CASE("block misses the nominal density by less than one block where the target is not whole blocks",
          "[sparsity][block]") {
  // 64 x 64, b = 16: target round(0.3 * 4096) = 1229 pruned, 4 blocks (1024) fit and a fifth would not.
  const auto p = builtin_registry().make("block(b=16,sparsity=0.3)");
  CHECK(p->granularity(64, 64) == 256);
  const Mask mask = p->build_mask(generate_weights(64, 64, 12));
  CHECK(count_kept(mask) == 4096 - 1024);
  CHECK(std::fabs(static_cast<double>(count_kept(mask)) - p->nominal_density() * 4096) < 256);
}
