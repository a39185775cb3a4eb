#include <catch2/catch.hpp>

#include "support/sparsity_fixtures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/npy.h"
#include "sparsity/registry.h"
#include "sparsity/stats.h"
#include "sparsity/tile_layout.h"
#include "weights/generator.h"

using namespace stcsim;
using namespace stcsim::testing;

namespace {

const TileCompressed& tiles_of(const Compressed& c) { return dynamic_cast<const TileCompressed&>(c); }

// 4 x 4, g = 2. Tile 0 (rows 0-1) K-segment means: k0 1, k1 8, k2 9, k3 0.5. Tile 1 (rows 2-3)
// segment means 3.1 each. Row means: rows 0 and 1 4.625, row 2 6, row 3 0.2.
// Ascending units: row 3 (0.2), seg(0,3) (0.5), seg(0,0) (1), seg(1,0..3) (3.1), rows 0, 1, 2, ...
const Matrix kHand = matrix_of(4, 4,
                               {1, 8, 9, 0.5f,  //
                                1, 8, 9, 0.5f,  //
                                6, 6, 6, 6,     //
                                0.2f, 0.2f, 0.2f, 0.2f});

}  // namespace

TEST_CASE("tw specs are checked", "[sparsity][tw]") {
  const auto& reg = builtin_registry();
  CHECK(reg.make("tw(g=128,sparsity=0.75)")->spec() == "tw(g=128,sparsity=0.75)");
  CHECK(reg.make(" tw( sparsity = .5 , g = 16 ) ")->spec() == "tw(g=16,sparsity=0.5)");
  CHECK(reg.make("tw(g=1,sparsity=0)")->spec() == "tw(g=1,sparsity=0)");
  CHECK(reg.make("tw(g=65536,sparsity=0.999)")->spec() == "tw(g=65536,sparsity=0.999)");
  const auto p = reg.make("tw(g=7,sparsity=0.3)");
  CHECK(p->family() == "tw");
  CHECK(p->nominal_density() == Approx(0.7));
  CHECK_FALSE(p->is_nm());
  CHECK(p->index_bits_per_value() == 0);
  CHECK(p->granularity(256, 1024) == 1024);  // a whole row is the largest unit
  CHECK(p->granularity(256, 4) == 7);        // a K-segment of one band
  CHECK(p->granularity(3, 2) == 3);          // a band no taller than the matrix

  CHECK_THROWS_WITH(reg.make("tw(g=0,sparsity=0.5)"), "pattern 'tw(g=0,sparsity=0.5)': g: must be in 1..65536 (got 0)");
  CHECK_THROWS_WITH(reg.make("tw(g=65537,sparsity=0.5)"), Catch::Contains("g: must be in 1..65536 (got 65537)"));
  CHECK_THROWS_WITH(reg.make("tw(g=16,sparsity=1.5)"),
                    "pattern 'tw(g=16,sparsity=1.5)': sparsity: must be in [0, 1) (got 1.5)");
  CHECK_THROWS_WITH(reg.make("tw(g=16,sparsity=1)"), Catch::Contains("sparsity: must be in [0, 1) (got 1)"));
  CHECK_THROWS_WITH(reg.make("tw(g=16,sparsity=-0.1)"), Catch::Contains("sparsity: must be in [0, 1) (got -0.1)"));
  CHECK_THROWS_WITH(reg.make("tw(g=16,sparsity=nan)"), Catch::Contains("sparsity"));
  CHECK_THROWS_WITH(reg.make("tw(g=2.5,sparsity=0.5)"), Catch::Contains("g: '2.5' is not an integer"));
  CHECK_THROWS_WITH(reg.make("tw(sparsity=0.5)"), Catch::Contains("missing parameter g"));
  CHECK_THROWS_WITH(reg.make("tw(g=16)"), Catch::Contains("missing parameter sparsity"));
  CHECK_THROWS_WITH(reg.make("tw"), Catch::Contains("missing parameter"));
  CHECK_THROWS_WITH(reg.make("tw(g=16,sparsity=0.5,n=2)"),
                    Catch::Contains("unknown parameter 'n' (known: g, sparsity)"));
  CHECK_THROWS_AS(reg.make("tw(g=16,sparsity=0.5,g=8)"), SpecError);
}

