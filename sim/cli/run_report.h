// The printed report of stcsim run: per-layer and total tables for each run, where the SMs' cycles
// went, energy by component, and, for several runs, a side-by-side comparison with the first.
#pragma once

#include <string>
#include <vector>

#include "config/machine_config.h"
#include "gpu/simulation.h"

namespace stcsim::cli {

std::string format_run_report(const MachineConfig& machine, const std::vector<RunResult>& runs);

}  // namespace stcsim::cli
