#include "tensor_core/tensor_core_pipe.h"

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "sm/sm_module.h"

namespace stcsim {

TensorCorePipe::TensorCorePipe(const sc_core::sc_module_name& name, sc_core::sc_fifo<MmaPacket>& in,
                               const OperandCollector& collector, std::function<void(std::exception_ptr)> fail,
                               int units)
    : sc_core::sc_module(name), in_(in), collector_(collector), fail_(std::move(fail)) {
  if (units < 1) throw Error("tensor core: a sub-core needs at least one tensor core");
  unit_free_.assign(static_cast<std::size_t>(units), 0);
  SC_THREAD(run);
}

void TensorCorePipe::add_to_waveform(sc_core::sc_trace_file* tf) const {
  sc_core::sc_trace(tf, busy_, std::string(name()) + ".busy");
}

void TensorCorePipe::run() {
  try {
    std::int64_t free_at = 0;
    for (;;) {
      MmaPacket p = in_.read();
      if (tc_ == nullptr) throw Error("tensor core: an MMA arrived before its launch's tensor core was set");
      const std::int64_t arrived = sim_cycle_now();
      // Idle since the lanes freed: the selector's doing when it was still selecting this MMA.
      if (p.selector_start >= 0 && arrived > free_at) {
        stats_.selector_stall_cycles += static_cast<std::uint64_t>(arrived - std::max(free_at, p.selector_start));
      }
      if (p.smem_bytes > 0) {
        std::int64_t r = collector_.operands_ready(p.seq);
        while (r < 0) {
          sc_core::wait(collector_.operands_event());
          r = collector_.operands_ready(p.seq);
        }
        sim_wait_until(r);
        stats_.operand_stall_cycles += static_cast<std::uint64_t>(sim_cycle_now() - arrived);
      }
      const std::int64_t start = sim_cycle_now();
      const MmaInstr& in = p.instr;
      if (last_occupancy_ < 0 || in.dtype != last_.dtype || in.m != last_.m || in.n != last_.n || in.k != last_.k ||
          in.sparse_n != last_.sparse_n || in.sparse_m != last_.sparse_m) {
        last_ = in;
        last_occupancy_ = tc_->datapath_cycles(in);
        last_latency_ = tc_->pipeline_latency_cycles(in);
      }
      const std::int64_t occupancy = last_occupancy_;
      const std::int64_t done = start + occupancy + last_latency_;
      if (p.counted) tc_->count(p.instr);
      // Functional mode: the MMA's values, as it starts (the warpgroup's counting warp's part stands
      // for the instruction).
      if (p.counted && p.values != nullptr) p.values->mma(*p.pos, *p.work, p.tile, p.kb, p.step, in.nm());
      ++stats_.instructions;
      stats_.busy_cycles += static_cast<std::uint64_t>(occupancy);
      p.sink->slot_done(p.warp, p.dst, done);
      if (p.group >= 0) p.sink->slot_done(p.warp, p.group, done);
      busy_ = true;
      *std::min_element(unit_free_.begin(), unit_free_.end()) = start + occupancy;
      // The next MMA is taken when a unit is free.
      free_at = *std::min_element(unit_free_.begin(), unit_free_.end());
      sim_wait_until(free_at);
      busy_ = false;
    }
  } catch (...) {
    fail_(std::current_exception());
  }
}

}  // namespace stcsim
