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
    sc_core::sc_event_or_list& any = any_;
    for (auto* q : inputs_) any |= q->data_written_event();
    current_.assign(inputs_.size(), SmemRequest{});
    left_.assign(inputs_.size(), 0);
    const std::int64_t bpc = smem_.config().bytes_per_clock;
    std::int64_t carry = 0;  // bytes moved beyond whole cycles while busy
    for (;;) {
      std::size_t pick = inputs_.size();
      for (std::size_t i = 0; i < inputs_.size() && pick == inputs_.size(); ++i) {
        const std::size_t c = (next_ + i) % inputs_.size();
        if (left_[c] > 0 || inputs_[c]->num_available() > 0) pick = c;
      }
      if (pick == inputs_.size()) {
        carry = 0;
        sc_core::wait(any);
        continue;
      }
      next_ = (pick + 1) % inputs_.size();
      if (left_[pick] == 0) {
        current_[pick] = inputs_[pick]->read();
        const SmemRequest& r = current_[pick];
        // Counted whole, as the fast model counts it; timed chunk by chunk below.
        if (r.write) {
          smem_.write(r.bytes);
        } else {
          smem_.read(r.bytes, r.ways);
        }
        left_[pick] = std::max<std::int64_t>(1, r.bytes);
      }
      const std::int64_t chunk = std::min(left_[pick], kChunkBytes);
      left_[pick] -= chunk;
      const std::int64_t start = sim_cycle_now();
      // A k-way conflict serialises each wavefront into k bank accesses: the chunk takes k times its
      // share of the bandwidth.
      const std::int64_t cost = chunk * std::max(1, current_[pick].ways);
      const std::int64_t cycles = (carry + cost) / bpc;
      carry = (carry + cost) % bpc;
      const std::int64_t end = start + cycles;
      if (left_[pick] == 0) {
        const SmemRequest& r = current_[pick];
        r.sink->slot_done(r.warp, r.slot, end + (r.write ? 0 : smem_.latency_cycles()));
      }
      if (cycles > 0) sim_wait_until(end);
    }
  } catch (...) {
    fail_(std::current_exception());
  }
}

}  // namespace stcsim
