#include <catch2/catch.hpp>

#include "support/sparsity_fixtures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/checked.h"
#include "common/npy.h"
#include "sparsity/registry.h"
#include "sparsity/spec.h"
#include "sparsity/stats.h"
#include "weights/generator.h"

using namespace stcsim;
using namespace stcsim::testing;

namespace {

// The documented formula, written out independently of the layout code.
std::uint64_t vnm_metadata_bytes(std::int64_t rows, std::int64_t cols, int v, int n, int m) {
  const std::int64_t blocks = ceil_div(cols, m);
  const std::int64_t col_bytes = ceil_div(rows, v) * ceil_div(blocks * 2 * n * index_bits(m), 32) * 4;
  const std::int64_t row_bytes = rows * ceil_div(blocks * n * index_bits(2 * n), 32) * 4;
  return static_cast<std::uint64_t>(col_bytes + row_bytes);
}

// The documented rule written the plain way, with full stable sorts.
Mask reference_mask(const Matrix& w, int v, int n, int m) {
  Mask mask(w.rows(), w.cols(), 0);
  for (std::int64_t r0 = 0; r0 < w.rows(); r0 += v) {
    for (std::int64_t c0 = 0; c0 < w.cols(); c0 += m) {
      const std::int64_t r1 = std::min<std::int64_t>(w.rows(), r0 + v), c1 = std::min<std::int64_t>(w.cols(), c0 + m);
      std::vector<std::int64_t> cols;
      for (std::int64_t c = c0; c < c1; ++c) cols.push_back(c);
      auto col_sum = [&](std::int64_t c) {
        double s = 0.0;
        for (std::int64_t r = r0; r < r1; ++r) s += std::fabs(w.at(r, c));
        return s;
      };
      std::stable_sort(cols.begin(), cols.end(),
                       [&](std::int64_t a, std::int64_t b) { return col_sum(a) > col_sum(b); });
      cols.resize(std::min<std::size_t>(cols.size(), static_cast<std::size_t>(2 * n)));
      std::sort(cols.begin(), cols.end());
      for (std::int64_t r = r0; r < r1; ++r) {
        auto order = cols;
        std::stable_sort(order.begin(), order.end(),
                         [&](std::int64_t a, std::int64_t b) { return std::fabs(w.at(r, a)) > std::fabs(w.at(r, b)); });
        for (std::size_t k = 0; k < std::min<std::size_t>(order.size(), static_cast<std::size_t>(n)); ++k) {
          mask.at(r, order[k]) = 1;
        }
      }
    }
  }
  return mask;
}

}  // namespace

TEST_CASE("V:N:M specs are checked", "[sparsity][vnm]") {
  const auto& reg = builtin_registry();
  const auto p = reg.make(" 64:2:8 ");
  CHECK(p->spec() == "64:2:8");
  CHECK(p->family() == "vnm");
  CHECK_FALSE(p->is_nm());
  CHECK(p->n() == 2);
  CHECK(p->m() == 8);
  CHECK(p->nominal_density() == 0.25);
  CHECK(p->index_bits_per_value() == 2);
  CHECK(reg.make("1:1:4")->index_bits_per_value() == 1);
  CHECK(reg.make("8:3:7")->index_bits_per_value() == 3);
  CHECK(reg.make("4096:127:256")->spec() == "4096:127:256");
  CHECK_THROWS_WITH(reg.make("2:4:8"), Catch::Contains("2N = M selects every column of each block, so V does nothing: that is the N:M pattern 4:8"));

  CHECK_THROWS_WITH(reg.make("0:2:8"), Catch::Contains("V must be in 1..4096 (got 0)"));
  CHECK_THROWS_WITH(reg.make("4097:2:8"), Catch::Contains("V must be in 1..4096 (got 4097)"));
  CHECK_THROWS_WITH(reg.make("4:0:8"), Catch::Contains("N must be in 1..M/2 = 1..4 (got 0)"));
  CHECK_THROWS_WITH(reg.make("4:5:8"), Catch::Contains("N must be in 1..M/2 = 1..4 (got 5)"));
  CHECK_THROWS_WITH(reg.make("4:2:3"), Catch::Contains("N must be in 1..M/2 = 1..1 (got 2)"));
  CHECK_THROWS_WITH(reg.make("4:1:1"), Catch::Contains("M must be in 2..256 (got 1)"));
  CHECK_THROWS_WITH(reg.make("4:1:257"), Catch::Contains("M must be in 2..256 (got 257)"));
  CHECK_THROWS_WITH(reg.make("4:x:8"), Catch::Contains("not an integer"));
  CHECK_NOTHROW(reg.make("4:2:8"));
  CHECK_THROWS_AS(reg.make("-1:2:8"), SpecError);
}

