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

TEST_CASE("ldmatrix bank conflicts of an unswizzled tile follow its row pitch and the banks", "[sm][smem]") {
  SharedMemoryConfig c;
  c.banks = 32;
  c.bank_width_bytes = 4;
  // 8 rows of 16 bytes: contiguous (pitch 16) or padded by 16 bytes (pitch 144) hit 8 distinct
  // 4-bank groups; a 64-byte pitch puts rows 0, 2, 4, 6 on banks 0-3 (4-way); 128 or 256 bytes (a
  // K-major tile with cta_tile.k = 64 or 128) puts all 8 on the same banks.
  CHECK(ldmatrix_conflict_ways(c, 16) == 1);
  CHECK(ldmatrix_conflict_ways(c, 144) == 1);
  CHECK(ldmatrix_conflict_ways(c, 64) == 4);
  CHECK(ldmatrix_conflict_ways(c, 128) == 8);
  CHECK(ldmatrix_conflict_ways(c, 256) == 8);
  // Twice the banks: a 128-byte pitch alternates between two halves (4-way).
  c.banks = 64;
  CHECK(ldmatrix_conflict_ways(c, 128) == 4);
  // 16 banks of 4 bytes take 2 wavefronts for 128 bytes at best: 8 rows on one group are 4x that.
  c.banks = 16;
  CHECK(ldmatrix_conflict_ways(c, 128) == 4);
  CHECK(ldmatrix_conflict_ways(c, 16) == 1);
  CHECK_THROWS_AS(ldmatrix_conflict_ways(c, 8), Error);
}
