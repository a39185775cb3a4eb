// The tensor-core datapath executing one MMA instruction family: its dot-product lanes (a rate of
// MACs per clock per data type, dense or per N:M pattern), the pipeline they form, and the operand
// selector in front of them in sparse mode. `cooperating` tensor cores execute one instruction
// together: 1 for wmma/mma.sync (one sub-core's), 4 for a wgmma warpgroup (the SM's four).
//
// Timing (cycles), for an instruction of m x n x k dense-equivalent MACs:
//   occupancy = ceil(m n k / (rate(dtype, mode) x cooperating x rate_fraction)), and in sparse mode at
//               least the selector's ceil(selections / (selections_per_clock x cooperating))
//   latency   = occupancy + path latency_cycles + (sparse ? selector latency : 0)
// The pipeline takes a new instruction once the previous one's occupancy has elapsed (structural
// hazard); results arrive `latency` after issue. Dependences between instructions are the caller's.
//
// Modes: dense; sparse N:M when the config has a sparse rate for (dtype, N:M), the kernel's family
// has a sparse instruction and the selector is wide enough; otherwise, per
// arch.tensor_core.unsupported_sparsity, dense on explicit zeros or an UnsupportedError.
// A sparse instruction keeps the dense instruction's A fragment (k kept values per row), so it covers
// k x M / N of K: m16n8k32 for fp16 2:4, as PTX defines mma.sp (instruction_for()).
//
// Functional: real values through the same path; each lane does fused multiply-adds in fp32 in
// increasing K order per output element (docs/model.md, "Functional mode"), so a sparse MMA, which
// skips only exact-zero products, equals a dense GEMM of the pruned matrix bit for bit (up to the sign
// of a zero sum).
// Left out: accumulate-type variants (fp16 C), the reduced-precision products and truncating adders
// of real tensor cores (values are fp32), power-limited clocks, and register or shared-memory operand
// delivery (regfile/ and sm/ model those).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/dtype.h"
#include "common/matrix.h"
#include "config/instruction.h"
#include "config/tensor_core_config.h"
#include "operand_selector/operand_selector.h"
#include "sparsity/nm_layout.h"

namespace stcsim {

enum class MmaMode {
  dense,           // dense operands
  sparse,          // the N:M path: kept values only, the selector routing dense-operand elements
  dense_on_zeros,  // an N:M operand the hardware cannot accelerate, run dense with its zeros
};
std::string_view mma_mode_name(MmaMode m);

// One MMA instruction as issued: m x n output, k dense-equivalent (skipped products included), in
// elements of dtype. sparse_n:sparse_m is the N:M of the sparse operand, 0:0 for dense operands.
struct MmaInstr {
  DType dtype = DType::fp16;
  int m = 0;
  int n = 0;
  int k = 0;
  int sparse_n = 0;
  int sparse_m = 0;

  bool nm() const { return sparse_m > 0; }
  std::int64_t macs() const;  // m x n x k, overflow-checked
};

struct TensorCoreStats {
  std::uint64_t instructions = 0;         // instructions issued (of `cooperating` tensor cores each)
  std::uint64_t sparse_instructions = 0;  // of those, in sparse mode
  std::uint64_t busy_cycles = 0;          // occupancy summed over instructions
  std::uint64_t equivalent_macs = 0;      // dense-equivalent MACs: the GEMM work covered
  std::uint64_t dense_macs = 0;           // MACs executed in dense mode (explicit zeros included)
  std::uint64_t sparse_macs = 0;          // MACs executed in sparse mode: kept products (and padding slots)
  std::uint64_t skipped_macs = 0;         // products the sparse mode did not execute

  std::uint64_t executed_macs() const { return dense_macs + sparse_macs; }

  template <class F>
  void visit(F&& f) {
    f("instructions", instructions);
    f("sparse_instructions", sparse_instructions);
    f("busy_cycles", busy_cycles);
    f("equivalent_macs", equivalent_macs);
    f("dense_macs", dense_macs);
    f("sparse_macs", sparse_macs);
    f("skipped_macs", skipped_macs);
  }
};

class TensorCore {
 public:
  // UnsupportedError when the config has no instruction path for `family` (nor, for a sparse
  // family's dense instructions, for its dense family); ShapeError when cooperating < 1.
  TensorCore(const TensorCoreConfig& cfg, MmaFamily family, int cooperating);
  // The tensor cores one instruction of `f` occupies: 4 for a warpgroup (wgmma), else 1.
  static int cooperating_for(MmaFamily f) { return family_is_warpgroup(f) ? 4 : 1; }