TEST_CASE("V:N:M selects 2N columns per block, then N per row, and packs both index streams", "[sparsity][vnm]") {
  // 2:1:4 on 3 x 8: blocks of 2 rows x 4 columns, the last block row one row high.
  const Matrix w = matrix_of(3, 8, {1, 9, 0, 2, /**/ 0, 0, 5, 0,   //
                                    8, 1, 3, 0, /**/ 0, 0, 0, -6,  //
                                    1, 1, 1, 1, /**/ 0, 4, 0, 4});
  const auto p = builtin_registry().make("2:1:4");
  const Mask mask = p->build_mask(w);
  // Block (0,0): column sums 9, 10, 3, 2 select {0, 1}; row 0 keeps 9, row 1 keeps 8.
  // Block (0,1): sums 0, 0, 5, 6 select {2, 3}; row 0 keeps 5, row 1 keeps -6.
  // Block (1,0): all sums tie, {0, 1} selected, and the tie in row 2 keeps column 0.
  // Block (1,1): sums 0, 4, 0, 4 select {1, 3}; the tie in row 2 keeps column 5.
  CHECK(mask == mask_of(3, 8, {0, 1, 0, 0, 0, 0, 1, 0,  //
                               1, 0, 0, 0, 0, 0, 0, 1,  //
                               1, 0, 0, 0, 0, 1, 0, 0}));

  const auto c = p->compress(w, mask);
  CHECK(c->stored_values() == 6);
  // Column indices: 2 block rows x 1 word (2 blocks x 2 columns x 2 bits); row indices: 3 rows x 1 word.
  CHECK(c->metadata_bytes() == 2 * 4 + 3 * 4);
  CHECK(p->decompress(*c) == apply_mask(w, mask));

  const std::string dir = tmp_dir("vnm", "hand");
  CHECK(c->save(dir) == std::vector<std::string>{"values.npy", "metadata.npy", "column_indices.npy"});
  // Block row 0 stores {0, 1} and {2, 3}: fields 0, 1, 2, 3 at 2 bits each = 0b11'10'01'00.
  // The layout takes its columns from the mask, not from build_mask's choice: row 2 keeps position 0
  // of block (1,0) and position 1 of block (1,1), each padded with the lowest unused position (1,
  // then 0), so block row 1 stores {0, 1} twice (0b01'00'01'00), not {0, 1} and {1, 3}.
  CHECK(load_npy_matrix(dir + "/column_indices.npy") == matrix_of(2, 1, {0xE4, 0x44}));
  // Per row, one slot per block indexing the 2 gathered columns (1 bit): row 0 keeps gathered slot 1
  // then 0 -> 0b01; row 1 slot 0 then 1 -> 0b10; row 2 slot 0 then 1 -> 0b10.
  CHECK(load_npy_matrix(dir + "/metadata.npy") == matrix_of(3, 1, {1, 2, 2}));
  CHECK(load_npy_matrix(dir + "/values.npy") == matrix_of(3, 2, {9, 5, 8, -6, 1, 4}));

  const auto st = measure(*p, w, mask, *c, DType::fp16);
  CHECK(st.details == std::vector<std::pair<std::string, double>>{
                          {"v", 2}, {"column_index_bits", 2}, {"row_index_bits", 1}, {"blocks", 4}});
}

