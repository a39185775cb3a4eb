// The power cap's sustained clock and static energy (see power.h).
#include "report/power.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace stcsim {

namespace {

// Power at x = f / f0 given the parts' powers at f0.
double power_at(double x, double core_w, double dram_w, double static_w) {
  return core_w * x * x * x + dram_w * x + static_w;
}

SustainedClock at_ratio(double x, const LinePower& line, const GpuConfig& arch) {
  SustainedClock s;
  s.clock_mhz = x * arch.clock_mhz;
  s.time_s = static_cast<double>(line.cycles) / (s.clock_mhz * 1e6);
  s.core_scale = x * x;
  s.static_j = arch.static_power_w * s.time_s;
  const double energy = line.core_j * s.core_scale + line.dram_j + s.static_j;
  s.power_w = s.time_s > 0 ? energy / s.time_s : 0.0;
  return s;
}

}  // namespace

SustainedClock sustain_clock(const LinePower& line, const GpuConfig& arch) {
  if (arch.clock_mhz < 1) throw Error(fmt::format("power: arch.clock_mhz must be >= 1 (got {})", arch.clock_mhz));
  const SustainedClock full = at_ratio(1.0, line, arch);
  if (arch.power_cap_w <= 0 || full.time_s <= 0 || full.power_w <= arch.power_cap_w) return full;

  const double core_w = line.core_j / full.time_s;
  const double dram_w = line.dram_j / full.time_s;
  const double floor = static_cast<double>(std::min(arch.base_clock_mhz, arch.clock_mhz)) / arch.clock_mhz;
  SustainedClock s;
  if (power_at(floor, core_w, dram_w, arch.static_power_w) >= arch.power_cap_w) {
    s = at_ratio(floor, line, arch);
    s.at_floor = true;
  } else {
    // P is increasing in x: P(lo) < cap < P(hi). Halve until the bounds meet in double precision.
    double lo = floor, hi = 1.0;
    for (int i = 0; i < 200 && lo < hi; ++i) {
      const double mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) break;
      (power_at(mid, core_w, dram_w, arch.static_power_w) < arch.power_cap_w ? lo : hi) = mid;
    }
    s = at_ratio(lo, line, arch);
  }
  s.capped = true;
  return s;
}

void apply_clock(EnergyBreakdown& e, const SustainedClock& s) {
  e.scale_core(s.core_scale);
  e.static_energy = s.static_j;
}

}  // namespace stcsim
