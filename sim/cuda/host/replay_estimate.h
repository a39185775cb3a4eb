// How long a replay keeps a GPU busy, estimated before it runs, for planning a short GPU window
// (scripts/gpu_window.sh): per row, the uploads and downloads of its checks, the check launches, and
// the timing protocol (replay_device.h TimingOptions) with each launch's time bounded from the
// machine config. The bounds are pessimistic on purpose (kEstimateBasis): a plan that fits with them
// fits on the GPU.
#pragma once

#include <cstddef>
#include <vector>

#include "config/gpu_config.h"
#include "cuda/host/replay.h"

namespace stcsim::replay {

inline constexpr const char* kEstimateBasis =
    "kernels at 25% of the config's dense peak or 50% of its DRAM bandwidth, whichever is slower, plus 10 us per "
    "launch; host-device copies at 10 GB/s; cuSPARSELt's algorithm search as 200 launches; 2 s to open the device";

struct ReplayEstimate {
  double gpu_s = 0;
  std::size_t rows = 0;
};

// One launch of g (seconds): its dense-equivalent work, whatever the pattern skips.
double estimate_launch_s(const GemmOp& g, const GpuConfig& arch);
// The whole replay of `items` (plan_items) with `opt`'s timing.
ReplayEstimate estimate_replay(const std::vector<ReplayItem>& items, const ReplayOptions& opt, const GpuConfig& arch);

}  // namespace stcsim::replay
