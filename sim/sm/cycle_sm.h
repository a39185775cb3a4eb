// One SM in the cycle model (`stcsim run --model cycle`; docs/model.md, "The cycle model"): the
// same CTA slots, tile scheduler and memory system as the fast model (SmModule, whose slots it
// reuses), but a CTA runs as warps on the SM's sub-cores instead of as a priced main loop.
//
//   sub-core i:  SubCore --math queue--> OperandCollector --> SelectorStage --> TensorCorePipe
//                SubCore --MIO queue--> SharedMemoryUnit (of the SM)
//                OperandCollector --operand queue--> SharedMemoryUnit (wgmma's shared-memory operands)
//   SM:          landing queue (tiles arriving from global memory) --> SharedMemoryUnit
//
// Each arrow is a bounded sc_fifo (arch.sm.math_queue_depth, mio_queue_depth; one entry between the
// collector, the selector and the tensor core, two for operands, one per stage for landing tiles).
// A CTA's warps are dealt to the sub-cores in turn (warp w on sub-core w mod sub_cores) and issue
// their streams (warp_program.h). The CTA keeps its buffers: a k-block's load is requested from the
// memory system when its last copy instruction issues (or the producer warp's TMA copy), its tiles
// land in shared memory through the shared-memory unit at their arrival, and its buffer is free again
// when every compute warp has released it. When all compute warps have finished the epilogue, the C
// tile is stored and the slot takes the next CTA.
// The fast model's per-SM counters are filled from what the modules count (instructions, MACs,
// register and shared-memory accesses), and the CTA's cycles are split into the report's columns
// from its first compute warp's states: mma (issuing, waiting on tensor-core results or a full math
// queue), mem (waiting for tiles or buffers), smem (waiting for shared memory or a full MIO queue),
// epi (the epilogue).
// Left out: the L1 and LSU paths of global loads (the memory system is the fast model's), split-K
// reductions, and thread-block clusters' distributed shared memory (multicast is the memory system's).
#pragma once

#include <systemc>

#include <deque>
#include <memory>
#include <vector>

#include "operand_selector/selector_stage.h"
#include "regfile/operand_collector.h"
#include "sm/shared_memory_unit.h"
#include "sm/sm_module.h"
#include "sm/sub_core.h"
#include "tensor_core/tensor_core_pipe.h"

namespace stcsim {

// The cycle model's own counters of an SM, beyond SmStats: per sub-core and unit.
struct CycleSmStats {
  SubCoreStats sub_cores;                  // summed over sub-cores
  OperandCollectorStats operand_collectors;
  SelectorStageStats selectors;
  TensorCorePipeStats tensor_core_pipes;

  CycleSmStats& operator+=(const CycleSmStats& o);
  // Counter by counter; `o` an earlier snapshot (no counter larger).
  CycleSmStats operator-(const CycleSmStats& o) const;
};

class CycleSm : public SmModule {
 public:
  CycleSm(const sc_core::sc_module_name& name, const MachineConfig& machine, int id, int slots, SmHost& host);
  ~CycleSm() override;

  void start_launch(int slots) override;
  void add_to_waveform(sc_core::sc_trace_file* tf) const override;
  // The modules' counters so far, and per run (as SmModule::per_run()).
  CycleSmStats cycle_stats() const;
  const std::vector<CycleSmStats>& cycle_per_run() const { return cycle_per_run_; }

 protected:
  void run_cta(std::size_t slot, std::size_t cta) override;

 private:
  class Cta;
  void landing(std::size_t slot);
  void fail(std::exception_ptr e);
  void wake_all();
  // The units' counters so far (all launches).
  SmActivity units_now() const;

  template <class T>
  using Fifos = std::vector<std::unique_ptr<sc_core::sc_fifo<T>>>;
  Fifos<MmaPacket> math_, to_selector_, to_tensor_core_;
  Fifos<SmemRequest> mio_, operands_;
  std::unique_ptr<sc_core::sc_fifo<SmemRequest>> landing_q_;
  std::vector<std::unique_ptr<SubCore>> sub_cores_;
  std::vector<std::unique_ptr<OperandCollector>> collectors_;
  std::vector<std::unique_ptr<SelectorStage>> selectors_;
  std::vector<std::unique_ptr<TensorCorePipe>> pipes_;
  std::unique_ptr<SharedMemoryUnit> smem_;

  // The running launch: its tensor cores (one per sub-core), instruction stream spec and MMA prototypes.
  const KBlockCoster* coster_ = nullptr;
  std::vector<std::unique_ptr<TensorCore>> tensor_cores_;
  SmActivity retired_;  // counters of earlier launches' tensor cores
  WarpProgramSpec spec_;
  MmaPacket dense_proto_;
  MmaPacket sparse_proto_;
  SmActivity accounted_;  // counters already handed to the host
  CycleSmStats cycle_accounted_;
  std::vector<CycleSmStats> cycle_per_run_;

  // Per slot: the CTA it runs, and the k-blocks whose tiles are on their way (k-block, arrival).
  std::vector<Cta*> slot_cta_;
  std::vector<std::deque<std::pair<std::int64_t, std::int64_t>>> arrivals_;
  std::vector<std::unique_ptr<sc_core::sc_event>> arrival_event_;
  bool failed_ = false;
};

}  // namespace stcsim
