// What travels between the cycle model's SystemC modules (docs/model.md, "The cycle model"): MMA
// instructions from a sub-core's warp scheduler through the register file's operand collector and
// the operand selector to the tensor core, and shared-memory requests from the sub-cores' MIO queues,
// the operand collectors (wgmma's shared-memory operands) and the tile copies landing from global
// memory. The sc_fifo queues between the modules are bounded, so a full one stalls its producer.
// Completions come back through a SlotSink: the cycle a scoreboard slot (a warp's register, an
// accumulator, a k-block's tiles) becomes ready.
#pragma once

#include <cstdint>
#include <ostream>

#include "regfile/register_file.h"
#include "tensor_core/tensor_core.h"

namespace stcsim {

// Receives completions: slot `slot` of warp `warp` (an id the sink gave out) is ready at `at`.
class SlotSink {
 public:
  virtual ~SlotSink() = default;
  virtual void slot_done(int warp, int slot, std::int64_t at) = 0;
};

struct CtaPos;
class CtaWork;

// Functional mode through the cycle model (`--functional --model cycle`): computes, on values, the
// MMA the cycle model's tensor-core pipe starts: instruction tile `tile` (mma_tiles.h) of CTA `pos`,
// its k-step `step` of k-block `kb`. Called in the order the pipes start MMAs, so one tile's steps
// arrive in K order (each waits for the previous one's accumulator).
class MmaValues {
 public:
  virtual ~MmaValues() = default;
  virtual void mma(const CtaPos& pos, const CtaWork& work, std::int32_t tile, std::int64_t kb, std::int32_t step,
                   bool sparse) = 0;
};

struct MmaPacket {
  MmaInstr instr;
  MmaFragments fragments;  // registers per thread it reads and writes
  std::int64_t metadata_bits = 0;
  bool a_reused = false;   // the A fragment of the warp's previous MMA: the reuse cache may hold it
  std::int32_t smem_bytes = 0;  // operand bytes it reads from shared memory itself (wgmma)
  bool counted = true;     // counts in the stats (one warp of a warpgroup counts the instruction)
  SlotSink* sink = nullptr;
  int warp = 0;
  int dst = -1;            // accumulator slot
  int group = -1;          // commit-group slot, or -1
  std::uint64_t seq = 0;   // order number in its sub-core (the collector's operand fetches)
  std::int64_t selector_start = -1;  // when the operand selector began on it (-1: bypassed)
  // Functional mode: where its values go (null: timing only), and what it computes.
  MmaValues* values = nullptr;
  const CtaPos* pos = nullptr;
  const CtaWork* work = nullptr;
  std::int32_t tile = -1;
  std::int32_t step = 0;
  std::int64_t kb = 0;
};

struct SmemRequest {
  std::int64_t bytes = 0;
  bool write = false;
  SlotSink* sink = nullptr;
  int warp = 0;
  int slot = 0;
  int ways = 1;  // bank-conflict degree: each byte takes `ways` times its share of the bandwidth
};

// sc_fifo needs these for its trace and print hooks.
inline std::ostream& operator<<(std::ostream& os, const MmaPacket& p) { return os << "mma warp " << p.warp; }
inline std::ostream& operator<<(std::ostream& os, const SmemRequest& r) { return os << "smem " << r.bytes << " B"; }

}  // namespace stcsim
