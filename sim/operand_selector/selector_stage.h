// The operand selector as its own pipeline stage of the cycle model (docs/model.md, "The cycle
// model"), between a sub-core's operand collector and its tensor core. A sparse MMA occupies it for
// TensorCore::selector_cycles (its kept products over selections_per_clock); a dense MMA bypasses it.
// When the selector is slower than the datapath, the tensor core waits on it: the tensor core counts
// those cycles as selector stalls (TensorCorePipe). A full output queue holds it.
#pragma once

#include <systemc>

#include <cstdint>
#include <exception>
#include <functional>

#include "sm/cycle_packets.h"
#include "tensor_core/tensor_core.h"

namespace stcsim {

struct SelectorStageStats {
  std::uint64_t instructions = 0;  // sparse MMAs selected
  std::uint64_t busy_cycles = 0;

  template <class F>
  void visit(F&& f) {
    f("instructions", instructions);
    f("busy_cycles", busy_cycles);
  }
};

class SelectorStage : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(SelectorStage);
  SelectorStage(const sc_core::sc_module_name& name, sc_core::sc_fifo<MmaPacket>& in, sc_core::sc_fifo<MmaPacket>& out,
                std::function<void(std::exception_ptr)> fail);
  // The tensor core whose selector timing applies (the running launch's); set before MMAs arrive.
  void set_tensor_core(const TensorCore* tc) { tc_ = tc; }
  const SelectorStageStats& stats() const { return stats_; }

 private:
  void run();

  sc_core::sc_fifo<MmaPacket>& in_;
  sc_core::sc_fifo<MmaPacket>& out_;
  std::function<void(std::exception_ptr)> fail_;
  const TensorCore* tc_ = nullptr;
  SelectorStageStats stats_;
};

}  // namespace stcsim
