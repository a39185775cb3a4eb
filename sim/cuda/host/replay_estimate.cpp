#include "cuda/host/replay_estimate.h"

#include <algorithm>
#include <cmath>

#include "report/results.h"

namespace stcsim::replay {

namespace {

constexpr double kPeakShare = 0.25;
constexpr double kBandwidthShare = 0.5;
constexpr double kLaunchOverhead_s = 10e-6;
constexpr double kCopyBytesPerSecond = 10e9;
constexpr double kSearchLaunches = 200;
constexpr double kOpen_s = 2;

double d(std::int64_t x) { return static_cast<double>(std::max<std::int64_t>(x, 0)); }

}  // namespace

double estimate_launch_s(const GemmOp& g, const GpuConfig& arch) {
  const LayerResult lr = describe_gemm(g);
  const double count = std::max<double>(1, static_cast<double>(g.count));
  const double macs = static_cast<double>(lr.dense_macs) / count;
  const double peak = arch.dense_tflops(g.dtype).value_or(arch.dense_tflops(DType::fp16).value_or(100)) * 1e12;
  const double bytes = 2 * (d(g.m) * d(g.k) + d(g.k) * d(g.n)) + 4 * d(g.m) * d(g.n);
  const double compute = 2 * macs / (kPeakShare * peak);
  const double memory = bytes / (kBandwidthShare * arch.dram.bandwidth_gbps * 1e9);
  return std::max(compute, memory) + kLaunchOverhead_s;
}

ReplayEstimate estimate_replay(const std::vector<ReplayItem>& items, const ReplayOptions& opt, const GpuConfig& arch) {
  ReplayEstimate e;
  e.gpu_s = kOpen_s;
  const TimingOptions& t = opt.timing;
  for (const ReplayItem& it : items) {
    const GemmOp& g = it.gemm;
    const double launch = estimate_launch_s(g, arch);
    const double in_bytes = 2 * (d(g.m) * d(g.k) + d(g.k) * d(g.n));
    const double out_bytes = 4 * d(g.m) * d(g.n);
    const bool exact = g.k <= kExactCheckMaxK;
    const double cases = exact ? 2 : 1;
    // Each case: the reference uploaded, run and downloaded once for the line.
    e.gpu_s += cases * ((in_bytes + out_bytes) / kCopyBytesPerSecond + launch);
    for (Backend b : it.backends) {
      ++e.rows;
      // Checks: each other backend uploaded, run and downloaded per case.
      if (b != Backend::cublas) e.gpu_s += cases * ((in_bytes + out_bytes) / kCopyBytesPerSecond + launch);
      if (b == Backend::cusparselt) e.gpu_s += kSearchLaunches * launch;
      // Timing: one launch, the warm-up (at least one batch), the sizing batch, the graph's first run,
      // the samples, the energy window.
      const double batch = std::max(5e-3, launch);
      const double sample = std::max(t.min_sample_s, launch);
      e.gpu_s += launch + std::max(t.warmup_s, batch) + batch + sample + t.repeats * sample + t.energy_window_s;
    }
  }
  return e;
}

}  // namespace stcsim::replay
