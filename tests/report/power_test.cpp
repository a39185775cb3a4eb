// The power cap's sustained clock (report/power.h): the boundary at the cap, the solved clock, the
// floor, static energy, and conservation of the energy components.
#include <catch2/catch.hpp>

#include <cmath>

#include "common/error.h"
#include "report/power.h"

using namespace stcsim;

namespace {

GpuConfig arch(double cap_w, int base_mhz, double static_w) {
  GpuConfig a;
  a.name = "test";
  a.clock_mhz = 2000;
  a.power_cap_w = cap_w;
  a.base_clock_mhz = base_mhz;
  a.static_power_w = static_w;
  return a;
}

// 2e9 cycles at 2000 MHz: 1 s, so joules at f0 read as watts at f0.
constexpr std::uint64_t kCycles = 2'000'000'000;

double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }

}  // namespace

TEST_CASE("a line at or under the cap keeps the configured clock", "[report][power]") {
  // 300 W core + 100 W DRAM + 100 W static = 500 W at f0.
  const LinePower line{300.0, 100.0, kCycles};
  for (double cap : {500.0, 500.0 + 1e-9, 700.0}) {
    const SustainedClock s = sustain_clock(line, arch(cap, 1000, 100.0));
    CHECK_FALSE(s.capped);
    CHECK(s.clock_mhz == 2000.0);
    CHECK(s.time_s == 1.0);
    CHECK(s.core_scale == 1.0);
    CHECK(s.power_w == Approx(500.0).epsilon(1e-12));
  }
  // No cap (0): never lowered, however high the power.
  const SustainedClock s = sustain_clock({1e6, 0, kCycles}, arch(0, 0, 100.0));
  CHECK_FALSE(s.capped);
  CHECK(s.clock_mhz == 2000.0);
}

TEST_CASE("a line over the cap runs at the clock where its power meets the cap", "[report][power]") {
  const LinePower line{300.0, 100.0, kCycles};  // 500 W at f0
  for (double cap : {500.0 * (1 + 1e-6), 499.999, 450.0, 300.0}) {
    INFO("cap " << cap);
    const SustainedClock s = sustain_clock(line, arch(cap, 100, 100.0));
    if (cap > 500.0) {
      CHECK_FALSE(s.capped);
      continue;
    }
    CHECK(s.capped);
    CHECK_FALSE(s.at_floor);
    CHECK(s.clock_mhz < 2000.0);
    CHECK(rel(s.power_w, cap) < 1e-9);
    // The model itself: P(f) = 300 x^3 + 100 x + 100 with x = f / f0.
    const double x = s.clock_mhz / 2000.0;
    CHECK(rel(300.0 * x * x * x + 100.0 * x + 100.0, cap) < 1e-9);
    CHECK(s.core_scale == Approx(x * x).epsilon(1e-15));
    CHECK(s.time_s == Approx(1.0 / x).epsilon(1e-15));  // cycles kept: time = cycles / f
  }
}

TEST_CASE("the clock floor holds at the base clock", "[report][power]") {
  const LinePower line{300.0, 100.0, kCycles};
  // At 1000 MHz (x = 0.5): 37.5 + 50 + 100 = 187.5 W. A cap below that clamps at the floor.
  const SustainedClock s = sustain_clock(line, arch(150.0, 1000, 100.0));
  CHECK(s.capped);
  CHECK(s.at_floor);
  CHECK(s.clock_mhz == 1000.0);
  CHECK(s.power_w == Approx(187.5).epsilon(1e-12));
  CHECK(s.time_s == 2.0);
  // Exactly at the floor's power: the floor, and P == cap.
  const SustainedClock e = sustain_clock(line, arch(187.5, 1000, 100.0));
  CHECK(e.clock_mhz == 1000.0);
  CHECK(rel(e.power_w, 187.5) < 1e-9);
  // A base at or above the configured clock: never lowered.
  for (int base : {2000, 2500}) {
    const SustainedClock f = sustain_clock(line, arch(150.0, base, 100.0));
    CHECK(f.clock_mhz == 2000.0);
    CHECK(f.at_floor);
  }
}

TEST_CASE("static energy is static power times the time at the sustained clock", "[report][power]") {
  const LinePower line{30.0, 10.0, kCycles / 1000};  // 1 ms at f0: 30 kW core, 10 kW DRAM
  const SustainedClock free = sustain_clock(line, arch(0, 0, 140.0));
  CHECK(free.static_j == Approx(140.0 * 1e-3).epsilon(1e-15));
  CHECK(free.static_j == Approx(140.0 * free.time_s).epsilon(1e-15));
  const SustainedClock capped = sustain_clock(line, arch(20000.0, 500, 140.0));
  REQUIRE(capped.capped);
  CHECK(capped.static_j == Approx(140.0 * capped.time_s).epsilon(1e-15));
  CHECK(capped.time_s > free.time_s);
  // A line of no cycles: no time, no energy, no power.
  const SustainedClock none = sustain_clock({0, 0, 0}, arch(700, 1000, 140.0));
  CHECK(none.time_s == 0);
  CHECK(none.static_j == 0);
  CHECK(none.power_w == 0);
  CHECK_THROWS_AS(sustain_clock(line, GpuConfig{}), Error);
}

TEST_CASE("the components at the sustained clock sum to the total, and power is total / time", "[report][power]") {
  EnergyBreakdown e;
  e.macs = 200.0;
  e.selector_metadata = 10.0;
  e.register_file = 50.0;
  e.shared_memory = 25.0;
  e.l2 = 15.0;
  e.dram = 100.0;
  const GpuConfig a = arch(450.0, 500, 100.0);
  const SustainedClock s = sustain_clock({e.core(), e.dram, kCycles}, a);
  REQUIRE(s.capped);
  EnergyBreakdown at = e;
  apply_clock(at, s);
  CHECK(at.macs == Approx(200.0 * s.core_scale).epsilon(1e-15));
  CHECK(at.dram == 100.0);  // per byte: the memory's, not the core clock's
  CHECK(at.static_energy == s.static_j);
  double sum = 0;
  at.visit([&](const char*, double v) { sum += v; });
  CHECK(sum == Approx(at.total()).epsilon(1e-15));
  CHECK(at.total() == Approx(at.core() + at.dram + at.static_energy).epsilon(1e-15));
  CHECK(rel(at.total() / s.time_s, s.power_w) < 1e-12);
  CHECK(rel(s.power_w, 450.0) < 1e-9);
}