TEST_CASE("tw prunes K-segments and rows in ascending mean |w|, counting only new weights", "[sparsity][tw]") {
  const auto& reg = builtin_registry();
  SECTION("target 8: row 3, then segments (0,3) and (0,0) of 2 each") {
    const Mask mask = reg.make("tw(g=2,sparsity=0.5)")->build_mask(kHand);
    CHECK(mask == mask_of(4, 4,
                          {0, 1, 1, 0,  //
                           0, 1, 1, 0,  //
                           1, 1, 1, 1,  //
                           0, 0, 0, 0}));
  }
  SECTION("target 9: segment (1,0) adds 1, row 3 being pruned already") {
    const Mask mask = reg.make("tw(g=2,sparsity=0.5625)")->build_mask(kHand);
    CHECK(mask == mask_of(4, 4,
                          {0, 1, 1, 0,  //
                           0, 1, 1, 0,  //
                           0, 1, 1, 1,  //
                           0, 0, 0, 0}));
  }
  SECTION(
      "target 7: segment (0,0) would reach 8, as far from 7 as staying at 6: a tie stops before, and "
      "the later segment (1,0) that would hit 7 exactly is not tried") {
    const Mask mask = reg.make("tw(g=2,sparsity=0.4375)")->build_mask(kHand);
    CHECK(count_kept(mask) == 10);
    CHECK(mask == mask_of(4, 4,
                          {1, 1, 1, 0,  //
                           1, 1, 1, 0,  //
                           1, 1, 1, 1,  //
                           0, 0, 0, 0}));
  }
  SECTION("target 3: pruning row 3 (4) lands closer than stopping at 0") {
    CHECK(count_kept(reg.make("tw(g=2,sparsity=0.1875)")->build_mask(kHand)) == 12);
  }
  SECTION("target 2: 0 and 4 are equally far, so nothing is pruned") {
    CHECK(count_kept(reg.make("tw(g=2,sparsity=0.125)")->build_mask(kHand)) == 16);
  }
  SECTION("ties between a segment and a row go to the segment") {
    // Every unit scores 1: segment (0,0) goes first and its 2 weights reach the target before any row.
    const Matrix ones(2, 2, 1.0f);
    CHECK(reg.make("tw(g=2,sparsity=0.5)")->build_mask(ones) == mask_of(2, 2, {0, 1, 0, 1}));
  }
}

TEST_CASE("tw stores kept rows, kept K and dense tiles, tiles of unequal K show as imbalance", "[sparsity][tw]") {
  const auto p = builtin_registry().make("tw(g=2,sparsity=0.5)");
  const Mask mask = p->build_mask(kHand);
  const auto c = p->compress(kHand, mask);
  const auto& t = tiles_of(*c);
  REQUIRE(t.tiles() == 2);
  CHECK(t.tile_rows(0) == std::vector<std::int32_t>{0, 1});
  CHECK(t.tile_ks(0) == std::vector<std::int32_t>{1, 2});
  CHECK(t.tile_rows(1) == std::vector<std::int32_t>{2});
  CHECK(t.tile_ks(1) == std::vector<std::int32_t>{0, 1, 2, 3});
  CHECK(t.tile_offsets() == std::vector<std::int64_t>{0, 2, 6});
  CHECK(t.kept_rows() == std::vector<std::int32_t>{0, 1, 2});
  CHECK(t.values() == std::vector<float>{8, 9, 8, 9, 6, 6, 6, 6});
  CHECK(t.tile(1).values_offset == 4);
  CHECK(t.tile(1).row_begin == 2);
  CHECK(t.tile(1).row_end == 4);
  CHECK(c->stored_values() == 8);
  // 4 * (3 kept rows + 6 kept K) + 8 * (2 + 1) offsets.
  CHECK(c->metadata_bytes() == 4u * (3 + 6) + 8u * 3);
  CHECK(c->details() == std::vector<std::pair<std::string, double>>{{"tiles", 2},
                                                                    {"tiles_empty", 0},
                                                                    {"kept_k_min", 2},
                                                                    {"kept_k_mean", 3},
                                                                    {"kept_k_max", 4},
                                                                    {"kept_rows_total", 3},
                                                                    {"k_imbalance", 4.0 / 3.0}});
  CHECK(p->decompress(*c) == apply_mask(kHand, mask));
}

