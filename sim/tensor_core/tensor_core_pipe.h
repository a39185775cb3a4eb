// One tensor core's datapath as a pipeline stage of the cycle model (docs/model.md, "The cycle
// model"): it takes an MMA from the operand selector's queue once the previous one's occupancy has
// elapsed and its shared-memory operands (wgmma) have arrived, holds the lanes for
// TensorCore::datapath_cycles, and writes the accumulator (and the commit group) back to the issuing
// warp's scoreboard pipeline_latency_cycles after that. A sub-core with several tensor cores (Volta's
// two) runs one MMA on each at once. In order: instructions start in the order
// they arrive. While it waits, it says on what: no instruction (an empty queue), the operand
// selector still working on the next one, or shared-memory operands.
#pragma once

#include <systemc>

#include <cstdint>
#include <exception>
#include <functional>
#include <vector>

#include "regfile/operand_collector.h"
#include "sm/cycle_packets.h"
#include "tensor_core/tensor_core.h"

namespace stcsim {

struct TensorCorePipeStats {
  std::uint64_t instructions = 0;         // MMAs executed (each warp's part of a wgmma counts)
  std::uint64_t busy_cycles = 0;          // lanes busy
  std::uint64_t selector_stall_cycles = 0;  // idle while the selector finished the next MMA
  std::uint64_t operand_stall_cycles = 0;   // idle waiting for shared-memory operands

  template <class F>
  void visit(F&& f) {
    f("instructions", instructions);
    f("busy_cycles", busy_cycles);
    f("selector_stall_cycles", selector_stall_cycles);
    f("operand_stall_cycles", operand_stall_cycles);
  }
};

class TensorCorePipe : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(TensorCorePipe);
  // `units`: the sub-core's tensor cores that take its instructions (2 on Volta, else 1): an MMA
  // starts on the first one free, so `units` MMAs can run at once.
  TensorCorePipe(const sc_core::sc_module_name& name, sc_core::sc_fifo<MmaPacket>& in, const OperandCollector& collector,
                 std::function<void(std::exception_ptr)> fail, int units = 1);
  // The running launch's tensor core (its instruction family and rates); its stats count the work.
  void set_tensor_core(TensorCore* tc) {
    tc_ = tc;
    last_occupancy_ = -1;
  }
  const TensorCorePipeStats& stats() const { return stats_; }
  // Waveform: 1 while an MMA occupies the lanes.
  void add_to_waveform(sc_core::sc_trace_file* tf) const;

 private:
  void run();

  sc_core::sc_fifo<MmaPacket>& in_;
  const OperandCollector& collector_;
  std::function<void(std::exception_ptr)> fail_;
  TensorCore* tc_ = nullptr;
  // Cycle each tensor core of the sub-core is free. Members, not the thread's locals: a SystemC thread
  // never returns, so what its stack holds is never freed.
  std::vector<std::int64_t> unit_free_;
  // The last instruction's timing (a launch issues one or two kinds): datapath and latency cycles.
  MmaInstr last_{};
  std::int64_t last_occupancy_ = -1;
  std::int64_t last_latency_ = 0;
  TensorCorePipeStats stats_;
  bool busy_ = false;  // traced
};

}  // namespace stcsim
