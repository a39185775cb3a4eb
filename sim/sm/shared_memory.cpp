#include "sm/shared_memory.h"

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
