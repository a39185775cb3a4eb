// Each test case elaborates SystemC once: run them one per process (ctest does).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "common/error.h"
#include "config/machine_config.h"
#include "gpu/gpu_module.h"
#include "gpu/sanitizer_stack.h"
#include "scheduler/tile_scheduler.h"
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
    "a one-CTA, one-k-block GEMM takes memory latency + transfer + k-block + drain + epilogue + store, and a launch "
    "ends with its last C store",
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
  // bound, see sm_module_test.cpp for the dense one), after the tiles land in shared memory (their
  // write term), so that the k-block has its writes behind it; the drain; the epilogue staging the C tile
  // (128 x 256 x 2 = 65536 B) through shared memory, written and read at 124 B/clk, 2 x 529; the C
  // tile through the idle L2 link plus its near latency.
  const double dram_rate = mc.arch.dram.bandwidth_gbps * mc.arch.dram.efficiency * 1e6 / (mc.arch.clock_mhz * 1e3);
  const auto dram = [&](double bytes) {
    return static_cast<std::int64_t>(std::ceil(bytes / dram_rate)) + mc.arch.dram.latency_cycles;
  };
  const auto l2 = [&](double bytes) {
    return static_cast<std::int64_t>(std::ceil(bytes / mc.arch.l2.bytes_per_clock)) + mc.arch.l2.latency_near_cycles;
  };
  const std::int64_t drain = 40;
  const std::int64_t epilogue = 2 * 529;
  const std::int64_t store = epilogue + l2(128.0 * 256 * 2);
  // Dense: S 128 x 64 x 2 = 16384 B, D 64 x 256 x 2 = 32768 B; 8 wgmma of 128 cycles = 1024, shared
  // memory ceil((16384 + 2 x 32768) / 124) + ceil(49152 / 124) = 661 + 397 = 1058: landing 397, then
  // max(1024, 1058 - 397) = 1024.
  // The load issues one cycle after the launch starts (its k-block's TMA copy instruction).
  const std::int64_t dense_cycles = 1 + dram(16384 + 32768) + 397 + 1024 + drain + store;
  // 2:4: S values 128 x 32 x 2 = 8192 B and metadata 128 x 2 words x 4 = 1024 B, D 32768 B; 4 wgmma.sp
  // m64n256k32 of 128 cycles = 512, shared memory ceil((9216 + 2 x 32768) / 124) + ceil(41984 / 124)
  // = 603 + 339 = 942: landing 339, then max(512, 942 - 339) = 603.
  const std::int64_t sparse_cycles = 1 + dram(9216 + 32768) + 339 + 603 + drain + store;
  CHECK(dense_cycles == 1 + 615 + 397 + 1024 + 40 + 1058 + 17 + 258);
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

// Kernel selection (gpu/simulation.h): probes time each option alone, the choice runs the one whose
// probe took the fewest cycles (the first on a tie), and a launch uses the CTA slots its own kernel
// fits, however many the SMs were built with. The chosen launch, on a fresh memory system like its
// probe, takes exactly its probe's cycles.
TEST_CASE("a launch choice runs the option its probes time fastest, on the slots its kernel fits", "[gpu]") {
  const MachineConfig base = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/a100.yaml",
                                                 {"kernel.candidates=[]"});
  MachineConfig big = base;  // 128x256 tiles: 144 KiB of shared memory, one CTA per SM
  big.kernel.name = "big";
  big.kernel.cta_tile = {128, 256, 64};
  MachineConfig small = base;  // 64x128 tiles
  small.kernel.name = "small";
  small.kernel.cta_tile = {64, 128, 64};
  small.kernel.warp_tile = {32, 64, 64};
  small.kernel.stages = 2;  // 48 KiB: three CTAs per SM
  REQUIRE(TileScheduler::ctas_per_sm(big) == 1);
  REQUIRE(TileScheduler::ctas_per_sm(small) == 3);
  const GemmOp g = gemm(2048, 2048, 1024, "dense");
  const GemmMapping mb = map_gemm(g, big), ms = map_gemm(g, small);
  const LaunchPlan pb = plan_launch(g, mb, big), ps = plan_launch(g, ms, small);
  const KBlockCoster cb(big, DType::fp16, mb), cs(small, DType::fp16, ms);
  GpuModule gpu("gpu", base, 3);
  gpu.add_probe(ps, cs, 0);  // launch 0: whole
  gpu.add_probe(pb, cb, 0);  // launch 1: whole
  gpu.add_launch_choice({{&ps, &cs, 0}, {&pb, &cb, 1}}, true);  // launch 2
  gpu.add_launch_choice({{&pb, &cb, 1}, {&ps, &cs, 0}}, true);  // launch 3: the same, options swapped
  CHECK_THROWS_AS(gpu.add_launch_choice({{&pb, &cb, 9}}, true), Error);
  sc_core::sc_start();
  sanitizer_back_on_thread_stack();
  REQUIRE_FALSE(gpu.error());
  const auto& r = gpu.results();
  REQUIRE(r.size() == 4);
  CHECK(r[0].scheduler.slots == 108 * 3);
  CHECK(r[1].scheduler.slots == 108 * 1);
  CHECK(r[0].estimated_cycles == r[0].cycles);
  CHECK_FALSE(r[0].truncated);
  REQUIRE(r[0].cycles != r[1].cycles);
  const std::size_t fast = r[0].cycles < r[1].cycles ? 0 : 1;
  CHECK(r[2].choice == fast);
  CHECK(r[3].choice == 1 - fast);
  CHECK(r[2].cycles == r[fast].cycles);
  CHECK(r[3].cycles == r[fast].cycles);
  CHECK(r[2].scheduler.slots == r[fast].scheduler.slots);
}

