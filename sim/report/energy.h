// Energy of a simulated run: event counts times the energy table (energy section), by component, at
// the configured clock. Static energy and the clock the power cap sets are report/power.h's.
#pragma once

#include <cstdint>

#include "common/dtype.h"
#include "config/energy_config.h"

namespace stcsim {

// The events a run produced that cost energy. Register accesses are 32-bit lane accesses.
struct EnergyCounts {
  std::uint64_t dense_macs = 0;          // MACs executed in dense mode (explicit zeros included)
  std::uint64_t sparse_macs = 0;         // MACs executed in sparse mode (kept products only)
  std::uint64_t selections = 0;          // operand-selector selections
  std::uint64_t metadata_bits = 0;       // metadata bits read
  std::uint64_t register_reads = 0;
  std::uint64_t register_writes = 0;
  std::uint64_t smem_read_bytes = 0;
  std::uint64_t smem_write_bytes = 0;
  std::uint64_t l2_bytes = 0;
  std::uint64_t dram_bytes = 0;
  std::uint64_t sm_active_cycles = 0;    // SM-cycles with a CTA resident, summed over SMs

  EnergyCounts& operator+=(const EnergyCounts& o);
};

// Joules per component.
struct EnergyBreakdown {
  double macs = 0;
  double selector_metadata = 0;  // operand selections and metadata reads
  double register_file = 0;
  double shared_memory = 0;
  double l2 = 0;
  // What the per-access figures above leave out on the core supply (instruction issue, operand
  // collection, clock tree, control): energy.core_overhead - 1 times their sum.
  double overhead = 0;
  // Clock tree and control of SMs with a CTA resident: energy.sm_active_pj_per_cycle per SM-cycle.
  double sm_active = 0;
  double dram = 0;
  double static_energy = 0;  // static power x time (report/power.h)

  // The components on the GPU's core supply (all but DRAM and static): they scale with its voltage.
  double core() const { return macs + selector_metadata + register_file + shared_memory + l2 + overhead + sm_active; }
  double dynamic() const { return core() + dram; }
  double total() const { return dynamic() + static_energy; }
  // Every core component times s (a lower clock's lower voltage: report/power.h).
  void scale_core(double s);
  EnergyBreakdown& operator+=(const EnergyBreakdown& o);

  template <class F>
  void visit(F&& f) const {
    f("macs", macs);
    f("selector_metadata", selector_metadata);
    f("register_file", register_file);
    f("shared_memory", shared_memory);
    f("l2", l2);
    f("overhead", overhead);
    f("sm_active", sm_active);
    f("dram", dram);
    f("static", static_energy);
  }
};

// The dynamic components at the configured clock; static_energy is left 0. Throws Error if the
// table lacks the dtype.
EnergyBreakdown compute_energy(const EnergyCounts& c, const EnergyConfig& e, DType t);

}  // namespace stcsim
