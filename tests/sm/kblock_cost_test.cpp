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