// A probe of an equal-work launch runs its first waves and scales them to the whole launch; one of
// unequal work (tile-wise) runs whole.
TEST_CASE("a probe times the first waves of an equal-work launch and scales them, and unequal work runs whole", "[gpu]") {
  const MachineConfig mc = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/a100.yaml",
                                               {"kernel.candidates=[]"});
  const GemmOp eq = gemm(8192, 4096, 512, "dense");  // 2048 CTAs of 128x128: 19 waves on 108 SMs
  const GemmOp tw = gemm(4096, 4096, 512, "tw(g=128,sparsity=0.5)");
  const GemmMapping me = map_gemm(eq, mc), mt = map_gemm(tw, mc);
  const SparseOperand op = build_operand(tw, 1, 1);
  const LaunchPlan pe = plan_launch(eq, me, mc), pt = plan_launch(tw, mt, mc, &op);
  const KBlockCoster ce(mc, DType::fp16, me), ct(mc, DType::fp16, mt);
  GpuModule gpu("gpu", mc);
  gpu.add_probe(pe, ce, 4);
  gpu.add_probe(pe, ce, 0);
  gpu.add_probe(pt, ct, 4);
  sc_core::sc_start();
  sanitizer_back_on_thread_stack();
  REQUIRE_FALSE(gpu.error());
  const auto& r = gpu.results();
  REQUIRE(r.size() == 3);
  const std::uint64_t waves = r[1].scheduler.waves;
  REQUIRE(waves == 19);
  CHECK(r[0].truncated);
  CHECK(r[0].sm.ctas == 4 * 108);  // four waves of one CTA per SM ran
  CHECK(r[1].sm.ctas == pe.ctas().size());
  CAPTURE(r[0].cycles, r[0].estimated_cycles, r[1].cycles);
  CHECK(r[0].cycles < r[1].cycles);
  // Four waves and 15 more at the fourth's pace: closer to the whole launch than scaling the four
  // waves (the first starts cold), and within 6% of it here (8192 x 4096 x 512: short CTAs, where the
  // first waves weigh most).
  const auto whole_cycles = static_cast<double>(r[1].cycles);
  CHECK(std::abs(static_cast<double>(r[0].estimated_cycles) - whole_cycles) <
        std::abs(static_cast<double>(r[0].cycles * waves / 4) - whole_cycles));
  CHECK(static_cast<double>(r[0].estimated_cycles) == Approx(static_cast<double>(r[1].cycles)).epsilon(0.06));
  CHECK(r[2].scheduler.imbalance > 1.0);
  CHECK_FALSE(r[2].truncated);
  CHECK(r[2].estimated_cycles == r[2].cycles);
}

TEST_CASE("a launch smaller than the machine's CTA slots is dealt breadth-first: one CTA an SM before any gets a second",
          "[gpu]") {
  MachineConfig small = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/a100.yaml",
                                            {"kernel.candidates=[]", "kernel.cta_tile.m=64", "kernel.warp_tile.m=32",
                                             "kernel.stages=2"});
  REQUIRE(TileScheduler::ctas_per_sm(small) == 3);
  // 640 x 1536 in 64x128 tiles: 120 CTAs on 108 SMs of 3 slots, all dealt at the launch's start.
  const GemmOp g = gemm(640, 1536, 256, "dense");
  const GemmMapping mg = map_gemm(g, small);
  const LaunchPlan p = plan_launch(g, mg, small);
  REQUIRE(p.ctas().size() == 120);
  const KBlockCoster c(small, DType::fp16, mg);
  GpuModule gpu("gpu", small);
  gpu.add_launch(p, c, true);
  sc_core::sc_start();
  sanitizer_back_on_thread_stack();
  REQUIRE_FALSE(gpu.error());
  std::vector<int> held(4, 0);  // SMs that ran 0, 1, 2 and 3 CTAs
  for (const auto& sm : gpu.sms()) ++held.at(static_cast<std::size_t>(sm->total().ctas));
  CHECK(held == std::vector<int>{0, 96, 12, 0});
}