TEST_CASE("64:2:8 uses 2:4 inside the selected columns", "[sparsity][vnm]") {
  const auto p = builtin_registry().make("64:2:8");
  const Matrix w = generate_weights(128, 4096, 21, WeightDist::laplace);
  const Mask mask = p->build_mask(w);
  // Every row keeps exactly 2 of every 8, and every 64 x 8 block uses at most 4 distinct columns.
  int rows_off = 0, blocks_off = 0;
  for (std::int64_t c0 = 0; c0 < 4096; c0 += 8) {
    for (std::int64_t r = 0; r < 128; ++r) {
      int kept = 0;
      for (int j = 0; j < 8; ++j) kept += mask.at(r, c0 + j);
      rows_off += kept == 2 ? 0 : 1;
    }
    for (std::int64_t r0 = 0; r0 < 128; r0 += 64) {
      int distinct = 0;
      for (int j = 0; j < 8; ++j) {
        bool used = false;
        for (std::int64_t r = r0; r < r0 + 64; ++r) used = used || mask.at(r, c0 + j);
        distinct += used ? 1 : 0;
      }
      blocks_off += distinct <= 4 ? 0 : 1;
    }
  }
  CHECK(rows_off == 0);
  CHECK(blocks_off == 0);
  const auto c = p->compress(w, mask);
  // 2 block rows x 512 blocks x 4 columns x 3 bits = 192 words each; 128 rows x 512 x 2 x 2 bits = 64 words each.
  CHECK(c->metadata_bytes() == 2 * 192 * 4 + 128 * 64 * 4);
  const auto st = measure(*p, w, mask, *c, DType::fp16);
  CHECK(st.density == 0.25);
  CHECK(st.index_bits_per_value == 2);
}

TEST_CASE("V:N:M masks equal the plain rule, ties and edge blocks included", "[sparsity][vnm]") {
  for (const char* spec : {"2:1:4", "4:2:8", "3:3:7", "16:2:16", "1:1:3", "5:4:256"}) {
    const auto p = builtin_registry().make(spec);
    const int v = static_cast<int>(split_spec(spec).positional[0]);
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{37, 101}, {16, 64}, {3, 5}}) {
      INFO(spec << " on " << rows << "x" << cols);
      // Small integers: many ties, in the column sums as well as within rows.
      Matrix w = generate_weights(rows, cols, 6, WeightDist::laplace);
      for (float& x : w.data()) x = std::round(x * std::sqrt(static_cast<float>(cols)) * 2.0f);
      CHECK(p->build_mask(w) == reference_mask(w, v, p->n(), p->m()));
    }
  }
}

TEST_CASE("V:N:M metadata size and stored values match their formulas", "[sparsity][vnm]") {
  const auto& reg = builtin_registry();
  for (const char* spec : {"64:2:8", "4:2:8", "1:1:4", "16:2:16", "3:3:7", "5:4:256", "2:1:3"}) {
    for (auto [rows, cols] :
         {std::pair<std::int64_t, std::int64_t>{64, 4096}, {3, 100}, {17, 7}, {130, 9}, {1, 1}, {65, 300}}) {
      const auto p = reg.make(spec);
      const auto split = split_spec(spec);
      const int v = static_cast<int>(split.positional[0]);
      const Matrix w = generate_weights(rows, cols, 3);
      const Mask mask = p->build_mask(w);
      const auto c = p->compress(w, mask);
      INFO(spec << " " << rows << "x" << cols);
      CHECK(c->metadata_bytes() == vnm_metadata_bytes(rows, cols, v, p->n(), p->m()));
      CHECK(c->stored_values() == rows * ceil_div(cols, p->m()) * p->n());
      CHECK(p->decompress(*c) == apply_mask(w, mask));
    }
  }
}

