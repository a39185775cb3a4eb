#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "support/sparsity_fixtures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/checked.h"
#include "common/npy.h"
#include "common/rng.h"
#include "sparsity/registry.h"
#include "sparsity/tile_layout.h"
#include "weights/generator.h"

using namespace stcsim;
using namespace stcsim::testing;

namespace {

const TileCompressed& tiles_of(const Compressed& c) { return dynamic_cast<const TileCompressed&>(c); }

// True if the rows [r0, r1) of `mask` keep at most n of every m consecutive positions of `ks`.
bool nm_along(const Mask& mask, std::int64_t r0, std::int64_t r1, const std::vector<std::int32_t>& ks, int n, int m) {
  for (std::int64_t r = r0; r < r1; ++r) {
    for (std::size_t g0 = 0; g0 < ks.size(); g0 += static_cast<std::size_t>(m)) {
      int kept = 0;
      for (std::size_t j = g0; j < std::min(ks.size(), g0 + static_cast<std::size_t>(m)); ++j)
        kept += mask.at(r, ks[j]);
      if (kept > n) return false;
    }
  }
  return true;
}

// Exhaustive reference for tvw conformance of one band: some K list holding every K position the band
// keeps (and any others) along which the band is N:M.
bool conforms_by_search(const Mask& mask, std::int64_t r0, std::int64_t r1, int n, int m) {
  std::vector<std::uint8_t> used(static_cast<std::size_t>(mask.cols()), 0);
  std::vector<std::int64_t> free;
  for (std::int64_t c = 0; c < mask.cols(); ++c) {
    for (std::int64_t r = r0; r < r1; ++r) used[static_cast<std::size_t>(c)] |= mask.at(r, c);
    if (!used[static_cast<std::size_t>(c)]) free.push_back(c);
  }
  for (std::uint64_t pick = 0; pick < (std::uint64_t{1} << free.size()); ++pick) {
    std::vector<std::int32_t> ks;
    for (std::int64_t c = 0; c < mask.cols(); ++c) {
      const auto f = std::find(free.begin(), free.end(), c);
      if (f == free.end() || ((pick >> (f - free.begin())) & 1)) ks.push_back(static_cast<std::int32_t>(c));
    }
    if (nm_along(mask, r0, r1, ks, n, m)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("tvw specs are checked, all four parameters are required", "[sparsity][tvw]") {
  const auto& reg = builtin_registry();
  CHECK(reg.make("tvw(g=128,sparsity=0.5,n=2,m=4)")->spec() == "tvw(g=128,sparsity=0.5,n=2,m=4)");
  CHECK(reg.make(" tvw( m=8, n = 1, sparsity=.25, g=32 ) ")->spec() == "tvw(g=32,sparsity=0.25,n=1,m=8)");
  const auto p = reg.make("tvw(g=64,sparsity=0.5,n=2,m=4)");
  CHECK(p->family() == "tvw");
  CHECK(p->nominal_density() == Approx(0.25));  // the tile level's 0.5 times 2:4's 0.5
  CHECK_FALSE(p->is_nm());
  CHECK(p->n() == 2);
  CHECK(p->m() == 4);
  CHECK(p->index_bits_per_value() == 2);
  CHECK(reg.make("tvw(g=64,sparsity=0,n=1,m=5)")->index_bits_per_value() == 3);
  CHECK(reg.make("tvw(g=64,sparsity=0,n=15,m=16)")->index_bits_per_value() == 4);
  CHECK(reg.make("tvw(g=64,sparsity=0,n=1,m=16)")->nominal_density() == Approx(1.0 / 16));

  CHECK_THROWS_WITH(reg.make("tvw(g=0,sparsity=0.5,n=2,m=4)"),
                    "pattern 'tvw(g=0,sparsity=0.5,n=2,m=4)': g: must be in 1..65536 (got 0)");
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=1.5,n=2,m=4)"),
                    Catch::Contains("sparsity: must be in [0, 1) (got 1.5)"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,n=4,m=4)"), Catch::Contains("n: must be in 1..m-1 = 1..3 (got 4)"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,n=5,m=4)"), Catch::Contains("n: must be in 1..m-1 = 1..3 (got 5)"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,n=0,m=4)"), Catch::Contains("n: must be in 1..m-1 = 1..3 (got 0)"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,n=2,m=17)"), Catch::Contains("m: must be in 2..16 (got 17)"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,n=1,m=1)"), Catch::Contains("m: must be in 2..16 (got 1)"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,n=2)"), Catch::Contains("missing parameter m"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,m=4)"), Catch::Contains("missing parameter n"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,n=2,m=4)"), Catch::Contains("missing parameter sparsity"));
  CHECK_THROWS_WITH(reg.make("tvw(sparsity=0.5,n=2,m=4)"), Catch::Contains("missing parameter g"));
  CHECK_THROWS_WITH(reg.make("tvw(g=8,sparsity=0.5,n=2,m=4,v=2)"),
                    Catch::Contains("unknown parameter 'v' (known: g, sparsity, n, m)"));
}

