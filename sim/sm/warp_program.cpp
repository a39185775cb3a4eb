#include "sm/warp_program.h"

#include <algorithm>

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
    : spec_(spec), work_(work), warp_(warp) {
  const KernelConfig& k = *spec.kernel;
  compute_ = warp < k.compute_warps();
  const int mi = std::max(1, spec.warp.m / std::max(1, spec.dense.m));
  const int nj = std::max(1, spec.warp.n / std::max(1, spec.dense.n));
  accumulators_ = mi * nj;
  // Slots: accumulators, two commit groups (wgmma.wait_group), A and B fragments double-buffered,
  // the epilogue's staging.
  a_slots_ = kMaxFragmentLoads;
  b_slots_ = kMaxFragmentLoads;
  slots_ = accumulators_ + 2 + 2 * a_slots_ + 2 * b_slots_ + 1;
}

std::int64_t WarpProgram::warp_copies(const WarpProgramSpec& spec, const KBlock& b, int warp) {
  const KernelConfig& k = *spec.kernel;
  const auto bytes = static_cast<std::int64_t>(b.s_bytes + b.d_bytes);
  if (k.global_loads == GlobalLoad::tma) return warp == k.compute_warps() ? 1 : 0;
  if (warp >= k.compute_warps()) return 0;
  const std::int64_t per_warp = ceil_div(bytes, std::int64_t{k.compute_warps()} * kCopyBytes);
  return k.global_loads == GlobalLoad::ldg_sts ? 2 * per_warp : per_warp;
}

std::int64_t WarpProgram::copies_per_kblock(const WarpProgramSpec& spec, const KBlock& b) {
  const KernelConfig& k = *spec.kernel;
  if (k.global_loads == GlobalLoad::tma) return 1;
  return warp_copies(spec, b, 0) * k.compute_warps();
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

void WarpProgram::build_kblock(std::int64_t kb) {
  const KernelConfig& k = *spec_.kernel;
  const std::int64_t kblocks = work_.k_blocks();
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
  ops_.push_back({WarpOpKind::wait_tiles, false, false, false, kb, -1, {-1, -1}, 0});

  const KBlock& b = work_.kblock(kb);
  const int coop = spec_.cooperating;
  const int issuers = std::max(1, k.compute_warps() / coop);
  const int me = warp_ / coop;
  const std::int64_t counts[2] = {share(b.dense_mmas, me, issuers), share(b.sparse_mmas, me, issuers)};
  const int acc = accumulators_;
  const int nj = std::max(1, spec_.warp.n / std::max(1, spec_.dense.n));
  const int mi = acc / nj;
  const std::int64_t ksteps_total = ceil_div(counts[0], acc) + ceil_div(counts[1], acc);
  // Operand bytes this warp reads per k-block: its rows of S (A) and its columns of D (B); a warp of a
  // warpgroup reads a quarter of the warpgroup's.
  const std::int64_t a_bytes = static_cast<std::int64_t>(b.s_bytes) * spec_.warp.m / std::max(1, spec_.cta.m) / coop;
  const std::int64_t b_bytes = static_cast<std::int64_t>(b.d_bytes) * spec_.warp.n / std::max(1, spec_.cta.n) / coop;
  const std::int64_t a_step = ksteps_total > 0 ? ceil_div(a_bytes, ksteps_total) : 0;
  const std::int64_t b_step = ksteps_total > 0 ? ceil_div(b_bytes, ksteps_total) : 0;
  const bool a_regs = k.a_source == OperandSource::registers;
  const bool b_regs = k.b_source() == OperandSource::registers;
  const int group = acc + static_cast<int>(kb % 2);
  const int a_base = acc + 2;
  const int b_base = a_base + 2 * a_slots_;
  std::int32_t last_fragment = -1;
  std::int32_t last_mma_group = -1;
  // The k-steps in order (dense MMAs first), each with its MMA count; fragments are loaded one
  // k-step ahead (double-buffered, as tuned kernels pipeline them) so that a k-step's loads are in
  // flight while the one before it issues its MMAs.
  struct Step {
    bool sparse;
    std::int64_t mmas;
  };
  std::vector<Step> steps;
  for (int kind = 0; kind < 2; ++kind) {
    for (std::int64_t first = 0; first < counts[kind]; first += acc) {
      steps.push_back({kind == 1, std::min<std::int64_t>(acc, counts[kind] - first)});
    }
  }
  const int n_a = a_regs ? loads_for(a_step) : 0;
  const int n_b = b_regs ? loads_for(b_step) : 0;
  const auto load = [&](std::size_t step) {
    const int buf = static_cast<int>(step % 2);
    for (int x = 0; x < n_a; ++x) {
      const std::int32_t slot = a_base + buf * a_slots_ + x;
      ops_.push_back({WarpOpKind::smem_read, false, false, false, kb, slot, {-1, -1}, clamp32(ceil_div(a_step, n_a))});
      last_fragment = slot;
    }
    for (int x = 0; x < n_b; ++x) {
      const std::int32_t slot = b_base + buf * b_slots_ + x;
      ops_.push_back({WarpOpKind::smem_read, false, false, false, kb, slot, {-1, -1}, clamp32(ceil_div(b_step, n_b))});
      last_fragment = slot;
    }
  };
  if (!steps.empty()) load(0);
  for (std::size_t st = 0; st < steps.size(); ++st) {
    if (st + 1 < steps.size()) load(st + 1);
    const int buf = static_cast<int>(st % 2);
    const std::int64_t here = steps[st].mmas;
    // Shared-memory operands an MMA reads itself (wgmma): this k-step's bytes over its MMAs.
    const std::int64_t own = ((a_regs ? 0 : a_step) + (b_regs ? 0 : b_step));
    for (std::int64_t t = 0; t < here; ++t) {
      const int i = static_cast<int>(t) / nj;
      const int j = static_cast<int>(t) % nj;
      WarpOp op{WarpOpKind::mma, steps[st].sparse, j > 0, false, kb, static_cast<std::int32_t>(t), {-1, -1}, 0};
      if (n_a > 0) op.src[0] = a_base + buf * a_slots_ + i * n_a / std::max(1, mi);
      if (n_b > 0) op.src[1] = b_base + buf * b_slots_ + j * n_b / nj;
      op.bytes = clamp32(own > 0 ? share(own, static_cast<int>(t), static_cast<int>(here)) : 0);
      op.group = group;
      ops_.push_back(op);
      last_mma_group = group;
    }
  }
  if (!a_regs || !b_regs) {
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
