// The GPU behind the replay (cuda/host/replay_device.h Device): one CUDA device, its stream, the
// vendor library handles, the cuSPARSELt plugin where found, and NVML for clocks and energy.
#pragma once

#include <memory>
#include <vector>

#include "common/error.h"
#include "cuda/host/replay_device.h"

namespace stcsim::replay {

// No usable GPU (no driver, no device, the index out of range, or a build without CUDA). The message
// says which.
class NoGpuError : public Error {
 public:
  using Error::Error;
};

struct CudaDeviceOptions {
  int index = 0;
  // cuSPARSELt: choose its algorithm by cusparseLtMatmulSearch (once per GEMM, before timing).
  bool lt_search = true;
};

std::unique_ptr<Device> open_cuda_device(const CudaDeviceOptions& opt);

// The tilings the own kernel is compiled for (device/own_gemm.cu); empty in a build without CUDA.
std::vector<KernelTiling> compiled_tilings();

// Where the libraries stcsim-gpu loads at run time were found, or why not: one line each
// ("cuSPARSELt plugin: ...", "NVML: ..."), for `stcsim-gpu info`. Opens no device.
std::vector<std::string> runtime_library_report();

}  // namespace stcsim::replay
