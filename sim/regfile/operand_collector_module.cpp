#include "regfile/operand_collector.h"

#include <algorithm>

#include "common/error.h"
#include "sm/sm_module.h"

namespace stcsim {

OperandCollector::OperandCollector(const sc_core::sc_module_name& name, const RegisterFileConfig& cfg,
                                   sc_core::sc_fifo<MmaPacket>& in, sc_core::sc_fifo<MmaPacket>& out,
                                   sc_core::sc_fifo<SmemRequest>& smem, std::function<void(std::exception_ptr)> fail)
    : sc_core::sc_module(name), rf_(cfg), in_(in), out_(out), smem_(smem), fail_(std::move(fail)) {
  ready_.fill(-1);
  ready_seq_.fill(~std::uint64_t{0});
  SC_THREAD(run);
}

std::int64_t OperandCollector::operands_ready(std::uint64_t seq) const {
  const std::size_t i = seq % kRing;
  return ready_seq_[i] == seq ? ready_[i] : -1;
}

void OperandCollector::slot_done(int /*warp*/, int slot, std::int64_t at) {
  // slot carries the MMA's sequence number modulo the ring; warp is unused.
  const auto i = static_cast<std::size_t>(slot);
  ready_[i] = at;
  operands_event_.notify(sc_core::SC_ZERO_TIME);
}

std::int64_t OperandCollector::port_cycles(const MmaFragments& f, bool a_reused) {
  for (const Priced& p : priced_) {
    if (p.cycles >= 0 && p.a_reused == a_reused && p.fragments == f) return p.cycles;
  }
  Priced& p = priced_[next_priced_++ % priced_.size()];
  p = {f, a_reused, rf_.mma_cycles(f, a_reused)};
  return p.cycles;
}

void OperandCollector::run() {
  try {
    for (;;) {
      MmaPacket p = in_.read();
      const std::int64_t start = sim_cycle_now();
      if (p.smem_bytes > 0) {
        const std::size_t i = p.seq % kRing;
        ready_seq_[i] = p.seq;
        ready_[i] = -1;
        smem_.write({p.smem_bytes, false, this, 0, static_cast<int>(i)});
        stats_.smem_operand_bytes += static_cast<std::uint64_t>(p.smem_bytes);
      }
      const std::int64_t cycles = rf_.deliver_one(p.fragments, p.a_reused, p.metadata_bits, port_cycles(p.fragments, p.a_reused));
      ++stats_.instructions;
      stats_.busy_cycles += static_cast<std::uint64_t>(cycles);
      sim_wait_until(start + cycles);
      const std::int64_t done = sim_cycle_now();
      out_.write(p);
      stats_.blocked_cycles += static_cast<std::uint64_t>(sim_cycle_now() - done);
    }
  } catch (...) {
    fail_(std::current_exception());
  }
}

}  // namespace stcsim