TEST_CASE("tvw is tw at the tile level, then N:M along each tile's compacted K", "[sparsity][tvw]") {
  // 2 x 8, one tile (g = 2). Target round(0.25 * 16) = 4: the K-segments at 1 and 5 (mean 0.1) go,
  // leaving K {0, 2, 3, 4, 6, 7}. 2:4 along it: group {0, 2, 3, 4}, then the short group {6, 7}.
  const Matrix w = matrix_of(2, 8,
                             {9, 0.1f, 1, 8, 2, 0.1f, 3, 4,  //
                              1, 0.1f, 7, 2, 6, 0.1f, 5, 0.5f});
  const auto p = builtin_registry().make("tvw(g=2,sparsity=0.25,n=2,m=4)");
  const Mask mask = p->build_mask(w);
  CHECK(mask == mask_of(2, 8,
                        {1, 0, 0, 1, 0, 0, 1, 1,  //
                         0, 0, 1, 0, 1, 0, 1, 1}));
  const auto c = p->compress(w, mask);
  const auto& t = tiles_of(*c);
  CHECK(t.tile_rows(0) == std::vector<std::int32_t>{0, 1});
  CHECK(t.tile_ks(0) == std::vector<std::int32_t>{0, 2, 3, 4, 6, 7});
  const NmCompressed& nm = t.tile_nm(0);
  CHECK(nm.rows() == 2);
  CHECK(nm.cols() == 6);
  // Row 0 keeps compacted positions 0, 2 (K 0, 3) and 4, 5 (K 6, 7); row 1 keeps 1, 3 and 4, 5.
  CHECK(nm.values() == std::vector<float>{9, 8, 3, 4, 7, 6, 5, 0.5f});
  CHECK(nm.index(0, 0) == 0);
  CHECK(nm.index(0, 1) == 2);
  CHECK(nm.index(1, 0) == 1);
  CHECK(nm.index(1, 1) == 3);
  CHECK(c->stored_values() == 8);
  // 4 * (2 rows + 6 K) + 8 * 2 offsets + the tile's 2:4 metadata, one 32-bit word per row.
  CHECK(c->metadata_bytes() == 4u * 8 + 8u * 2 + 2u * 4);
  CHECK(p->decompress(*c) == apply_mask(w, mask));
}

TEST_CASE("tvw keeps a tile's K list even where N:M empties a kept K position in every row", "[sparsity][tvw]") {
  // A one-row tile keeping K {0, 1, 4, 5} is 2:4 along K 0..5 but not along {0, 1, 4, 5} itself:
  // checking against the positions that keep something would refuse it.
  const auto p = builtin_registry().make("tvw(g=1,sparsity=0,n=2,m=4)");
  const Matrix w = matrix_of(1, 8, {5, 6, 1, 1, 7, 8, 1, 1});
  const Mask mask = p->build_mask(w);
  CHECK(mask == mask_of(1, 8, {1, 1, 0, 0, 1, 1, 0, 0}));
  CHECK_NOTHROW(p->check_mask(mask));
  const auto c = p->compress(w, mask);
  CHECK(tiles_of(*c).tile_ks(0) == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5});  // padded with 2 and 3
  CHECK(p->decompress(*c) == apply_mask(w, mask));

  // Padding needs room: {0, 1, 5, 6} fits (2 and 3 pad the first group), {0, 1, 3, 4} does not.
  CHECK_NOTHROW(p->check_mask(mask_of(1, 8, {1, 1, 0, 0, 0, 1, 1, 0})));
  CHECK_THROWS_WITH(p->check_mask(mask_of(1, 8, {1, 1, 0, 1, 1, 0, 0, 0})),
                    Catch::Contains("tvw(g=1,sparsity=0,n=2,m=4): tile 0 (rows 0..0): row 0 keeps 4 values at K "
                                    "positions 0..4"));
  CHECK_THROWS_AS(p->compress(Matrix(1, 8, 1.0f), mask_of(1, 8, {1, 1, 0, 1, 1, 0, 0, 0})), MaskError);
}

