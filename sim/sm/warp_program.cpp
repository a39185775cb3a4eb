#include "sm/warp_program.h"

#include <algorithm>
#include <tuple>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

namespace {

// ldmatrix.x4 and ld/st.shared.v4 move 16 bytes per lane: 512 bytes per warp instruction.
constexpr std::int64_t kWarpAccessBytes = 512;
// cp.async.cg moves 16 bytes per lane too; LDG+STS as many, in two instructions.
constexpr std::int64_t kCopyBytes = 512;
// Fragment loads per operand per k-step are capped (larger accesses instead): bounds the scoreboard.
constexpr int kMaxFragmentLoads = 64;

std::int64_t share(std::int64_t total, int index, int parts) {
  return total / parts + (index < total % parts ? 1 : 0);
}

int loads_for(std::int64_t bytes) {
  if (bytes <= 0) return 0;
  return static_cast<int>(std::min<std::int64_t>(kMaxFragmentLoads, ceil_div(bytes, kWarpAccessBytes)));
}

std::int32_t clamp32(std::int64_t v) {
  return static_cast<std::int32_t>(std::min<std::int64_t>(v, std::int64_t{1} << 30));
}

}  // namespace

WarpProgram::WarpProgram(const WarpProgramSpec& spec, const CtaWork& work, int warp)
    : spec_(spec),
      work_(work),
      warp_(warp),
      tiles_(work, spec.dense.m, spec.dense.n, spec.warp.m, spec.warp.n, spec.cta.m, spec.cta.n,
             std::max(1, spec.kernel->compute_warps() / std::max(1, spec.cooperating))) {
  const KernelConfig& k = *spec.kernel;
  compute_ = warp < k.compute_warps();
  if (compute_) std::tie(first_tile_, last_tile_) = tiles_.range(warp / std::max(1, spec.cooperating));
  const int mi = std::max(1, spec.warp.m / std::max(1, spec.dense.m));
  const int nj = std::max(1, spec.warp.n / std::max(1, spec.dense.n));
  accumulators_ = mi * nj;
  // Slots: accumulators, two commit groups (wgmma.wait_group), A and B fragments double-buffered
  // (kMaxFragmentLoads per buffer), the epilogue's staging.
  slots_ = accumulators_ + 2 + 4 * kMaxFragmentLoads + 1;
}

std::int32_t WarpProgram::a_slot(int buf, int x) const { return accumulators_ + 2 + buf * kMaxFragmentLoads + x; }

std::int32_t WarpProgram::b_slot(int buf, int x) const {
  return accumulators_ + 2 + (2 + buf) * kMaxFragmentLoads + x;
}

std::int64_t copy_instructions_per_warp(const KernelConfig& k, const KBlock& b) {
  if (k.global_loads == GlobalLoad::tma) return 1;
  const auto bytes = static_cast<std::int64_t>(b.s_bytes + b.d_bytes);
  const std::int64_t per_warp = ceil_div(bytes, std::int64_t{k.compute_warps()} * kCopyBytes);
  return k.global_loads == GlobalLoad::ldg_sts ? 2 * per_warp : per_warp;
}

std::int64_t WarpProgram::warp_copies(const WarpProgramSpec& spec, const KBlock& b, int warp) {
  const KernelConfig& k = *spec.kernel;
  if (k.global_loads == GlobalLoad::tma) return warp == k.compute_warps() ? 1 : 0;
  if (warp >= k.compute_warps()) return 0;
  return copy_instructions_per_warp(k, b);
}

std::int64_t WarpProgram::copies_per_kblock(const WarpProgramSpec& spec, const KBlock& b) {
  const KernelConfig& k = *spec.kernel;
  const std::int64_t per_warp = copy_instructions_per_warp(k, b);
  return k.global_loads == GlobalLoad::tma ? per_warp : per_warp * k.compute_warps();
}

const WarpOp* WarpProgram::peek() {
  while (pos_ >= ops_.size()) {
    if (chunk_ > work_.k_blocks()) return nullptr;
    refill();
  }
  return &ops_[pos_];
}

void WarpProgram::next() {
  if (pos_ < ops_.size()) ++pos_;
}

void WarpProgram::refill() {
  ops_.clear();
  pos_ = 0;
  ++chunk_;
  if (chunk_ == -1) {
    build_prologue();
  } else if (chunk_ < work_.k_blocks()) {
    build_kblock(chunk_);
  } else if (chunk_ == work_.k_blocks()) {
    build_epilogue();
  }
}