TEST_CASE("V:N:M keeps exactly N per row per block, min(N, width) in a narrow last block", "[sparsity][vnm]") {
  const auto& reg = builtin_registry();
  struct Case {
    const char* spec;
    std::int64_t rows, cols, kept_per_row;
  };
  // 100 = 12 x 8 + 4: the last block is 4 wide, selects all 4 columns and keeps min(N, 4).
  // 97 = 12 x 8 + 1: one column left, kept. 101: 5 wide, N = 2 kept.
  for (const Case& k :
       {Case{"4:2:8", 100, 100, 13 * 2}, Case{"4:3:8", 100, 100, 12 * 3 + 3}, Case{"4:2:8", 10, 97, 12 * 2 + 1},
        Case{"7:2:8", 10, 101, 13 * 2}, Case{"16:2:16", 256, 1024, 64 * 2}, Case{"3:1:4", 5, 4, 1}}) {
    INFO(k.spec << " " << k.rows << "x" << k.cols);
    const auto p = reg.make(k.spec);
    const Mask mask = p->build_mask(generate_weights(k.rows, k.cols, 77, WeightDist::uniform));
    CHECK(count_kept(mask) == k.rows * k.kept_per_row);
    CHECK_NOTHROW(p->check_mask(mask));
  }
}

TEST_CASE("a V:N:M mask breaking a block's limits is refused, naming the block", "[sparsity][vnm]") {
  const auto p = builtin_registry().make("4:1:4");
  SECTION("a row keeping more than N in a block") {
    Mask mask(8, 8, 0);
    mask.at(5, 4) = mask.at(5, 6) = 1;
    CHECK_THROWS_AS(p->check_mask(mask), MaskError);
    CHECK_THROWS_WITH(
        p->check_mask(mask),
        Catch::Contains("block row 1, block column 1: row 5 keeps 2 values in columns 4..7, at most N = 1"));
  }
  SECTION("a block using more than 2N distinct columns") {
    Mask mask(8, 8, 0);
    mask.at(0, 4) = mask.at(1, 5) = mask.at(2, 6) = 1;
    CHECK_THROWS_WITH(p->check_mask(mask),
                      Catch::Contains("block row 0, block column 1 (rows 0..3, columns 4..7) keeps "
                                      "values in 3 distinct columns, at most 2N = 2"));
  }
  SECTION("the short last block row is a block of its own") {
    // Rows 3, 4 and 5 keep columns 0, 1 and 2: three columns, but rows 0..3 and 4..5 are different
    // blocks, so each block uses at most two.
    Mask mask(6, 4, 0);
    mask.at(3, 0) = mask.at(4, 1) = mask.at(5, 2) = 1;
    CHECK_NOTHROW(p->check_mask(mask));
    mask.at(5, 3) = 1;
    CHECK_THROWS_WITH(p->check_mask(mask), Catch::Contains("block row 1, block column 0: row 5 keeps 2 values"));
  }
  SECTION("compress refuses it too") {
    Mask mask(4, 4, 0);
    mask.at(0, 0) = mask.at(1, 1) = mask.at(2, 2) = 1;
    CHECK_THROWS_AS(p->compress(Matrix(4, 4), mask), MaskError);
  }
}

TEST_CASE("any conforming V:N:M mask compresses, including blocks using fewer than 2N columns", "[sparsity][vnm]") {
  const auto p = builtin_registry().make("2:2:8");
  const Matrix w = generate_weights(5, 19, 4);
  Mask mask(5, 19, 0);
  mask.at(0, 7) = 1;                    // block (0,0): one column, padded with positions 0..2
  mask.at(2, 9) = mask.at(3, 12) = 1;   // block (1,1): two columns
  mask.at(4, 17) = mask.at(4, 18) = 1;  // block (2,2): the 3-wide last block, padded past the edge
  REQUIRE_NOTHROW(p->check_mask(mask));
  const auto c = p->compress(w, mask);
  CHECK(p->decompress(*c) == apply_mask(w, mask));
}
