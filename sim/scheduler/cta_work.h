// What one CTA of a launch must do (docs/model.md, "Sparsity in the model"): its main loop as a list
// of k-blocks, each with the MMAs it issues, the bytes of the sparse operand S and the dense operand
// D it loads, and the kept products it computes; plus the totals and the C bytes of its epilogue.
//
// Compact by construction: CTAs with identical work share one CtaWork (a launch holds a few work
// classes and a list of positions, launch_plan.h), and equal consecutive k-blocks are stored once as
// a run, so a 4096^3 GEMM or a 4608-copy batched GEMM holds no per-k-block data per CTA.
//
// Counting conventions:
//   MMAs cover the instruction tiles that hold any of the CTA's output and of the k-block's K: rows
//   and columns rounded up to the instruction's m and n, K to its k (k_sparse for sparse MMAs). A
//   kernel that issues the whole CTA tile at the edges (CUTLASS does) issues more; that only shows on
//   edge tiles.
//   kept_macs are products of kept weights (what sparse hardware multiplies); dense_macs are
//   rows x cols x the dense K range the CTA covers (skipped products counted).
//   S bytes are the pattern's compressed layout (values + metadata), apportioned to k-blocks by
//   differences of running totals, so the k-blocks of one row block add up to the layout's bytes.
// Left out: the bytes of a split-k reduction pass, and the layout of bytes within a tile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stcsim {

// One main-loop iteration.
struct KBlock {
  std::int64_t k = 0;            // K the MMAs run over: dense-equivalent for N:M (skipped products counted),
                                 // the gathered kept K for tw/tvw, the kept K extent for block
  std::int64_t dense_mmas = 0;   // dense MMA instructions (whole CTA, all warps together)
  std::int64_t sparse_mmas = 0;  // sparse N:M MMA instructions
  std::uint64_t s_bytes = 0;     // sparse operand S tile: values + metadata as the layout stores them
  std::uint64_t d_bytes = 0;     // dense operand D tile: the bytes the CTA loads into shared memory
  std::uint64_t d_region_bytes = 0;  // the D tile as memory holds it, when the CTA gathers d_bytes out
                                     // of it (V:N:M: the dense K rows of its groups); 0: d_bytes
  std::uint64_t kept_macs = 0;   // products of kept weights in this k-block
  // Block sparsity only: per row segment of the CTA (CtaWork::segment_rows), the dense k-steps each of
  // its instruction tiles issues here (its kept blocks' K, each rounded up to the instruction's k).
  // Empty for the other families: every instruction tile of the CTA issues the same k-steps.
  std::vector<std::int32_t> segment_steps;

  bool operator==(const KBlock& o) const {
    return k == o.k && dense_mmas == o.dense_mmas && sparse_mmas == o.sparse_mmas && s_bytes == o.s_bytes &&
           d_bytes == o.d_bytes && d_region_bytes == o.d_region_bytes && kept_macs == o.kept_macs &&
           segment_steps == o.segment_steps;
  }
  bool operator!=(const KBlock& o) const { return !(*this == o); }
};

// `repeat` equal k-blocks; the i-th of them has L2 key index key_begin + i (its K position: the
// global k-block index for dense K, the index in a tile's compacted K for tw/tvw).
struct KBlockRun {
  KBlock block;
  std::int64_t repeat = 0;
  std::int64_t key_begin = 0;
  bool operator==(const KBlockRun& o) const {
    return block == o.block && repeat == o.repeat && key_begin == o.key_begin;
  }
};

// The work of one CTA, shared by every CTA of the launch that does the same.
class CtaWork {
 public:
  std::int64_t rows = 0;      // output rows it covers (R direction); edge tiles smaller
  std::int64_t cols = 0;      // output columns (P direction)
  std::int64_t k_dense = 0;   // dense K range it covers: K, or its split-k share
  std::uint64_t c_bytes = 0;  // bytes written in the epilogue
  // Block sparsity only: the rows of each block row the CTA's rows cut (in order, summing to rows);
  // each segment's rows are tiled by instructions of their own. Empty: one segment of all rows.
  std::vector<std::int32_t> segment_rows;

  // Appends one k-block, merged into the last run when equal and its key follows on.
  void add(const KBlock& b, std::int64_t key);
  const std::vector<KBlockRun>& runs() const { return runs_; }
  std::int64_t k_blocks() const { return k_blocks_; }
  // The k-block `i` (0 <= i < k_blocks()) and its L2 key index; logarithmic in the runs.
  const KBlock& kblock(std::int64_t i) const;
  std::int64_t kblock_key(std::int64_t i) const;
  // Every k-block in order (for tests and small launches).
  std::vector<KBlock> expanded() const;

  std::uint64_t dense_macs() const {
    return static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols) * static_cast<std::uint64_t>(k_dense);
  }
  // Totals over the k-blocks.
  std::uint64_t kept_macs() const { return kept_macs_; }
  std::uint64_t s_bytes() const { return s_bytes_; }
  std::uint64_t d_bytes() const { return d_bytes_; }
  std::int64_t dense_mmas() const { return dense_mmas_; }
  std::int64_t sparse_mmas() const { return sparse_mmas_; }
  // The main loop's K length (sum of k over k-blocks): the work longest_first orders by.
  std::int64_t k_work() const { return k_work_; }

  bool operator==(const CtaWork& o) const {
    return rows == o.rows && cols == o.cols && k_dense == o.k_dense && c_bytes == o.c_bytes &&
           segment_rows == o.segment_rows && runs_ == o.runs_;
  }
  bool operator!=(const CtaWork& o) const { return !(*this == o); }

 private:
  std::size_t run_of(std::int64_t i) const;

  std::vector<KBlockRun> runs_;
  std::vector<std::int64_t> run_start_;  // first k-block index of each run
  std::int64_t k_blocks_ = 0;
  std::uint64_t kept_macs_ = 0, s_bytes_ = 0, d_bytes_ = 0;
  std::int64_t dense_mmas_ = 0, sparse_mmas_ = 0, k_work_ = 0;
};

// TileKey::group of the D column that tw/tvw k-blocks gather from.
constexpr std::int64_t kDGatherColumn = -2;

// Which operand an L2 tile holds.
enum class TileOperand : std::uint8_t { S, D };

// An operand tile as L2 sees it. For S: block = the CTA row block, group = -1. For D: block = the
// CTA column block; group -1 for plain D tiles (shared by every row block), k = the k-block's key
// index (KBlockRun::key_begin + i); group kDGatherColumn (k = 0) for the whole K x cta.n column of D
// that tw/tvw tiles gather their kept K rows out of (KBlock::d_region_bytes).
struct TileKey {
  TileOperand operand = TileOperand::S;
  std::int64_t block = 0;
  std::int64_t k = 0;
  std::int64_t copy = 0;
  std::int64_t group = -1;
  bool operator==(const TileKey& o) const {
    return operand == o.operand && block == o.block && k == o.k && copy == o.copy && group == o.group;
  }
  bool operator!=(const TileKey& o) const { return !(*this == o); }
  bool operator<(const TileKey& o) const;
};

}  // namespace stcsim