TEST_CASE("tvw refuses a tile whose rows keep more than N of M, naming tile and row", "[sparsity][tvw]") {
  const auto p = builtin_registry().make("tvw(g=2,sparsity=0.5,n=2,m=4)");
  // Tile 1 (rows 2-3): row 3 keeps K 0, 1, 2, adjacent, so they share a group whatever the padding.
  const Mask bad = mask_of(4, 4,
                           {1, 1, 0, 0,  //
                            0, 0, 1, 1,  //
                            1, 0, 0, 0,  //
                            1, 1, 1, 0});
  CHECK_THROWS_WITH(p->check_mask(bad), Catch::Contains("tile 1 (rows 2..3): row 3 keeps 3 values"));
  // Not an outer product, but N:M along the tile's K: tvw accepts it (tw would not).
  CHECK_NOTHROW(p->check_mask(mask_of(4, 4, {1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0})));
}

TEST_CASE("tvw conformance agrees with an exhaustive search over K lists", "[sparsity][tvw]") {
  Rng rng(2024);
  const std::pair<int, int> nms[] = {{1, 2}, {2, 4}, {1, 3}, {2, 3}, {1, 4}, {3, 4}};
  int accepted = 0, refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const auto [n, m] = nms[trial % 6];
    const std::int64_t rows = 1 + static_cast<std::int64_t>(rng.below(3));
    const std::int64_t cols = 1 + static_cast<std::int64_t>(rng.below(10));
    const double density = 0.15 + 0.5 * rng.uniform();
    Mask mask(rows, cols, 0);
    for (auto& v : mask.data()) v = rng.uniform() < density ? 1 : 0;
    const auto p = builtin_registry().make(fmt::format("tvw(g={},sparsity=0,n={},m={})", rows, n, m));
    const bool expected = conforms_by_search(mask, 0, rows, n, m);
    INFO("trial " << trial << " " << p->spec() << " " << rows << "x" << cols);
    bool ok = true;
    try {
      p->check_mask(mask);
    } catch (const MaskError&) {
      ok = false;
    }
    REQUIRE(ok == expected);
    if (!ok) {
      ++refused;
      continue;
    }
    ++accepted;
    // The stored K list is a witness: it holds every kept position and the tile is N:M along it.
    const Matrix w = generate_weights(rows, cols, static_cast<std::uint64_t>(trial));
    const auto c = p->compress(w, mask);
    const auto ks = tiles_of(*c).tile_ks(0);
    REQUIRE(std::is_sorted(ks.begin(), ks.end()));
    REQUIRE(nm_along(mask, 0, rows, ks, n, m));
    REQUIRE(p->decompress(*c) == apply_mask(w, mask));
  }
  // Both outcomes are exercised often.
  CHECK(accepted > 500);
  CHECK(refused > 500);
}

TEST_CASE("tvw round-trips on shapes g and M do not divide, metadata by its formula", "[sparsity][tvw]") {
  const auto& reg = builtin_registry();
  for (const char* spec : {"tvw(g=8,sparsity=0.5,n=2,m=4)", "tvw(g=128,sparsity=0.3,n=1,m=4)",
                           "tvw(g=3,sparsity=0,n=3,m=8)", "tvw(g=1,sparsity=0.6,n=5,m=16)"}) {
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{37, 53}, {130, 17}, {3, 200}, {1, 1}}) {
      INFO(spec << " on " << rows << "x" << cols);
      const auto p = reg.make(spec);
      const Matrix w = generate_weights(rows, cols, 23, WeightDist::laplace);
      const Mask mask = p->build_mask(w);
      REQUIRE_NOTHROW(p->check_mask(mask));
      const auto c = p->compress(w, mask);
      CHECK(p->decompress(*c) == apply_mask(w, mask));
      const auto& t = tiles_of(*c);
      std::uint64_t meta = 8 * static_cast<std::uint64_t>(t.tiles() + 1);
      std::int64_t stored = 0;
      for (std::int64_t i = 0; i < t.tiles(); ++i) {
        const TileInfo& ti = t.tile(i);
        const std::int64_t words = ceil_div(ceil_div(ti.kept_k, p->m()) * p->n() * index_bits(p->m()), 32);
        meta += 4 * static_cast<std::uint64_t>(ti.kept_rows + ti.kept_k) +
                static_cast<std::uint64_t>(ti.kept_rows * words * 4);
        stored += ti.kept_rows * ceil_div(ti.kept_k, p->m()) * p->n();
        CHECK(nm_along(mask, ti.row_begin, ti.row_end, t.tile_ks(i), p->n(), p->m()));
      }
      CHECK(c->metadata_bytes() == meta);
      CHECK(c->stored_values() == stored);
      CHECK(c->stored_values() >= count_kept(mask));
      const double nominal = p->nominal_density() * static_cast<double>(rows * cols);
      CHECK(std::abs(static_cast<double>(count_kept(mask)) - nominal) <
            static_cast<double>(p->granularity(rows, cols)));
    }
  }
}

