// The device side of a build without a CUDA toolkit: stcsim-gpu still parses its input, runs dry runs
// (the host side of a replay) and says, with exit code 77, that it has no GPU to run on.
#include "cuda/device/cuda_device.h"

namespace stcsim::replay {

std::unique_ptr<Device> open_cuda_device(const CudaDeviceOptions&) {
  throw NoGpuError("no GPU: this build of stcsim-gpu has no CUDA backend (no CUDA toolkit was found when it was configured)");
}

std::vector<KernelTiling> compiled_tilings() { return {}; }

std::vector<std::string> runtime_library_report() { return {"this build has no CUDA backend: nothing is loaded"}; }

}  // namespace stcsim::replay
