// Functional mode (`--functional`, docs/model.md "Functional mode"): one GEMM line computed for real
// through the tensor-core datapath, from the sparse operand's compressed form, on the math path the
// machine takes for it, and compared element by element with a reference GEMM of the pruned matrix.
// A wrong index anywhere in the metadata path (compression, selector decode, gather of kept K) shows
// up as a mismatch; the tests run it for every pattern family.
//
// Orientation (docs/model.md): S is the pruned sparse operand (rows x K, build_operand), D the dense
// operand (K x cols, cols = N for S = A, M for S = B^T), and the product checked is S x D. The
// datapath per family, as the timing model runs it (scheduler/launch_plan.h):
//   dense          dense MMAs (functional_gemm on S).
//   N:M            sparse_nm: the NmCompressed operand through the operand selector (sparse MMAs);
//                  dense_on_zeros: the decompressed S through dense MMAs.
//   V:N:M          sparse_nm: per block of V rows, the 2N of M columns the block selects are gathered
//                  (S's kept values and D's matching K rows) and run as an N:2N operand through the
//                  selector, one GEMM per V-row block (an instruction never spans two blocks' column
//                  choices); dense_on_zeros: the decompressed S through dense MMAs.
//   tw             per tile (band of g rows), its compacted kept rows x kept K values (the tile layout's
//                  own arrays) times D's kept-K rows through dense MMAs, scattered to the kept rows.
//   tvw            tw's gather, each tile's N:M operand (TileCompressed::tile_nm) through the selector on
//                  sparse_nm, or decompressed through dense MMAs on dense_on_zeros.
//   block          per block row, the kept b x b blocks (in K order) gathered side by side with D's
//                  matching rows, dense MMAs over them only.
//   unstructured   per row block of the kernel's CTA tile m, dense MMAs over the CTA k-blocks (cta_tile k)
//                  holding a non-zero of those rows (the CSR's column indices), the others skipped.
// Rows a pattern prunes whole (tw, block, unstructured) produce zero output without any MMA.
//
// Exactness: the lanes accumulate fp32 fused multiply-adds in increasing K order per output element,
// as reference_gemm does over all of K; every path visits the kept products in increasing K order and
// skips only exact-zero products, which leave an fp32 sum unchanged except for the sign of a zero sum.
// Elements are therefore compared bit for bit, +0 and -0 counting as equal.
//
// Left out: the `count` copies of a line are one operand (the model's batched launch reads the same
// weights), so one copy is computed; timing (functional calls take no cycles: time the GEMM with a
// separate TensorCore); the reduced-precision products of real tensor cores (values are fp32, see
// tensor_core.h). The V:N:M, block and CSR layouts keep their arrays private to their pattern files,
// so those paths take the column choice, kept blocks and non-zeros from the mask (by the rule the
// layout is built with) and the values from the pattern's decompressed operand; N:M, tw and tvw read
// the compressed arrays themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/matrix.h"
#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "operand_selector/operand_selector.h"
#include "scheduler/launch_plan.h"
#include "sparsity/nm_layout.h"
#include "sparsity/pattern.h"
#include "tensor_core/tensor_core.h"
#include "trace/gemm.h"

namespace stcsim {

struct FunctionalResult {
  std::string path;                        // how it was computed: "sparse 2:4 MMAs through the operand selector"
  std::int64_t rows = 0, cols = 0, k = 0;  // the S (rows x k) times D (k x cols) product checked
  std::uint64_t elements = 0;              // output elements compared (rows x cols)
  std::uint64_t mismatches = 0;            // elements whose bits differ from the reference (+0 == -0)
  double max_abs_error = 0;                // largest |datapath - reference| over the elements
  TensorCoreStats tensor_core;             // work of the functional datapath (no cycles: busy_cycles 0)
  OperandSelectorStats selector;           // selections and metadata bits of its sparse MMAs

  bool exact() const { return mismatches == 0; }
};

// Largest GEMM functional mode computes: M x N x K dense MACs of one copy of a line (the `count`
// copies are computed once, see above). 2^30 is a 1024^3 GEMM, a few seconds of scalar MACs for the
// datapath and again for the reference.
constexpr std::uint64_t kFunctionalMacLimit = std::uint64_t{1} << 30;
// Most values of one copy's operands and output together (M K + K N + M N) functional mode holds:
// 2^28, about 1 GiB of floats, beside the 2^30 MACs (a 1 x 1 x 2^30 GEMM has few MACs per value).
constexpr std::uint64_t kFunctionalValueLimit = std::uint64_t{1} << 28;

// ShapeError naming the layer when GEMM g is over either limit: call it before building anything.
void check_functional_size(const GemmOp& g);

// The dense operand D (K x cols) of trace line `line`: entries j / 8 (j itself for int8) with j drawn
// uniformly from -8..-1, 1..8, row-major, by Rng(derive_seed(seed, g.layer + "/dense", line)). They are
// exactly representable in every GEMM data type (fp16, bf16, tf32, fp8 e4m3 and e5m2, int8) and never
// zero, so a wrongly selected element changes the product.
Matrix functional_dense_operand(const GemmOp& g, std::uint64_t seed, std::size_t line);

// Computes line `line` of a trace (GEMM g, mapped by map_gemm onto `machine`) through the datapath
// of the kernel's MMA instruction family, from `s` (build_operand(g, seed, line)), and compares it with
// reference_gemm(S pruned by s.mask, D). Throws ShapeError naming the layer and the limit when the
// GEMM is over kFunctionalMacLimit (checked before anything else), or when `s` does not match the
// GEMM's sparse operand; Error naming the layer when `s` was pruned by another pattern or `map` does
// not fit the pattern's family; UnsupportedError when map says sparse_nm but the kernel's tensor cores
// cannot run that N:M sparse.
FunctionalResult run_functional(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine,
                                const SparseOperand& s, std::uint64_t seed, std::size_t line);

// Pieces both functional paths share (this one and the cycle model's, cycle_functional.h).
// V:N:M's V, N and M.
struct VnmShape {
  std::int64_t v = 0;
  int n = 0, m = 0;
};
VnmShape vnm_shape(const Pattern& p);
// One V-row block of a V:N:M operand as the sparse path runs it: rows [r0, r0 + packed.rows()), the
// original K of each gathered column (-1: padding past K's end), and the gathered N:2N operand.
struct VnmBlock {
  std::int64_t r0 = 0;
  std::vector<std::int64_t> ks;
  NmCompressed packed;
};
// Every V-row block of S (s pruned by `mask` under pattern p). MaskError naming the layer when a
// block keeps more than 2N distinct columns of a group.
std::vector<VnmBlock> vnm_blocks(const GemmOp& g, const Pattern& p, const Mask& mask, const Matrix& s);
// Rows `ks` of d (zero rows for K < 0 or past d's end).
Matrix gathered_rows(const Matrix& d, const std::vector<std::int64_t>& ks);
// Fills res.elements, mismatches (bits differ, +0 == -0) and max_abs_error.
void compare_with_reference(const Matrix& out, const Matrix& reference, FunctionalResult& res);

}  // namespace stcsim
