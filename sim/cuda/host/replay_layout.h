// Device layouts of a pruned operand: the exact arrays the backend uploads for each kernel, built on
// the host from the core library's compressed forms (sparsity/), so that host tests can check them
// against the compressor without a GPU.
//
// Orientation as in functional mode (functional/functional.h): S is the pruned sparse operand,
// rows x K; D the dense operand, K x cols, row-major; the product is C = S x D, rows x cols, fp32.
//
// Own kernel (device/gemm_kernel.cuh), one CtaItem per row block (cta_item.h):
//   dense   S (decompressed) row-major, K padded with zeros to a multiple of the CTA's K step;
//   2:4     the compressor's values (2 per group of 4) and its metadata words unchanged, padded with
//           zero values and the nibble 0b0100 (positions 0 and 1) for groups past K: the instruction
//           rejects nibbles that do not name two distinct positions;
//   tw      each tile's compacted kept-rows x kept-K values, its kept K padded to the K step (index 0,
//           value 0), D rows gathered by the kept K and C rows scattered to the kept rows;
//   tvw     tw's gather with each tile's values as a 2:4 operand (TileCompressed::tile_nm).
// Rows a tile or pattern prunes whole get no item: the output there stays zero.
// cuSPARSE: CSR (unstructured) and Blocked-ELL (block) built from the mask and the pruned values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/matrix.h"
#include "config/kernel_config.h"
#include "cuda/host/cta_item.h"
#include "sparsity/pattern.h"

namespace stcsim::replay {

// The own kernel's tiling, from the kernel config (its CTA tile, warp tile and stages; K in 16-bit
// elements, which is what the kernel reads).
struct KernelTiling {
  int bm = 128, bn = 128, bk = 64;
  int wm = 64, wn = 64;
  int stages = 3;
  bool along_n = false;       // raster: consecutive CTAs walk the columns (along_n) or the rows
  bool longest_first = false; // items in decreasing K (tile_scheduler: longest_first)

  int warps() const { return (bm / wm) * (bn / wn); }
  std::string describe() const;  // "128x128x64 CTA, 64x64 warps, 3 stages"
  bool same_shape(const KernelTiling& o) const {
    return bm == o.bm && bn == o.bn && bk == o.bk && wm == o.wm && wn == o.wn && stages == o.stages;
  }
};

// Reads the tiling from a kernel config of the mma.sync / mma.sp.sync family. UnsupportedError, naming
// the config key, for an instruction family the own kernel does not implement (wmma, wgmma) or tiles it
// cannot run (K step not a multiple of 32, warp tile not a multiple of 16 x 16).
KernelTiling kernel_tiling(const KernelConfig& kc);

struct OwnLayout {
  bool sparse = false;                // mma.sp m16n8k32 on a 2:4 compressed A
  std::vector<std::uint16_t> a_values;
  std::vector<std::uint32_t> meta;
  std::vector<std::int32_t> ks;
  std::vector<std::int32_t> row_ids;
  std::vector<CtaItem> items;
  std::string description;            // how S is laid out, for reports
};

// True when the own kernels run this pattern family on this type: dense, 2:4, tw, and tvw with 2:4
// tiles, in fp16 or bf16.
bool own_kernel_supports(const Pattern& p, DType t);

// The own kernel's arrays for S (pattern p, mask and compressed form from build_operand). `pruned` is
// S with pruned entries zero (rows x K). UnsupportedError when own_kernel_supports is false.
OwnLayout own_layout(const Pattern& p, const Compressed& c, const Matrix& pruned, DType t, const KernelTiling& tiling);

// What the own kernel computes from `layout` and D, on the host, in fp32 over increasing K per element:
// the contract of cta_item.h executed literally. Exact against reference_gemm for values whose
// products and sums fp32 holds exactly.
Matrix emulate_own_kernel(const OwnLayout& layout, const Matrix& d, std::int64_t rows, DType t);

// CSR of S: int32 row pointers and column indices, values as 16-bit bits; every kept entry of the mask.
struct CsrLayout {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int32_t> row_ptr;
  std::vector<std::int32_t> col_idx;
  std::vector<std::uint16_t> values;
};
CsrLayout csr_layout(const Matrix& pruned, const Mask& mask, DType t);

// Blocked-ELL of S with b x b blocks: rows and K padded to multiples of b; ell_blocks block slots per
// block row (the most any block row keeps), col_ind (block rows x ell_blocks, -1 for an unused slot),
// values (padded rows x ell_blocks * b, row-major; each slot's b x b block, zeros where unused).
struct BlockedEllLayout {
  std::int64_t rows = 0, cols = 0;   // S's own shape
  std::int64_t rows_pad = 0, cols_pad = 0;
  int block = 0;
  std::int64_t ell_blocks = 0;
  std::vector<std::int32_t> col_ind;
  std::vector<std::uint16_t> values;
};
BlockedEllLayout blocked_ell_layout(const Matrix& pruned, const Mask& mask, int block, DType t);

// A dense matrix as 16-bit bits, row-major, each row padded with zeros to `ld` elements (>= cols).
std::vector<std::uint16_t> half_matrix(const Matrix& m, DType t, std::int64_t ld);

// The nibble the backend writes for 2:4 groups past K: positions 0 and 1, with zero values.
inline constexpr std::uint32_t kPadNibble = 0x4;

}  // namespace stcsim::replay
