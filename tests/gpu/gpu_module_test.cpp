// Each test case elaborates SystemC once: run them one per process (ctest does).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "config/machine_config.h"
#include "gpu/gpu_module.h"
#include "gpu/sanitizer_stack.h"
#include "mapping/math_path.h"

using namespace stcsim;

namespace {

GemmOp gemm(std::int64_t m, std::int64_t n, std::int64_t k, const char* pattern) {
  GemmOp g;
  g.layer = "g";
  g.m = m;
  g.n = n;
  g.k = k;
  g.sparse = Operand::B;
  g.pattern = pattern;
  return g;
}

}  // namespace

TEST_CASE("a dense 4096^3 GEMM on H100 is no faster than the roofline, and 2:4 runs faster", "[gpu]") {
  const MachineConfig h100 = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml");
  const GemmOp dense = gemm(4096, 4096, 4096, "dense");
  const GemmOp sparse = gemm(4096, 4096, 4096, "2:4");
  const GemmMapping md = map_gemm(dense, h100);
  const GemmMapping ms = map_gemm(sparse, h100);
  const LaunchPlan pd = plan_launch(dense, md, h100);
  const LaunchPlan ps = plan_launch(sparse, ms, h100);
  const KBlockCoster cd(h100, DType::fp16, md);
  const KBlockCoster cs(h100, DType::fp16, ms);
  GpuModule gpu("gpu", h100);
  gpu.add_launch(pd, cd);
  gpu.add_launch(ps, cs);
  sc_core::sc_start();
  sanitizer_back_on_thread_stack();  // the thread's own stack again, for ASan (see the header)
  REQUIRE(gpu.results().size() == 2);
  const LaunchStats& d = gpu.results()[0];
  const LaunchStats& s = gpu.results()[1];
  // Compute roofline: 4096^3 MACs at 132 SMs x 4 x 512 MACs per cycle.
  const double roof = 4096.0 * 4096 * 4096 / (132.0 * 4 * 512);
  CAPTURE(d.cycles, s.cycles, roof);
  CHECK(static_cast<double>(d.cycles) >= roof);
  CHECK(static_cast<double>(s.cycles) >= roof / 2);
  CHECK(s.cycles < d.cycles);
  CHECK(d.ctas == 512);
  CHECK(d.dense_mmas * 64 * 256 * 16 == 4096ULL * 4096 * 4096);
  CHECK(s.sparse_mmas * 64 * 256 * 32 == 4096ULL * 4096 * 4096);
}

