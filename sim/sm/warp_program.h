// The instruction stream one warp of a GEMM CTA executes in the cycle model (docs/model.md, "The
// cycle model"), generated from the kernel config, the GEMM's instructions and the CTA's k-blocks
// (scheduler/cta_work.h), so that every pattern's compacted K, gathers and instruction mix reach the
// warps as they reach the fast model.
//
// Roles. Compute warps (kernel.compute_warps()) run the main loop and the epilogue. With TMA loads
// (kernel.global_loads: tma) the warps beyond them are producers (warp specialisation): the first
// producer warp issues one TMA copy per k-block once its buffer is free; the others have nothing to
// do. With cp.async or LDG+STS the compute warps issue the copies themselves, stages - 1 k-blocks ahead
// (a multistage main loop: the prologue fills stages - 1 buffers).
//
// Per k-block a compute warp: waits for the k-block's tiles in shared memory; issues its share of the
// copies `stages - 1` k-blocks ahead (cp.async / LDG+STS); per k-step loads its A and B fragments
// (ldmatrix, 512 bytes per instruction) where the kernel reads them from registers, then issues its
// MMAs, n inner (A reused across n); and releases the buffer once what read it is done (its fragment
// loads, or for wgmma, which reads shared memory itself, its MMAs). Its MMAs are those of its
// instruction tiles (mma_tiles.h: the CTA's tiles dealt over the issuing warps or warpgroups), one
// per tile and k-step, each on its tile's accumulator (the warp's p-th tile on accumulator p, modulo
// the warp tile's): each MMA depends on the previous one into the same accumulator.
// The epilogue: wait for every accumulator, write them to shared memory, meet the CTA's other compute
// warps at a barrier, read the staged C tile back for the global store.
// Left out: address arithmetic and loop control (issue slots the fast model does not charge either),
// the WAR hazards of double-buffered fragments (registers are read in the operand collector in issue
// order), and a separate load of sparse metadata (it is part of the S tile's bytes the A fragments
// load; its register read is charged by the register file).
#pragma once

#include <cstdint>
#include <vector>

#include "config/kernel_config.h"
#include "regfile/register_file.h"
#include "scheduler/cta_work.h"
#include "sm/mma_tiles.h"
#include "tensor_core/tensor_core.h"

namespace stcsim {

enum class WarpOpKind : std::uint8_t {
  copy,         // this warp's part of the global->shared copy of k-block `kb` (needs its buffer free)
  wait_tiles,   // wait until k-block `kb`'s tiles are in shared memory
  smem_read,    // ld.shared / ldmatrix of `bytes` into registers (slot `dst`)
  smem_write,   // st.shared of `bytes` (epilogue staging; slot `dst` when written)
  mma,          // one MMA instruction (slot `dst` = its accumulator, also read)
  release,      // done with k-block `kb`'s buffer once `src[0]` is ready
  barrier,      // the CTA's compute warps meet
  finish,       // the warp is done once `src[0]` is ready
};

struct WarpOp {
  WarpOpKind kind = WarpOpKind::finish;
  bool sparse = false;      // mma: the sparse instruction
  bool a_reused = false;    // mma: same A fragment as the warp's previous MMA (reuse cache)
  bool all_acc = false;     // waits for every accumulator of the warp as well as src
  std::int64_t kb = 0;      // copy, wait_tiles, release: the k-block
  std::int32_t dst = -1;    // scoreboard slot written
  std::int32_t src[2] = {-1, -1};  // slots read (besides dst for an MMA)
  std::int32_t bytes = 0;   // smem_read / smem_write; mma: shared-memory operand bytes it reads itself
  std::int32_t group = -1;  // mma: the commit-group slot it also completes (wgmma.wait_group)
  std::int32_t ways = 1;    // smem_read: bank-conflict degree (fragment loads of an unswizzled tile)
  std::int32_t tile = -1;   // mma: the CTA's instruction tile it computes (mma_tiles.h)
  std::int32_t step = 0;    // mma: its k-step in that tile within k-block `kb` (dense steps first)
};

// What the program builder needs of the GEMM: the kernel, its instructions and their fragments.
struct WarpProgramSpec {
  const KernelConfig* kernel = nullptr;
  TileShape cta;             // CTA tile in elements of the GEMM's type
  TileShape warp;            // warp (warpgroup) tile
  MmaInstr dense;            // the dense instruction
  MmaInstr sparse;           // the sparse one (when has_sparse)
  bool has_sparse = false;
  int cooperating = 1;       // warps issuing one instruction together: 4 for wgmma, else 1
  int fragment_ways = 1;     // bank-conflict degree of fragment loads (fragment_conflict_ways)
};

// Copy instructions one warp issues for a k-block: one TMA copy (the producer warp's); cp.async, 16
// bytes per lane, the k-block's tiles dealt over the compute warps; LDG+STS twice that.
std::int64_t copy_instructions_per_warp(const KernelConfig& k, const KBlock& b);

class WarpProgram {
 public:
  // The stream of warp `warp` (0-based within the CTA) of a CTA doing `work`.
  WarpProgram(const WarpProgramSpec& spec, const CtaWork& work, int warp);

