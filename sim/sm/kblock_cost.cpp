#include "sm/kblock_cost.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "common/checked.h"
#include "common/error.h"
#include "common/stats_ops.h"
#include "sm/shared_memory.h"

namespace stcsim {

KBlockCoster::KBlockCoster(const MachineConfig& machine, DType dtype, const GemmMapping& mapping)
    : machine_(machine),
      dtype_(dtype),
      tc_(machine.arch.tensor_core, machine.kernel.instruction, TensorCore::cooperating_for(machine.kernel.instruction)),
      rf_(machine.arch.sm.register_file) {
  const KernelConfig& kc = machine.kernel;
  const MmaShape shape = kc.mma_for(dtype);
  dense_ = tc_.instruction_for(dtype, shape, 0, 0);
  const int threads = family_is_warpgroup(kc.instruction) ? 128 : 32;
  dense_frag_ = mma_fragments({dense_.m, dense_.n, dense_.k, 0}, dtype, 0, 0, kc.a_source, kc.b_source(), threads);
  if (mapping.path == MathPath::sparse_nm) {
    sparse_ = tc_.instruction_for(dtype, shape, mapping.hw_n, mapping.hw_m);
    has_sparse_ = true;
    sparse_frag_ = mma_fragments({sparse_.m, sparse_.n, sparse_.k, 0}, dtype, sparse_.sparse_n, sparse_.sparse_m,
                                 kc.a_source, kc.b_source(), threads);
    // One index of index_bits(M) bits per kept value: m rows x (k / M) groups x N kept.
    sparse_meta_bits_ = std::int64_t{sparse_.m} * (sparse_.k / sparse_.sparse_m) * sparse_.sparse_n *
                        index_bits(sparse_.sparse_m);
  }
  units_ = std::max(1, machine.arch.sm.tensor_cores / tc_.cooperating());
  const TileShape cta = kc.cta_tile_for(dtype);
  const TileShape warp = kc.warp_tile_for(dtype);
  cta_ = cta;
  warp_ = warp;
  issuers_ = std::max(1, kc.compute_warps() / tc_.cooperating());
  groups_ = std::max(1, machine.arch.sm.sub_cores / tc_.cooperating());
  warp_rows_ = std::max(1, cta.m / warp.m);
  warp_cols_ = std::max(1, cta.n / warp.n);
  a_reuse_ = std::max(1, warp.n / std::max(1, shape.n));
  fragment_ways_ = fragment_conflict_ways(machine);
  const MmaInstr& slowest = has_sparse_ ? sparse_ : dense_;
  drain_ = tc_.latency_cycles(slowest) - tc_.occupancy_cycles(slowest);
}

int fragment_conflict_ways(const MachineConfig& machine) {
  const KernelConfig& k = machine.kernel;
  // Only kernels whose operands both go through ldmatrix (mma.sync, wmma); wgmma's are read by the
  // tensor cores from their descriptors' layouts.
  if (k.smem_swizzle || k.b_source() != OperandSource::registers) return 1;
  return ldmatrix_conflict_ways(machine.arch.sm.shared_memory, std::int64_t{k.cta_tile.k} * 2);
}

KBlockCost KBlockCoster::cost(const KBlock& b) const {
  if (b.sparse_mmas > 0 && !has_sparse_) throw Error("k-block has sparse MMAs but the GEMM maps to a dense path");
  KBlockCost c;
  const std::int64_t dense_per_unit = ceil_div(b.dense_mmas, units_);
  const std::int64_t sparse_per_unit = ceil_div(b.sparse_mmas, units_);
  c.tensor_core = dense_per_unit * tc_.occupancy_cycles(dense_) +
                  (has_sparse_ ? sparse_per_unit * tc_.occupancy_cycles(sparse_) : 0);
  c.regfile = rf_.cycles(dense_frag_, dense_per_unit, a_reuse_) +
              (has_sparse_ ? rf_.cycles(sparse_frag_, sparse_per_unit, a_reuse_) : 0);
  c.smem = smem_cycles(b, static_cast<std::int64_t>(b.s_bytes) * warp_cols_ + static_cast<std::int64_t>(b.d_bytes) * warp_rows_);
  add_latencies(b, c);
  return c;
}

bool KBlockCoster::copies_after_tiles() const {
  const KernelConfig& k = machine_.kernel;
  return k.global_loads != GlobalLoad::tma && k.stages >= 2;
}

std::int64_t KBlockCoster::landing_cycles(const KBlock& b) const {
  return ceil_div(static_cast<std::int64_t>(b.s_bytes + b.d_bytes), machine_.arch.sm.shared_memory.bytes_per_clock);
}

void KBlockCoster::add_latencies(const KBlock& b, KBlockCost& c) const {
  c.landing = landing_cycles(b);
  if (!copies_after_tiles()) return;
  // Between the tiles landing and the previous buffer's release each sub-core issues, after the
  // wait, one k-step's fragment loads (512 bytes an ldmatrix) and one k-step's MMAs for each of its
  // compute warps: the first MMAs at one a cycle into the math queue and the operand collector,
  // the rest as the register file delivers their operands.
  const std::int64_t mmas = b.dense_mmas + b.sparse_mmas;
  const std::int64_t tiles = std::int64_t{ceil_div(cta_.m, dense_.m)} * ceil_div(cta_.n, dense_.n);
  const std::int64_t ksteps = std::max<std::int64_t>(1, ceil_div(mmas, std::max<std::int64_t>(1, tiles)));
  const KernelConfig& k = machine_.kernel;
  std::int64_t frag_bytes = 0;
  if (k.a_source == OperandSource::registers) frag_bytes += static_cast<std::int64_t>(b.s_bytes) * warp_.m / std::max(1, cta_.m);
  if (k.b_source() == OperandSource::registers) frag_bytes += static_cast<std::int64_t>(b.d_bytes) * warp_.n / std::max(1, cta_.n);
  const int sub_cores = std::max(1, machine_.arch.sm.sub_cores);
  const std::int64_t warps = ceil_div(std::int64_t{k.compute_warps()}, std::int64_t{sub_cores});
  const std::int64_t loads = warps * ceil_div(ceil_div(frag_bytes, ksteps), std::int64_t{512});
  const std::int64_t step = warps * ceil_div(ceil_div(mmas, issuers_), ksteps);
  const std::int64_t queued = std::min<std::int64_t>(step, machine_.arch.sm.math_queue_depth + 1);
  const bool sparse = b.sparse_mmas > 0;
  const std::int64_t rf = rf_.cycles(sparse ? sparse_frag_ : dense_frag_, step, a_reuse_);
  c.release_tail = 1 + loads + queued + ceil_div((step - queued) * rf, std::max<std::int64_t>(1, step));
}

std::int64_t KBlockCoster::smem_cycles(const KBlock& b, std::int64_t reads) const {
  return ceil_div(reads, machine_.arch.sm.shared_memory.bytes_per_clock) * fragment_ways_ + landing_cycles(b);
}

MmaTiles KBlockCoster::tiles_for(const CtaWork& w) const {
  return MmaTiles(w, dense_.m, dense_.n, warp_.m, warp_.n, cta_.m, cta_.n, issuers_);
}

UnitLoad KBlockCoster::unit_load(const CtaWork& w, const MmaTiles& tiles) const {
  return load_over_groups([&](int i) {
    std::int64_t n = 0;
    for (const KBlockRun& r : w.runs()) n += tiles.issuer_mmas(r.block, i) * r.repeat;
    return n;
  });
}

UnitLoad KBlockCoster::kblock_load(const KBlock& b, const MmaTiles& tiles) const {
  return load_over_groups([&](int i) { return tiles.issuer_mmas(b, i); });
}

UnitLoad KBlockCoster::load_over_groups(const std::function<std::int64_t(int)>& mmas_of) const {
  // Issuer i's first warp is warp i * cooperating, on sub-core (i * cooperating) % sub_cores.
  UnitLoad u;
  u.groups = groups_;
  std::vector<std::int64_t> per(static_cast<std::size_t>(groups_), 0);
  for (int i = 0; i < issuers_; ++i) per[static_cast<std::size_t>(i % groups_)] += mmas_of(i);
  for (const std::int64_t n : per) {
    u.busiest = std::max(u.busiest, n);
    u.total += n;
  }
  return u;
}

KBlockCost KBlockCoster::cost(const KBlock& b, const MmaTiles& tiles, const UnitLoad& load) const {
  KBlockCost c = cost(b);
  if (b.segment_steps.empty()) return c;
  // With two stages a warp cannot run more than a k-block ahead of the others (each buffer is
  // refilled only once every warp is done with it), so this k-block's busiest group binds; with more,
  // warps run ahead and the CTA's totals do.
  UnitLoad here = load;
  if (machine_.kernel.stages <= 2) here = kblock_load(b, tiles);
  if (here.total > 0) {
    const std::int64_t num = here.busiest * here.groups;
    c.tensor_core = ceil_div(c.tensor_core * num, here.total);
    c.regfile = ceil_div(c.regfile * num, here.total);
  }
  const std::int64_t s_read = static_cast<std::int64_t>(b.s_bytes) * warp_.m / std::max(1, cta_.m);
  const std::int64_t d_read = static_cast<std::int64_t>(b.d_bytes) * warp_.n / std::max(1, cta_.n);
  std::int64_t reads = 0;
  for (int i = 0; i < issuers_; ++i) {
    if (tiles.issuer_mmas(b, i) > 0) reads += s_read + d_read;
  }
  c.smem = smem_cycles(b, reads);
  return c;  // cost(b) added the latencies
}

SmActivity KBlockCoster::activity(const KBlock& b, std::int64_t repeat) const {
  // One k-block's counts, times repeat: every k-block is delivered on its own (its A reuse and its
  // shared-memory transfers do not span k-blocks), so equal k-blocks count alike.
  SmActivity a;
  if (repeat <= 0) return a;
  TensorCore tc = tc_;
  tc.stats() = {};
  tc.selector().stats() = {};
  tc.issue_sequence(0, dense_, b.dense_mmas);
  if (has_sparse_) tc.issue_sequence(0, sparse_, b.sparse_mmas);
  a.tensor_core = tc.stats();
  a.operand_selector = tc.selector().stats();
  RegisterFile rf = rf_;
  rf.stats() = {};
  // Every warp of a warpgroup instruction reads its own fragments (the fragments are per thread):
  // `cooperating` deliveries per instruction, the instruction's metadata shared among them.
  const int coop = tc_.cooperating();
  rf.deliver(dense_frag_, b.dense_mmas * coop, a_reuse_, 0);
  if (has_sparse_) rf.deliver(sparse_frag_, b.sparse_mmas * coop, a_reuse_, sparse_meta_bits_ / coop);
  a.register_file = rf.stats();
  SharedMemory smem(machine_.arch.sm.shared_memory);
  smem.read(static_cast<std::int64_t>(b.s_bytes * warp_cols_ + b.d_bytes * warp_rows_), fragment_ways_);
  smem.write(static_cast<std::int64_t>(b.s_bytes + b.d_bytes));
  a.shared_memory = smem.stats();
  const auto k = static_cast<std::uint64_t>(repeat);
  stats_scale(a.tensor_core, k);
  stats_scale(a.operand_selector, k);
  stats_scale(a.register_file, k);
  stats_scale(a.shared_memory, k);
  return a;
}

SmActivity KBlockCoster::activity(const CtaWork& w) const {
  SmActivity a = epilogue_activity(w.c_bytes);
  for (const KBlockRun& r : w.runs()) a += activity(r.block, r.repeat);
  return a;
}

std::int64_t KBlockCoster::epilogue_cycles(std::uint64_t c_bytes) const {
  SharedMemory smem(machine_.arch.sm.shared_memory);
  const auto bytes = static_cast<std::int64_t>(c_bytes);
  return smem.write(bytes) + smem.read(bytes);
}

SmActivity KBlockCoster::epilogue_activity(std::uint64_t c_bytes) const {
  SharedMemory smem(machine_.arch.sm.shared_memory);
  const auto bytes = static_cast<std::int64_t>(c_bytes);
  smem.write(bytes);
  smem.read(bytes);
  SmActivity a;
  a.shared_memory = smem.stats();
  return a;
}

}  // namespace stcsim
