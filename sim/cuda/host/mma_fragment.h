// Where the warp-level MMA instructions keep their operands, per lane: the fragment layouts of the
// PTX ISA ("Matrix fragments for mma.m16n8k16" and "... for sparse mma.m16n8k32 with .f16/.bf16",
// section 9.7.14), written once and used by both the kernels (device code) and the host tests that
// check the backend's packing against the core library's compressor.
//
// Notation: lane in 0..31, group g = lane / 4, thread in group t = lane % 4.
// - Dense m16n8k16, A (16 x 16, row): a_i (i = 0..7) at row g + 8 * ((i / 2) % 2), col 2t + i % 2 + 8 * (i / 4).
// - Sparse m16n8k32, A: the 16 x 16 compressed values (2 per group of 4 along K) in the same layout as
//   the dense m16n8k16 A, so compressed column c holds a value of K group c / 2.
// - B (K x 8, col): b_i at K 2t + i % 2 + 8 * (i / 2), column g; 4 values for k16, 8 for k32.
// - C/D (16 x 8, fp32): c_i at row g + 8 * (i / 2), column 2t + i % 2.
// - Sparse metadata, m16n8k32 f16/bf16, sparsity selector 0: lanes with t = 0 and t = 1 supply it.
//   Each A row's 32 K positions are 8 groups of 4, one nibble per group (lower kept index in bits
//   [1:0], higher in [3:2]), the group at lower K in the lower nibble: the row word that the core
//   library's N:M compressor writes for 2:4 (sparsity/nm_layout.h). Lane (g, t) holds the half-words
//   of groups 4t..4t+3: bits [15:0] from row g, bits [31:16] from row g + 8.
// The metadata layout is the one assumption here that only hardware can confirm: `stcsim-gpu
// selftest` runs single MMAs against cuBLAS and reports the first row and group that disagree.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define STCSIM_HD __host__ __device__ __forceinline__
#else
#define STCSIM_HD inline
#endif

namespace stcsim::replay {

struct FragPos {
  int row;
  int col;
};

STCSIM_HD FragPos a_fragment_pos(int lane, int i) {
  return {lane / 4 + 8 * ((i / 2) % 2), 2 * (lane % 4) + i % 2 + 8 * (i / 4)};
}

// (k, n) of b_i.
STCSIM_HD FragPos b_fragment_pos(int lane, int i) { return {2 * (lane % 4) + i % 2 + 8 * (i / 2), lane / 4}; }

STCSIM_HD FragPos c_fragment_pos(int lane, int i) { return {lane / 4 + 8 * (i / 2), 2 * (lane % 4) + i % 2}; }

// The metadata register of a lane with thread-in-group t (0 or 1), from the compressor's row words
// (32 K positions each) of rows g and g + 8 of the MMA's A tile. Lanes with t = 2, 3 pass anything.
STCSIM_HD std::uint32_t sp_meta_fragment(std::uint32_t row_word_g, std::uint32_t row_word_g8, int t) {
  const int shift = (t & 1) * 16;
  return ((row_word_g >> shift) & 0xFFFFu) | (((row_word_g8 >> shift) & 0xFFFFu) << 16);
}

// The (row, group) of the A tile that nibble `nibble` (0..7) of the metadata register of `lane` describes.
STCSIM_HD FragPos sp_meta_nibble_pos(int lane, int nibble) {
  return {lane / 4 + (nibble >= 4 ? 8 : 0), 4 * ((lane % 4) & 1) + nibble % 4};
}

}  // namespace stcsim::replay
