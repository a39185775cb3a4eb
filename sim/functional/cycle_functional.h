// Functional mode through the cycle model (`stcsim run --functional --model cycle`; docs/model.md,
// "Functional mode"): the MMAs the cycle model's warps issue are computed on values as its
// tensor-core pipes start them, each one instruction tile (sm/mma_tiles.h) and k-step of a CTA, and
// the output they build is compared bit for bit with the reference GEMM of the pruned weights. What
// it checks beyond run_functional: that the cycle model's instruction streams cover the GEMM, every
// output tile and every kept K once and in K order, with the instruction the timing runs (a missing
// or repeated MMA, a tile dealt to two warps, or a k-step of the wrong K shows up as a mismatch or
// a wrong MMA count).
//
// Per family, the operand an MMA reads (its K in the k-block's K space: key x cta.k + step x k):
//   dense, N:M on zeros, V:N:M on zeros, unstructured: the pruned S and D over dense K;
//   N:M sparse:   the compressed operand through the operand selector (TensorCore::mma_sparse);
//   V:N:M sparse: per V-row block its gathered N:2N operand and D rows (vnm_blocks), over the
//                 gathered K; a tile spanning two V-row blocks runs each block's rows on its own;
//   tw / tvw:     the tile's compacted values (tw) or N:M operand (tvw) and its kept K rows of D;
//   block:        the segment's kept blocks of the k-block, in K order, each k-stepped.
// Values take no cycles: a separate TensorCore computes them, so the timing and its stats are those
// of a run without --functional. Left out: split-k launches (refused), and the `count` copies of a
// batched line beyond the first (the same operand: one is computed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "functional/functional.h"
#include "sm/cycle_packets.h"
#include "sm/mma_tiles.h"

namespace stcsim {

class FunctionalLaunch : public MmaValues {
 public:
  // Line `line` of a trace (GEMM g mapped by `map` onto `machine`, planned as `plan`, which must
  // outlive this object), operands from `seed` as run_functional's. Throws ShapeError over
  // functional mode's size limits, UnsupportedError for a split-k plan or a sparse path the
  // machine's tensor cores cannot run.
  FunctionalLaunch(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine, const LaunchPlan& plan,
                   std::uint64_t seed, std::size_t line);

  void mma(const CtaPos& pos, const CtaWork& work, std::int32_t tile, std::int64_t kb, std::int32_t step,
           bool sparse) override;

  // MMAs computed so far, and those the plan's CTAs (first copy) issue.
  std::uint64_t executed() const { return executed_; }
  std::uint64_t expected() const { return expected_; }
  // The comparison with the reference GEMM; Error naming the layer when the MMAs executed are not
  // the plan's.
  FunctionalResult finish() const;

 private:
  const MmaTiles& tiles_for(const CtaPos& pos, const CtaWork& work);
  // c += S'[s_row0.., k0..k1) x D'[k0..k1, col0..) on the dense path, S' and D' the operands of the
  // family's K space (rows or K past their ends read as zero).
  void dense_mma(const Matrix& s, std::int64_t s_row0, const Matrix& d, std::int64_t k0, std::int64_t k1,
                 std::int64_t col0, Matrix& c);
  void sparse_mma(const NmCompressed& s, std::int64_t s_row0, const Matrix& d, std::int64_t k0, std::int64_t col0,
                  Matrix& c);

  const GemmOp& g_;
  const LaunchPlan& plan_;
  std::string family_;
  MathPath path_;
  SparseOperand op_;
  Matrix d_;            // the dense operand (K x P)
  Matrix s_;            // the pruned S (R x K), decompressed
  Matrix out_;          // R x P
  TensorCore tc_;
  MmaInstr dense_{}, sparse_{};
  TileShape cta_{}, warp_{};
  int issuers_ = 1;
  std::int64_t block_b_ = 0;  // block: b
  std::vector<VnmBlock> vnm_;
  std::vector<Matrix> vnm_d_;  // per V-row block: its gathered D rows
  std::int64_t vnm_v_ = 0;
  // tw/tvw per TW tile: its compacted values (tw, or tvw decompressed) and its kept K rows of D.
  std::vector<Matrix> tile_s_, tile_d_;
  std::vector<std::vector<std::int64_t>> rows_;  // per row block: output rows
  std::map<std::uint32_t, std::unique_ptr<MmaTiles>> tiles_;
  std::uint64_t executed_ = 0, expected_ = 0;
  std::uint64_t dense_count_ = 0, sparse_count_ = 0;
};

}  // namespace stcsim
