// The dispatcher: every CTA handed out once in plan order, wave counts, imbalance, CTAs per SM.
#include <catch2/catch.hpp>

#include <filesystem>

#include "common/error.h"
#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "scheduler/tile_scheduler.h"

using namespace stcsim;

namespace {

MachineConfig load(const std::string& name) {
  return load_machine_config((std::filesystem::path(STCSIM_SOURCE_DIR) / "configs" / name).string());
}

LaunchPlan dense_plan(const MachineConfig& mc, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t count = 1) {
  GemmOp g;
  g.layer = "l";
  g.m = m;
  g.n = n;
  g.k = k;
  g.count = count;
  return plan_launch(g, map_gemm(g, mc), mc);
}

}  // namespace

TEST_CASE("the scheduler hands out every CTA once, in plan order", "[scheduler][dispatch]") {
  const MachineConfig mc = load("a100.yaml");
  const LaunchPlan plan = dense_plan(mc, 1000, 1000, 256);  // 8 x 8 tiles
  TileScheduler ts(plan, 3, 2);
  std::size_t expect = 0;
  int sm = 0;
  while (auto i = ts.next(sm)) {
    CHECK(*i == expect++);
    sm = (sm + 1) % 3;
  }
  CHECK(expect == 64);
  CHECK(ts.remaining() == 0);
  CHECK(ts.per_sm()[0] == 22);
  CHECK(ts.per_sm()[1] == 21);
  CHECK_FALSE(ts.next(0));
  CHECK_THROWS_AS(ts.next(3), Error);
  CHECK_THROWS_AS(TileScheduler(plan, 0, 1), Error);
}

TEST_CASE("waves and imbalance", "[scheduler][dispatch]") {
  const MachineConfig mc = load("h100.yaml");
  // 4096^2 with 128 x 256 tiles: 512 CTAs on 132 SMs x 1 = 4 waves, the last holding 116.
  const LaunchPlan plan = dense_plan(mc, 4096, 4096, 4096);
  const SchedulerStats s = launch_stats(plan, 132, 1);
  CHECK(s.ctas == 512);
  CHECK(s.waves == 4);
  CHECK(s.tail_ctas == 512 - 3 * 132);
  CHECK(s.imbalance == Approx(1.0));
  CHECK(s.work_max == 4096);
  CHECK(s.wave_efficiency == Approx(512.0 / 528.0));
  CHECK(launch_stats(plan, 512, 1).waves == 1);
  CHECK(launch_stats(plan, 511, 1).waves == 2);
  CHECK(launch_stats(plan, 511, 1).tail_ctas == 1);
}

TEST_CASE("CTAs per SM from shared memory, warps, registers and the CTA limit", "[scheduler][dispatch]") {
  const MachineConfig h = load("h100.yaml");
  // 192 KiB of shared memory per CTA: one fits in 228 KiB.
  CHECK(TileScheduler::ctas_per_sm(h) == 1);
  CHECK(TileScheduler::ctas_per_sm(h, 48 * 1024, 128, 0) == 4);
  CHECK(TileScheduler::ctas_per_sm(h, 0, 32, 0) == h.arch.sm.max_ctas);
  CHECK(TileScheduler::ctas_per_sm(h, 1024, 1024, 0) == 2);  // 64 warps / 32
  CHECK_THROWS_AS(TileScheduler::ctas_per_sm(h, 300 * 1024, 128, 0), Error);
  // Registers: 256 KiB per SM; 96 KiB per CTA leaves room for two, one byte more than half for one.
  CHECK(TileScheduler::ctas_per_sm(h, 1024, 128, 96 * 1024) == 2);
  CHECK(TileScheduler::ctas_per_sm(h, 1024, 128, 128 * 1024 + 1) == 1);
  CHECK_THROWS_AS(TileScheduler::ctas_per_sm(h, 1024, 128, 256 * 1024 + 4), Error);
  const MachineConfig a = load("a100.yaml");
  CHECK(TileScheduler::ctas_per_sm(a) == a.arch.sm.shared_memory.bytes / a.kernel.smem_bytes_per_cta());
  // V100's 128x128 wmma CTA: 4 warps, each thread with 128 accumulators, 32 fragment and 32 staged
  // registers (192) hold 96 KiB; shared memory (32 KiB a CTA) would admit three.
  const MachineConfig v = load("v100.yaml");
  CHECK(v.kernel.min_registers_per_thread() == 192);
  CHECK(v.kernel.register_bytes_per_cta() == 4 * 192 * 32 * 4);
  CHECK(v.arch.sm.shared_memory.bytes / v.kernel.smem_bytes_per_cta() == 3);
  CHECK(TileScheduler::ctas_per_sm(v) == 2);
}