  // How an operand of `dtype` with N:M sparsity (0:0 dense) executes here. UnsupportedError when the
  // tensor cores lack the type, or the pattern is unsupported and the config says error.
  MmaMode mode(DType dtype, int n, int m) const;
  MmaMode mode(const MmaInstr& in) const { return mode(in.dtype, in.sparse_n, in.sparse_m); }
  // The instruction the kernel issues for an operand of `dtype` and N:M (0:0 dense) with MMA shape
  // `shape` (in elements of dtype, KernelConfig::mma_for): k, or k x M / N in sparse mode.
  MmaInstr instruction_for(DType dtype, const MmaShape& shape, int n, int m) const;

  // Timing of one instruction (see the header comment).
  std::int64_t occupancy_cycles(const MmaInstr& in) const;
  std::int64_t latency_cycles(const MmaInstr& in) const;
  // Its parts, for the cycle model's pipeline stages: the dot-product lanes' occupancy alone, the
  // operand selector's (0 for a dense-mode instruction), and the latency beyond occupancy (the
  // path's, plus the selector's in sparse mode).
  std::int64_t datapath_cycles(const MmaInstr& in) const;
  std::int64_t selector_cycles(const MmaInstr& in) const;
  std::int64_t pipeline_latency_cycles(const MmaInstr& in) const;
  // Counts `instructions` executions of `in` (instructions, MACs, busy cycles) without timing them:
  // for the cycle model, whose pipeline stages keep the time.
  void count(const MmaInstr& in, std::uint64_t instructions = 1);
  // Cycles from issuing the first of `count` back-to-back independent instructions to the last one's
  // result: (count - 1) x occupancy + latency; 0 for count 0.
  std::int64_t sequence_cycles(const MmaInstr& in, std::int64_t count) const;

  // Issues at max(now, next_free()); returns the completion cycle and counts the work.
  std::int64_t issue(std::int64_t now, const MmaInstr& in);
  // `count` back-to-back issues from `now`, in closed form: the same cycles and counts as issuing one
  // by one. Returns the last completion (now if count is 0).
  std::int64_t issue_sequence(std::int64_t now, const MmaInstr& in, std::int64_t count);
  // First cycle the pipeline takes another instruction.
  std::int64_t next_free() const { return next_free_; }
  // True when every instruction issued so far has completed by `cycle`.
  bool done_by(std::int64_t cycle) const { return last_done_ <= cycle; }

  // Functional MMAs. They count their work (instructions, MACs, selections) like issued ones, but no
  // cycles: time one GEMM and execute it on values with separate TensorCore objects.
  // c (m x n) += a (m x k) x b (k x n).
  void mma_dense(const Matrix& a, const Matrix& b, Matrix& c);
  // c (m x n) += S[row0 .. row0+m, k0 .. k0+k] x b (k x n), S compressed N:M, through the operand
  // selector for every kept value. k0 and k multiples of M; rows past S's end and groups past its K
  // contribute nothing (padding). UnsupportedError if the selector cannot take S's N:M. Whether the
  // sparse path applies to a data type is mode()'s decision, made by the caller.
  void mma_sparse(const NmCompressed& s, std::int64_t row0, std::int64_t k0, const Matrix& b, Matrix& c);

  MmaFamily family() const { return family_; }
  int cooperating() const { return cooperating_; }
  const TensorCoreConfig& config() const { return cfg_; }
  OperandSelector& selector() { return selector_; }
  const OperandSelector& selector() const { return selector_; }
  TensorCoreStats& stats() { return stats_; }
  const TensorCoreStats& stats() const { return stats_; }

 private:
  const InstructionPath& path(MmaMode md) const;
  std::int64_t rate(const MmaInstr& in, MmaMode md) const;
  void add_counts(const MmaInstr& in, MmaMode md, std::uint64_t instructions, std::int64_t occupancy);

  TensorCoreConfig cfg_;
  MmaFamily family_;
  int cooperating_;
  InstructionPath dense_path_;
  std::optional<InstructionPath> sparse_path_;  // set for families with a sparse instruction
  OperandSelector selector_;
  TensorCoreStats stats_;
  std::int64_t next_free_ = 0;
  std::int64_t last_done_ = 0;
};

// The whole product S (R x K) x D (K x P) computed tile by tile with MMAs of `shape` (in elements of
// `dtype`: KernelConfig::mma_for), in the mode tc.mode() picks for S's N:M: output tiles of
// shape.m x shape.n, K stepped by the instruction's K (K padded with zeros to it, which is a multiple
// of the group size). Dense-on-zeros runs the decompressed S through mma_dense.
Matrix functional_gemm(TensorCore& tc, DType dtype, const MmaShape& shape, const NmCompressed& s, const Matrix& d);
// The same for a dense S (R x K).
Matrix functional_gemm(TensorCore& tc, DType dtype, const MmaShape& shape, const Matrix& s, const Matrix& d);

// S_pruned (R x K) x D (K x P) in fp32 fused multiply-adds in increasing K order per element: the
// order the tensor-core lanes use.
Matrix reference_gemm(const Matrix& s_pruned, const Matrix& d);

}  // namespace stcsim
