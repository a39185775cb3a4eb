// Configuration of the storage an SM's tensor cores draw operands from: the register file (per SM,
// banked per sub-core), shared memory (per SM), and the chip-wide L2 and DRAM. Read from
// arch.sm.register_file, arch.sm.shared_memory, arch.l2 and arch.dram.
//
// All latencies are in core clock cycles (arch.clock_mhz); bandwidths are per core clock except DRAM,
// given in GB/s as datasheets state it (GpuConfig::dram_bytes_per_clock() converts).
// Left out: L1 data cache and texture paths (GEMM operands are staged through shared memory), TMA
// and copy-engine internals, L2 set associativity and replacement, DRAM banks, rows and refresh.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>

#include "config/yaml_doc.h"

namespace stcsim {

// arch.sm.register_file
struct RegisterFileConfig {
  std::int64_t bytes = 0;      // register file per SM, bytes; required, 1 KiB..64 MiB
  int banks_per_sub_core = 0;  // banks in each sub-core's slice; required, >= 1
  int port_width_bits = 0;     // bits one bank port moves per access, all 32 lanes together; required, multiple of 32
  int reads_per_cycle_per_bank = 1;    // read ports per bank: accesses per cycle; >= 1
  int writes_per_cycle_per_bank = 1;   // write ports per bank: accesses per cycle; >= 1
  int reuse_cache_entries = 0;         // operand reuse cache entries per sub-core (set by .reuse bits); required, >= 0
  int max_registers_per_thread = 255;  // architectural limit per thread, 32-bit registers; 1..255

  static RegisterFileConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const RegisterFileConfig& o) const;
  bool operator!=(const RegisterFileConfig& o) const { return !(*this == o); }
};

// arch.sm.shared_memory
struct SharedMemoryConfig {
  std::int64_t bytes = 0;          // shared memory usable per SM (the carve-out's largest setting), bytes; required
  std::int64_t bytes_per_cta = 0;  // largest allocation one CTA may request, bytes; required, <= bytes
  int banks = 32;                  // banks; >= 1
  int bank_width_bytes = 4;        // bytes per bank per access; >= 1
  int bytes_per_clock = 0;         // sustained bytes/clock per SM; required, <= banks * bank_width_bytes
  int latency_cycles = 0;          // load-to-use latency of a conflict-free access, cycles; required, >= 1

  static SharedMemoryConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const SharedMemoryConfig& o) const;
  bool operator!=(const SharedMemoryConfig& o) const { return !(*this == o); }
};

// arch.l2
struct L2Config {
  std::int64_t bytes = 0;       // capacity, bytes; required
  int bytes_per_clock = 0;      // chip-wide sustained bandwidth, bytes/clock; required, >= 1
  int latency_near_cycles = 0;  // hit latency in the SM's near partition, cycles; required, >= 1
  int latency_far_cycles = 0;   // hit latency in a far partition, cycles; required, >= latency_near_cycles
  int partitions = 1;           // partitions the L2 is split into (2 on A100 and H100); >= 1

  static L2Config from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const L2Config& o) const;
  bool operator!=(const L2Config& o) const { return !(*this == o); }
};

// arch.dram
struct DramConfig {
  double bandwidth_gbps = 0;  // peak bandwidth, GB/s (10^9 bytes per second); required, > 0
  int latency_cycles = 0;     // load latency of an L2 miss, core cycles; required, >= 1
  double efficiency = 0;      // fraction of peak bandwidth achievable by streaming; required, (0, 1]

  static DramConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const DramConfig& o) const;
  bool operator!=(const DramConfig& o) const { return !(*this == o); }
};

}  // namespace stcsim
