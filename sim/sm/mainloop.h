// The software-pipelined main loop of one CTA (docs/model.md, "Timing"): k-block loads run up to
// `stages` ahead of the MMAs that consume them, a buffer being reused only once the k-block that held
// it is released. Plain C++: the SM module drives it, waiting in simulated time until each load may
// issue, so that the memory system sees requests in time order.
//
//   ready(kb)         = arrival(kb) + landing(kb)   (the tiles written into shared memory)
//   compute_start(kb) = max(ready(kb), compute_done(kb - 1), tensor cores free)
//   compute_done(kb)  = compute_start(kb) + cost(kb).cycles()
//   release(kb)       = compute_done(kb), and with copies_after_tiles no earlier than
//                       ready(kb + 1) + release_tail(kb + 1)
//   load_issue(kb)    = max(start, release(kb - stages), load_issue(kb - 1)) + copy issue cycles
//   finish            = compute_done(last) + drain (the MMA pipeline's latency beyond occupancy)
// (loads may run ahead of the pricing of arrived k-blocks: load_issued() counts the issued ones)
//
// copies_after_tiles is the multistage main loop in which the compute warps issue the copies
// themselves (cp.async, LDG+STS): a warp issues k-block kb + stages - 1's copies into the buffer
// k-block kb - 1 held only after it has waited for k-block kb's tiles, loaded its first fragments and
// issued kb - 1's last MMAs (release_tail), so with few stages one load is in flight at a time and
// a k-block takes the load's latency. With TMA a producer warp copies as soon as a buffer is free.
//
// A k-block's cost is the largest of what the tensor cores, the register file and shared memory
// need for it; the excess of the register file or shared memory over the tensor cores is counted as
// their stall, and tensor-core idle time waiting for tiles as a memory stall.
// Left out: warp-scheduler issue slots beyond the copies and release_tail, and the epilogue (the SM
// module adds it and the C store).
#pragma once

#include <cstdint>
#include <vector>

namespace stcsim {

struct KBlockCost {
  std::int64_t tensor_core = 0;  // MMA occupancy of the k-block on the SM's tensor cores
  std::int64_t regfile = 0;      // register-file port cycles for its operands
  std::int64_t smem = 0;         // shared-memory cycles for its fragment reads and tile writes
  // Latencies, not throughput (not part of cycles()): from the tiles' arrival at the SM to their
  // being in shared memory, and from then to the previous k-block's buffer release
  // (copies_after_tiles main loops).
  std::int64_t landing = 0;
  std::int64_t release_tail = 0;
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
  // A CTA starting at cycle `start` with `k_blocks` k-blocks (>= 0), `stages` buffers (>= 1; >= 2
  // with copies_after_tiles), and `drain` cycles of MMA latency after the last k-block's occupancy.
  Mainloop(std::int64_t start, std::int64_t k_blocks, int stages, std::int64_t drain, bool copies_after_tiles = false);

  bool loads_left() const { return issued_ < k_blocks_; }
  // Cycle at which the next k-block's load may issue: `issue_cycles` after its buffer is free and
  // the previous load issued (the start for the first): the copy instructions a k-block needs take
  // the warps' issue slots before its load is under way (one TMA instruction; cp.async or LDG+STS, a
  // few per warp).
  std::int64_t next_load_issue(std::int64_t issue_cycles = 0) const;
  // The next k-block's load issued at `at`.
  void load_issued(std::int64_t at) {
    last_issue_ = at;
    ++loads_issued_;
  }
  // Whether the next load's buffer is known to be free at some cycle: the k-block that held it
  // (stages loads back) has had its compute priced (load_arrived), and with copies_after_tiles the
  // k-block after it too.
  bool buffer_known() const { return loads_issued_ < stages_ || release_priced(loads_issued_); }
  std::int64_t loads_issued() const { return loads_issued_; }
  // The next k-block's tiles arrive at `arrival` (>= its issue cycle) and are ready cost.landing
  // later; its compute costs `cost` on tensor cores that are free from `tc_free`. Returns the cycle
  // its compute is done, which is when the tensor cores are next free.
  std::int64_t load_arrived(std::int64_t arrival, const KBlockCost& cost, std::int64_t tc_free);
  // Cycle the accumulators are final: last compute done plus the drain (start if there is no k-block).
  std::int64_t finish() const;

  const MainloopStats& stats() const { return stats_; }

 private:
  // Whether the release of the buffer load kb (>= stages) reuses is known: the k-block that held it
  // has been priced, and with copies_after_tiles the one after it too.
  bool release_priced(std::int64_t kb) const { return issued_ > kb - stages_ + (after_tiles_ ? 1 : 0); }

  std::int64_t start_;
  std::int64_t k_blocks_;
  int stages_;
  std::int64_t drain_;
  std::int64_t issued_ = 0;
  bool after_tiles_ = false;
  std::vector<std::int64_t> done_;  // release of the last `stages` k-blocks, ring buffer
  std::int64_t last_done_;
  std::int64_t last_issue_;
  std::int64_t loads_issued_ = 0;
  MainloopStats stats_;
};

}  // namespace stcsim