TEST_CASE("a tw tile with everything pruned is stored as an empty tile", "[sparsity][tw]") {
  // Tile 1 (rows 2-3) holds the smallest values: segments (1,0) and (1,1), then rows 2 and 3 (mean
  // 0.025), prune 2 + 2 + 2 + 2 = 8, the target.
  const Matrix w = matrix_of(4, 4,
                             {5, 6, 7, 8,                  //
                              4, 3, 2, 1,                  //
                              0.01f, 0.02f, 0.03f, 0.04f,  //
                              0.01f, 0.02f, 0.03f, 0.04f});
  const auto p = builtin_registry().make("tw(g=2,sparsity=0.5)");
  const Mask mask = p->build_mask(w);
  CHECK(mask == mask_of(4, 4, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
  const auto c = p->compress(w, mask);
  const auto& t = tiles_of(*c);
  CHECK(t.tile(1).empty());
  CHECK(t.tile_rows(1).empty());
  CHECK(t.tile_ks(1).empty());
  CHECK(t.tile_offsets() == std::vector<std::int64_t>{0, 4, 4});
  CHECK(detail(*c, "tiles_empty") == 1);
  CHECK(detail(*c, "kept_k_mean") == 4);  // over the non-empty tile only
  CHECK(detail(*c, "k_imbalance") == 1);
  CHECK(c->metadata_bytes() == 4u * (2 + 4) + 8u * 3);
  CHECK(p->decompress(*c) == apply_mask(w, mask));

  // Everything pruned in every tile (an all-zero mask conforms too).
  const auto all = p->compress(w, Mask(4, 4, 0));
  CHECK(all->stored_values() == 0);
  CHECK(all->metadata_bytes() == 8u * 3);
  CHECK(detail(*all, "tiles_empty") == 2);
  CHECK(detail(*all, "k_imbalance") == 1);
  CHECK(p->decompress(*all) == Matrix(4, 4));
}

TEST_CASE("a tw mask that is not an outer product in a tile is refused, naming tile, row and k", "[sparsity][tw]") {
  const auto p = builtin_registry().make("tw(g=2,sparsity=0.5)");
  // Tile 1: row 3 drops K position 1 that row 2 keeps; row 3 keeps K 0, so it is not a pruned row.
  const Mask bad = mask_of(4, 4,
                           {0, 1, 1, 0,  //
                            0, 1, 1, 0,  //
                            1, 1, 0, 0,  //
                            1, 0, 0, 0});
  CHECK_THROWS_WITH(p->check_mask(bad),
                    Catch::Contains("tw(g=2,sparsity=0.5): tile 1 (rows 2..3): row 3, k 1 is pruned"));
  CHECK_THROWS_AS(p->compress(kHand, bad), MaskError);
  // Whole rows pruned and whole K positions pruned per tile, differently in each tile, conform.
  CHECK_NOTHROW(p->check_mask(mask_of(4, 4,
                                      {0, 1, 1, 0,  //
                                       0, 0, 0, 0,  //
                                       1, 0, 0, 1,  //
                                       1, 0, 0, 1})));
  // The last, shorter band is a tile too.
  const auto p3 = builtin_registry().make("tw(g=3,sparsity=0.5)");
  CHECK_NOTHROW(p3->check_mask(mask_of(4, 2, {1, 1, 1, 1, 1, 1, 1, 0})));  // a one-row tile is always a product
  CHECK_THROWS_WITH(p3->check_mask(mask_of(5, 2, {1, 1, 1, 1, 1, 1, 1, 0, 0, 1})),
                    Catch::Contains("tile 1 (rows 3..4): row 3, k 1 is pruned"));
}

TEST_CASE("tw round-trips exactly on shapes g does not divide, metadata by its formula", "[sparsity][tw]") {
  const auto& reg = builtin_registry();
  for (const char* spec :
       {"tw(g=8,sparsity=0.6)", "tw(g=128,sparsity=0.75)", "tw(g=1,sparsity=0.5)", "tw(g=5,sparsity=0)"}) {
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{37, 53}, {130, 17}, {3, 200}, {1, 1}}) {
      INFO(spec << " on " << rows << "x" << cols);
      const auto p = reg.make(spec);
      const Matrix w = generate_weights(rows, cols, 17, WeightDist::laplace);
      const Mask mask = p->build_mask(w);
      REQUIRE_NOTHROW(p->check_mask(mask));
      const auto c = p->compress(w, mask);
      CHECK(p->decompress(*c) == apply_mask(w, mask));
      CHECK(c->stored_values() == count_kept(mask));
      // Kept rows and kept K of each tile recounted from the mask, independently of the layout.
      const std::int64_t g = tiles_of(*c).g();
      const std::int64_t tiles = (rows + g - 1) / g;
      std::uint64_t lists = 0;
      for (std::int64_t t = 0; t < tiles; ++t) {
        for (std::int64_t r = t * g; r < std::min(rows, t * g + g); ++r) {
          lists += std::any_of(mask.row(r), mask.row(r) + cols, [](std::uint8_t v) { return v != 0; }) ? 1 : 0;
        }
        for (std::int64_t k = 0; k < cols; ++k) {
          bool any = false;
          for (std::int64_t r = t * g; r < std::min(rows, t * g + g); ++r) any = any || mask.at(r, k);
          lists += any ? 1 : 0;
        }
      }
      CHECK(c->metadata_bytes() == 4 * lists + 8 * static_cast<std::uint64_t>(tiles + 1));
      CHECK(detail(*c, "tiles") == tiles);
      const double nominal = p->nominal_density() * static_cast<double>(rows * cols);
      CHECK(std::abs(static_cast<double>(count_kept(mask)) - nominal) <
            static_cast<double>(p->granularity(rows, cols)));
    }
  }
}

