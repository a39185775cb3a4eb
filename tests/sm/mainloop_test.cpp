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

TEST_CASE("tiles land before their MMAs and a k-block that waited for them has its writes behind it",
          "[sm][mainloop]") {
  Mainloop ml(0, 2, 4, 0);
  // k-block 0: arrives at 100, lands 30 later; the tensor cores were idle, so of its 50 cycles of
  // shared memory the 30 of writes are done: max(40, 50 - 30) = 40.
  KBlockCost c{40, 10, 50};
  c.landing = 30;
  CHECK(ml.load_arrived(100, c, 0) == 170);
  // k-block 1 arrived during k-block 0's MMAs and landed by 140: its writes shared shared memory
  // with them, so it pays its whole 50.
  CHECK(ml.load_arrived(110, c, 0) == 220);
  CHECK(ml.stats().memory_stall_cycles == 130);
  CHECK(ml.stats().smem_stall_cycles == 10);
}

TEST_CASE("with copies after the tiles, a buffer frees once the next k-block has landed and its tail issued",
          "[sm][mainloop]") {
  // Two stages, copies issued by the compute warps (cp.async / LDG+STS): k-block 2 goes into k-block
  // 0's buffer, released no earlier than k-block 1's tiles landing plus the release tail.
  Mainloop ml(0, 3, 2, 0, true);
  KBlockCost c{100, 0, 0};
  c.landing = 20;
  c.release_tail = 7;
  CHECK(ml.next_load_issue(2) == 2);
  ml.load_issued(2);
  CHECK(ml.next_load_issue(2) == 4);
  ml.load_issued(4);
  CHECK(ml.load_arrived(50, c, 0) == 170);  // lands at 70
  // k-block 0 is priced, but its buffer's release waits for k-block 1's landing.
  CHECK_FALSE(ml.buffer_known());
  CHECK_THROWS_AS(ml.next_load_issue(2), Error);
  // k-block 1 lands at 1020, long after k-block 0's MMAs: the buffer frees at 1020 + 7, and the
  // copies take 2 cycles more.
  CHECK(ml.load_arrived(1000, c, 0) == 1120);
  CHECK(ml.buffer_known());
  CHECK(ml.next_load_issue(2) == 1029);
  ml.load_issued(1029);
  // Without copies after tiles the buffer would have been free at k-block 0's end, 170.
  Mainloop tma(0, 3, 2, 0);
  tma.load_issued(0);
  tma.load_issued(0);
  tma.load_arrived(50, c, 0);
  CHECK(tma.buffer_known());
  CHECK(tma.next_load_issue(2) == 172);
  CHECK_THROWS_AS(Mainloop(0, 1, 1, 0, true), Error);
}
