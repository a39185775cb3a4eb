#include "regfile/register_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

namespace {

// Registers per thread holding `elements` values of `bytes` each, spread over `threads` threads.
int regs_for(std::int64_t elements, int bytes, int threads) {
  return static_cast<int>(ceil_div(elements * bytes, std::int64_t{4} * threads));
}

}  // namespace

MmaFragments mma_fragments(const MmaShape& shape, DType t, int sparse_n, int sparse_m, OperandSource a_source,
                           OperandSource b_source, int threads) {
  if (threads < 1) throw Error("mma_fragments: threads must be >= 1");
  const bool sparse = sparse_n > 0 && sparse_m > 0;
  const int eb = dtype_bytes(t);
  const std::int64_t a_cols = sparse ? ceil_div(shape.k, sparse_m) * sparse_n : shape.k;
  MmaFragments f;
  f.a = a_source == OperandSource::registers ? regs_for(std::int64_t{shape.m} * a_cols, eb, threads) : 0;
  f.b = b_source == OperandSource::registers ? regs_for(std::int64_t{shape.k} * shape.n, eb, threads) : 0;
  f.c = regs_for(std::int64_t{shape.m} * shape.n, 4, threads);
  f.d = f.c;
  if (sparse) {
    const std::int64_t bits = std::int64_t{shape.m} * a_cols * index_bits(sparse_m);
    f.meta = static_cast<int>(ceil_div(bits, std::int64_t{32} * threads));
  }
  return f;
}

RegisterFile::RegisterFile(const RegisterFileConfig& cfg) : cfg_(cfg) {
  if (cfg_.banks_per_sub_core < 1 || cfg_.reads_per_cycle_per_bank < 1 || cfg_.writes_per_cycle_per_bank < 1) {
    throw Error("register file: banks and ports must be >= 1");
  }
}

void RegisterFile::add_to_banks(int first, int regs, std::int64_t* per_bank) const {
  // One access moves one register of all lanes when the port is 1024 bits wide; a narrower port
  // needs several accesses per register.
  const std::int64_t accesses = std::max<std::int64_t>(1, ceil_div(1024, cfg_.port_width_bits));
  for (int r = first; r < first + regs; ++r) per_bank[r % cfg_.banks_per_sub_core] += accesses;
}

std::int64_t RegisterFile::mma_cycles(const MmaFragments& f, bool a_reused) const {
  const bool reuse_a = a_reused && f.a > 0 && f.a <= cfg_.reuse_cache_entries;
  std::vector<std::int64_t> reads(static_cast<std::size_t>(cfg_.banks_per_sub_core), 0);
  std::vector<std::int64_t> writes(reads.size(), 0);
  int reg = 0;
  if (!reuse_a) add_to_banks(reg, f.a, reads.data());
  reg += f.a;
  add_to_banks(reg, f.b, reads.data());
  reg += f.b;
  const int c_first = reg;
  add_to_banks(c_first, f.c, reads.data());
  reg += f.c;
  add_to_banks(reg, f.meta, reads.data());
  add_to_banks(c_first, f.d, writes.data());
  const std::int64_t read_cycles = ceil_div(*std::max_element(reads.begin(), reads.end()), cfg_.reads_per_cycle_per_bank);
  const std::int64_t write_cycles = ceil_div(*std::max_element(writes.begin(), writes.end()), cfg_.writes_per_cycle_per_bank);
  return std::max(read_cycles, write_cycles);
}

std::int64_t RegisterFile::cycles(const MmaFragments& f, std::int64_t count, int a_reuse) const {
  if (count <= 0) return 0;
  // In every run of a_reuse MMAs sharing A, the first reads A and the others may hit the reuse cache.
  const std::int64_t first = ceil_div(count, std::max(1, a_reuse));
  return first * mma_cycles(f, false) + (count - first) * mma_cycles(f, true);
}

std::int64_t RegisterFile::deliver(const MmaFragments& f, std::int64_t count, int a_reuse, std::int64_t metadata_bits_per_mma) {
  if (count <= 0) return 0;
  const std::int64_t first = ceil_div(count, std::max(1, a_reuse));
  const std::int64_t reused = count - first;
  const std::int64_t cycles = this->cycles(f, count, a_reuse);
  const bool cache_holds_a = f.a > 0 && f.a <= cfg_.reuse_cache_entries;
  account(f, count, first * f.a + (cache_holds_a ? 0 : reused * f.a), cache_holds_a ? reused * f.a : 0, cycles,
          metadata_bits_per_mma);
  return cycles;
}

std::int64_t RegisterFile::deliver_one(const MmaFragments& f, bool a_reused, std::int64_t metadata_bits,
                                       std::int64_t known_cycles) {
  const std::int64_t cycles = known_cycles >= 0 ? known_cycles : mma_cycles(f, a_reused);
  const bool hit = a_reused && f.a > 0 && f.a <= cfg_.reuse_cache_entries;
  account(f, 1, hit ? 0 : f.a, hit ? f.a : 0, cycles, metadata_bits);
  return cycles;
}

void RegisterFile::account(const MmaFragments& f, std::int64_t count, std::int64_t a_reads, std::int64_t a_hits,
                           std::int64_t cycles, std::int64_t metadata_bits_per_mma) {
  const auto lanes = [](std::int64_t regs) { return static_cast<std::uint64_t>(regs) * 32; };
  stats_.reads += lanes(a_reads + count * (f.b + f.c + f.meta));
  stats_.writes += lanes(count * f.d);
  stats_.reuse_hits += lanes(a_hits);
  stats_.metadata_bits += static_cast<std::uint64_t>(count * metadata_bits_per_mma);
  stats_.port_cycles += static_cast<std::uint64_t>(cycles);
  // Conflict-free: the same reads spread evenly over every bank's ports.
  const std::int64_t ports = std::int64_t{cfg_.banks_per_sub_core} * cfg_.reads_per_cycle_per_bank;
  const std::int64_t access_per_reg = std::max<std::int64_t>(1, ceil_div(1024, cfg_.port_width_bits));
  const std::int64_t ideal_reads = ceil_div((a_reads + count * (f.b + f.c + f.meta)) * access_per_reg, ports);
  const std::int64_t ideal_writes = ceil_div(count * f.d * access_per_reg, std::int64_t{cfg_.banks_per_sub_core} * cfg_.writes_per_cycle_per_bank);
  const std::int64_t ideal = std::max(ideal_reads, ideal_writes);
  stats_.conflict_cycles += static_cast<std::uint64_t>(std::max<std::int64_t>(0, cycles - ideal));
}

}  // namespace stcsim
