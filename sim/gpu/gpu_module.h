// The GPU as SystemC sees it: SMs whose CTA slots each run one SC_THREAD, the global-memory tile
// scheduler handing them CTAs, and the memory system they share (docs/model.md, "Timing"). Launches
// run one after another in one elaboration: a controller publishes each launch plan, the slots play
// their CTAs' main loops in simulated time (waiting until each load may issue, so the memory system
// sees requests in time order), and the launch ends with its last CTA's C store.
// Left out here: energy (report/ turns the counters into joules) and the functional path.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <vector>

#include "config/machine_config.h"
#include "memory/memory_system.h"
#include "scheduler/launch_plan.h"
#include "scheduler/tile_scheduler.h"
#include "sm/kblock_cost.h"
#include "sm/mainloop.h"

namespace stcsim {

// What one launch did.
struct LaunchStats {
  std::uint64_t cycles = 0;  // first CTA start to last C store
  MainloopStats mainloop;    // summed over CTAs
  std::uint64_t ctas = 0;
  std::uint64_t dense_mmas = 0;
  std::uint64_t sparse_mmas = 0;
  std::uint64_t kept_macs = 0;
  std::uint64_t s_bytes = 0;
  std::uint64_t d_bytes = 0;
  std::uint64_t c_bytes = 0;
  std::uint64_t tc_busy_cycles = 0;  // summed over SMs
};

class GpuModule : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(GpuModule);
  GpuModule(const sc_core::sc_module_name& name, const MachineConfig& machine);

  // Queue a launch before sc_start(); the plan and coster must outlive the simulation.
  void add_launch(const LaunchPlan& plan, const KBlockCoster& coster);
  const std::vector<LaunchStats>& results() const { return results_; }
  const MemorySystem& memory() const { return memory_; }

 private:
  struct Launch {
    const LaunchPlan* plan;
    const KBlockCoster* coster;
  };

  void controller();
  void slot(int sm);
  void run_cta(int sm, std::size_t cta);
  void wait_until(std::int64_t cycle);
  std::int64_t now() const;

  const MachineConfig& machine_;
  MemorySystem memory_;
  int ctas_per_sm_ = 1;
  std::vector<Launch> launches_;
  std::vector<LaunchStats> results_;
  std::unique_ptr<TileScheduler> scheduler_;
  std::size_t current_ = 0;
  int active_ = 0;
  std::vector<std::int64_t> tc_free_;  // per SM: cycle its tensor cores are next free
  std::int64_t launch_start_ = 0;
  std::int64_t launch_end_ = 0;
  sc_core::sc_event go_;
  sc_core::sc_event done_;
};

}  // namespace stcsim
