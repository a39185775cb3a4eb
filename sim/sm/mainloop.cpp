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

Mainloop::Mainloop(std::int64_t start, std::int64_t k_blocks, int stages, std::int64_t drain, bool copies_after_tiles)
    : start_(start),
      k_blocks_(k_blocks),
      stages_(stages),
      drain_(drain),
      after_tiles_(copies_after_tiles),
      last_done_(start),
      last_issue_(start) {
  if (k_blocks < 0 || stages < 1 || drain < 0) throw Error("main loop: k_blocks >= 0, stages >= 1 and drain >= 0 needed");
  if (copies_after_tiles && stages < 2) throw Error("main loop: copies after the tiles they wait for need stages >= 2");
  done_.assign(static_cast<std::size_t>(stages), start);
}

std::int64_t Mainloop::next_load_issue(std::int64_t issue_cycles) const {
  const std::int64_t issue = std::max<std::int64_t>(0, issue_cycles);
  // The next load is k-block loads_issued_, or (callers that do not report issues) issued_.
  const std::int64_t kb = std::max(loads_issued_, issued_);
  if (kb < stages_) return std::max(start_, last_issue_) + issue;
  if (!release_priced(kb)) throw Error("main loop: a load's buffer is asked for before its release was priced");
  // The buffer of k-block (kb - stages) frees at its release.
  return std::max({start_, last_issue_, done_[static_cast<std::size_t>(kb % stages_)]}) + issue;
}

std::int64_t Mainloop::load_arrived(std::int64_t arrival, const KBlockCost& priced, std::int64_t tc_free) {
  if (!loads_left()) throw Error("main loop: more k-blocks arrived than the CTA has");
  const std::int64_t ready = std::max(last_done_, tc_free);
  const std::int64_t landing = std::max<std::int64_t>(0, priced.landing);
  const std::int64_t tiles = arrival + landing;
  const std::int64_t begin = std::max(tiles, ready);
  // The k-block's shared-memory term counts its tiles' writes; the part of the landing that the
  // tensor cores sat out waiting for (nothing else then used shared memory) is behind it already.
  KBlockCost cost = priced;
  const std::int64_t alone = std::clamp<std::int64_t>(tiles - std::max(arrival, ready), 0, landing);
  cost.smem = std::max<std::int64_t>(0, cost.smem - alone);
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
  // The previous k-block's buffer is released once this one's tiles are in and the warps have issued
  // what comes between (copies_after_tiles); this one's provisionally when its compute is done.
  if (after_tiles_ && issued_ > 0) {
    auto& prev = done_[static_cast<std::size_t>((issued_ - 1) % stages_)];
    prev = std::max(prev, tiles + std::max<std::int64_t>(0, cost.release_tail));
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
