// What one k-block of a CTA costs an SM, per unit, for the main loop (mainloop.h): the tensor
// cores' occupancy for its MMAs, the register-file port cycles for their operands, and the
// shared-memory cycles for the fragments read and the tiles written. Computed from the kernel's
// instruction and tiles; a k-block with the same MMA counts and bytes always costs the same.
//
// Spread over the SM: an instruction of `cooperating` tensor cores (4 for a wgmma warpgroup, 1 for
// mma.sync) runs on one of tensor_cores / cooperating units, the CTA's MMAs dealt evenly, back to
// back (the pipeline latency is the main loop's drain, not a per-k-block cost). Each unit's register
// file slice delivers its instructions' fragments; A is reused across the warp tile's n extent.
// Shared memory serves every warp row's read of the S tile's fragments and every warp column's read
// of the D tile's, plus the writes of both tiles arriving.
// Left out: warp-scheduler issue slots for address arithmetic and loads, ldmatrix latency (hidden by
// the pipeline in the kernels modelled), and the epilogue's fp32-to-output conversion (ALU work
// that overlaps the shared-memory staging).
#pragma once

#include <cstdint>
#include <functional>

#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "regfile/register_file.h"
#include "scheduler/cta_work.h"
#include "sm/mainloop.h"
#include "sm/mma_tiles.h"
#include "sm/sm_stats.h"
#include "tensor_core/tensor_core.h"

namespace stcsim {

// Bank-conflict degree of the kernel's ldmatrix fragment reads: 1 for swizzled tiles and for wgmma
// kernels, else ldmatrix_conflict_ways at the row pitch of cta_tile.k x 2 bytes (K-major tiles).
int fragment_conflict_ways(const MachineConfig& machine);

// Block sparsity's row segments issue unequal k-steps, so the warps of a CTA, and the sub-cores they
// sit on, get unequal MMAs. Over the CTA's whole main loop: the busiest sub-core group's MMAs and
// all of them, over `groups` groups (a warpgroup's instructions take every sub-core: one group).
struct UnitLoad {
  std::int64_t busiest = 0;
  std::int64_t total = 0;
  int groups = 1;
};

class KBlockCoster {
 public:
  // Throws UnsupportedError when the machine cannot run the GEMM's instructions.
  KBlockCoster(const MachineConfig& machine, DType dtype, const GemmMapping& mapping);

  KBlockCost cost(const KBlock& b) const;
  // Under block sparsity, from the tiles the CTA's warps are dealt (tiles_for) and their load over
  // the CTA (unit_load): the tensor-core and register-file terms are the busiest sub-core group's
  // share of the MMAs rather than an even spread (with more than two stages warps run ahead of each
  // other, so what binds is that group's total over the CTA; with two, a warp is at most a k-block
  // ahead and this k-block's busiest group binds), and shared memory serves only the fragment
  // reads of the warps with a step in this k-block (a warp whose segments keep no block here reads
  // nothing). For the other families it is cost(b).
  KBlockCost cost(const KBlock& b, const MmaTiles& tiles, const UnitLoad& load) const;
  MmaTiles tiles_for(const CtaWork& w) const;
  UnitLoad unit_load(const CtaWork& w, const MmaTiles& tiles) const;
  // What `repeat` such k-blocks make the SM's units count (instructions, MACs, selections, register
  // and shared-memory accesses), counted by the units themselves on scratch copies.
  SmActivity activity(const KBlock& b, std::int64_t repeat = 1) const;
  // The same summed over every k-block of a CTA's work.
  SmActivity activity(const CtaWork& w) const;
  // Whether the compute warps issue the copies after waiting for the tiles before them (cp.async or
  // LDG+STS, stages >= 2: Mainloop's copies_after_tiles), rather than a TMA producer warp.
  bool copies_after_tiles() const;
  // MMA latency beyond occupancy, paid once when a CTA's main loop drains.
  std::int64_t drain_cycles() const { return drain_; }
  // The epilogue of a CTA writing `c_bytes`: its accumulators, converted, go through shared memory
  // (written, then read back in rows) so that the C stores are whole lines, as tuned kernels stage
  // them (sm70/sm80 epilogues through shared memory, sm90 stmatrix then a TMA store). The write and
  // the read each take c_bytes at the shared-memory bytes per clock; the store issues after.
  std::int64_t epilogue_cycles(std::uint64_t c_bytes) const;
  // What that staging makes shared memory count.
  SmActivity epilogue_activity(std::uint64_t c_bytes) const;

  // The machine (and so the kernel) it prices for.
  const MachineConfig& machine() const { return machine_; }
  const MmaInstr& dense_instr() const { return dense_; }
  const MmaInstr& sparse_instr() const { return sparse_; }
  const MmaFragments& dense_fragments() const { return dense_frag_; }
  const MmaFragments& sparse_fragments() const { return sparse_frag_; }
  int units() const { return units_; }
  bool has_sparse() const { return has_sparse_; }
  DType dtype() const { return dtype_; }
  // Index bits one sparse instruction reads (0 without a sparse path).
  std::int64_t sparse_metadata_bits() const { return sparse_meta_bits_; }

 private:
  // Shared-memory cycles of k-block b: `reads` fragment bytes at the conflict degree, and both tiles
  // written as they land.
  std::int64_t smem_cycles(const KBlock& b, std::int64_t reads) const;
  // Both tiles of k-block b written into shared memory at its bytes per clock: smem_cycles' write
  // term, and the latency of their landing.
  std::int64_t landing_cycles(const KBlock& b) const;
  // One k-block's MMAs over the sub-core groups (unit_load's split, for k-block b alone).
  UnitLoad kblock_load(const KBlock& b, const MmaTiles& tiles) const;
  // The MMAs of each issuer (mmas_of(i)) summed over the sub-core groups the issuers run on.
  UnitLoad load_over_groups(const std::function<std::int64_t(int)>& mmas_of) const;
  // Sets c's latencies: landing (landing_cycles) and, when copies_after_tiles, release_tail.
  void add_latencies(const KBlock& b, KBlockCost& c) const;

  const MachineConfig& machine_;
  DType dtype_;
  TensorCore tc_;
  RegisterFile rf_;
  MmaInstr dense_;
  MmaInstr sparse_;
  bool has_sparse_ = false;
  MmaFragments dense_frag_;
  MmaFragments sparse_frag_;
  int units_ = 1;
  int a_reuse_ = 1;
  int fragment_ways_ = 1;  // bank-conflict degree of ldmatrix fragment reads (1: swizzled, or none)
  int warp_rows_ = 1;  // warps (or warpgroups) along the CTA tile's m
  int warp_cols_ = 1;  // along n
  TileShape cta_;       // the kernel's CTA tile
  TileShape warp_;      // its warp (warpgroup) tile
  int issuers_ = 1;     // warps (warpgroups) issuing MMAs
  int groups_ = 1;      // sub-core groups an issuer's instructions occupy (sub_cores / cooperating)
  std::int64_t drain_ = 0;
  std::int64_t sparse_meta_bits_ = 0;  // index bits one sparse instruction reads
};

}  // namespace stcsim
