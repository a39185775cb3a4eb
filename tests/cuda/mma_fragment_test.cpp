// The fragment layouts the own kernel uses (cuda/host/mma_fragment.h): each maps the 32 lanes'
// registers one-to-one onto the MMA's tile, and the sparse MMA's metadata packed from the core
// library's compressor, read back the way the instruction reads it, gives the compressor's positions
// and values: the packing equals what the compressor produced.
#include <catch2/catch.hpp>

#include <set>
#include <utility>

#include "common/rng.h"
#include "cuda/host/mma_fragment.h"
#include "sparsity/nm_layout.h"

using namespace stcsim;
using namespace stcsim::replay;

namespace {

template <class F>
std::set<std::pair<int, int>> covered(int regs, F pos) {
  std::set<std::pair<int, int>> s;
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < regs; ++i) {
      const FragPos p = pos(lane, i);
      s.insert({p.row, p.col});
    }
  }
  return s;
}

}  // namespace

TEST_CASE("A, B and C fragments cover their tiles once each", "[replay][fragment]") {
  CHECK(covered(8, a_fragment_pos).size() == 16 * 16);    // 32 lanes x 8 = 256 = 16 x 16
  CHECK(covered(4, b_fragment_pos).size() == 16 * 8);     // k16 x n8
  CHECK(covered(8, b_fragment_pos).size() == 32 * 8);     // k32 x n8 (sparse)
  CHECK(covered(4, c_fragment_pos).size() == 16 * 8);
  for (const auto& [r, c] : covered(8, a_fragment_pos)) CHECK((r < 16 && c < 16));
  for (const auto& [k, n] : covered(8, b_fragment_pos)) CHECK((k < 32 && n < 8));
}

TEST_CASE("the sparse MMA's metadata registers, read back, give the compressor's 2:4 operand", "[replay][fragment]") {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    // A 16 x 32 tile of A: one m16n8k32 sparse MMA.
    Rng rng(seed);
    Matrix w(16, 32);
    for (float& x : w.data()) x = static_cast<float>(static_cast<int>(rng.below(15)) - 7);
    const Mask mask = nm_build_mask(w, 2, 4);
    NmCompressed c(16, 32, 2, 4);
    nm_pack(w, mask, c);
    REQUIRE(c.words_per_row() == 1);
    const Matrix want = c.decompress();

    // Each lane's registers as the kernel fills them: values by the A fragment over the compressed
    // 16 x 16 values, metadata by sp_meta_fragment from the compressor's row words.
    Matrix got(16, 32);
    std::set<std::pair<int, int>> groups_seen;
    for (int lane = 0; lane < 32; ++lane) {
      const int g = lane / 4, t = lane % 4;
      if (t > 1) continue;  // sparsity selector 0: threads 0 and 1 of each group supply metadata
      const std::uint32_t e = sp_meta_fragment(c.metadata()[static_cast<std::size_t>(g)],
                                               c.metadata()[static_cast<std::size_t>(g + 8)], t);
      for (int nib = 0; nib < 8; ++nib) {
        const FragPos p = sp_meta_nibble_pos(lane, nib);
        REQUIRE(groups_seen.insert({p.row, p.col}).second);
        const std::uint32_t bits = (e >> (4 * nib)) & 0xFu;
        const int lo = static_cast<int>(bits & 3u), hi = static_cast<int>(bits >> 2);
        REQUIRE(lo < hi);  // ordered metadata: two distinct positions, increasing
        // The group's two values, at compressed columns 2 * group and 2 * group + 1 of the row.
        got.at(p.row, 4 * p.col + lo) = c.values()[static_cast<std::size_t>(p.row * 16 + 2 * p.col)];
        got.at(p.row, 4 * p.col + hi) = c.values()[static_cast<std::size_t>(p.row * 16 + 2 * p.col + 1)];
      }
    }
    CHECK(groups_seen.size() == 16 * 8);  // every group of every row, once
    CHECK(got == want);
  }
}

TEST_CASE("lane metadata halves: row g in the low 16 bits, row g + 8 in the high", "[replay][fragment]") {
  CHECK(sp_meta_fragment(0x89ABCDEFu, 0x01234567u, 0) == 0x4567CDEFu);
  CHECK(sp_meta_fragment(0x89ABCDEFu, 0x01234567u, 1) == 0x012389ABu);
  CHECK(sp_meta_nibble_pos(5, 0).row == 1);
  CHECK(sp_meta_nibble_pos(5, 4).row == 9);
  CHECK(sp_meta_nibble_pos(5, 3).col == 7);  // t = 1: groups 4..7
}
