#include <catch2/catch.hpp>

#include "regfile/register_file.h"

using namespace stcsim;

namespace {

RegisterFileConfig ampere_like() {
  RegisterFileConfig c;
  c.bytes = 262144;
  c.banks_per_sub_core = 2;
  c.port_width_bits = 1024;
  c.reads_per_cycle_per_bank = 1;
  c.writes_per_cycle_per_bank = 1;
  c.reuse_cache_entries = 6;
  return c;
}

}  // namespace

TEST_CASE("fragments of mma.sync m16n8k16 and mma.sp m16n8k32 (fp16) per warp", "[regfile]") {
  // Dense: A 16x16 fp16 = 512 B = 4 regs/thread, B 16x8 = 2, C 16x8 fp32 = 4.
  const MmaFragments dense = mma_fragments({16, 8, 16, 0}, DType::fp16, 0, 0, OperandSource::registers, OperandSource::registers, 32);
  CHECK(dense == MmaFragments{4, 2, 4, 4, 0});
  // 2:4 over K = 32: A keeps 16 of 32 -> 4 regs, B 32x8 -> 4, metadata 16 x 16 x 2 bits = 512 bits -> 1 reg.
  const MmaFragments sparse = mma_fragments({16, 8, 32, 0}, DType::fp16, 2, 4, OperandSource::registers, OperandSource::registers, 32);
  CHECK(sparse == MmaFragments{4, 4, 4, 4, 1});
  // wgmma with both operands in shared memory: only accumulators in registers, over 128 threads.
  const MmaFragments wg = mma_fragments({64, 256, 16, 0}, DType::fp16, 0, 0, OperandSource::shared, OperandSource::shared, 128);
  CHECK(wg == MmaFragments{0, 0, 128, 128, 0});
}

TEST_CASE("port cycles follow the busiest bank", "[regfile]") {
  RegisterFile rf(ampere_like());
  // Dense: registers 0-3 A, 4-5 B, 6-9 C, D over 6-9: reads 10 over 2 banks -> 5 each -> 5 cycles;
  // writes 4 -> 2 per bank -> 2 cycles.
  CHECK(rf.mma_cycles({4, 2, 4, 4, 0}, false) == 5);
  // A from the reuse cache: 6 reads -> 3 cycles.
  CHECK(rf.mma_cycles({4, 2, 4, 4, 0}, true) == 3);
  // Sparse adds B and metadata: 13 reads, bank 0 gets 7 -> 7 cycles.
  CHECK(rf.mma_cycles({4, 4, 4, 4, 1}, false) == 7);
  // An A fragment larger than the reuse cache is read again.
  CHECK(rf.mma_cycles({8, 2, 4, 4, 0}, true) == rf.mma_cycles({8, 2, 4, 4, 0}, false));
}

TEST_CASE("delivering a run of MMAs counts every access", "[regfile]") {
  RegisterFile rf(ampere_like());
  // 8 MMAs, each A serving 2 in a row: 4 read A, 4 hit the cache.
  const std::int64_t cycles = rf.deliver({4, 2, 4, 4, 0}, 8, 2, 0);
  CHECK(cycles == 4 * 5 + 4 * 3);
  CHECK(rf.stats().reads == 32u * (4 * 4 + 8 * (2 + 4)));
  CHECK(rf.stats().writes == 32u * 8 * 4);
  CHECK(rf.stats().reuse_hits == 32u * 4 * 4);
  CHECK(rf.stats().port_cycles == static_cast<std::uint64_t>(cycles));
  CHECK(rf.deliver({4, 2, 4, 4, 0}, 0, 1, 0) == 0);
}

TEST_CASE("a narrow port needs several accesses per register", "[regfile]") {
  RegisterFileConfig c = ampere_like();
  c.port_width_bits = 512;
  RegisterFile rf(c);
  CHECK(rf.mma_cycles({4, 2, 4, 4, 0}, false) == 10);
  c.reads_per_cycle_per_bank = 2;
  CHECK(RegisterFile(c).mma_cycles({4, 2, 4, 4, 0}, false) == 5);
}

TEST_CASE("bank conflicts are the cycles beyond an even spread", "[regfile]") {
  RegisterFile rf(ampere_like());
  // 3 reads (A 1, B 1, C 1) + meta 0 over 2 banks: bank 0 gets 2 -> 2 cycles, ideal ceil(3/2) = 2.
  rf.deliver({1, 1, 1, 1, 0}, 1, 1, 0);
  CHECK(rf.stats().conflict_cycles == 0);
  // 5 reads all landing as 3 + 2 -> 3 cycles, ideal 3: none; sparse {4,4,4,4,1}: 13 reads, 7 vs 7.
  RegisterFileConfig one = ampere_like();
  one.banks_per_sub_core = 4;
  RegisterFile rf4(one);
  // Registers 0..2 (A 1, B 1, C 1): banks 0, 1, 2 -> 1 cycle; D at C's register 2 -> 1 cycle.
  CHECK(rf4.deliver({1, 1, 1, 1, 0}, 1, 1, 0) == 1);
  CHECK(rf4.stats().conflict_cycles == 0);
}
