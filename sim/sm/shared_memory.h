// Shared memory of one SM as the GEMM main loop uses it: tiles written by the global loads (cp.async
// or TMA) and fragments read by ldmatrix or by wgmma directly, at the configured bytes per clock,
// with bank conflicts where an access pattern maps several words of one wavefront to one bank.
// Kernels swizzle their tile layouts so that fragment reads are conflict-free; for a kernel that does
// not (kernel.smem_swizzle: false), ldmatrix_conflict_ways gives the degree from the banks and the
// tile's row pitch. Counts bytes for energy.
// Left out: the L1 cache sharing the same SRAM, and atomics.
#pragma once

#include <cstdint>

#include "config/memory_config.h"

namespace stcsim {

struct SharedMemoryStats {
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t busy_cycles = 0;
  std::uint64_t conflict_cycles = 0;  // cycles added by bank conflicts

  template <class F>
  void visit(F&& f) {
    f("read_bytes", read_bytes);
    f("write_bytes", write_bytes);
    f("busy_cycles", busy_cycles);
    f("conflict_cycles", conflict_cycles);
  }
};

class SharedMemory {
 public:
  explicit SharedMemory(const SharedMemoryConfig& cfg);

  // Cycles to move `bytes` at the configured bandwidth when each wavefront's words fall `conflict_ways`
  // to a bank (1 = conflict-free); the access count goes to the stats.
  std::int64_t read(std::int64_t bytes, int conflict_ways = 1);
  std::int64_t write(std::int64_t bytes, int conflict_ways = 1);

  std::int64_t latency_cycles() const { return cfg_.latency_cycles; }
  const SharedMemoryConfig& config() const { return cfg_; }
  SharedMemoryStats& stats() { return stats_; }
  const SharedMemoryStats& stats() const { return stats_; }

 private:
  std::int64_t transfer(std::int64_t bytes, int conflict_ways);

  SharedMemoryConfig cfg_;
  SharedMemoryStats stats_;
};

// Bank-conflict degree of one ldmatrix 8x8 matrix read (8 rows of 16 bytes, `pitch_bytes` apart) in a
// tile stored without swizzle: the most of those rows that touch one bank (banks x bank_width_bytes,
// successive words to successive banks), over the wavefronts 128 bytes need at best. 1 when
// conflict-free. A swizzled layout (the kernels' default) is conflict-free by construction.
// Throws Error when pitch_bytes < 16.
int ldmatrix_conflict_ways(const SharedMemoryConfig& cfg, std::int64_t pitch_bytes);

}  // namespace stcsim
