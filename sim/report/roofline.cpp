#include "report/roofline.h"

#include <fmt/format.h>

#include <map>

#include "common/checked.h"
#include "common/error.h"
#include "memory/memory_system.h"
#include "sparsity/nm_layout.h"
#include "sparsity/registry.h"
#include "sparsity/spec.h"

namespace stcsim {

namespace {

using u64 = std::uint64_t;

u64 U(std::int64_t v) { return static_cast<u64>(v); }

// N:M layout bytes of a rows x k operand: N value slots per group of M, and the packed indices.
u64 nm_layout_bytes(std::int64_t rows, std::int64_t k, int n, int m, int elem) {
  const u64 values = checked_mul(U(rows), U(ceil_div(k, m) * n * elem), "roofline S bytes");
  return checked_add(values, NmCompressed::metadata_bytes_for(rows, k, n, m), "roofline S bytes");
}

// V:N:M layout: the gathered N:2N operand (values and row indices of ceil(log2 2N) bits) plus, per
// block of V rows, the 2N column indices of ceil(log2 M) bits per group of M.
u64 vnm_layout_bytes(std::int64_t rows, std::int64_t k, std::int64_t v, int n, int m, int elem) {
  const std::int64_t groups = ceil_div(k, m);
  const u64 values = checked_mul(U(rows), U(groups * n * elem), "roofline S bytes");
  const u64 row_meta =
      checked_mul(U(rows), U(ceil_div(groups * n * index_bits(std::int64_t{2} * n), 32) * 4), "roofline S bytes");
  const u64 col_meta =
      checked_mul(U(ceil_div(rows, v)), U(ceil_div(groups * 2 * n * index_bits(m), 32) * 4), "roofline S bytes");
  return checked_add(checked_add(values, row_meta, "roofline S bytes"), col_meta, "roofline S bytes");
}

}  // namespace

Roofline roofline(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine, const LaunchPlan& plan) {
  const TensorCoreConfig& tc = machine.arch.tensor_core;
  const auto dense_rate = tc.dense_macs_per_clock(g.dtype);
  if (!dense_rate)
    throw Error(fmt::format("{}: roofline: the tensor cores have no {} rate", g.layer, dtype_name(g.dtype)));
  std::int64_t rate = *dense_rate;
  if (map.path == MathPath::sparse_nm) {
    const auto sr = tc.sparse_rate(g.dtype, map.hw_n, map.hw_m);
    if (!sr) {
      throw Error(fmt::format("{}: roofline: the tensor cores have no {} {}:{} rate", g.layer, dtype_name(g.dtype),
                              map.hw_n, map.hw_m));
    }
    rate = sr->macs_per_clock;
  }

  const bool sparse_operand = g.sparse != Operand::none;
  const auto pattern = builtin_registry().make(sparse_operand ? g.pattern : std::string("dense"));
  const std::string fam = pattern->family();
  const std::int64_t r = g.sparse == Operand::B ? g.n : g.m;
  const std::int64_t p = g.sparse == Operand::B ? g.m : g.n;
  const std::int64_t k = g.k;
  const int elem = dtype_bytes(g.dtype);
  const u64 count = U(g.count);
  // The paths whose work follows from the GEMM's sizes alone (every CTA alike but for edge tiles).
  // tvw without a sparse rate runs its compacted tiles dense on zeros: tiled, not by size.
  const bool by_size = !map.tiled && (map.path == MathPath::dense || map.path == MathPath::dense_on_zeros ||
                                      (map.path == MathPath::sparse_nm && fam == "nm"));

  // Per row block, the K its CTAs walk (all splits of copy 0, column block 0: every column block
  // of a row block walks the same k-blocks), and the dense-equivalent MACs of every CTA's k-blocks.
  std::map<std::uint32_t, std::int64_t> k_of_row_block;
  u64 walked_macs = 0;
  for (const CtaPos& c : plan.ctas()) {
    const CtaWork& w = plan.work_of(c);
    walked_macs = checked_add(
        walked_macs, checked_mul(checked_mul(U(w.rows), U(w.cols), "roofline MACs"), U(w.k_work()), "roofline MACs"),
        "roofline MACs");
    if (c.copy == 0 && c.col_block == 0) k_of_row_block[c.row_block] += w.k_work();
  }
  std::int64_t longest_k = 0;
  for (const auto& [rb, kk] : k_of_row_block) longest_k = std::max(longest_k, kk);
  std::int64_t output_rows = 0;
  for (const RowBlock& rb : plan.row_blocks()) output_rows += rb.rows;

  Roofline out;
  if (by_size) {
    out.work_macs = g.dense_macs();
  } else if (map.path == MathPath::block_dense) {
    out.work_macs = plan.kept_macs();
  } else {
    out.work_macs = walked_macs;
  }
  out.macs_per_cycle = static_cast<double>(rate) * machine.arch.tensor_cores();
  out.compute_cycles = static_cast<double>(out.work_macs) / out.macs_per_cycle;

  // S
  if (!map.tiled && (!sparse_operand || map.path == MathPath::dense || map.path == MathPath::dense_on_zeros)) {
    out.s_bytes = checked_mul(checked_mul(U(r), U(k), "roofline S bytes"), U(elem), "roofline S bytes");
  } else if (by_size) {
    out.s_bytes = nm_layout_bytes(r, k, pattern->n(), pattern->m(), elem);
  } else if (fam == "vnm") {
    const SpecArgs a = split_spec(pattern->spec());
    out.s_bytes = vnm_layout_bytes(r, k, a.positional.at(0), static_cast<int>(a.positional.at(1)),
                                   static_cast<int>(a.positional.at(2)), elem);
  } else {
    // Kept values only: kept MACs count each kept weight once per output column (and per copy).
    out.s_bytes = checked_mul(plan.kept_macs() / U(std::max<std::int64_t>(1, p)) / std::max<u64>(1, count), U(elem),
                              "roofline S bytes");
  }
  // D
  std::int64_t d_rows = by_size ? k : longest_k;
  if (fam == "vnm" && map.path == MathPath::sparse_nm) {
    // 2N of every M rows of D, fewer in a last group of K mod M rows: what one V-block must read.
    const SpecArgs a = split_spec(pattern->spec());
    const std::int64_t n2 = 2 * a.positional.at(1), m = a.positional.at(2);
    d_rows = std::min(k, k / m * n2 + std::min(n2, k % m));
  }
  out.d_bytes = checked_mul(checked_mul(U(d_rows), U(p), "roofline D bytes"), U(elem), "roofline D bytes");
  // C
  out.c_bytes = checked_mul(checked_mul(U(output_rows), U(p), "roofline C bytes"), U(elem), "roofline C bytes");

  out.s_bytes = checked_mul(out.s_bytes, count, "roofline S bytes");
  out.d_bytes = checked_mul(out.d_bytes, count, "roofline D bytes");
  out.c_bytes = checked_mul(out.c_bytes, count, "roofline C bytes");
  const u64 l2 = U(machine.arch.l2.bytes);
  out.dram_bytes = out.s_bytes + out.d_bytes + (out.c_bytes > l2 ? out.c_bytes - l2 : 0);
  out.dram_bytes_per_cycle = dram_byte_rate(machine.arch).bytes_per_cycle();
  out.memory_cycles = static_cast<double>(out.dram_bytes) / out.dram_bytes_per_cycle;
  const u64 l2_traffic = plan.s_bytes() + plan.d_link_bytes(machine.kernel.cluster_m) + plan.c_bytes();
  out.l2_cycles = static_cast<double>(l2_traffic) / machine.arch.l2.bytes_per_clock;
  return out;
}

}  // namespace stcsim
