// The GEMM kernel a machine runs (the `kernel` section): which MMA instruction family it issues and
// with what shape, where A and B come from, its CTA and warp (or warpgroup) tiles, software pipeline
// depth, how global memory is loaded, and how output tiles are ordered and scheduled.
//
// One kernel config serves every data type: K extents (mma.k, mma.k_sparse, cta_tile.k, warp_tile.k)
// are written in 16-bit elements and scale with the type so that bytes per K step stay the same
// (halved for tf32, doubled for int8/fp8), as the PTX shapes do; use the *_for() accessors.
// Left out: the epilogue's own shared memory and fusion, stream-K and grouped GEMM, cluster shapes
// and TMA multicast, register reallocation between warps (setmaxnreg), and data layouts (row/column
// major).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "common/dtype.h"
#include "config/instruction.h"
#include "config/yaml_doc.h"

namespace stcsim {

enum class OperandSource { registers, shared };
std::string_view operand_source_name(OperandSource s);

// How CTAs move tiles from global to shared memory.
enum class GlobalLoad {
  ldg_sts,   // ld.global into registers, then st.shared (Volta; issue slots and registers per element)
  cp_async,  // cp.async global -> shared, bypassing registers (sm_80+)
  tma,       // the Tensor Memory Accelerator copies whole tiles (sm_90+), one thread issues
};
std::string_view global_load_name(GlobalLoad g);

// Order in which the tile scheduler hands out output tiles of unequal work (tile-wise sparsity).
enum class TileOrder {
  in_order,       // raster order, whatever each tile's work
  longest_first,  // tiles with the most remaining K work first (LPT), to shorten the last wave
};
std::string_view tile_order_name(TileOrder t);

// Which way consecutive CTAs walk the output tile grid.
enum class RasterOrder { along_m, along_n };
std::string_view raster_order_name(RasterOrder r);

struct TileShape {
  int m = 0;
  int n = 0;
  int k = 0;  // in 16-bit elements
  bool operator==(const TileShape& o) const { return m == o.m && n == o.n && k == o.k; }
  bool operator!=(const TileShape& o) const { return !(*this == o); }
};

// kernel
struct KernelConfig {
  std::string name;                             // label for reports; required
  MmaFamily instruction = MmaFamily::mma_sync;  // wmma | mma.sync | mma.sp.sync | wgmma | wgmma.sp; required
  // Where the MMA reads A: registers, or shared (wgmma only). B is implied: shared memory for wgmma,
  // registers otherwise (see b_source()). Required.
  OperandSource a_source = OperandSource::registers;
  // Instruction shape m, n, k (dense), and k_sparse (the sparse instruction's dense-equivalent K,
  // required for mma.sp.sync and wgmma.sp, absent otherwise); must be a PTX shape of the family.
  MmaShape mma;
  TileShape cta_tile;   // output tile m x n per CTA and K step per main-loop iteration; required
  TileShape warp_tile;  // per warp (per warpgroup for wgmma); each dimension divides cta_tile's; required
  int stages = 0;       // shared-memory pipeline stages (buffers in flight); required, >= 1
  // Warps per CTA; absent: the compute warps the tiles imply (x 4 per warpgroup for wgmma). More
  // than that adds producer warps (warp specialisation). Dumped resolved. 1..32.
  int warps_per_cta = 0;
  GlobalLoad global_loads = GlobalLoad::ldg_sts;   // ldg_sts | cp_async | tma; required
  TileOrder tile_scheduler = TileOrder::in_order;  // in_order | longest_first; default in_order
  RasterOrder raster = RasterOrder::along_m;       // along_m | along_n; default along_m
  int swizzle = 1;  // CTAs grouped along the raster's cross dimension for L2 reuse; power of 2, 1..64
  int split_k = 1;  // K split across this many CTAs, partial sums reduced after; >= 1
  // CTAs of a thread-block cluster along m that share each D tile by multicast: each pulls
  // 1/cluster_m of the tile through the L2 and receives the whole tile; 1..16, > 1 needs tma loads.
  int cluster_m = 1;
  // A sparse line whose kernel would take longer than the dense kernel on the same GEMM runs the
  // dense kernel instead, as a library that times both would choose (gpu/simulation.h); false runs
  // every sparse line sparse. Default true.
  bool dense_fallback = true;
  // Tiles in shared memory are swizzled so that ldmatrix fragment reads are free of bank conflicts
  // (as TMA and the sm80 multistage kernels lay them out); false stores rows at their plain pitch of
  // cta_tile.k x 2 bytes, and ldmatrix reads conflict as ldmatrix_conflict_ways (sm/shared_memory.h)
  // gives, for kernels whose operands both go through ldmatrix (mma.sync, wmma); wgmma kernels are
  // not affected. Default true.
  bool smem_swizzle = true;

  OperandSource b_source() const {
    return family_is_warpgroup(instruction) ? OperandSource::shared : OperandSource::registers;
  }
  // Warps that issue MMAs: tiles per CTA, times 4 for a warpgroup instruction.
  int compute_warps() const;
  int threads_per_cta() const { return warps_per_cta * 32; }
  // Dense A and B staged in shared memory: stages x (cta m x k + k x n) x 2 bytes (the same for every
  // type, K being in 16-bit elements). Sparse A takes less; this is the bound configs must fit.
  std::int64_t smem_bytes_per_cta() const;
  // A lower bound on the 32-bit registers each thread of the CTA needs (one count for the whole CTA,
  // as a kernel is compiled with one): its share of the warp (or warpgroup) tile's fp32 accumulators,
  // one MMA k-step of the operand fragments it reads from registers (16-bit elements), and for
  // ldg_sts the k-block it stages through registers on its way to shared memory. Addresses,
  // indices and loop counters are not counted.
  int min_registers_per_thread() const;
  // Registers a warp is allocated in units of: 256 (8 per thread), as the CUDA occupancy calculator
  // gives for compute capability 7.0 to 9.0.
  static constexpr int kRegisterAllocationUnit = 256;
  // Register-file bytes the CTA holds: warps x min_registers_per_thread x 32 rounded up to the
  // allocation unit, x 4 bytes.
  std::int64_t register_bytes_per_cta() const;
  // Accumulator bytes of one CTA's output tile (4 bytes each: fp32 or int32).
  std::int64_t accumulator_bytes_per_cta() const { return std::int64_t{cta_tile.m} * cta_tile.n * 4; }

  // Shapes in elements of `t`: K scaled from 16-bit elements.
  MmaShape mma_for(DType t) const;
  TileShape cta_tile_for(DType t) const;
  TileShape warp_tile_for(DType t) const;

  static KernelConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const KernelConfig& o) const;
  bool operator!=(const KernelConfig& o) const { return !(*this == o); }
};

}  // namespace stcsim