  bool compute() const { return compute_; }
  const CtaWork& work() const { return work_; }
  // Scoreboard slots the stream uses (accumulators first).
  int slots() const { return slots_; }
  int accumulators() const { return accumulators_; }
  // The next instruction, or nullptr when the stream has ended. The pointer stays valid until next().
  const WarpOp* peek();
  void next();

  // Per-CTA figures the SM needs: copies each k-block needs issued in total (over all warps) before
  // its load is requested.
  static std::int64_t copies_per_kblock(const WarpProgramSpec& spec, const KBlock& b);
  // This warp's copies of a k-block.
  static std::int64_t warp_copies(const WarpProgramSpec& spec, const KBlock& b, int warp);

 private:
  // A k-block's shape for this warp: its k-steps (MMA kind and count) and fragment loads per k-step.
  struct Step {
    bool sparse;
    std::int64_t mmas;   // this warp's tiles with a k-step here
    std::int32_t index;  // the k-step's number among the k-block's steps of its kind
  };
  struct Layout {
    std::vector<Step> steps;
    std::int64_t a_step = 0, b_step = 0;  // fragment bytes per k-step
    int n_a = 0, n_b = 0;                 // fragment loads per k-step (0: the operand is not in registers)
  };
  Layout layout(std::int64_t kb) const;
  // One k-step's fragment loads into buffer `buf`; *last gets the last slot loaded.
  void load_step(const Layout& l, std::int64_t kb, int buf, std::int32_t* last);
  // The scoreboard slot of fragment load x of A (B) in fragment buffer buf (0 or 1).
  std::int32_t a_slot(int buf, int x) const;
  std::int32_t b_slot(int buf, int x) const;
  void build_prologue();
  void build_kblock(std::int64_t kb);
  void build_epilogue();
  void refill();

  const WarpProgramSpec& spec_;
  const CtaWork& work_;
  int warp_;
  bool compute_ = false;
  MmaTiles tiles_;
  std::int64_t first_tile_ = 0, last_tile_ = 0;  // this warp's tiles (an issuer's range)
  int accumulators_ = 1;
  int slots_ = 0;
  std::vector<WarpOp> ops_;  // the current chunk (prologue, one k-block, or the epilogue)
  std::size_t pos_ = 0;
  // Chunks: -1 prologue, 0..k_blocks-1 the k-blocks, k_blocks the epilogue, then done.
  std::int64_t chunk_ = -2;
  int parity_ = 0;                  // fragment buffer of the current k-block's first k-step
  std::int32_t carried_fragment_ = -1;  // last slot of the current k-block's loads made by the previous one
};

}  // namespace stcsim