void WarpProgram::build_prologue() {
  const KernelConfig& k = *spec_.kernel;
  if (k.global_loads == GlobalLoad::tma || !compute_) return;
  const std::int64_t ahead = std::min<std::int64_t>(k.stages - 1, work_.k_blocks());
  for (std::int64_t kb = 0; kb < ahead; ++kb) {
    const std::int64_t n = warp_copies(spec_, work_.kblock(kb), warp_);
    for (std::int64_t c = 0; c < n; ++c) ops_.push_back({WarpOpKind::copy, false, false, false, kb, -1, {-1, -1}, 0});
  }
}

WarpProgram::Layout WarpProgram::layout(std::int64_t kb) const {
  const KernelConfig& k = *spec_.kernel;
  const KBlock& b = work_.kblock(kb);
  const int coop = spec_.cooperating;
  Layout l;
  // Per kind, step st holds the warp's tiles with more than st steps of that kind.
  for (int kind = 0; kind < 2; ++kind) {
    std::vector<std::int64_t> steps;
    for (std::int64_t t = first_tile_; t < last_tile_; ++t) {
      steps.push_back(kind == 0 ? tiles_.dense_steps(b, t) : tiles_.sparse_steps(b, t));
    }
    const std::int64_t most = steps.empty() ? 0 : *std::max_element(steps.begin(), steps.end());
    for (std::int64_t st = 0; st < most; ++st) {
      const auto here = std::count_if(steps.begin(), steps.end(), [st](std::int64_t s) { return s > st; });
      l.steps.push_back({kind == 1, here, static_cast<std::int32_t>(st)});
    }
  }
  const auto ksteps = static_cast<std::int64_t>(l.steps.size());
  // Operand bytes this warp reads per k-block: its rows of S (A) and its columns of D (B); a warp of a
  // warpgroup reads a quarter of the warpgroup's.
  const std::int64_t a_bytes = static_cast<std::int64_t>(b.s_bytes) * spec_.warp.m / std::max(1, spec_.cta.m) / coop;
  const std::int64_t b_bytes = static_cast<std::int64_t>(b.d_bytes) * spec_.warp.n / std::max(1, spec_.cta.n) / coop;
  l.a_step = ksteps > 0 ? ceil_div(a_bytes, ksteps) : 0;
  l.b_step = ksteps > 0 ? ceil_div(b_bytes, ksteps) : 0;
  l.n_a = k.a_source == OperandSource::registers ? loads_for(l.a_step) : 0;
  l.n_b = k.b_source() == OperandSource::registers ? loads_for(l.b_step) : 0;
  return l;
}

void WarpProgram::load_step(const Layout& l, std::int64_t kb, int buf, std::int32_t* last) {
  for (int x = 0; x < l.n_a; ++x) {
    const std::int32_t slot = a_slot(buf, x);
    ops_.push_back({WarpOpKind::smem_read, false, false, false, kb, slot, {-1, -1}, clamp32(ceil_div(l.a_step, l.n_a))});
    ops_.back().ways = spec_.fragment_ways;
    *last = slot;
  }
  for (int x = 0; x < l.n_b; ++x) {
    const std::int32_t slot = b_slot(buf, x);
    ops_.push_back({WarpOpKind::smem_read, false, false, false, kb, slot, {-1, -1}, clamp32(ceil_div(l.b_step, l.n_b))});
    ops_.back().ways = spec_.fragment_ways;
    *last = slot;
  }
}

