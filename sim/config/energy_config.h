// Energy per action (the `energy` section), in picojoules, for a power model to multiply with the
// event counts the simulation produces: MACs per data type (dense, and executed in sparse mode),
// operand-selector selections, metadata bits, register-file, shared-memory, L2 and DRAM traffic. The
// shipped values are estimates scaled from 45 nm figures; every number in configs/energy/*.yaml
// carries its source. Static power is a property of the part, not of the node: arch.static_power_w.
//
// Clock tree, control and issue energy are not modelled per instruction: a fitted energy per cycle of
// each SM with a CTA resident (sm_active_pj_per_cycle) and a fitted factor on the core energies
// (core_overhead) stand for them. Left out: interconnect (NoC) energy separate from L2 access and
// data-dependent switching (zeros are charged like any value). The energies are at
// arch.clock_mhz; a line the power cap slows scales them (report/power.h).
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>

#include "common/dtype.h"
#include "config/yaml_doc.h"

namespace stcsim {

// energy.mac_pj.<dtype>
struct MacEnergy {
  double dense_pj = 0;   // one MAC with dense operands, pJ; required, >= 0
  double sparse_pj = 0;  // one executed (kept) MAC in sparse mode, pJ, selection excluded; required, >= 0

  bool operator==(const MacEnergy& o) const { return dense_pj == o.dense_pj && sparse_pj == o.sparse_pj; }
  bool operator!=(const MacEnergy& o) const { return !(*this == o); }
};

// energy
struct EnergyConfig {
  std::string name;                   // label for reports, e.g. "4 nm estimate"; required
  std::map<DType, MacEnergy> mac_pj;  // per data type; at least one; must cover every type the arch has
  double operand_select_pj = 0;       // one operand-selector selection (routing one B element), pJ; required
  // Reading one metadata bit from the register file, pJ; required. Metadata reads are charged here
  // only, not again as register-file reads.
  double metadata_pj_per_bit = 0;
  double register_read_pj_per_32b = 0;   // one 32-bit register read (one lane), pJ; required
  double register_write_pj_per_32b = 0;  // one 32-bit register write, pJ; required
  double smem_read_pj_per_byte = 0;      // shared memory read, pJ per byte; required
  double smem_write_pj_per_byte = 0;     // shared memory write, pJ per byte; required
  double l2_pj_per_byte = 0;             // L2 access (read or write), pJ per byte; required
  double dram_pj_per_byte = 0;           // DRAM access (read or write), pJ per byte; required
  // Factor on the sum of the core (SM and L2) energies above for what per-access figures leave out:
  // instruction fetch and issue, operand collection, clock tree and control. Reported as its own
  // component (EnergyBreakdown::overhead). A fitted figure (configs/energy/*.yaml say on what);
  // 1..100, default 1 (none).
  double core_overhead = 1.0;
  // Energy per cycle of each SM with at least one CTA resident, pJ: clock tree, warp schedulers and
  // control of a running SM, paid whether its tensor cores are busy or stalled. Reported as its own
  // component (EnergyBreakdown::sm_active). A fitted figure; >= 0, default 0 (none).
  double sm_active_pj_per_cycle = 0;

  std::optional<MacEnergy> mac(DType t) const;

  static EnergyConfig from_yaml(Section& s);
  YAML::Node to_yaml() const;
  bool operator==(const EnergyConfig& o) const;
  bool operator!=(const EnergyConfig& o) const { return !(*this == o); }
};

}  // namespace stcsim
