// One GEMM line of a trace as the replay backend runs it: the very operands the simulator builds for
// it (scheduler/launch_plan.h build_operand: weights, mask and compressed form from the seed and the
// line; functional/functional.h functional_dense_operand for D), and which kernels run which pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/matrix.h"
#include "scheduler/launch_plan.h"
#include "trace/gemm.h"

namespace stcsim::replay {

// The kernels a replay can time. Each pattern family is run by some of them (backends_for).
enum class Backend {
  cublas,      // the vendor's dense GEMM (cublasGemmEx) on S with its pruned entries zero
  own,         // the project's kernel: mma.sync on dense S, mma.sp on 2:4, compacted tiles for tw/tvw
  cusparselt,  // the vendor's 2:4 library (where the build found it)
  cusparse,    // the vendor's sparse library: Blocked-ELL SpMM (block), CSR SpMM (unstructured)
};
inline constexpr Backend kAllBackends[] = {Backend::cublas, Backend::own, Backend::cusparselt, Backend::cusparse};
std::string backend_name(Backend b);
// Parses "cublas,own,..." (a comma-separated list); Error naming the bad entry and the choices.
std::vector<Backend> parse_backends(const std::string& list);

// The backends that run a pattern family (dense, 2:4, tw, tvw, block, unstructured) in a data type,
// in report order. Empty when none does (other N:M, V:N:M: no GPU has the instruction).
std::vector<Backend> backends_for(const Pattern& p, DType t);

struct ReplayProblem {
  GemmOp gemm;
  std::size_t line = 0;          // trace line (seeds the operands)
  std::int64_t rows = 0, cols = 0, k = 0;  // S is rows x k, D is k x cols, C = S x D is rows x cols
  SparseOperand s;               // build_operand(gemm, seed, line), but for s.weights (left empty: see pruned)
  Matrix pruned;                 // S with pruned entries zero
  std::shared_ptr<const Matrix> d;  // functional_dense_operand(gemm, seed, line), shared between patterns
  bool exact_values = false;     // see exact_variant
};

// The operands the simulator uses for `g` at trace line `line` with seed `seed`.
ReplayProblem make_problem(const GemmOp& g, std::uint64_t seed, std::size_t line);
// The same, from weights and D made already (the preparer's cache, replay_prep.h): `weights` must be
// generate_weights(rows, K, derive_seed(seed, g.layer, line)) and d functional_dense_operand(g, seed, line).
ReplayProblem make_problem(const GemmOp& g, std::size_t line, const Matrix& weights, std::shared_ptr<const Matrix> d);

// The same GEMM with the same mask and compressed structure (metadata, kept tiles, CSR pattern) but
// S's kept values replaced by j / 8, j drawn from -8..-1, 1..8 (Rng(derive_seed(seed, layer + "/exact",
// line))). Every product of two such values and every partial sum over K <= 2^17 is exact in fp32,
// so any kernel that multiplies the right pairs gives the reference's result bit for bit, whatever its
// summation order: the check that catches a wrong index, metadata nibble or gather.
ReplayProblem exact_variant(const ReplayProblem& p, std::uint64_t seed);

// Largest K for which exact_variant's sums stay exact in fp32 (|sum| < 2^17 at granularity 2^-6).
inline constexpr std::int64_t kExactCheckMaxK = std::int64_t{1} << 17;

}  // namespace stcsim::replay
