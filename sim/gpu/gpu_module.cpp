#include "gpu/gpu_module.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "common/error.h"
#include "common/stats_ops.h"
#include "sm/cycle_sm.h"

namespace stcsim {

GpuModule::GpuModule(const sc_core::sc_module_name& name, const MachineConfig& machine, int slots,
                     SimModel model)
    : sc_core::sc_module(name), machine_(machine), memory_(std::make_unique<MemorySystem>(machine.arch)) {
  slots_ = slots > 0 ? slots : TileScheduler::ctas_per_sm(machine);
  for (int sm = 0; sm < machine.arch.sms; ++sm) {
    const std::string n = "sm" + std::to_string(sm);
    if (model == SimModel::cycle) {
      sms_.push_back(std::make_unique<CycleSm>(n.c_str(), machine, sm, slots_, static_cast<SmHost&>(*this)));
    } else {
      sms_.push_back(std::make_unique<SmModule>(n.c_str(), machine, sm, slots_, static_cast<SmHost&>(*this)));
    }
  }
  SC_THREAD(controller);
}

void GpuModule::add_launch(const LaunchPlan& plan, const KBlockCoster& coster, bool fresh_memory, MmaValues* values) {
  queued_.push_back({&plan, &coster, fresh_memory, {}, 0, values});
}

void GpuModule::add_probe(const LaunchPlan& plan, const KBlockCoster& coster, int waves) {
  queued_.push_back({&plan, &coster, true, {}, waves <= 0 ? 0 : std::max(2, waves), nullptr});
}

std::optional<std::size_t> GpuModule::next_cta(int sm) {
  const std::optional<std::size_t> c = scheduler_->next(sm);
  if (c && scheduler_->remaining() == 0) last_handout_ = sim_cycle_now();
  return c;
}

void GpuModule::add_launch_choice(const std::vector<Option>& options, bool fresh_memory) {
  if (options.empty()) throw Error("gpu: a launch choice needs at least one option");
  for (const Option& o : options) {
    if (o.probe >= queued_.size()) throw Error("gpu: a launch choice names a probe launch that is not queued before it");
  }
  queued_.push_back({options[0].plan, options[0].coster, fresh_memory, options, 0, options[0].values});
}

void GpuModule::add_to_waveform(sc_core::sc_trace_file* tf) const {
  const std::string base = name();
  sc_core::sc_trace(tf, launch_number_, base + ".launch");
  sc_core::sc_trace(tf, dram_backlog_, base + ".memory.dram_backlog_cycles");
  sc_core::sc_trace(tf, l2_backlog_, base + ".memory.l2_backlog_cycles");
  for (const auto& sm : sms_) sm->add_to_waveform(tf);
}

std::int64_t GpuModule::load(std::int64_t now, int sm, const std::vector<TileRequest>& tiles) {
  const std::int64_t done = memory_->load(now, sm, tiles);
  dram_backlog_ = std::max<std::int64_t>(0, memory_->dram_link().free_at() - now);
  l2_backlog_ = std::max<std::int64_t>(0, memory_->l2_link().free_at() - now);
  return done;
}

std::int64_t GpuModule::store(std::int64_t now, int sm, const L2TileKey& key, std::int64_t bytes) {
  const std::int64_t done = memory_->store(now, sm, key, bytes);
  launch_end_ = std::max(launch_end_, done);
  return done;
}

void GpuModule::slot_finished() {
  if (--active_ == 0) done_.notify(sc_core::SC_ZERO_TIME);
}

void GpuModule::fail(std::exception_ptr e) {
  if (!error_) {
    error_ = e;
    error_launch_ = static_cast<std::size_t>(launch_.index);
  }
  sc_core::sc_stop();
}

void GpuModule::snapshot_memory() {
  memory_totals_.push_back({memory_->stats(), memory_->l2().stats(), memory_->l2_link().stats(), memory_->dram_link().stats()});
}

void GpuModule::controller() {
  std::size_t first_on_memory = 0;  // first launch on the current memory system
  std::int64_t run = 0;
  for (std::size_t i = 0; i < queued_.size(); ++i) {
    Queued q = queued_[i];
    std::size_t choice = 0;
    for (std::size_t o = 1; o < q.options.size(); ++o) {
      if (results_.at(q.options[o].probe).estimated_cycles < results_.at(q.options[choice].probe).estimated_cycles) {
        choice = o;
      }
    }
    if (!q.options.empty()) {
      q.plan = q.options[choice].plan;
      q.coster = q.options[choice].coster;
      q.values = q.options[choice].values;
    }
    const int slots = TileScheduler::ctas_per_sm(q.coster->machine());
    if (slots > slots_) {
      launch_.index = static_cast<std::int64_t>(i);
      fail(std::make_exception_ptr(Error(fmt::format(
          "gpu: launch {} fits {} CTAs per SM; the SMs were built with {} slots", i, slots, slots_))));
      return;
    }
    if (q.fresh_memory && i > 0) {
      snapshot_memory();
      memory_ = std::make_unique<MemorySystem>(machine_.arch);
      first_on_memory = i;
      ++run;
    }
    work_activity_.clear();
    for (const CtaWork& w : q.plan->work()) work_activity_.push_back(q.coster->activity(w));
    launch_ = Launch{q.plan, q.coster, static_cast<std::int64_t>(i), static_cast<std::int64_t>(i - first_on_memory),
                     &work_activity_, run, q.values};
    launch_sm_ = SmStats{};
    // A probe of a launch whose CTAs all do the same work runs its first waves only.
    const SchedulerStats whole = launch_stats(*q.plan, machine_.arch.sms, slots);
    std::size_t limit = 0;
    if (q.probe_waves > 0 && whole.imbalance <= 1.0 &&
        whole.waves > static_cast<std::uint64_t>(q.probe_waves)) {
      limit = static_cast<std::size_t>(whole.slots) * static_cast<std::size_t>(q.probe_waves);
    }
    scheduler_ = std::make_unique<TileScheduler>(*q.plan, machine_.arch.sms, slots, limit);
    const MemoryStats before = memory_->stats();
    const std::int64_t start = sim_cycle_now();
    launch_end_ = start;
    last_handout_ = start;
    launch_number_ = static_cast<int>(i);
    active_ = machine_.arch.sms * slots;
    for (auto& sm : sms_) sm->start_launch(slots);
    sc_core::wait(done_);
    // The launch ends with its last C store; the next one starts then.
    sim_wait_until(launch_end_);

    LaunchStats st;
    st.choice = choice;
    st.cycles = static_cast<std::uint64_t>(launch_end_ - start);
    st.truncated = limit > 0;
    // The waves run, then each further one at the pace of the last (from its last hand-out to the end).
    const std::uint64_t pace = static_cast<std::uint64_t>(launch_end_ - std::max(start, last_handout_));
    st.estimated_cycles =
        st.truncated ? st.cycles + (whole.waves - static_cast<std::uint64_t>(q.probe_waves)) * pace : st.cycles;
    st.sm = launch_sm_;
    st.memory = stats_sub(memory_->stats(), before);
    st.scheduler = scheduler_->stats();
    for (const CtaPos& c : q.plan->ctas()) {
      const CtaWork& w = q.plan->work_of(c);
      ++st.ctas;
      st.dense_mmas += static_cast<std::uint64_t>(w.dense_mmas());
      st.sparse_mmas += static_cast<std::uint64_t>(w.sparse_mmas());
      st.kept_macs += w.kept_macs();
      st.s_bytes += w.s_bytes();
      st.d_bytes += w.d_bytes();
      st.c_bytes += w.c_bytes;
    }
    results_.push_back(st);
  }
  snapshot_memory();
  launch_number_ = -1;
}

}  // namespace stcsim
