#include "sm/shared_memory_unit.h"

#include <algorithm>

#include "common/error.h"
#include "sm/sm_module.h"

namespace stcsim {

SharedMemoryUnit::SharedMemoryUnit(const sc_core::sc_module_name& name, const SharedMemoryConfig& cfg,
                                   std::vector<sc_core::sc_fifo<SmemRequest>*> inputs,
                                   std::function<void(std::exception_ptr)> fail)
    : sc_core::sc_module(name), smem_(cfg), inputs_(std::move(inputs)), fail_(std::move(fail)) {
  if (inputs_.empty()) throw Error("shared memory unit: no input queue");
  SC_THREAD(run);
}

void SharedMemoryUnit::run() {
  try {
    sc_core::sc_event_or_list any;
    for (auto* q : inputs_) any |= q->data_written_event();
    for (;;) {
      sc_core::sc_fifo<SmemRequest>* q = nullptr;
      for (std::size_t i = 0; i < inputs_.size() && q == nullptr; ++i) {
        auto* c = inputs_[(next_ + i) % inputs_.size()];
        if (c->num_available() > 0) {
          q = c;
          next_ = (next_ + i + 1) % inputs_.size();
        }
      }
      if (q == nullptr) {
        sc_core::wait(any);
        continue;
      }
      const SmemRequest r = q->read();
      const std::int64_t start = sim_cycle_now();
      const std::int64_t cycles = r.write ? smem_.write(r.bytes) : smem_.read(r.bytes);
      const std::int64_t done = start + cycles + (r.write ? 0 : smem_.latency_cycles());
      r.sink->slot_done(r.warp, r.slot, done);
      sim_wait_until(start + std::max<std::int64_t>(1, cycles));
    }
  } catch (...) {
    fail_(std::current_exception());
  }
}

}  // namespace stcsim
