// The software-pipelined main loop of one CTA (docs/model.md, "Timing"): k-block loads run up to
// `stages` ahead of the MMAs that consume them, a buffer being reused only once the MMAs of the
// k-block that held it are done. Plain C++: the SM module drives it, waiting in simulated time
// until each load may issue, so that the memory system sees requests in time order.
//
//   load_issue(kb)    = max(start, compute_done(kb - stages), load_issue(kb - 1) + copy issue cycles)
// (loads may run ahead of the pricing of arrived k-blocks: load_issued() counts the issued ones)
//   compute_start(kb) = max(arrival(kb), compute_done(kb - 1), tensor cores free)
//   compute_done(kb)  = compute_start(kb) + cost(kb).cycles()
//   finish            = compute_done(last) + drain (the MMA pipeline's latency beyond occupancy)
//
// A k-block's cost is the largest of what the tensor cores, the register file and shared memory
// need for it; the excess of the register file or shared memory over the tensor cores is counted as
// their stall, and tensor-core idle time waiting for tiles as a memory stall.
// Left out: warp-scheduler issue slots, and the epilogue (the SM module adds it and the C store).
#pragma once

#include <cstdint>
#include <vector>

namespace stcsim {

struct KBlockCost {
  std::int64_t tensor_core = 0;  // MMA occupancy of the k-block on the SM's tensor cores
  std::int64_t regfile = 0;      // register-file port cycles for its operands
  std::int64_t smem = 0;         // shared-memory cycles for its fragment reads and tile writes
  std::int64_t cycles() const;
};

struct MainloopStats {
  std::uint64_t mma_cycles = 0;            // tensor cores busy with MMAs
  std::uint64_t regfile_stall_cycles = 0;  // k-block time beyond the MMAs, register file bound
  std::uint64_t smem_stall_cycles = 0;     // k-block time beyond the MMAs, shared memory bound
  std::uint64_t memory_stall_cycles = 0;   // tensor cores idle waiting for tiles
  std::uint64_t pipeline_cycles = 0;       // drain latency at the end
  std::uint64_t epilogue_cycles = 0;       // C tile staged through shared memory before its store
  std::uint64_t k_blocks = 0;

  MainloopStats& operator+=(const MainloopStats& o);

  template <class F>
  void visit(F&& f) {
    f("mma_cycles", mma_cycles);
    f("regfile_stall_cycles", regfile_stall_cycles);
    f("smem_stall_cycles", smem_stall_cycles);
    f("memory_stall_cycles", memory_stall_cycles);
    f("pipeline_cycles", pipeline_cycles);
    f("epilogue_cycles", epilogue_cycles);
    f("k_blocks", k_blocks);
  }
};

class Mainloop {
 public:
  // A CTA starting at cycle `start` with `k_blocks` k-blocks (>= 0), `stages` buffers (>= 1), and
  // `drain` cycles of MMA latency after the last k-block's occupancy.
  Mainloop(std::int64_t start, std::int64_t k_blocks, int stages, std::int64_t drain);

  bool loads_left() const { return issued_ < k_blocks_; }
  // Cycle at which the next k-block's load may issue: its buffer free, and `issue_cycles` after the
  // previous load issued (the start for the first): the copy instructions a k-block needs take the
  // warps' issue slots before its load is under way (one TMA instruction; cp.async or LDG+STS, a few
  // per warp).
  std::int64_t next_load_issue(std::int64_t issue_cycles = 0) const;
  // The next k-block's load issued at `at`.
  void load_issued(std::int64_t at) {
    last_issue_ = at;
    ++loads_issued_;
  }
  // Whether the next load's buffer is known to be free at some cycle: the k-block that held it
  // (stages loads back) has had its compute priced (load_arrived).
  bool buffer_known() const { return loads_issued_ < stages_ || issued_ > loads_issued_ - stages_; }
  std::int64_t loads_issued() const { return loads_issued_; }
  // The next k-block's tiles arrive at `arrival` (>= its issue cycle); its compute costs `cost` on
  // tensor cores that are free from `tc_free`. Returns the cycle its compute is done, which is when
  // the tensor cores are next free.
  std::int64_t load_arrived(std::int64_t arrival, const KBlockCost& cost, std::int64_t tc_free);
  // Cycle the accumulators are final: last compute done plus the drain (start if there is no k-block).
  std::int64_t finish() const;

  const MainloopStats& stats() const { return stats_; }

 private:
  std::int64_t start_;
  std::int64_t k_blocks_;
  int stages_;
  std::int64_t drain_;
  std::int64_t issued_ = 0;
  std::vector<std::int64_t> done_;  // compute_done of the last `stages` k-blocks, ring buffer
  std::int64_t last_done_;
  std::int64_t last_issue_;
  std::int64_t loads_issued_ = 0;
  MainloopStats stats_;
};

}  // namespace stcsim
