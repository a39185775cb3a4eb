#include "sm/mainloop.h"

#include <algorithm>

#include "common/error.h"

namespace stcsim {

MainloopStats& MainloopStats::operator+=(const MainloopStats& o) {
  mma_cycles += o.mma_cycles;
  regfile_stall_cycles += o.regfile_stall_cycles;
  smem_stall_cycles += o.smem_stall_cycles;
  memory_stall_cycles += o.memory_stall_cycles;
  pipeline_cycles += o.pipeline_cycles;
  epilogue_cycles += o.epilogue_cycles;
  k_blocks += o.k_blocks;
  return *this;
}

std::int64_t KBlockCost::cycles() const { return std::max({tensor_core, regfile, smem}); }

Mainloop::Mainloop(std::int64_t start, std::int64_t k_blocks, int stages, std::int64_t drain)
    : start_(start), k_blocks_(k_blocks), stages_(stages), drain_(drain), last_done_(start), last_issue_(start) {
  if (k_blocks < 0 || stages < 1 || drain < 0) throw Error("main loop: k_blocks >= 0, stages >= 1 and drain >= 0 needed");
  done_.assign(static_cast<std::size_t>(stages), start);
}

std::int64_t Mainloop::next_load_issue(std::int64_t issue_cycles) const {
  const std::int64_t after = last_issue_ + std::max<std::int64_t>(0, issue_cycles);
  // The next load is k-block loads_issued_, or (callers that do not report issues) issued_.
  const std::int64_t kb = std::max(loads_issued_, issued_);
  if (kb < stages_) return std::max(start_, after);
  if (issued_ <= kb - stages_) throw Error("main loop: a load's buffer is asked for before its last k-block was priced");
  // The buffer of k-block (kb - stages) frees when its compute is done.
  return std::max({start_, after, done_[static_cast<std::size_t>(kb % stages_)]});
}

std::int64_t Mainloop::load_arrived(std::int64_t arrival, const KBlockCost& cost, std::int64_t tc_free) {
  if (!loads_left()) throw Error("main loop: more k-blocks arrived than the CTA has");
  const std::int64_t ready = std::max(last_done_, tc_free);
  const std::int64_t begin = std::max(arrival, ready);
  const std::int64_t done = begin + cost.cycles();
  stats_.memory_stall_cycles += static_cast<std::uint64_t>(begin - ready);
  stats_.mma_cycles += static_cast<std::uint64_t>(cost.tensor_core);
  const std::int64_t beyond = cost.cycles() - cost.tensor_core;
  // The excess goes to whichever of the register file and shared memory set the k-block's length.
  if (beyond > 0) {
    if (cost.regfile >= cost.smem) {
      stats_.regfile_stall_cycles += static_cast<std::uint64_t>(beyond);
    } else {
      stats_.smem_stall_cycles += static_cast<std::uint64_t>(beyond);
    }
  }
  done_[static_cast<std::size_t>(issued_ % stages_)] = done;
  last_done_ = done;
  ++issued_;
  ++stats_.k_blocks;
  if (!loads_left()) stats_.pipeline_cycles += static_cast<std::uint64_t>(drain_);
  return done;
}

std::int64_t Mainloop::finish() const {
  if (k_blocks_ == 0) return start_;
  return last_done_ + drain_;
}

}  // namespace stcsim
