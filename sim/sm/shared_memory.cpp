#include "sm/shared_memory.h"

#include <algorithm>
#include <vector>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

SharedMemory::SharedMemory(const SharedMemoryConfig& cfg) : cfg_(cfg) {
  if (cfg_.bytes_per_clock < 1) throw Error("shared memory: bytes_per_clock must be >= 1");
}

std::int64_t SharedMemory::transfer(std::int64_t bytes, int conflict_ways) {
  if (bytes <= 0) return 0;
  if (conflict_ways < 1) throw Error("shared memory: conflict ways must be >= 1");
  const std::int64_t ideal = ceil_div(bytes, cfg_.bytes_per_clock);
  // A k-way conflict serialises each wavefront into k bank accesses.
  const std::int64_t cycles = ideal * conflict_ways;
  stats_.busy_cycles += static_cast<std::uint64_t>(cycles);
  stats_.conflict_cycles += static_cast<std::uint64_t>(cycles - ideal);
  return cycles;
}

int ldmatrix_conflict_ways(const SharedMemoryConfig& cfg, std::int64_t pitch_bytes) {
  if (pitch_bytes < 16) throw Error("shared memory: an ldmatrix row pitch below 16 bytes");
  constexpr std::int64_t kRows = 8, kRowBytes = 16;
  const std::int64_t banks = cfg.banks, width = cfg.bank_width_bytes;
  std::vector<int> touches(static_cast<std::size_t>(banks), 0);
  for (std::int64_t r = 0; r < kRows; ++r) {
    const std::int64_t first = r * pitch_bytes / width, last = (r * pitch_bytes + kRowBytes - 1) / width;
    for (std::int64_t w = first; w <= last; ++w) ++touches[static_cast<std::size_t>(w % banks)];
  }
  const int most = *std::max_element(touches.begin(), touches.end());
  const std::int64_t ideal = ceil_div(kRows * kRowBytes, banks * width);
  return static_cast<int>(std::max<std::int64_t>(1, ceil_div(most, ideal)));
}

std::int64_t SharedMemory::read(std::int64_t bytes, int conflict_ways) {
  const std::int64_t c = transfer(bytes, conflict_ways);
  if (bytes > 0) stats_.read_bytes += static_cast<std::uint64_t>(bytes);
  return c;
}

std::int64_t SharedMemory::write(std::int64_t bytes, int conflict_ways) {
  const std::int64_t c = transfer(bytes, conflict_ways);
  if (bytes > 0) stats_.write_bytes += static_cast<std::uint64_t>(bytes);
  return c;
}

}  // namespace stcsim
