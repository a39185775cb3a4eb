// Dynamic processes: one thread per CTA slot, spawned while the module is built.
#define SC_INCLUDE_DYNAMIC_PROCESSES

#include "gpu/gpu_module.h"

#include <algorithm>

#include "memory/l2_tile_key.h"

namespace stcsim {

namespace {
const sc_core::sc_time kCycle(1, sc_core::SC_NS);  // one core cycle of simulated time
}  // namespace

GpuModule::GpuModule(const sc_core::sc_module_name& name, const MachineConfig& machine)
    : sc_core::sc_module(name), machine_(machine), memory_(machine.arch) {
  ctas_per_sm_ = TileScheduler::ctas_per_sm(machine);
  tc_free_.assign(static_cast<std::size_t>(machine.arch.sms), 0);
  SC_THREAD(controller);
  for (int sm = 0; sm < machine.arch.sms; ++sm) {
    for (int s = 0; s < ctas_per_sm_; ++s) {
      sc_core::sc_spawn([this, sm] { slot(sm); });
    }
  }
}

void GpuModule::add_launch(const LaunchPlan& plan, const KBlockCoster& coster) { launches_.push_back({&plan, &coster}); }

std::int64_t GpuModule::now() const {
  return static_cast<std::int64_t>(sc_core::sc_time_stamp() / kCycle);
}

void GpuModule::wait_until(std::int64_t cycle) {
  const std::int64_t t = now();
  if (cycle > t) wait(kCycle * static_cast<double>(cycle - t));
}

void GpuModule::controller() {
  for (current_ = 0; current_ < launches_.size(); ++current_) {
    const Launch& l = launches_[current_];
    results_.emplace_back();
    scheduler_ = std::make_unique<TileScheduler>(*l.plan, machine_.arch.sms, ctas_per_sm_);
    launch_start_ = launch_end_ = now();
    active_ = machine_.arch.sms * ctas_per_sm_;
    go_.notify(sc_core::SC_ZERO_TIME);
    wait(done_);
    // The launch ends with its last C store; the next one starts then.
    wait_until(launch_end_);
    results_.back().cycles = static_cast<std::uint64_t>(launch_end_ - launch_start_);
  }
}

void GpuModule::slot(int sm) {
  for (;;) {
    wait(go_);
    while (const auto c = scheduler_->next(sm)) run_cta(sm, *c);
    if (--active_ == 0) done_.notify(sc_core::SC_ZERO_TIME);
  }
}

void GpuModule::run_cta(int sm, std::size_t cta) {
  const Launch& l = launches_[current_];
  const LaunchPlan& plan = *l.plan;
  const CtaPos& pos = plan.ctas()[cta];
  const CtaWork& w = plan.work_of(pos);
  LaunchStats& st = results_.back();
  const auto launch = static_cast<std::int64_t>(current_);
  auto& tc_free = tc_free_[static_cast<std::size_t>(sm)];

  Mainloop ml(now(), w.k_blocks(), machine_.kernel.stages, l.coster->drain_cycles());
  for (std::int64_t i = 0; i < w.k_blocks(); ++i) {
    wait_until(ml.next_load_issue());
    const KBlock& kb = w.kblock(i);
    const std::vector<TileRequest> tiles = {{l2_key(plan.s_key(pos, i), launch), static_cast<std::int64_t>(kb.s_bytes)},
                                            {l2_key(plan.d_key(pos, i), launch), static_cast<std::int64_t>(kb.d_bytes)}};
    const std::int64_t arrival = memory_.load(now(), sm, tiles);
    const KBlockCost cost = l.coster->cost(kb);
    tc_free = ml.load_arrived(arrival, cost, tc_free);
    st.tc_busy_cycles += static_cast<std::uint64_t>(cost.tensor_core);
    st.dense_mmas += static_cast<std::uint64_t>(kb.dense_mmas);
    st.sparse_mmas += static_cast<std::uint64_t>(kb.sparse_mmas);
    st.kept_macs += kb.kept_macs;
    st.s_bytes += kb.s_bytes;
    st.d_bytes += kb.d_bytes;
  }
  wait_until(ml.finish());
  const std::int64_t stored = memory_.store(
      now(), sm, c_tile_key(launch, pos.row_block, pos.col_block, pos.copy, pos.split), static_cast<std::int64_t>(w.c_bytes));
  launch_end_ = std::max(launch_end_, stored);
  st.c_bytes += w.c_bytes;
  ++st.ctas;
  st.mainloop += ml.stats();
}

}  // namespace stcsim
