// The register file of one sub-core as a pipeline stage of the cycle model (docs/model.md, "The
// cycle model"): the operand collector between the warp scheduler's math queue and the tensor core.
// It takes one MMA at a time from its input queue, reads its operand registers through the banked
// ports (RegisterFile::mma_cycles: bank conflicts and the reuse cache included), and passes it on
// when the ports are done; the next MMA's reads start after. Operands an MMA reads from shared memory
// itself (wgmma) are requested here, from the SM's shared-memory unit, and the tensor core waits for
// them (operands_ready), so that fetching one instruction's operands overlaps executing the last.
// A full output queue holds the collector (back-pressure from the tensor core).
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <exception>
#include <functional>

#include "regfile/register_file.h"
#include "sm/cycle_packets.h"

namespace stcsim {

struct OperandCollectorStats {
  std::uint64_t instructions = 0;
  std::uint64_t busy_cycles = 0;     // ports reading an MMA's operands
  std::uint64_t blocked_cycles = 0;  // done with an MMA, its output queue full
  std::uint64_t smem_operand_bytes = 0;

  template <class F>
  void visit(F&& f) {
    f("instructions", instructions);
    f("busy_cycles", busy_cycles);
    f("blocked_cycles", blocked_cycles);
    f("smem_operand_bytes", smem_operand_bytes);
  }
};

class OperandCollector : public sc_core::sc_module, private SlotSink {
 public:
  SC_HAS_PROCESS(OperandCollector);
  OperandCollector(const sc_core::sc_module_name& name, const RegisterFileConfig& cfg, sc_core::sc_fifo<MmaPacket>& in,
                   sc_core::sc_fifo<MmaPacket>& out, sc_core::sc_fifo<SmemRequest>& smem,
                   std::function<void(std::exception_ptr)> fail);

  // Cycle the shared-memory operands of the MMA numbered `seq` are delivered; -1 while unknown.
  std::int64_t operands_ready(std::uint64_t seq) const;
  const sc_core::sc_event& operands_event() const { return operands_event_; }

  RegisterFile& register_file() { return rf_; }
  const RegisterFile& register_file() const { return rf_; }
  const OperandCollectorStats& stats() const { return stats_; }

 private:
  void run();
  void slot_done(int warp, int slot, std::int64_t at) override;

  // Ring of operand-ready cycles by sequence number: larger than the MMAs in flight between the
  // collector and the tensor core (the queues' depths).
  static constexpr std::size_t kRing = 64;

  // Port cycles of the last MMA kinds seen (fragments, A reused): mma_cycles() is a pure function.
  struct Priced {
    MmaFragments fragments;
    bool a_reused = false;
    std::int64_t cycles = -1;
  };
  std::int64_t port_cycles(const MmaFragments& f, bool a_reused);
  std::array<Priced, 4> priced_{};
  std::size_t next_priced_ = 0;

  RegisterFile rf_;
  sc_core::sc_fifo<MmaPacket>& in_;
  sc_core::sc_fifo<MmaPacket>& out_;
  sc_core::sc_fifo<SmemRequest>& smem_;
  std::function<void(std::exception_ptr)> fail_;
  std::array<std::int64_t, kRing> ready_{};
  std::array<std::uint64_t, kRing> ready_seq_{};
  sc_core::sc_event operands_event_;
  OperandCollectorStats stats_;
};

}  // namespace stcsim
