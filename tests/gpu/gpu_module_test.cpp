// Each test case elaborates SystemC once: run them one per process (ctest does).
#include <catch2/catch.hpp>

#include "config/machine_config.h"
#include "gpu/gpu_module.h"
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
