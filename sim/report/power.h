// The clock a line sustains under the board power cap, and its static energy (arch.power_cap_w,
// arch.base_clock_mhz, arch.static_power_w).
//
// Model, per line: the simulation gives the line's cycles and its dynamic energy at the configured
// clock f0 (arch.clock_mhz). Its power at a clock f is
//   P(f) = P_core(f0) x (f/f0)^3 + P_dram(f0) x (f/f0) + P_static
// - core (MACs, operand selector and metadata, registers, shared memory, L2): P = C V^2 f with V
//   roughly proportional to f in the DVFS range, so energy per event goes as (f/f0)^2 and power as
//   (f/f0)^3. Below the lowest DVFS voltage V stays put and power falls only as f: the cube
//   overstates the saving there, which the floor at the base clock keeps out of reach on the
//   shipped parts;
// - DRAM: energy per byte is the memory's, not the core clock's: the same joules over a longer time;
// - static: constant (its rise with voltage and temperature is left out).
// If P(f0) <= cap the line runs at f0; otherwise at the f in [base, f0] with P(f) = cap, found by
// bisection, and at base (or f0 where f0 is set below base) if even there P > cap (the part would
// throttle harder; the floor stands for the clock NVIDIA guarantees).
//
// Limits: the line's cycles are kept, time = cycles / f. A memory-bound line would take fewer core
// cycles at a lower core clock (DRAM time does not stretch); the lines that reach the cap are the
// compute-heavy ones, where cycles are the math's. One clock per line: a real part moves its clock
// within a kernel, and by temperature; here each line settles at its average.
#pragma once

#include <cstdint>

#include "config/gpu_config.h"
#include "report/energy.h"

namespace stcsim {

// What a line costs at the configured clock.
struct LinePower {
  double core_j = 0;  // dynamic energy on the core supply (EnergyBreakdown::core)
  double dram_j = 0;  // DRAM energy
  std::uint64_t cycles = 0;
};

struct SustainedClock {
  double clock_mhz = 0;   // the clock the line runs at
  double time_s = 0;      // cycles / clock
  double core_scale = 1;  // (clock / arch.clock_mhz)^2: the factor on the core energies
  double static_j = 0;    // static_power_w x time
  double power_w = 0;     // average power at that clock: (core x core_scale + DRAM + static) / time
  bool capped = false;    // the cap lowered the clock
  bool at_floor = false;  // held at base_clock_mhz: the power there is still above the cap
};

// Throws Error if arch.clock_mhz < 1.
SustainedClock sustain_clock(const LinePower& line, const GpuConfig& arch);

// The line's energy at the sustained clock: core components times core_scale, static_j set.
void apply_clock(EnergyBreakdown& e, const SustainedClock& s);

}  // namespace stcsim
