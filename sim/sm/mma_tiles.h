// The output instruction tiles of one CTA and how its issuing warps share them (docs/model.md, "The
// cycle model"): what each MMA the cycle model issues computes, so that the warps' instruction
// streams carry the GEMM's geometry and functional mode can execute them.
//
// Tiles. The CTA's rows x cols output is cut into instruction tiles of m x n (the instruction's
// shape), rounded up at the edges (cta_work.h's counting convention). Block sparsity cuts the rows
// first into segments, one per block row they meet (CtaWork::segment_rows), each tiled on its own:
// its kept blocks differ from the next segment's.
// Order and dealing. Tiles are listed by the warp tile their first row and column fall in (warps
// row-major over the kernel's CTA tile), and within one as segment, row, column; each issuer (warp,
// or warpgroup for wgmma) takes a contiguous, balanced range of the list. For a CTA of the full tile
// issuer w's range is then its own warp tile, row-major (as its accumulators are laid out); an edge
// CTA, with fewer tiles, spreads them over all its issuers.
// Steps. In a k-block every tile issues the same dense and sparse k-steps (KBlock::dense_mmas and
// sparse_mmas over the tile count), except under block sparsity, where a segment's tiles issue
// KBlock::segment_steps of that segment. A tile's steps run in K order on one accumulator.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "config/instruction.h"
#include "scheduler/cta_work.h"

namespace stcsim {

struct MmaTile {
  std::int32_t segment = 0;  // row segment (0 unless block sparsity)
  std::int32_t row0 = 0;     // first row, relative to the CTA's output tile
  std::int32_t rows = 0;     // rows of the segment it covers (at most the instruction's m)
  std::int32_t col0 = 0;     // first column, relative to the CTA's output tile
  std::int32_t cols = 0;     // columns it covers (at most the instruction's n)
};

class MmaTiles {
 public:
  // `m` x `n`: the instruction's output shape; `warp_m` x `warp_n`: the warp (warpgroup) tile, and
  // `cta_m` x `cta_n` the kernel's CTA tile; `issuers`: warps (warpgroups) issuing MMAs.
  MmaTiles(const CtaWork& work, int m, int n, int warp_m, int warp_n, int cta_m, int cta_n, int issuers);

  std::int64_t count() const { return static_cast<std::int64_t>(tiles_.size()); }
  const MmaTile& tile(std::int64_t t) const { return tiles_.at(static_cast<std::size_t>(t)); }
  // Issuer i's tiles: [first, second) in the list.
  std::pair<std::int64_t, std::int64_t> range(int issuer) const;
  // Dense and sparse k-steps tile t issues in k-block b.
  std::int64_t dense_steps(const KBlock& b, std::int64_t t) const;
  std::int64_t sparse_steps(const KBlock& b, std::int64_t t) const;
  // The MMAs issuer i issues in k-block b: its tiles' dense and sparse k-steps.
  std::int64_t issuer_mmas(const KBlock& b, int issuer) const;

 private:
  std::vector<MmaTile> tiles_;
  int issuers_ = 1;
};

}  // namespace stcsim
