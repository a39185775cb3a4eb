#include "report/energy.h"

#include <fmt/format.h>

#include "common/error.h"

namespace stcsim {

EnergyCounts& EnergyCounts::operator+=(const EnergyCounts& o) {
  dense_macs += o.dense_macs;
  sparse_macs += o.sparse_macs;
  selections += o.selections;
  metadata_bits += o.metadata_bits;
  register_reads += o.register_reads;
  register_writes += o.register_writes;
  smem_read_bytes += o.smem_read_bytes;
  smem_write_bytes += o.smem_write_bytes;
  l2_bytes += o.l2_bytes;
  dram_bytes += o.dram_bytes;
  sm_active_cycles += o.sm_active_cycles;
  return *this;
}

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
  macs += o.macs;
  selector_metadata += o.selector_metadata;
  register_file += o.register_file;
  shared_memory += o.shared_memory;
  l2 += o.l2;
  overhead += o.overhead;
  sm_active += o.sm_active;
  dram += o.dram;
  static_energy += o.static_energy;
  return *this;
}

void EnergyBreakdown::scale_core(double s) {
  macs *= s;
  selector_metadata *= s;
  register_file *= s;
  shared_memory *= s;
  l2 *= s;
  overhead *= s;
  sm_active *= s;
}

EnergyBreakdown compute_energy(const EnergyCounts& c, const EnergyConfig& e, DType t) {
  const auto mac = e.mac(t);
  if (!mac) throw Error(fmt::format("energy table '{}' has no MAC energy for {}", e.name, dtype_name(t)));
  constexpr double pj = 1e-12;
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  EnergyBreakdown b;
  b.macs = pj * (d(c.dense_macs) * mac->dense_pj + d(c.sparse_macs) * mac->sparse_pj);
  b.selector_metadata = pj * (d(c.selections) * e.operand_select_pj + d(c.metadata_bits) * e.metadata_pj_per_bit);
  b.register_file = pj * (d(c.register_reads) * e.register_read_pj_per_32b + d(c.register_writes) * e.register_write_pj_per_32b);
  b.shared_memory = pj * (d(c.smem_read_bytes) * e.smem_read_pj_per_byte + d(c.smem_write_bytes) * e.smem_write_pj_per_byte);
  b.l2 = pj * d(c.l2_bytes) * e.l2_pj_per_byte;
  b.overhead = (e.core_overhead - 1.0) * (b.macs + b.selector_metadata + b.register_file + b.shared_memory + b.l2);
  b.sm_active = pj * d(c.sm_active_cycles) * e.sm_active_pj_per_cycle;
  b.dram = pj * d(c.dram_bytes) * e.dram_pj_per_byte;
  return b;
}

}  // namespace stcsim
