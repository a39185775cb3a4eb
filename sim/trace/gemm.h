// One GEMM of a workload: C[M,N] += A[M,K] * B[K,N], `count` times, one operand possibly pruned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/dtype.h"

namespace stcsim {

// Which operand carries the weights that the pattern prunes. `none`: both operands are activations
// (attention's batched GEMMs), which stay dense whatever pattern a run asks for.
enum class Operand { A, B, none };

std::string_view operand_name(Operand o);  // "A", "B", "-"
std::optional<Operand> parse_operand(std::string_view s);

// Largest M, N, K or count a trace may hold (fits the 32-bit indices GPU kernels use).
inline constexpr std::int64_t kMaxDim = 2147483647;

struct GemmOp {
  std::string layer;
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  DType dtype = DType::fp16;
  Operand sparse = Operand::none;
  std::string pattern = "dense";  // canonical spec
  std::int64_t count = 1;

  // The sparse operand as the pattern sees it (rows x K): A -> M x K, B (K x N) seen transposed -> N x K.
  // Without a sparse operand, M x K: the model's R = M orientation (docs/model.md).
  std::pair<std::int64_t, std::int64_t> sparse_shape() const;
  // Multiply-accumulates of all `count` GEMMs, dense; ShapeError if it overflows.
  std::uint64_t dense_macs() const;

  bool operator==(const GemmOp& o) const;
  bool operator!=(const GemmOp& o) const { return !(*this == o); }
};

// Checks dimensions, count and that sizes fit 64-bit arithmetic (flops, operand bytes); the message
// names the offending field. Returns the field and reason, or nullopt when the GEMM is valid.
std::optional<std::pair<std::string, std::string>> gemm_problem(const GemmOp& g);

}  // namespace stcsim
