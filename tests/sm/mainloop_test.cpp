#include <catch2/catch.hpp>

#include "common/error.h"
#include "sm/mainloop.h"

using namespace stcsim;

TEST_CASE("with tiles arriving late, compute waits and memory stalls are counted", "[sm][mainloop]") {
  Mainloop ml(100, 3, 2, 10);
  // Two buffers: k-blocks 0 and 1 may both load at the start.
  CHECK(ml.next_load_issue() == 100);
  ml.load_issued(100);
  CHECK(ml.next_load_issue() == 100);
  ml.load_issued(100);
  // Both buffers are in use: k-block 2's buffer is not known until k-block 0 is priced.
  CHECK_FALSE(ml.buffer_known());
  CHECK_THROWS_AS(ml.next_load_issue(), Error);
  CHECK(ml.load_arrived(150, {20, 5, 5}, 0) == 170);
  CHECK(ml.buffer_known());
  // k-block 2 reuses k-block 0's buffer, free at 170.
  CHECK(ml.next_load_issue() == 170);
  ml.load_issued(170);
  CHECK(ml.load_arrived(160, {20, 5, 5}, 0) == 190);
  CHECK(ml.load_arrived(400, {20, 5, 5}, 0) == 420);
  CHECK_FALSE(ml.loads_left());
  CHECK(ml.finish() == 430);
  CHECK(ml.stats().memory_stall_cycles == 50 + 0 + 210);
  CHECK(ml.stats().mma_cycles == 60);
  CHECK(ml.stats().pipeline_cycles == 10);
  CHECK_THROWS_AS(ml.load_arrived(500, {1, 1, 1}, 0), Error);
}

TEST_CASE("a k-block lasts as long as its slowest unit, the excess charged to it", "[sm][mainloop]") {
  Mainloop ml(0, 2, 4, 0);
  CHECK(ml.load_arrived(0, {8, 10, 3}, 0) == 10);   // register file bound by 2
  CHECK(ml.load_arrived(0, {8, 3, 12}, 0) == 22);   // shared memory bound by 4
  CHECK(ml.stats().regfile_stall_cycles == 2);
  CHECK(ml.stats().smem_stall_cycles == 4);
  CHECK(ml.stats().memory_stall_cycles == 0);
  CHECK(ml.finish() == 22);
  MainloopStats sum = ml.stats();
  sum += ml.stats();
  CHECK(sum.regfile_stall_cycles == 4);
  CHECK(sum.smem_stall_cycles == 8);
  CHECK(sum.mma_cycles == 32);
  CHECK(sum.k_blocks == 4);
}

TEST_CASE("tensor cores busy with another CTA delay the k-block", "[sm][mainloop]") {
  Mainloop ml(0, 1, 1, 0);
  CHECK(ml.load_arrived(5, {10, 0, 0}, 50) == 60);
  // Waiting for the tensor cores is not a memory stall: the tiles were there.
  CHECK(ml.stats().memory_stall_cycles == 0);
}

TEST_CASE("a CTA without k-blocks finishes at its start, bad shapes are refused", "[sm][mainloop]") {
  CHECK(Mainloop(7, 0, 2, 5).finish() == 7);
  CHECK_FALSE(Mainloop(7, 0, 2, 5).loads_left());
  CHECK_THROWS_AS(Mainloop(0, 1, 0, 0), Error);
}
