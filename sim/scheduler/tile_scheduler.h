// The global-memory tile scheduler's dispatcher, plain C++ (the SystemC module calls it): hands the
// CTAs of a LaunchPlan, in its order, to SMs as they free up, and reports how the launch fills the
// machine: waves of sms x ctas_per_sm resident CTAs and the spread of work between CTAs.
//
// CTAs per SM follow from the kernel's resources against one SM's: shared memory, warps, registers
// (KernelConfig::register_bytes_per_cta, a lower bound on what a compiled kernel holds) and the
// resident-CTA limit. Dispatch is first-come-first-served; at a launch's start the SMs' slots ask
// breadth-first (every SM's first slot, then every second one: SmModule::slot), so a launch smaller
// than sms x ctas_per_sm spreads over the SMs as a GPU's block scheduler spreads it. Left out: the
// hardware's own policy beyond that (GPC order, clusters' placement).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "config/machine_config.h"
#include "scheduler/launch_plan.h"

namespace stcsim {

struct SchedulerStats {
  std::uint64_t ctas = 0;        // CTAs in the launch
  std::uint64_t slots = 0;       // CTAs resident at once: sms x ctas_per_sm
  std::uint64_t waves = 0;       // ceil(ctas / slots)
  std::uint64_t tail_ctas = 0;   // CTAs in the last wave
  std::uint64_t work_max = 0;    // largest CTA main-loop K (CtaWork::k_work)
  double work_mean = 0.0;        // mean CTA main-loop K
  double imbalance = 1.0;        // work_max / work_mean (1 when there is no work)
  double wave_efficiency = 1.0;  // ctas / (waves x slots): how full the waves are

  template <class F>
  void visit(F&& f) {
    f("ctas", ctas);
    f("slots", slots);
    f("waves", waves);
    f("tail_ctas", tail_ctas);
    f("work_max", work_max);
    f("work_mean", work_mean);
    f("imbalance", imbalance);
    f("wave_efficiency", wave_efficiency);
  }
};

class TileScheduler {
 public:
  // Throws Error if sms or ctas_per_sm is < 1. `plan` must outlive the scheduler. `limit` > 0 hands
  // out only the first `limit` CTAs (a probe timing a few waves of a launch).
  TileScheduler(const LaunchPlan& plan, int sms, int ctas_per_sm, std::size_t limit = 0);

  // The next CTA for SM `sm` (its index in plan.ctas()), or nullopt when all are handed out.
  std::optional<std::size_t> next(int sm);
  std::size_t handed_out() const { return next_; }
  std::size_t remaining() const { return end_ - next_; }
  // CTAs handed to each SM so far.
  const std::vector<std::uint64_t>& per_sm() const { return per_sm_; }
  const SchedulerStats& stats() const { return stats_; }

  // Resident CTAs per SM for a CTA needing `smem_bytes` of shared memory, `threads` threads and
  // `register_bytes` of register file: min(max_ctas, smem / smem_bytes, max_warps / warps,
  // register file / register_bytes), the register bound being the CUDA occupancy calculator's
  // (warps allocated whole). Throws Error when one CTA does not fit.
  static int ctas_per_sm(const MachineConfig& machine, std::int64_t smem_bytes, int threads,
                         std::int64_t register_bytes);
  // The same for the configured kernel (its dense shared-memory bound, threads and registers per CTA).
  static int ctas_per_sm(const MachineConfig& machine);

 private:
  std::size_t next_ = 0;
  std::size_t end_ = 0;  // CTAs handed out in all
  std::vector<std::uint64_t> per_sm_;
  SchedulerStats stats_;
};

// Wave and imbalance figures of a plan on `sms` SMs holding `ctas_per_sm` CTAs each.
SchedulerStats launch_stats(const LaunchPlan& plan, int sms, int ctas_per_sm);

}  // namespace stcsim
