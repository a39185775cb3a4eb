// What the replay needs of a GPU, as an interface: the CUDA side (device/) implements it, and the
// host tests drive the replay's whole flow (verification, timing statistics, results) through a host
// implementation without a GPU. Nothing here includes CUDA headers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cuda/host/replay_stage.h"

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
  double sm_clock_now_mhz = 0;      // NVML's current SM clock when info() ran; 0 when unknown
  bool nvml = false;                // power and clocks sampled through NVML
  double power_limit_w = 0;         // NVML, 0 when unknown
  std::uint64_t memory_bytes = 0;   // global memory
  int l2_bytes = 0;
};

// One GEMM uploaded to the device: operands copied, workspace allocated.
class GemmRunner {
 public:
  virtual ~GemmRunner() = default;
  virtual std::string kernel() const = 0;  // what runs: "own mma.sp m16n8k32, 128x128x64 CTA, ..."
  virtual void launch() = 0;               // one GEMM, asynchronous on the runner's stream
  virtual std::vector<float> result() = 0; // waits, then C (rows x cols, row-major)
  // True when the kernel writes C in the GEMM's 16-bit type (each fp32 sum rounded once, to nearest
  // even): the checks then round the reference the same way.
  virtual bool rounds_output() const { return false; }
};

// How a row is timed (docs/backend.md "Timing"):
//   1. warm-up: launches back to back for at least warmup_s, so that the clock leaves its idle state
//      (an H200 idles at 345 MHz between rows);
//   2. N = launches per sample, the fewest whose time is at least min_sample_s (at most max_batch):
//      a microsecond GEMM is then timed over many launches, not over the host's enqueue latency;
//   3. `repeats` samples of N launches, each between two CUDA events; as a CUDA graph of N launches
//      where the kernels can be captured (graph = true), else as N launches on the stream;
//   4. the SM clock sampled through NVML while the samples run;
//   5. with energy_window_s > 0, launches repeat that long while the board's energy counter is read.
struct TimingOptions {
  double warmup_s = 0.1;
  double min_sample_s = 2e-3;
  int repeats = 10;
  int max_batch = 4096;
  bool graph = true;
  double energy_window_s = 0.2;
};

struct Timing {
  std::vector<double> seconds;     // per launch, one value per sample, in order
  long launches_per_sample = 1;
  std::string method;              // "graph" or "stream" (and why a graph was not used)
  double energy_j = -1;            // per launch, from the board's energy counter; < 0 when unknown
  double sm_clock_mhz = 0;         // median of the SM clock samples taken while the samples ran; 0: unknown
  double sm_clock_min_mhz = 0;
  double sm_clock_max_mhz = 0;
  int clock_samples = 0;
  double warmup_done_s = 0;        // how long the warm-up ran
  double median() const;
  double min() const;
  double max() const;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceInfo info() = 0;
  // Whether this build and machine have the backend (cuSPARSELt is optional, loaded at run time).
  virtual bool has_backend(Backend b) const = 0;
  // Why a backend is missing, for reports ("" when present).
  virtual std::string backend_note(Backend) const { return {}; }
  // Uploads a staged GEMM. UnsupportedError when the backend cannot run it.
  virtual std::unique_ptr<GemmRunner> prepare(const StagedGemm& s) = 0;
  virtual Timing time(GemmRunner& r, const TimingOptions& t) = 0;
  // After an error: why the device can no longer run anything (a kernel fault leaves the CUDA context
  // unusable), or nullopt when it can go on.
  virtual std::optional<std::string> lost() { return std::nullopt; }
};

}  // namespace stcsim::replay
