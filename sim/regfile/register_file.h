// The register file of one sub-core, as it feeds a tensor core: banks with read and write ports,
// one access moving one 32-bit register for all 32 lanes of a warp (the 1024-bit port of the
// Ampere-generation measurements), and an operand reuse cache that spares reads of a fragment used
// again by the next MMA. It answers how many cycles the operands of an MMA need, whether bank
// conflicts or port limits stretch that beyond the tensor core's own occupancy, and counts every
// access for energy.
//
// Register allocation: an MMA's fragments take consecutive registers, A, then B, then C (read), then
// metadata, and D (written) reuses C's registers; register r sits in bank r mod banks. That is how a
// compiler lays out an MMA's operands, and it is what makes sparse MMAs, with more B registers and a
// metadata register per instruction, press harder on the ports than dense ones.
// Left out: the operand collector-less issue timing of other instructions sharing the ports (address
// arithmetic, loads), register spills, and the exact lane-to-bank swizzles.
#pragma once

#include <cstdint>

#include "common/dtype.h"
#include "config/instruction.h"
#include "config/kernel_config.h"
#include "config/memory_config.h"

namespace stcsim {

// 32-bit registers per thread that one MMA instruction reads and writes, for the warp issuing it.
struct MmaFragments {
  int a = 0;     // A (values only for a sparse A); 0 when A comes from shared memory
  int b = 0;     // B; 0 when B comes from shared memory
  int c = 0;     // accumulator read (fp32 or int32)
  int d = 0;     // accumulator write
  int meta = 0;  // sparse metadata

  int reads() const { return a + b + c + meta; }
  bool operator==(const MmaFragments& o) const { return a == o.a && b == o.b && c == o.c && d == o.d && meta == o.meta; }
};

// Registers per thread of one instruction of `shape` (K dense-equivalent, in elements of `t`), for the
// `threads` that issue it (32 for a warp, 128 for a warpgroup). `sparse_n/m` > 0 for an N:M-sparse A.
MmaFragments mma_fragments(const MmaShape& shape, DType t, int sparse_n, int sparse_m, OperandSource a_source,
                           OperandSource b_source, int threads);

struct RegisterFileStats {
  std::uint64_t reads = 0;             // 32-bit lane reads (registers x 32 lanes)
  std::uint64_t writes = 0;            // 32-bit lane writes
  std::uint64_t metadata_bits = 0;     // metadata bits read (charged separately in the energy table)
  std::uint64_t reuse_hits = 0;        // register reads served by the reuse cache (lanes x registers)
  std::uint64_t port_cycles = 0;       // cycles the ports were busy delivering MMA operands
  std::uint64_t conflict_cycles = 0;   // of those, cycles beyond a conflict-free spread over the banks

  template <class F>
  void visit(F&& f) {
    f("reads", reads);
    f("writes", writes);
    f("metadata_bits", metadata_bits);
    f("reuse_hits", reuse_hits);
    f("port_cycles", port_cycles);
    f("conflict_cycles", conflict_cycles);
  }
};

class RegisterFile {
 public:
  explicit RegisterFile(const RegisterFileConfig& cfg);

  // Cycles the ports need for one MMA's reads and writes (the larger of the two), with A served by
  // the reuse cache when `a_reused` (the previous MMA had the same A fragment) and the cache has room.
  std::int64_t mma_cycles(const MmaFragments& f, bool a_reused) const;

  // Cycles for `count` MMAs issued back to back over an n-inner loop where each A fragment serves
  // `a_reuse` consecutive MMAs; counts nothing.
  std::int64_t cycles(const MmaFragments& f, std::int64_t count, int a_reuse) const;

  // Cycles for `count` MMAs issued back to back over an n-inner loop where each A fragment serves
  // `a_reuse` consecutive MMAs; adds the accesses to the stats. `metadata_bits` per MMA for energy.
  std::int64_t deliver(const MmaFragments& f, std::int64_t count, int a_reuse, std::int64_t metadata_bits_per_mma);
  // One MMA's operands (the cycle model's operand collector): mma_cycles(f, a_reused), counted.
  // `cycles` >= 0: that figure, already known to the caller.
  std::int64_t deliver_one(const MmaFragments& f, bool a_reused, std::int64_t metadata_bits, std::int64_t cycles = -1);

  const RegisterFileConfig& config() const { return cfg_; }
  RegisterFileStats& stats() { return stats_; }
  const RegisterFileStats& stats() const { return stats_; }

 private:
  void account(const MmaFragments& f, std::int64_t count, std::int64_t a_reads, std::int64_t a_hits,
               std::int64_t cycles, std::int64_t metadata_bits_per_mma);
  // Busiest bank's accesses for `regs` consecutive registers starting at register `first`.
  void add_to_banks(int first, int regs, std::int64_t* per_bank) const;

  RegisterFileConfig cfg_;
  RegisterFileStats stats_;
};

}  // namespace stcsim
