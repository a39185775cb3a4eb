// The GPU behind the replay (cuda/host/replay_device.h Device): one CUDA device, its stream, the
// vendor library handles, and NVML for clocks and energy.
#pragma once

#include <memory>
#include <vector>

#include "common/error.h"
#include "cuda/host/replay_device.h"

namespace stcsim::replay {

// No usable GPU (no driver, no device, or the index is out of range). The message says which.
class NoGpuError : public Error {
 public:
  using Error::Error;
};

struct CudaDeviceOptions {
  int index = 0;
  // After the timed launches, launches repeat for at least this long while the board's energy
  // counter is read before and after (it updates too seldom to time single launches); 0: no energy.
  double energy_window_s = 0.5;
};

std::unique_ptr<Device> open_cuda_device(const CudaDeviceOptions& opt);

// The tilings the own kernel is compiled for (device/own_gemm.cu).
std::vector<KernelTiling> compiled_tilings();

}  // namespace stcsim::replay
