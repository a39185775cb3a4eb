#include <catch2/catch.hpp>

#include "common/error.h"
#include "sm/shared_memory.h"

using namespace stcsim;

TEST_CASE("shared memory moves bytes at its configured rate, conflicts serialising", "[sm][smem]") {
  SharedMemoryConfig c;
  c.bytes = 233472;
  c.bytes_per_cta = 232448;
  c.bytes_per_clock = 124;
  c.latency_cycles = 29;
  SharedMemory s(c);
  CHECK(s.read(124) == 1);
  CHECK(s.read(125) == 2);
  CHECK(s.write(16384) == 133);  // ceil(16384 / 124)
  CHECK(s.read(1240, 2) == 20);
  CHECK(s.read(0) == 0);
  CHECK(s.stats().read_bytes == 124 + 125 + 1240);
  CHECK(s.stats().write_bytes == 16384);
  CHECK(s.stats().busy_cycles == 1 + 2 + 133 + 20);
  CHECK(s.stats().conflict_cycles == 10);
  CHECK(s.latency_cycles() == 29);
  CHECK_THROWS_AS(s.read(10, 0), Error);
}
