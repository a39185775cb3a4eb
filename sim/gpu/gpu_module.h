// The GPU as SystemC sees it: SM modules (sm/sm_module.h) whose CTA slots take CTAs from the global
// tile scheduler, and the memory system they share (docs/model.md, "Timing"). Launches run one after
// another in one elaboration: a controller publishes each launch plan, the SMs play their CTAs' main
// loops in simulated time, and the launch ends with its last CTA's C store. A launch can ask for a
// fresh memory system (cold L2, idle links), so that independent runs (dense and 2:4 of one trace)
// do not see each other.
// Left out: the functional path (functional/), and the launch overhead between kernels.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <vector>

#include "config/machine_config.h"
#include "gpu/sim_model.h"
#include "memory/memory_system.h"
#include "scheduler/launch_plan.h"
#include "scheduler/tile_scheduler.h"
#include "sm/kblock_cost.h"
#include "sm/sm_module.h"

namespace stcsim {

// What one launch did.
struct LaunchStats {
  std::uint64_t cycles = 0;   // launch start to last C store
  SmStats sm;                 // summed over SMs
  MemoryStats memory;         // this launch's requests
  SchedulerStats scheduler;   // waves and imbalance of the CTA list
  std::uint64_t ctas = 0;
  std::uint64_t dense_mmas = 0;
  std::uint64_t sparse_mmas = 0;
  std::uint64_t kept_macs = 0;
  std::uint64_t s_bytes = 0;
  std::uint64_t d_bytes = 0;
  std::uint64_t c_bytes = 0;
  std::size_t choice = 0;     // add_launch_choice: the option it ran (0 for a plain launch)
  // A probe of a few waves (add_probe): the cycles the whole launch would take, the waves run plus
  // each further wave at the pace of the last one run (its end minus the moment its last CTA was
  // handed out, which is when the wave before it began to drain); `cycles` for a launch run whole.
  std::uint64_t estimated_cycles = 0;
  bool truncated = false;     // a probe that ran only its first waves
};

class GpuModule : public sc_core::sc_module, private SmHost {
 public:
  SC_HAS_PROCESS(GpuModule);
  // `slots`: CTA
  // slots per SM, the most any queued launch's kernel fits (0: as many as `machine`'s kernel fits).
  // Each launch then uses as many as its own kernel (its coster's machine) fits.
  // `model`: which SM model plays the CTAs (gpu/sim_model.h).
  GpuModule(const sc_core::sc_module_name& name, const MachineConfig& machine, int slots = 0,
            SimModel model = SimModel::fast);

  // Queue a launch before sc_start(); the plan and coster must outlive the simulation. With
  // `fresh_memory` the launch starts on a new memory system (its stats restart too). `values`
  // (functional mode, cycle model only; it must outlive the simulation) computes its MMAs.
  void add_launch(const LaunchPlan& plan, const KBlockCoster& coster, bool fresh_memory = false,
                  MmaValues* values = nullptr);
  // A launch that times `plan` for a launch choice, on a fresh memory system: when every CTA of the
  // plan has equal work, only its first `waves` waves of CTAs (0: all; at least 2 when truncated) run,
  // and the whole launch's cycles are estimated from them (LaunchStats::estimated_cycles).
  void add_probe(const LaunchPlan& plan, const KBlockCoster& coster, int waves);
  // One way to run a launch: a plan, the coster of its kernel, and the launch that timed it.
  struct Option {
    const LaunchPlan* plan = nullptr;
    const KBlockCoster* coster = nullptr;
    std::size_t probe = 0;
    MmaValues* values = nullptr;  // as add_launch's
  };
  // A launch that runs whichever option's probe launch (queued before it) took the fewest cycles, the
  // first of them on a tie: kernel selection and the dense fallback, each probe a timing of one
  // kernel on the line alone. Throws Error when `options` is empty or a probe is not queued yet.
  void add_launch_choice(const std::vector<Option>& options, bool fresh_memory = false);
  std::size_t queued() const { return queued_.size(); }
  // Waveform of the main signals: each SM's resident CTAs and k-block loads, the launch number, and
  // the DRAM and L2 backlogs (cycles of queued transfer). Call before sc_start().
  void add_to_waveform(sc_core::sc_trace_file* tf) const;

  const std::vector<LaunchStats>& results() const { return results_; }
  // The first error a slot hit, and the launch it was in; null when none (the simulation then ran
  // every launch).
  std::exception_ptr error() const { return error_; }
  std::size_t error_launch() const { return error_launch_; }
  const std::vector<std::unique_ptr<SmModule>>& sms() const { return sms_; }
  // The memory system of the most recent launch.
  const MemorySystem& memory() const { return *memory_; }
  // Memory stats (and L2 and link stats) of each memory system used, in order: one per run of
  // launches that started with fresh_memory.
  struct MemorySnapshot {
    MemoryStats memory;
    L2CacheStats l2;
    BandwidthServerStats l2_link;
    BandwidthServerStats dram_link;
  };
  const std::vector<MemorySnapshot>& memory_totals() const { return memory_totals_; }

 private:
  struct Queued {
    const LaunchPlan* plan;
    const KBlockCoster* coster;
    bool fresh_memory;
    std::vector<Option> options;  // a choice: empty for a plain launch
    int probe_waves = 0;          // a probe: waves to run (0: all)
    MmaValues* values = nullptr;  // functional mode: computes its MMAs
  };

  void controller();
  void snapshot_memory();
  // SmHost
  const Launch& launch() const override { return launch_; }
  std::optional<std::size_t> next_cta(int sm) override;
  std::int64_t load(std::int64_t now, int sm, const std::vector<TileRequest>& tiles) override;
  std::int64_t store(std::int64_t now, int sm, const L2TileKey& key, std::int64_t bytes) override;
  void slot_finished() override;
  void fail(std::exception_ptr e) override;
  void account(const SmStats& delta) override { launch_sm_ += delta; }

  const MachineConfig& machine_;
  std::unique_ptr<MemorySystem> memory_;
  int slots_ = 1;  // CTA slots built per SM
  std::vector<std::unique_ptr<SmModule>> sms_;
  std::vector<Queued> queued_;
  std::vector<LaunchStats> results_;
  std::vector<MemorySnapshot> memory_totals_;
  Launch launch_;
  std::vector<SmActivity> work_activity_;
  SmStats launch_sm_;  // the current launch's SM counters, summed over SMs
  std::unique_ptr<TileScheduler> scheduler_;
  int active_ = 0;
  std::int64_t last_handout_ = 0;  // when the scheduler handed out its last CTA of this launch
  std::int64_t launch_end_ = 0;
  int launch_number_ = -1;             // traced
  std::int64_t dram_backlog_ = 0;      // traced: cycles of DRAM transfer queued after the last request
  std::int64_t l2_backlog_ = 0;        // traced
  sc_core::sc_event done_;
  std::exception_ptr error_;
  std::size_t error_launch_ = 0;
};

}  // namespace stcsim