TEST_CASE(
    "a one-CTA, one-k-block GEMM takes memory latency + transfer + k-block + drain + store, and a launch ends with its "
    "last C store",
    "[gpu]") {
  // One L2 partition (every hit near) and 40 cycles of MMA latency beyond occupancy (the drain).
  const MachineConfig mc =
      load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml",
                          {"arch.l2.partitions=1", "arch.tensor_core.instructions.wgmma.latency_cycles=40",
                           "arch.tensor_core.instructions.wgmma_sp.latency_cycles=40"});
  const GemmOp one_dense = gemm(256, 128, 64, "dense");  // S = B^T: 128 x 64, D: 64 x 256, one CTA tile
  const GemmOp one_sparse = gemm(256, 128, 64, "2:4");
  const GemmOp many = gemm(1024, 1000, 640, "2:4");
  const GemmMapping md = map_gemm(one_dense, mc), ms = map_gemm(one_sparse, mc), mm = map_gemm(many, mc);
  const LaunchPlan pd = plan_launch(one_dense, md, mc), ps = plan_launch(one_sparse, ms, mc),
                   pm = plan_launch(many, mm, mc);
  REQUIRE(pd.ctas().size() == 1);
  REQUIRE(pd.work()[0].k_blocks() == 1);
  REQUIRE(ps.ctas().size() == 1);
  const KBlockCoster cd(mc, DType::fp16, md), cs(mc, DType::fp16, ms), cm(mc, DType::fp16, mm);
  GpuModule gpu("gpu", mc);
  gpu.add_launch(pd, cd, true);
  gpu.add_launch(ps, cs, true);
  gpu.add_launch(pd, cd, true);   // again, after other work, on fresh memory
  gpu.add_launch(pm, cm, false);  // many CTAs on the memory the last one warmed
  sc_core::sc_start();
  sanitizer_back_on_thread_stack();  // the thread's own stack again, for ASan (see the header)
  REQUIRE_FALSE(gpu.error());
  REQUIRE(gpu.results().size() == 4);

  // By hand from the config: both tiles miss in L2 and stream from DRAM one after the other at
  // bandwidth x efficiency / clock bytes per cycle, arriving DRAM latency after the last byte (the
  // L2's own path, bytes / 3900 + near latency 258, is shorter); the k-block's cost (shared memory
  // bound, see sm_module_test.cpp for the dense one); the drain; the C tile (128 x 256 x 2 B) through
  // the idle L2 link plus its near latency.
  const double dram_rate = mc.arch.dram.bandwidth_gbps * mc.arch.dram.efficiency * 1e6 / (mc.arch.clock_mhz * 1e3);
  const auto dram = [&](double bytes) {
    return static_cast<std::int64_t>(std::ceil(bytes / dram_rate)) + mc.arch.dram.latency_cycles;
  };
  const auto l2 = [&](double bytes) {
    return static_cast<std::int64_t>(std::ceil(bytes / mc.arch.l2.bytes_per_clock)) + mc.arch.l2.latency_near_cycles;
  };
  const std::int64_t drain = 40;
  const std::int64_t store = l2(128.0 * 256 * 2);
  // Dense: S 128 x 64 x 2 = 16384 B, D 64 x 256 x 2 = 32768 B; 8 wgmma of 128 cycles = 1024, shared
  // memory ceil((16384 + 2 x 32768) / 124) + ceil(49152 / 124) = 661 + 397 = 1058.
  const std::int64_t dense_cycles = dram(16384 + 32768) + 1058 + drain + store;
  // 2:4: S values 128 x 32 x 2 = 8192 B and metadata 128 x 2 words x 4 = 1024 B, D 32768 B; 4 wgmma.sp
  // m64n256k32 of 128 cycles = 512, shared memory ceil((9216 + 2 x 32768) / 124) + ceil(41984 / 124)
  // = 603 + 339 = 942.
  const std::int64_t sparse_cycles = dram(9216 + 32768) + 942 + drain + store;
  CHECK(dense_cycles == 615 + 1058 + 40 + 17 + 258);
  CHECK(gpu.results()[0].cycles == static_cast<std::uint64_t>(dense_cycles));
  CHECK(gpu.results()[1].cycles == static_cast<std::uint64_t>(sparse_cycles));
  CHECK(gpu.results()[2].cycles == static_cast<std::uint64_t>(dense_cycles));
  CHECK(gpu.results()[0].memory.dram_read_bytes == 16384 + 32768);
  CHECK(gpu.results()[1].memory.dram_read_bytes == 9216 + 32768);
  CHECK(gpu.results()[0].sm.mainloop.mma_cycles == 1024);
  CHECK(gpu.results()[1].sm.mainloop.mma_cycles == 512);

  // Launches run back to back, each ending with its last C store: the simulation ends with the last
  // launch's last store, which is the last transfer on its L2 link (stores come after every load of
  // their CTA, and the last CTA to finish loads nothing after its store).
  std::uint64_t total = 0;
  for (const LaunchStats& r : gpu.results()) total += r.cycles;
  CHECK(static_cast<std::uint64_t>(sim_cycle_now()) == total);
  const std::int64_t last_store_done = gpu.memory().l2_link().free_at() + mc.arch.l2.latency_near_cycles;
  CHECK(last_store_done == sim_cycle_now());
  CHECK(gpu.results()[3].ctas == pm.ctas().size());
  CHECK(gpu.results()[3].memory.stores == pm.ctas().size());
}
