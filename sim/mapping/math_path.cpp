#include "mapping/math_path.h"

#include <fmt/format.h>

#include "common/error.h"
#include "sparsity/registry.h"

namespace stcsim {

std::string_view math_path_name(MathPath p) {
  switch (p) {
    case MathPath::dense: return "dense";
    case MathPath::sparse_nm: return "sparse-nm";
    case MathPath::dense_on_zeros: return "dense-on-zeros";
    case MathPath::tiles_dense: return "tiles-dense";
    case MathPath::block_dense: return "block-dense";
    case MathPath::unstructured: return "unstructured";
  }
  return "?";
}

namespace {

// The N:M the tensor core would execute for an N:M-based pattern, through its sparse path or the
// configured fallback.
GemmMapping map_nm(const GemmOp& g, const MachineConfig& machine, int n, int m, const std::string& what) {
  const auto& tc = machine.arch.tensor_core;
  GemmMapping out;
  out.hw_n = n;
  out.hw_m = m;
  const auto rate = tc.sparse_rate(g.dtype, n, m);
  if (rate) {
    out.path = MathPath::sparse_nm;
    out.peak_speedup = static_cast<double>(rate->macs_per_clock) / static_cast<double>(*tc.dense_macs_per_clock(g.dtype));
    out.note = fmt::format("{} on the {}:{} sparse tensor-core path (peak x{:.3g})", what, n, m, out.peak_speedup);
    return out;
  }
  if (tc.unsupported_sparsity == UnsupportedSparsity::error) {
    throw UnsupportedError(fmt::format("{}: {} {}:{} is not supported by {} (arch.tensor_core.unsupported_sparsity: error)", g.layer,
                            dtype_name(g.dtype), n, m, machine.arch.name));
  }
  out.path = MathPath::dense_on_zeros;
  out.hw_n = out.hw_m = 0;
  out.note = fmt::format("{}: no {} {}:{} path on {}, run dense on explicit zeros", what, dtype_name(g.dtype), n, m, machine.arch.name);
  return out;
}

}  // namespace

GemmMapping map_gemm(const GemmOp& g, const MachineConfig& machine) {
  if (!machine.arch.tensor_core.dense_macs_per_clock(g.dtype)) {
    throw UnsupportedError(fmt::format("{}: {} is not supported by the tensor cores of {} (no arch.tensor_core.dtypes.{})", g.layer,
                            dtype_name(g.dtype), machine.arch.name, dtype_name(g.dtype)));
  }
  const auto p = builtin_registry().make(g.pattern);
  const std::string fam = p->family();
  if (fam == "dense" || g.sparse == Operand::none) return {MathPath::dense, false, 0, 0, 1.0, "dense tensor cores"};
  if (fam == "nm") return map_nm(g, machine, p->n(), p->m(), p->spec());
  // V:N:M keeps 2N of every M columns per V-row block, then N:2N inside them.
  if (fam == "vnm") return map_nm(g, machine, p->n(), 2 * p->n(), p->spec());
  if (fam == "tw") return {MathPath::tiles_dense, true, 0, 0, 1.0, "dense tensor cores on compacted tiles of unequal K"};
  if (fam == "tvw") {
    GemmMapping out = map_nm(g, machine, p->n(), p->m(), p->spec());
    out.tiled = true;
    out.note += ", in compacted tiles of unequal K";
    return out;
  }
  if (fam == "block") return {MathPath::block_dense, false, 0, 0, 1.0, "dense tensor cores over the kept blocks"};
  if (fam == "unstructured") return {MathPath::unstructured, false, 0, 0, 1.0, "no tensor-core sparsity; as the kernel runs it"};
  throw Error(fmt::format("{}: pattern family '{}' has no mapping onto the machine", g.layer, fam));
}

}  // namespace stcsim
