// The GPU a machine runs on (the `arch` section): SM count and clock, what one SM holds (sub-cores,
// tensor cores, warp slots, register file, shared memory), the tensor core, L2 and DRAM.
// Peak rates are computed from these fields, never stored, so a config cannot contradict itself.
//
// Left out: CUDA cores and SFUs (the GEMM main loop is tensor-core bound), the instruction cache and
// fetch, L1, TMA internals, NVLink, clusters and distributed shared memory; of clock and power, all but
// a configured clock, a power cap that lowers it per line, its floor and a constant static power.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "common/dtype.h"
#include "config/memory_config.h"
#include "config/tensor_core_config.h"
#include "config/yaml_doc.h"

namespace stcsim {

// arch.sm
struct SmConfig {
  // Processing blocks per SM, each with its own scheduler, register-file slice and tensor cores; 1..16.
  int sub_cores = 4;
  int tensor_cores = 0;     // tensor cores per SM; required, a multiple of sub_cores
  int warp_schedulers = 4;  // warp schedulers per SM, each issuing one instruction per clock; a multiple of sub_cores
  int max_warps = 0;        // resident warps per SM; required, 1..1024
  int max_ctas = 0;         // resident CTAs per SM; required, 1..1024
  int max_threads_per_cta = 1024;    // threads one CTA may have; 32..max_warps x 32, a multiple of 32
  // Cycle model (--model cycle): entries of each sub-core's queue of MMAs to its operand collector,
  // and of its MIO queue of shared-memory accesses; a full queue stops the scheduler issuing into it.
  // 1..1024; defaults 2 and 8.
  int math_queue_depth = 2;
  int mio_queue_depth = 8;
  // Bytes of global loads an SM may have outstanding to the L2 and DRAM (memory/request_window.h);
  // both models; 0 (the default): no limit beyond the kernel's stages. 0..1 GiB.
  std::int64_t max_outstanding_bytes = 0;
  RegisterFileConfig register_file;  // arch.sm.register_file; required
  SharedMemoryConfig shared_memory;  // arch.sm.shared_memory; required

  int tensor_cores_per_sub_core() const { return tensor_cores / sub_cores; }

  static SmConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const SmConfig& o) const;
  bool operator!=(const SmConfig& o) const { return !(*this == o); }
};

// arch
struct GpuConfig {
  std::string name;              // label for reports, e.g. "H100-SXM5"; required
  int sms = 0;                   // streaming multiprocessors; required, 1..100000
  int clock_mhz = 0;             // sustained tensor-core clock, MHz: every cycle count runs at it; required, 1..100000
  // Power (report/power.h): the board power limit, W; a line whose power at clock_mhz exceeds it runs
  // at a lower sustained clock, down to base_clock_mhz. 0 = no cap; >= 0.
  double power_cap_w = 0;
  // The clock floor under the cap (the datasheet base clock), MHz; 0 = none; required with a cap. A
  // clock_mhz set below it (a study at a fixed lower clock) is its own floor: the cap cannot lower it.
  int base_clock_mhz = 0;
  // Static power of the board, W: drawn whatever the activity (leakage, memory refresh and PHY, the
  // clock tree and what the event energies leave out); static energy = static_power_w x time.
  // >= 0; below power_cap_w where a cap is set.
  double static_power_w = 0;
  SmConfig sm;                   // arch.sm; required
  TensorCoreConfig tensor_core;  // arch.tensor_core; required
  L2Config l2;                   // arch.l2; required
  DramConfig dram;               // arch.dram; required

  int tensor_cores() const { return sms * sm.tensor_cores; }
  // Peak math rate in TFLOP/s (2 FLOP per MAC) for a per-tensor-core MAC rate, at clock_mhz.
  double tflops(std::int64_t macs_per_clock_per_tc) const;
  // Dense peak of a data type; nullopt if the tensor cores lack it.
  std::optional<double> dense_tflops(DType t) const;
  // Dense-equivalent peak (skipped products counted) for an N:M pattern; nullopt if unsupported.
  std::optional<double> sparse_tflops(DType t, int n, int m) const;
  // DRAM peak bandwidth in bytes per core clock.
  double dram_bytes_per_clock() const { return dram.bandwidth_gbps * 1e3 / clock_mhz; }

  static GpuConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const GpuConfig& o) const;
  bool operator!=(const GpuConfig& o) const { return !(*this == o); }
};

}  // namespace stcsim
