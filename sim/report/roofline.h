// The roofline of one GEMM line on a configured machine: the fewest cycles any schedule of the
// line's math path could take, from the tensor cores' peak rate and DRAM's bandwidth alone. The
// cycle-level model must never beat it (docs/model.md, "Timing"); the invariant tests check that it
// does not, and that a GEMM it calls memory bound spends its time waiting for memory.
//
// Why each side is a lower bound of what the model (and the hardware) can do:
//
//   compute_cycles = work_macs / (rate x tensor cores of all SMs)
//     work_macs: the dense-equivalent MACs the path's MMAs must cover, without the padding of edge
//       tiles to whole instructions (which only adds work):
//         dense, dense on zeros   M N K count (explicit zeros are multiplied; tvw on zeros runs its
//                                 compacted tiles, as tw below)
//         N:M on the sparse path  M N K count, dense-equivalent (skipped products included)
//         V:N:M                   R P count x the gathered K (2N of every M columns): sum over CTAs
//                                 of rows x cols x k_work
//         tw, tvw                 kept rows x P x each tile's kept K: the same sum over CTAs
//         unstructured            dense MMAs over the k-blocks holding a non-zero: the same sum
//         block                   the kept blocks' MACs (plan kept MACs): the MMAs run per kept
//                                 block, so the union of a CTA's kept K would overcount
//     rate: the nominal MACs/clock/tensor core of the path (dense, or the sparse N:M entry, which is
//       dense-equivalent), without the instruction's rate_fraction or the operand selector's limit;
//       both can only slow a tensor core down.
//   memory_cycles = dram_bytes / DRAM bytes per cycle (after efficiency, dram_byte_rate)
//     dram_bytes = S + D + max(0, C - L2 capacity): every operand byte a perfect, infinite cache
//       would still fetch once, and the output bytes that cannot all wait in L2 when the launch ends
//       (a write-back L2 may hold dirty C lines after the kernel; the model posts C writes to DRAM,
//       so the launch may end before DRAM has them):
//         S  the sparse operand in its compressed layout, once per copy: dense (and dense on zeros)
//            R K x the type's bytes; N:M and V:N:M values plus metadata by the layout's formulas
//            (sparsity/nm_layout.h, README); tw, tvw, block and unstructured the kept values only
//            (plan kept MACs / P; their index lists depend on the mask and are left out)
//         D  the dense operand rows the MMAs read, once per copy: K x P for dense and N:M (the
//            sparse MMA reads whole groups of B); for V:N:M the gathered K, 2N of every M rows
//            (of a last short group's K mod M rows, at most those); for the mask-based patterns
//            the longest kept K one CTA walks (the union over tiles is at least that)
//         C  the output rows the plan writes (kept rows for tw/tvw, row blocks holding a non-zero
//            for unstructured) x P, in the GEMM's type, once per copy (split-k partials excluded)
//     Latency is left out: it only adds.
//
// l2_cycles, reported beside them but not part of cycles(): the bytes the plan moves through the
// L2 link (every CTA's S and D tiles, hits and misses alike, a multicast D tile as the CTA's slice
// of it (kernel.cluster_m), and its C tile) / the L2's bytes per cycle. It is a lower bound of the model too (the link serves at most that rate), but it depends on
// the kernel's tiling rather than on the GEMM and the machine: with 128 x 256 x 64 tiles an H100
// running dense fp16 at peak would need about 6 kB per cycle from an L2 that gives 3.9 kB without
// multicast, and 4.2 kB in clusters of 2: which is why the H100's kernel candidates multicast.
// Left out: shared-memory and register-file bounds, and launch overhead.
#pragma once

#include <algorithm>
#include <cstdint>

#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "scheduler/launch_plan.h"
#include "trace/gemm.h"

namespace stcsim {

struct Roofline {
  double compute_cycles = 0;
  double memory_cycles = 0;

  // What they are made of, for reports and tests.
  std::uint64_t work_macs = 0;  // dense-equivalent MACs the path must cover
  double macs_per_cycle = 0;    // the machine's peak for the path
  std::uint64_t s_bytes = 0;    // compulsory bytes by operand (see the header comment)
  std::uint64_t d_bytes = 0;
  std::uint64_t c_bytes = 0;
  std::uint64_t dram_bytes = 0;  // S + D + max(0, C - L2 capacity): what must cross DRAM before the end
  double dram_bytes_per_cycle = 0;
  double l2_cycles = 0;  // the plan's tile traffic through the L2 link (see above)

  double cycles() const { return std::max(compute_cycles, memory_cycles); }
  bool memory_bound() const { return memory_cycles > compute_cycles; }
};

// Throws Error when the machine lacks the GEMM's type or sparse rate (map_gemm refuses those first).
Roofline roofline(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine, const LaunchPlan& plan);

}  // namespace stcsim
