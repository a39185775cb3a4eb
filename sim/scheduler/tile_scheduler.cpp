// TileScheduler: first-come-first-served dispatch in plan order, wave and imbalance figures.
#include "scheduler/tile_scheduler.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace stcsim {

TileScheduler::TileScheduler(const LaunchPlan& plan, int sms, int ctas_per_sm, std::size_t limit)
    : end_(limit > 0 ? std::min(limit, plan.ctas().size()) : plan.ctas().size()) {
  if (sms < 1) throw Error(fmt::format("tile scheduler: sms must be >= 1 (got {})", sms));
  if (ctas_per_sm < 1) throw Error(fmt::format("tile scheduler: ctas_per_sm must be >= 1 (got {})", ctas_per_sm));
  per_sm_.assign(static_cast<std::size_t>(sms), 0);
  stats_ = launch_stats(plan, sms, ctas_per_sm);
}

std::optional<std::size_t> TileScheduler::next(int sm) {
  if (sm < 0 || sm >= static_cast<int>(per_sm_.size())) {
    throw Error(fmt::format("tile scheduler: SM {} out of range 0..{}", sm, per_sm_.size() - 1));
  }
  if (next_ >= end_) return std::nullopt;
  ++per_sm_[static_cast<std::size_t>(sm)];
  return next_++;
}

int TileScheduler::ctas_per_sm(const MachineConfig& machine, std::int64_t smem_bytes, int threads,
                               std::int64_t register_bytes) {
  const SmConfig& sm = machine.arch.sm;
  if (smem_bytes > sm.shared_memory.bytes_per_cta) {
    throw Error(fmt::format("tile scheduler: a CTA needs {} bytes of shared memory, more than the {} one CTA may have",
                            smem_bytes, sm.shared_memory.bytes_per_cta));
  }
  const int warps = std::max(1, (threads + 31) / 32);
  if (warps > sm.max_warps) {
    throw Error(fmt::format("tile scheduler: a CTA of {} warps exceeds the {} an SM holds", warps, sm.max_warps));
  }
  if (register_bytes > sm.register_file.bytes) {
    throw Error(fmt::format("tile scheduler: a CTA needs {} bytes of registers, more than the SM's {}", register_bytes,
                            sm.register_file.bytes));
  }
  std::int64_t n = std::min(sm.max_ctas, sm.max_warps / warps);
  if (smem_bytes > 0) n = std::min(n, sm.shared_memory.bytes / smem_bytes);
  if (register_bytes > 0) n = std::min(n, sm.register_file.bytes / register_bytes);
  if (n < 1) throw Error("tile scheduler: one CTA does not fit an SM");
  return static_cast<int>(n);
}

int TileScheduler::ctas_per_sm(const MachineConfig& machine) {
  const KernelConfig& k = machine.kernel;
  return ctas_per_sm(machine, k.smem_bytes_per_cta(), k.threads_per_cta(), k.register_bytes_per_cta());
}

SchedulerStats launch_stats(const LaunchPlan& plan, int sms, int ctas_per_sm) {
  SchedulerStats s;
  s.ctas = plan.ctas().size();
  s.slots = static_cast<std::uint64_t>(std::max(sms, 1)) * static_cast<std::uint64_t>(std::max(ctas_per_sm, 1));
  s.waves = (s.ctas + s.slots - 1) / s.slots;
  s.tail_ctas = s.ctas == 0 ? 0 : s.ctas - (s.waves - 1) * s.slots;
  double total = 0.0;
  for (const auto& c : plan.ctas()) {
    const auto w = static_cast<std::uint64_t>(plan.work_of(c).k_work());
    s.work_max = std::max(s.work_max, w);
    total += static_cast<double>(w);
  }
  s.work_mean = s.ctas ? total / static_cast<double>(s.ctas) : 0.0;
  s.imbalance = s.work_mean > 0 ? static_cast<double>(s.work_max) / s.work_mean : 1.0;
  s.wave_efficiency = s.waves ? static_cast<double>(s.ctas) / static_cast<double>(s.waves * s.slots) : 1.0;
  return s;
}

}  // namespace stcsim
