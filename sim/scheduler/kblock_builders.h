// The k-blocks of one CTA row for each sparsity family, before split-k cuts them (launch_plan.cpp
// uses these; see cta_work.h for the counting conventions). Each builder walks the main loop of one
// row block for a given output width and lists every k-block position, marking those a kernel skips
// (block, unstructured: nothing kept there).
#pragma once

#include <cstdint>
#include <vector>

#include "common/dtype.h"
#include "common/matrix.h"
#include "config/instruction.h"
#include "config/kernel_config.h"
#include "scheduler/cta_work.h"
#include "sparsity/tile_layout.h"

namespace stcsim::sched {

struct KItem {
  KBlock block;
  std::int64_t key = 0;      // L2 key index of the k-block
  std::int64_t dense_k = 0;  // dense K it stands for (the parts of a row add up to K)
  bool skip = false;         // nothing to do here: no k-block issued
};

struct RowWork {
  std::vector<KItem> items;
  std::uint64_t header_bytes = 0;  // S metadata each CTA of the row reads once (added to its first k-block)
  std::vector<std::int32_t> segment_rows;  // block: CtaWork::segment_rows
};

// The instruction and tile shapes in elements of the GEMM's type, and the GEMM's K.
struct Shapes {
  int elem_bytes = 2;
  MmaShape mma;
  TileShape cta;
  std::int64_t k = 0;

  std::int64_t mmas(std::int64_t rows, std::int64_t cols, std::int64_t kk, int inst_k) const {
    return ceil_div(rows, mma.m) * ceil_div(cols, mma.n) * ceil_div(kk, inst_k);
  }
  // Dense-equivalent K of one sparse N:M instruction: the kernel's k kept values per row stand for
  // k / N groups of M (TensorCore::instruction_for): 32 for 2:4 at k = 16, 64 for 1:4 and 2:8.
  int sparse_k(int n, int m) const { return mma.k / n * m; }
};

// Dense operands (nothing kept pruned).
RowWork dense_row(const Shapes& s, std::int64_t rows, std::int64_t cols);
// An N:M operand run dense on explicit zeros (also V:N:M, whose kept count per row is N:M's).
RowWork nm_on_zeros_row(const Shapes& s, std::int64_t rows, std::int64_t cols, int n, int m);
// N:M on the sparse path: values and metadata as nm_layout.h stores them.
RowWork nm_sparse_row(const Shapes& s, std::int64_t rows, std::int64_t cols, int n, int m);
// V:N:M on the N:2N sparse path, over the gathered K (ceil(K/M) * 2N); `vblocks` V-row blocks begin
// in the row block (their column indices are read by it) and `vspan` overlap it: each gathers its own
// 2N of every M rows of D out of the k-block's dense region (at most the whole region).
RowWork vnm_sparse_row(const Shapes& s, std::int64_t rows, std::int64_t cols, int n, int m, std::int64_t vblocks,
                       std::int64_t vspan);
// One row chunk of a tw/tvw tile: `rows` kept rows starting at kept_rows()[kept_offset], over the
// tile's kept K. `sparse`: tvw on the N:M path (else dense MMAs on the compacted tile).
RowWork tile_row(const Shapes& s, const TileCompressed& tc, const Mask& mask, std::int64_t tile,
                 std::int64_t kept_offset, std::int64_t rows, std::int64_t cols, bool sparse);
// Rows [r0, r1) of a block-sparse operand with b x b blocks.
RowWork block_row(const Shapes& s, const Mask& mask, std::int64_t b, std::int64_t r0, std::int64_t r1,
                  std::int64_t cols);
// Rows [r0, r1) of an unstructured operand (CSR), rows_total = R.
RowWork unstructured_row(const Shapes& s, const Mask& mask, std::int64_t r0, std::int64_t r1, std::int64_t cols);

}  // namespace stcsim::sched
