// A GEMM line cut into the CTAs of one kernel launch (docs/model.md, "Orientation" and "Sparsity in
// the model"): the R x P output (R = rows of the sparse operand S, P = the other dimension) cut into
// CTA tiles of the kernel's cta_tile (m along R, n along P), `count` copies as one batched grid, K
// split split_k ways, and the CTAs put in the order the tile scheduler hands them out.
//
// Per-CTA work by math path:
//   dense, N:M (sparse or on explicit zeros), V:N:M: every CTA alike but for edge tiles;
//   tw / tvw:      per TW tile (band of g rows), CTAs over its kept rows, compacted cta_m at a time,
//                  walking that tile's kept K, each k-block gathering its kept K rows of D out of
//                  the column of D that every tile shares in L2; rows pruned in a tile produce no output here (the
//                  kernel writes a compacted output), and empty tiles get no CTA;
//   block:         every output tile; k-blocks of dense K holding a kept block of its rows, MMAs and
//                  S bytes over the kept blocks only, D loaded as whole k-block tiles;
//   unstructured:  output tiles whose rows hold any non-zero; dense MMAs over the k-blocks holding one,
//                  S read as CSR.
// Masks come from weights generated per trace line (build_operand). N:M and V:N:M need no mask:
// their kept counts per row follow from N, M and K (a magnitude mask keeps exactly that many).
//
// Order: copy, then split, then the raster (in_order); longest_first stable-sorts that list by each
// CTA's main-loop K (most first). Left out: stream-K, the split-k reduction pass, and persistent
// kernels that choose tiles dynamically.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/matrix.h"
#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "scheduler/cta_work.h"
#include "sparsity/compressed.h"
#include "sparsity/pattern.h"
#include "trace/gemm.h"

namespace stcsim {

// The pruned sparse operand of one trace line (rows x K, sparsity/ orientation).
struct SparseOperand {
  Matrix weights;
  Mask mask;
  std::unique_ptr<Pattern> pattern;
  std::unique_ptr<Compressed> compressed;
};

// True when plan_launch needs the mask for this GEMM (tw, tvw, block, unstructured on a sparse operand).
bool plan_needs_operand(const GemmOp& g, const GemmMapping& map);

// Most values a generated sparse operand may hold: 2^28 (16384 x 16384), about 2.5 GiB with its
// mask and compressed form. Larger operands are refused rather than risking the machine's memory.
inline constexpr std::uint64_t kMaxOperandValues = std::uint64_t{1} << 28;

// The weights of the sparse operand, generated with derive_seed(seed, g.layer, line) (normal
// distribution). ShapeError naming the layer when the operand holds more than kMaxOperandValues.
Matrix operand_weights(const GemmOp& g, std::uint64_t seed, std::size_t line);
// operand_weights pruned by the GEMM's pattern and compressed. For GEMMs without a sparse operand the
// pattern is dense.
SparseOperand build_operand(const GemmOp& g, std::uint64_t seed, std::size_t line);

// A row of the CTA grid.
struct RowBlock {
  std::int64_t row_begin = 0;  // first output row it covers (its first kept row for tw/tvw)
  std::int64_t rows = 0;
  std::int64_t tile = -1;        // tw/tvw: the TW tile it belongs to; -1 otherwise
  std::int64_t kept_offset = 0;  // tw/tvw: its first row's index in TileCompressed::kept_rows()
};

// One CTA of the launch: its work class and grid position.
struct CtaPos {
  std::uint32_t work = 0;       // index into LaunchPlan::work()
  std::uint32_t row_block = 0;  // index into LaunchPlan::row_blocks()
  std::uint32_t col_block = 0;
  std::uint32_t split = 0;
  std::uint32_t copy = 0;
};

class LaunchPlan {
 public:
  MathPath path = MathPath::dense;
  std::int64_t r = 0, p = 0, k = 0, count = 1;  // output R x P, reduction K, copies
  TileShape cta;                                // the kernel's CTA tile in elements of the GEMM's type
  int splits = 1;                               // split-k ways used (<= kernel.split_k: no empty split)

  const std::vector<CtaWork>& work() const { return work_; }
  const std::vector<RowBlock>& row_blocks() const { return row_blocks_; }
  std::int64_t col_blocks() const { return ceil_div(p, cta.n); }
  // CTAs in dispatch order.
  const std::vector<CtaPos>& ctas() const { return ctas_; }
  const CtaWork& work_of(const CtaPos& c) const { return work_[c.work]; }

  std::int64_t col_begin(const CtaPos& c) const { return std::int64_t{c.col_block} * cta.n; }
  // Output rows a CTA covers, as global row ids (a range, or kept rows for tw/tvw).
  std::vector<std::int64_t> output_rows(const CtaPos& c) const;

  // L2 keys of the S and D tiles of k-block i of a CTA.
  TileKey s_key(const CtaPos& c, std::int64_t i) const;
  TileKey d_key(const CtaPos& c, std::int64_t i) const;
  // The D rows k-block i of a tw/tvw CTA gathers out of its D column: `count` kept K positions of its
  // tile, increasing, out of the column's K rows. Empty (rows null) for other paths.
  struct GatherRows {
    const std::int32_t* rows = nullptr;
    std::int64_t count = 0;
    std::int64_t region_rows = 0;
  };
  GatherRows d_gather_rows(const CtaPos& c, std::int64_t i) const;

  // Totals over all CTAs.
  std::uint64_t dense_macs() const;
  std::uint64_t kept_macs() const;
  std::uint64_t s_bytes() const;
  std::uint64_t d_bytes() const;
  std::uint64_t c_bytes() const;
  // D bytes the loads pull through the L2 link with TMA multicast in clusters of `cluster_m` CTAs
  // along m (kernel.cluster_m, at most the row blocks): a plain D tile, shared by every row block,
  // is pulled as one slice per CTA (d_link_slice); gathered D (tw/tvw, V:N:M) whole. d_bytes() at 1.
  std::uint64_t d_link_bytes(int cluster_m) const;
  // The cluster a launch of this plan forms: min(cluster_m, row blocks), at least 1.
  int cluster_for(int cluster_m) const;

 private:
  friend LaunchPlan plan_launch(const GemmOp&, const GemmMapping&, const MachineConfig&, const SparseOperand*);
  template <class F>
  std::uint64_t sum(F&& f) const;

  std::vector<CtaWork> work_;
  std::vector<RowBlock> row_blocks_;
  std::vector<CtaPos> ctas_;
  std::vector<std::int32_t> kept_rows_;      // tw/tvw: TileCompressed::kept_rows()
  std::vector<std::int32_t> kept_k_;         // tw/tvw: TileCompressed::kept_k()
  std::vector<std::int64_t> tile_k_offset_;  // tw/tvw: TileInfo::k_offset per tile
};

// A CTA's share of a plain D tile multicast to a cluster of `cluster` CTAs: ceil(bytes / cluster).
inline std::int64_t d_link_slice(std::int64_t bytes, int cluster) { return ceil_div(bytes, std::int64_t{cluster}); }

// Throws Error naming the layer when the pattern needs a mask and `op` is null, or when `op` does not
// match the GEMM's sparse operand shape.
LaunchPlan plan_launch(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine,
                       const SparseOperand* op = nullptr);

}  // namespace stcsim