TEST_CASE("a tvw tile with everything pruned, and tiles of unequal kept K", "[sparsity][tvw]") {
  // Rows 2-3 are tiny: the tile level prunes all of tile 1; tile 0 drops the K-segment at 3.
  const Matrix w = matrix_of(4, 4,
                             {5, 6, 7, 0.5f,               //
                              4, 3, 2, 0.5f,               //
                              0.01f, 0.02f, 0.03f, 0.04f,  //
                              0.01f, 0.02f, 0.03f, 0.04f});
  const auto p = builtin_registry().make("tvw(g=2,sparsity=0.625,n=1,m=2)");
  const Mask mask = p->build_mask(w);
  // Tile level keeps K {0, 1, 2} of rows 0-1; 1:2 along it keeps K 1 of {0, 1} and K 2 of the short group.
  CHECK(mask == mask_of(4, 4,
                        {0, 1, 1, 0,  //
                         1, 0, 1, 0,  //
                         0, 0, 0, 0,  //
                         0, 0, 0, 0}));
  const auto c = p->compress(w, mask);
  const auto& t = tiles_of(*c);
  CHECK(t.tile(1).empty());
  CHECK(t.tile_nm(1).stored_values() == 0);
  CHECK(t.tile_ks(0) == std::vector<std::int32_t>{0, 1, 2});
  CHECK(detail(*c, "tiles_empty") == 1);
  CHECK(detail(*c, "kept_k_max") == 3);
  CHECK(p->decompress(*c) == apply_mask(w, mask));

  // On a matrix whose bands differ in scale, tiles keep different K and details() shows the spread.
  Matrix big = generate_weights(64, 256, 5, WeightDist::laplace);
  for (std::int64_t r = 0; r < 64; ++r) {
    for (std::int64_t k = 0; k < 256; ++k)
      big.at(r, k) *= (r < 32 ? 1.0f : 3.0f) * (k < 128 ? 1.0f : 2.0f) * (r % 32 == 0 ? 4.0f : 1.0f);
  }
  const auto q = builtin_registry().make("tvw(g=32,sparsity=0.5,n=2,m=4)");
  const auto cq = q->compress(big, q->build_mask(big));
  CHECK(detail(*cq, "kept_k_max") > detail(*cq, "kept_k_min"));
  CHECK(detail(*cq, "k_imbalance") > 1.0);
  CHECK(detail(*cq, "k_imbalance") == Approx(detail(*cq, "kept_k_max") / detail(*cq, "kept_k_mean")));
}

TEST_CASE("tvw saves its arrays", "[sparsity][tvw]") {
  const auto p = builtin_registry().make("tvw(g=2,sparsity=0,n=1,m=2)");
  const Matrix w = matrix_of(2, 4, {1, 2, 3, 4, 8, 7, 6, 5});
  const auto c = p->compress(w, p->build_mask(w));
  const std::string dir = tmp_dir("tvw", "save");
  CHECK(c->save(dir) ==
        std::vector<std::string>{"tile_offsets.npy", "kept_rows.npy", "kept_k.npy", "values.npy", "metadata.npy"});
  CHECK(load_npy_matrix(dir + "/tile_offsets.npy") == matrix_of(1, 2, {0, 4}));
  CHECK(load_npy_matrix(dir + "/kept_k.npy") == matrix_of(1, 4, {0, 1, 2, 3}));
  CHECK(load_npy_matrix(dir + "/values.npy") == matrix_of(1, 4, {2, 4, 8, 6}));
  // 1:2, one index bit per slot: row 0 keeps positions 1, 1 (0b11), row 1 keeps 0, 0.
  CHECK(load_npy_matrix(dir + "/metadata.npy") == matrix_of(1, 2, {3, 0}));
}

TEST_CASE("tvw masks a 4096 x 4096 matrix to its nominal density", "[sparsity][tvw]") {
  const Matrix w = generate_weights(4096, 4096, 99);
  const auto p = builtin_registry().make("tvw(g=128,sparsity=0.5,n=2,m=4)");
  const Mask mask = p->build_mask(w);
  p->check_mask(mask);
  const double nominal = 0.25 * 4096 * 4096;
  CHECK(std::abs(static_cast<double>(count_kept(mask)) - nominal) < static_cast<double>(p->granularity(4096, 4096)));
}
