// Configuration of one tensor core: its math rate per data type, dense and for each N:M pattern it
// accelerates, the operand selector that routes B elements by metadata, and the instruction paths
// (wmma, mma.sync, wgmma, ...) it executes with their latency. Read from arch.tensor_core.
//
// Rates are MACs (multiply-accumulates) per clock per tensor core. A sparse rate is dense-equivalent:
// it counts every product the instruction covers, the skipped ones included, so 2:4 at twice the
// dense rate means twice the GEMM work per clock with the same multipliers busy.
// Left out: sub-byte integer types, fp64 tensor cores, accumulate-type variants (fp16 vs fp32 C),
// and clock effects of power (see GpuConfig::power_cap_w).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/dtype.h"
#include "config/instruction.h"
#include "config/yaml_doc.h"

namespace stcsim {

// One N:M pattern the tensor core accelerates for one data type.
struct SparseRate {
  int n = 0;                        // kept values per group
  int m = 0;                        // group size along K
  std::int64_t macs_per_clock = 0;  // dense-equivalent MACs/clock/tensor core, skipped products included

  bool operator==(const SparseRate& o) const { return n == o.n && m == o.m && macs_per_clock == o.macs_per_clock; }
  bool operator!=(const SparseRate& o) const { return !(*this == o); }
};

// arch.tensor_core.dtypes.<dtype>
struct DTypeRate {
  std::int64_t dense_macs_per_clock = 0;  // MACs/clock/tensor core with dense operands; required, >= 1
  // arch.tensor_core.dtypes.<dtype>.sparse: N:M spec ("2:4") -> dense-equivalent MACs/clock. Optional;
  // keys are canonical specs of N:M patterns. Empty: no sparse path for this type.
  std::map<std::string, SparseRate> sparse;

  bool operator==(const DTypeRate& o) const;
  bool operator!=(const DTypeRate& o) const { return !(*this == o); }
};

// arch.tensor_core.instructions.<family key>: an instruction path this GPU executes.
struct InstructionPath {
  // Cycles from issue to result beyond the occupancy (MACs of the instruction / rate of the tensor
  // cores executing it); >= 0, required.
  int latency_cycles = 0;
  // Fraction of the tensor-core rate this path sustains for reasons the model does not represent
  // (a measured calibration, not a derived limit); (0, 1], default 1.
  double rate_fraction = 1.0;

  bool operator==(const InstructionPath& o) const {
    return latency_cycles == o.latency_cycles && rate_fraction == o.rate_fraction;
  }
  bool operator!=(const InstructionPath& o) const { return !(*this == o); }
};

// arch.tensor_core.operand_selector: the multiplexers that pick, by metadata, the B element matching
// each kept A value. Required when any sparse rate is given.
struct OperandSelectorConfig {
  int max_m = 4;           // widest group M the selector chooses within; every sparse entry's M must be <= it; 2..16
  int latency_cycles = 0;  // cycles the selection adds to a sparse MMA; >= 0
  // Selections/clock/tensor core, one per kept A value and B column; required, >= 1.
  std::int64_t selections_per_clock = 0;

  bool operator==(const OperandSelectorConfig& o) const {
    return max_m == o.max_m && latency_cycles == o.latency_cycles && selections_per_clock == o.selections_per_clock;
  }
  bool operator!=(const OperandSelectorConfig& o) const { return !(*this == o); }
};

// What to do with an N:M-sparse GEMM whose pattern (for its data type) has no sparse rate here.
enum class UnsupportedSparsity {
  dense,  // run it dense, the pruned zeros stored and multiplied explicitly
  error,  // refuse the GEMM
};
std::string_view unsupported_sparsity_name(UnsupportedSparsity u);

// arch.tensor_core
struct TensorCoreConfig {
  // arch.tensor_core.dtypes: rates per data type; at least one. A type left out is one the GPU's
  // tensor cores lack (V100: fp16 only; A100: no fp8); GEMMs in it are the consumer's to refuse.
  std::map<DType, DTypeRate> dtypes;
  // arch.tensor_core.instructions: the instruction paths this GPU executes; at least one.
  std::map<MmaFamily, InstructionPath> instructions;
  // arch.tensor_core.unsupported_sparsity: dense | error; default dense.
  UnsupportedSparsity unsupported_sparsity = UnsupportedSparsity::dense;
  // arch.tensor_core.operand_selector: present when any sparse rate is.
  std::optional<OperandSelectorConfig> operand_selector;

  // Lookups: nullopt when the GPU lacks the type, pattern or instruction.
  std::optional<std::int64_t> dense_macs_per_clock(DType t) const;
  std::optional<SparseRate> sparse_rate(DType t, int n, int m) const;
  std::optional<InstructionPath> instruction(MmaFamily f) const;
  bool has_sparse() const;

  static TensorCoreConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const TensorCoreConfig& o) const;
  bool operator!=(const TensorCoreConfig& o) const { return !(*this == o); }
};

}  // namespace stcsim