TEST_CASE("tw saves its arrays", "[sparsity][tw]") {
  const auto p = builtin_registry().make("tw(g=2,sparsity=0.5)");
  const auto c = p->compress(kHand, p->build_mask(kHand));
  const std::string dir = tmp_dir("tw", "save");
  CHECK(c->save(dir) == std::vector<std::string>{"tile_offsets.npy", "kept_rows.npy", "kept_k.npy", "values.npy"});
  CHECK(load_npy_matrix(dir + "/tile_offsets.npy") == matrix_of(1, 3, {0, 2, 6}));
  CHECK(load_npy_matrix(dir + "/kept_rows.npy") == matrix_of(1, 3, {0, 1, 2}));
  CHECK(load_npy_matrix(dir + "/kept_k.npy") == matrix_of(1, 6, {1, 2, 0, 1, 2, 3}));
  CHECK(load_npy_matrix(dir + "/values.npy") == matrix_of(1, 8, {8, 9, 8, 9, 6, 6, 6, 6}));
}

TEST_CASE("tw masks a 4096 x 4096 matrix to its nominal density", "[sparsity][tw]") {
  const Matrix w = generate_weights(4096, 4096, 99);
  const auto p = builtin_registry().make("tw(g=128,sparsity=0.75)");
  const Mask mask = p->build_mask(w);
  const double nominal = 0.25 * 4096 * 4096;
  CHECK(std::abs(static_cast<double>(count_kept(mask)) - nominal) < static_cast<double>(p->granularity(4096, 4096)));
}
