#include <catch2/catch.hpp>

#include "config/machine_config.h"
#include "sm/kblock_cost.h"
#include "trace/gemm.h"

using namespace stcsim;

namespace {

MachineConfig machine(const char* name) { return load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/" + name); }

GemmMapping mapping_of(const MachineConfig& m, const char* pattern) {
  GemmOp g;
  g.layer = "t";
  g.m = g.n = g.k = 4096;
  g.sparse = Operand::B;
  g.pattern = pattern;
  return map_gemm(g, m);
}

}  // namespace

TEST_CASE("an H100 wgmma k-block: tensor cores, register file and shared memory by hand", "[sm][kblock]") {
  const MachineConfig h100 = machine("h100.yaml");
  const KBlockCoster dense(h100, DType::fp16, mapping_of(h100, "dense"));
  // 128x256x64 CTA tile, m64n256k16 wgmma on all 4 tensor cores: 2 x 1 x 4 = 8 instructions of
  // 64*256*16 / (4 * 512) = 128 cycles each.
  CHECK(dense.units() == 1);
  KBlock b;
  b.dense_mmas = 8;
  b.s_bytes = 128 * 64 * 2;
  b.d_bytes = 64 * 256 * 2;
  const KBlockCost c = dense.cost(b);
  CHECK(c.tensor_core == 8 * 128);
  // Accumulators only in registers: 64x256 fp32 over 128 threads = 128 registers read and written,
  // 2 banks with one port each -> 64 cycles per instruction.
  CHECK(dense.dense_fragments() == MmaFragments{0, 0, 128, 128, 0});
  CHECK(c.regfile == 8 * 64);
  // Shared memory: the S tile read by the one warpgroup column, the D tile by both warpgroup rows,
  // both tiles written as they arrive, at 124 bytes per clock.
  const std::int64_t reads = 16384 * 1 + 32768 * 2;
  const std::int64_t writes = 16384 + 32768;
  CHECK(c.smem == (reads + 123) / 124 + (writes + 123) / 124);
  // wgmma's latency is its occupancy on this config: nothing to drain.
  CHECK(dense.drain_cycles() == 0);
}

TEST_CASE("2:4 halves the tensor-core cycles of an H100 k-block", "[sm][kblock]") {
  const MachineConfig h100 = machine("h100.yaml");
  const KBlockCoster dense(h100, DType::fp16, mapping_of(h100, "dense"));
  const KBlockCoster sparse(h100, DType::fp16, mapping_of(h100, "2:4"));
  KBlock d;
  d.dense_mmas = 8;
  KBlock s;
  s.sparse_mmas = 4;  // k32 sparse instructions: half as many for the same K
  CHECK(sparse.cost(s).tensor_core * 2 == dense.cost(d).tensor_core);
  CHECK(sparse.sparse_instr().sparse_n == 2);
  CHECK(sparse.sparse_instr().sparse_m == 4);
  CHECK_THROWS_AS(dense.cost(s), Error);
}

TEST_CASE("an A100 mma.sp k-block spreads over four sub-cores and pays its latency once", "[sm][kblock]") {
  const MachineConfig a100 = machine("a100.yaml");
  const KBlockCoster sparse(a100, DType::fp16, mapping_of(a100, "2:4"));
  CHECK(sparse.units() == 4);
  KBlock b;
  b.sparse_mmas = 64;
  const KBlockCost c = sparse.cost(b);
  // m16n8k32 at 2:4: 4096 dense-equivalent MACs at 512 per clock per tensor core -> 8 cycles;
  // 64 instructions over 4 tensor cores -> 16 each.
  CHECK(c.tensor_core == 16 * 8);
  CHECK(sparse.drain_cycles() > 0);
  // An empty k-block costs nothing.
  const KBlockCost none = sparse.cost(KBlock{});
  CHECK(none.cycles() == 0);
}

TEST_CASE("block sparsity: the busiest sub-core's share of the MMAs, and only warps with a step read shared memory", "[sm][kblock]") {
  const MachineConfig a100 = machine("a100.yaml");
  const KBlockCoster coster(a100, DType::fp16, mapping_of(a100, "block(b=32,sparsity=0.5)"));
  // 128x128 CTA of four 64x64 warps, one per sub-core; 32-row block segments: segment 0 is warps
  // 0 and 1's top half, segment 3 warps 2 and 3's bottom half. m16n8k16: 2 x 16 tiles a segment.
  CtaWork w;
  w.rows = 128;
  w.cols = 128;
  w.segment_rows = {32, 32, 32, 32};
  KBlock top;
  top.segment_steps = {4, 0, 0, 0};
  top.dense_mmas = 32 * 4;
  top.s_bytes = 32 * 64 * 2;
  top.d_bytes = 64 * 128 * 2;
  KBlock bottom = top;
  bottom.segment_steps = {0, 0, 0, 4};
  const MmaTiles tiles = coster.tiles_for(w);
  REQUIRE(tiles.count() == 8 * 16);

  // Segments 0 and 3 by turns: every sub-core gets 64 MMAs over the main loop, and the k-blocks cost
  // an even spread: 128 MMAs over 4 tensor cores at 8 cycles (m16n8k16, 256 MACs per clock).
  CtaWork even = w;
  even.add(top, 0);
  even.add(bottom, 1);
  const UnitLoad balanced = coster.unit_load(even, tiles);
  CHECK(balanced.busiest == 64);
  CHECK(balanced.total == 256);
  CHECK(coster.cost(top, tiles, balanced).tensor_core == 32 * 8);
  // Segment 0 only: sub-cores 0 and 1 do all of it, 64 MMAs each per k-block.
  CtaWork skewed = w;
  skewed.add(top, 0);
  skewed.add(top, 1);
  const UnitLoad lopsided = coster.unit_load(skewed, tiles);
  CHECK(lopsided.busiest == 128);
  const KBlockCost c = coster.cost(top, tiles, lopsided);
  CHECK(c.tensor_core == 64 * 8);
  CHECK(c.regfile == coster.cost(top).regfile * 2);
  // Shared memory: warps 0 and 1 read their halves of S's rows and of D's columns; warps 2 and 3,
  // with no step here, read nothing. Both tiles are written as they land.
  const std::int64_t reads = 2 * (top.s_bytes / 2 + top.d_bytes / 2);
  const std::int64_t writes = top.s_bytes + top.d_bytes;
  const std::int64_t bpc = a100.arch.sm.shared_memory.bytes_per_clock;
  CHECK(c.smem == (reads + bpc - 1) / bpc * fragment_conflict_ways(a100) + (writes + bpc - 1) / bpc);
  CHECK(c.smem < coster.cost(top).smem);
  // Without segments it is the plain cost.
  KBlock plain;
  plain.dense_mmas = 128;
  plain.s_bytes = 128 * 64 * 2;
  plain.d_bytes = 64 * 128 * 2;
  CHECK(coster.cost(plain, tiles, lopsided).cycles() == coster.cost(plain).cycles());
}

TEST_CASE("a k-block's latencies: tiles landing, and the tail before a buffer is released", "[sm][kblock]") {
  // H100 (TMA, a producer warp copies as buffers free): the tiles land at 124 bytes per clock and
  // there is no release tail.
  const MachineConfig h100 = machine("h100.yaml");
  const KBlockCoster h(h100, DType::fp16, mapping_of(h100, "dense"));
  CHECK_FALSE(h.copies_after_tiles());
  KBlock hb;
  hb.dense_mmas = 8;
  hb.s_bytes = 128 * 64 * 2;
  hb.d_bytes = 64 * 256 * 2;
  CHECK(h.cost(hb).landing == (49152 + 123) / 124);
  CHECK(h.cost(hb).release_tail == 0);
  // V100's 64x128x32 wmma kernel (LDG+STS, 2 stages, 4 warps of 32x64, one per sub-core): a k-block
  // has 4 x 8 tiles x 2 k-steps = 64 MMAs, S 64 x 32 x 2 = 4096 and D 32 x 128 x 2 = 8192 bytes.
  const MachineConfig v100 = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/v100.yaml",
                                                 {"kernel.cta_tile.m=64", "kernel.warp_tile.m=32"});
  const KBlockCoster v(v100, DType::fp16, mapping_of(v100, "dense"));
  CHECK(v.copies_after_tiles());
  KBlock vb;
  vb.dense_mmas = 64;
  vb.s_bytes = 4096;
  vb.d_bytes = 8192;
  const KBlockCost c = v.cost(vb);
  CHECK(c.landing == 12288 / v100.arch.sm.shared_memory.bytes_per_clock);
  // After the wait, per sub-core: a k-step's fragments, (2048 + 4096) / 2 bytes in 6 ldmatrix; then
  // the k-step's 8 MMAs, math_queue_depth + 1 = 3 at one a cycle and 5 at the register file's pace
  // (c.regfile for 8 MMAs); plus the wait's own issue cycle.
  REQUIRE(v100.arch.sm.math_queue_depth == 2);
  CHECK(c.release_tail == 1 + 6 + 3 + (5 * c.regfile + 7) / 8);
}
