// What the replay needs of a GPU, as an interface: the CUDA side (device/) implements it, and the
// host tests drive the replay's whole flow (verification, timing statistics, results) through a host
// implementation without a GPU. Nothing here includes CUDA headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda/host/replay_layout.h"
#include "cuda/host/replay_problem.h"

namespace stcsim::replay {

// The machine a replay ran on, recorded with its results.
struct DeviceInfo {
  std::string name;                 // "NVIDIA H100 80GB HBM3"
  std::string compute_capability;   // "9.0"
  int sms = 0;
  std::string driver_version;       // the CUDA driver API version, and NVML's driver version where present
  std::string runtime_version;      // CUDA runtime the backend was built with
  std::string library_versions;     // "cuBLAS 13.0.0, cuSPARSE ..., cuSPARSELt ..." (what the build linked)
  double sm_clock_max_mhz = 0;      // from the device attributes
  double mem_clock_max_mhz = 0;
  bool nvml = false;                // power and clocks sampled through NVML
  double power_limit_w = 0;         // NVML, 0 when unknown
};

// One GEMM prepared on the device: operands uploaded, workspace allocated.
class GemmRunner {
 public:
  virtual ~GemmRunner() = default;
  virtual std::string kernel() const = 0;  // what runs: "mma.sp m16n8k32, 128x128x64 CTA, 64x64 warps, 3 stages"
  virtual void launch() = 0;               // one GEMM, asynchronous on the runner's stream
  virtual std::vector<float> result() = 0; // waits, then C (rows x cols, row-major)
  // True when the kernel writes C in the GEMM's 16-bit type (each fp32 sum rounded once, to nearest
  // even): the checks then round the reference the same way.
  virtual bool rounds_output() const { return false; }
};

// Times of `repeats` launches after `warmup` untimed ones, each launch timed on its own.
struct Timing {
  std::vector<double> seconds;     // per launch, in launch order
  double energy_j = -1;            // per launch, from the board's energy counter; < 0 when unknown
  double sm_clock_mhz = 0;         // SM clock sampled after the timed launches; 0 when unknown
  double median() const;
  double min() const;
  double max() const;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceInfo info() = 0;
  // Whether the build includes this backend (cuSPARSELt is optional).
  virtual bool has_backend(Backend b) const = 0;
  // Prepares p on backend b; the own kernel reads `tiling`. UnsupportedError when b cannot run p.
  virtual std::unique_ptr<GemmRunner> prepare(Backend b, const ReplayProblem& p, const KernelTiling& tiling) = 0;
  // The reference: the vendor's dense GEMM on the pruned S (cuBLAS on the decompressed matrix).
  virtual std::vector<float> reference(const ReplayProblem& p) = 0;
  virtual Timing time(GemmRunner& r, int warmup, int repeats) = 0;
};

}  // namespace stcsim::replay
