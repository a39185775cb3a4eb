#include "operand_selector/selector_stage.h"

#include "common/error.h"
#include "sm/sm_module.h"

namespace stcsim {

SelectorStage::SelectorStage(const sc_core::sc_module_name& name, sc_core::sc_fifo<MmaPacket>& in,
                             sc_core::sc_fifo<MmaPacket>& out, std::function<void(std::exception_ptr)> fail)
    : sc_core::sc_module(name), in_(in), out_(out), fail_(std::move(fail)) {
  SC_THREAD(run);
}

void SelectorStage::run() {
  try {
    for (;;) {
      MmaPacket p = in_.read();
      if (tc_ == nullptr) throw Error("operand selector: an MMA arrived before its launch's tensor core was set");
      const std::int64_t cycles = tc_->selector_cycles(p.instr);
      if (cycles > 0) {
        p.selector_start = sim_cycle_now();
        ++stats_.instructions;
        stats_.busy_cycles += static_cast<std::uint64_t>(cycles);
        sim_wait_until(p.selector_start + cycles);
      }
      out_.write(p);
    }
  } catch (...) {
    fail_(std::current_exception());
  }
}

}  // namespace stcsim