void WarpProgram::build_kblock(std::int64_t kb) {
  const KernelConfig& k = *spec_.kernel;
  const std::int64_t kblocks = work_.k_blocks();
  const KBlock& b = work_.kblock(kb);
  if (!compute_) {
    if (k.global_loads == GlobalLoad::tma && warp_ == k.compute_warps()) {
      ops_.push_back({WarpOpKind::copy, false, false, false, kb, -1, {-1, -1}, 0});
    }
    return;
  }
  // Copies stages - 1 ahead, into the buffer the previous k-block frees.
  if (k.global_loads != GlobalLoad::tma && kb + k.stages - 1 < kblocks) {
    const std::int64_t ahead = kb + k.stages - 1;
    const std::int64_t n = warp_copies(spec_, work_.kblock(ahead), warp_);
    for (std::int64_t c = 0; c < n; ++c) ops_.push_back({WarpOpKind::copy, false, false, false, ahead, -1, {-1, -1}, 0});
  }
  const bool regs = k.a_source == OperandSource::registers && k.b_source() == OperandSource::registers;
  const Layout l = layout(kb);
  std::int32_t last_fragment = -1;
  std::int32_t next_fragment = -1;  // the next k-block's first loads (not this one's)
  if (!regs || kb == 0) {
    ops_.push_back({WarpOpKind::wait_tiles, false, false, false, kb, -1, {-1, -1}, 0});
    if (regs && !l.steps.empty()) load_step(l, kb, parity_, &last_fragment);
  } else {
    last_fragment = carried_fragment_;  // loaded at the end of the previous k-block
  }
  const int acc = accumulators_;
  const int nj = std::max(1, spec_.warp.n / std::max(1, spec_.dense.n));
  const int mi = acc / nj;
  const int group = acc + static_cast<int>(kb % 2);
  // Shared-memory operands an MMA reads itself (wgmma): a k-step's bytes over its MMAs.
  const std::int64_t own = (l.n_a > 0 ? 0 : l.a_step) + (l.n_b > 0 ? 0 : l.b_step);
  std::int32_t last_mma_group = -1;
  // Fragments are loaded one k-step ahead (double-buffered, as tuned kernels pipeline them), the next
  // k-block's first ones during this one's last k-step, after waiting for its tiles (the multistage
  // main loop's cp.async wait and barrier sit there), so that loads are in flight while MMAs issue.
  const auto next_kblock = [&]() {
    if (!regs || kb + 1 >= kblocks) return;
    ops_.push_back({WarpOpKind::wait_tiles, false, false, false, kb + 1, -1, {-1, -1}, 0});
    const Layout nl = layout(kb + 1);
    if (!nl.steps.empty()) {
      load_step(nl, kb + 1, static_cast<int>((parity_ + l.steps.size()) % 2), &next_fragment);
    }
  };
  if (l.steps.empty()) next_kblock();
  for (std::size_t st = 0; st < l.steps.size(); ++st) {
    if (st + 1 < l.steps.size()) {
      if (regs) load_step(l, kb, static_cast<int>((parity_ + st + 1) % 2), &last_fragment);
    } else {
      next_kblock();
    }
    const int buf = static_cast<int>((parity_ + st) % 2);
    const Step& step = l.steps[st];
    const std::int64_t here = step.mmas;
    std::int64_t t = 0;  // the step's MMAs so far
    for (std::int64_t tile = first_tile_; tile < last_tile_; ++tile) {
      const std::int64_t steps = step.sparse ? tiles_.sparse_steps(b, tile) : tiles_.dense_steps(b, tile);
      if (steps <= step.index) continue;
      // The warp's p-th tile accumulates in accumulator p (modulo its warp tile's).
      const int a = static_cast<int>((tile - first_tile_) % acc);
      const int i = a / nj;
      const int j = a % nj;
      WarpOp op{WarpOpKind::mma, step.sparse, j > 0, false, kb, static_cast<std::int32_t>(a), {-1, -1}, 0};
      if (l.n_a > 0) op.src[0] = a_slot(buf, i * l.n_a / std::max(1, mi));
      if (l.n_b > 0) op.src[1] = b_slot(buf, j * l.n_b / nj);
      op.bytes = clamp32(own > 0 ? share(own, static_cast<int>(t), static_cast<int>(here)) : 0);
      op.group = group;
      op.tile = static_cast<std::int32_t>(tile);
      op.step = step.sparse ? static_cast<std::int32_t>(tiles_.dense_steps(b, tile)) + step.index : step.index;
      ops_.push_back(op);
      last_mma_group = group;
      ++t;
    }
  }
  parity_ = static_cast<int>((parity_ + l.steps.size()) % 2);
  carried_fragment_ = next_fragment;
  if (!regs) {
    // wgmma reads shared memory while it runs: k-block kb - 1's buffer is released once its MMAs
    // are done (wgmma.wait_group 1 after issuing this k-block's), the last one at the end.
    if (kb > 0) ops_.push_back({WarpOpKind::release, false, false, false, kb - 1, -1, {acc + static_cast<int>((kb - 1) % 2), -1}, 0});
    if (kb + 1 == kblocks) ops_.push_back({WarpOpKind::release, false, false, false, kb, -1, {last_mma_group, -1}, 0});
  } else {
    ops_.push_back({WarpOpKind::release, false, false, false, kb, -1, {last_fragment, -1}, 0});
  }
}

void WarpProgram::build_epilogue() {
  if (!compute_) return;
  const KernelConfig& k = *spec_.kernel;
  const std::int32_t epi = slots_ - 1;
  const std::int64_t bytes = static_cast<std::int64_t>(work_.c_bytes) / std::max(1, k.compute_warps());
  const int n = std::max(1, loads_for(bytes));
  const std::int32_t each = clamp32(ceil_div(bytes, n));
  for (int x = 0; x < n; ++x) ops_.push_back({WarpOpKind::smem_write, false, false, x == 0, 0, epi, {-1, -1}, each});
  ops_.push_back({WarpOpKind::barrier, false, false, false, 0, -1, {epi, -1}, 0});
  for (int x = 0; x < n; ++x) ops_.push_back({WarpOpKind::smem_read, false, false, false, 0, epi, {-1, -1}, each});
  ops_.push_back({WarpOpKind::finish, false, false, false, 0, -1, {epi, -1}, 0});
}

}  // namespace stcsim
