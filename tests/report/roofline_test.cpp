// The roofline of a GEMM line: compute cycles at the path's peak, compulsory DRAM bytes at DRAM's
// rate, worked out by hand on the shipped machines; the sparse operand's bytes equal its pattern's
// compressed layout; kept work for the mask-based patterns; errors for a rate the machine lacks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "report/roofline.h"
#include "scheduler/launch_plan.h"

using namespace stcsim;

namespace {

const std::string kConfigs = std::string(STCSIM_SOURCE_DIR) + "/configs/";

MachineConfig machine(const std::string& file, const std::vector<std::string>& sets = {}) {
  return load_machine_config(kConfigs + file, sets);
}

GemmOp gemm(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& pattern, DType dtype = DType::fp16,
            std::int64_t count = 1) {
  GemmOp g;
  g.layer = "g";
  g.m = m;
  g.n = n;
  g.k = k;
  g.dtype = dtype;
  g.sparse = Operand::B;
  g.pattern = pattern;
  g.count = count;
  return g;
}

struct Planned {
  GemmMapping map;
  std::unique_ptr<SparseOperand> op;
  LaunchPlan plan;
  Roofline roof;
};

Planned plan(const GemmOp& g, const MachineConfig& mc) {
  Planned p;
  p.map = map_gemm(g, mc);
  if (plan_needs_operand(g, p.map)) p.op = std::make_unique<SparseOperand>(build_operand(g, 1, 1));
  p.plan = plan_launch(g, p.map, mc, p.op.get());
  p.roof = roofline(g, p.map, mc, p.plan);
  return p;
}

// H100's DRAM bytes per cycle: 3350 GB/s x 0.9 at 1830 MHz.
const double kH100Dram = 3350e9 * 0.9 / 1830e6;

}  // namespace

TEST_CASE("the roofline of 4096^3 on H100, dense and 2:4, by hand", "[report][roofline]") {
  const MachineConfig h100 = machine("h100.yaml");
  const Planned d = plan(gemm(4096, 4096, 4096, "dense"), h100);
  const Planned s = plan(gemm(4096, 4096, 4096, "2:4"), h100);
  const double macs = 4096.0 * 4096 * 4096;
  // 132 SMs x 4 tensor cores x 512 MACs per clock dense, 1024 dense-equivalent at 2:4.
  CHECK(d.roof.work_macs == 68719476736ULL);
  CHECK(d.roof.macs_per_cycle == 132.0 * 4 * 512);
  CHECK(d.roof.compute_cycles == Approx(macs / (132.0 * 4 * 512)));
  CHECK(s.roof.work_macs == 68719476736ULL);
  CHECK(s.roof.compute_cycles == Approx(macs / (132.0 * 4 * 1024)));
  // Each operand and C once, 32 MiB each in fp16; C fits the 50 MB L2, so it need not reach DRAM
  // before the launch ends. 2:4 S: values 16 MiB plus 2 index bits per kept value, 2 MiB.
  CHECK(d.roof.s_bytes == 33554432);
  CHECK(d.roof.d_bytes == 33554432);
  CHECK(d.roof.c_bytes == 33554432);
  CHECK(d.roof.dram_bytes == 2 * 33554432ULL);
  CHECK(s.roof.s_bytes == 18874368);
  CHECK(s.roof.dram_bytes == 18874368ULL + 33554432);
  CHECK(d.roof.dram_bytes_per_cycle == Approx(kH100Dram));
  CHECK(d.roof.memory_cycles == Approx(2 * 33554432.0 / kH100Dram));
  CHECK_FALSE(d.roof.memory_bound());
  CHECK(d.roof.cycles() == d.roof.compute_cycles);
  // The plan's tiles through the L2 link: 512 CTAs x 64 k-blocks x (16 KiB + 32 KiB), plus C.
  CHECK(d.roof.l2_cycles == Approx((512.0 * 64 * 49152 + 33554432) / 3900));
}

TEST_CASE("a skinny GEMM is memory bound, and C beyond the L2 must reach DRAM", "[report][roofline]") {
  const MachineConfig h100 = machine("h100.yaml");
  // S = B^T 16 x 16384, D 16384 x 16384: D's 512 MiB dominate.
  const Planned skinny = plan(gemm(16384, 16, 16384, "dense"), h100);
  CHECK(skinny.roof.memory_bound());
  CHECK(skinny.roof.cycles() == skinny.roof.memory_cycles);
  CHECK(skinny.roof.d_bytes == 16384ULL * 16384 * 2);
  CHECK(skinny.roof.memory_cycles > 20 * skinny.roof.compute_cycles);
  // C 16384 x 16384 x 2 = 512 MiB: all but the L2's 50 MB must be written before the end.
  const Planned wide = plan(gemm(16384, 16384, 64, "dense"), h100);
  const std::uint64_t c = 16384ULL * 16384 * 2;
  CHECK(wide.roof.c_bytes == c);
  CHECK(wide.roof.dram_bytes == wide.roof.s_bytes + wide.roof.d_bytes + c - 52428800);
  CHECK(wide.roof.memory_bound());
}

TEST_CASE("copies multiply work and bytes, and split-k partials are not compulsory", "[report][roofline]") {
  const MachineConfig h100 = machine("h100.yaml");
  const Planned one = plan(gemm(512, 384, 320, "2:4"), h100);
  const Planned many = plan(gemm(512, 384, 320, "2:4", DType::fp16, 12), h100);
  CHECK(many.roof.work_macs == 12 * one.roof.work_macs);
  CHECK(many.roof.s_bytes == 12 * one.roof.s_bytes);
  CHECK(many.roof.d_bytes == 12 * one.roof.d_bytes);
  CHECK(many.roof.c_bytes == 12 * one.roof.c_bytes);
  CHECK(many.roof.compute_cycles == Approx(12 * one.roof.compute_cycles));
  const Planned split = plan(gemm(512, 384, 4096, "dense"), machine("h100.yaml", {"kernel.split_k=4"}));
  REQUIRE(split.plan.splits == 4);
  CHECK(split.roof.c_bytes == 512ULL * 384 * 2);
  CHECK(split.plan.c_bytes() > split.roof.c_bytes);  // fp32 partials of every split
  CHECK(split.roof.work_macs == 512ULL * 384 * 4096);
}

TEST_CASE("the sparse operand's bytes are its pattern's compressed layout", "[report][roofline]") {
  // Odd shapes (not multiples of any group or tile); 1:4 and 2:8 on a selector of M = 8 that has them.
  const MachineConfig wide =
      machine("h100.yaml", {"arch.tensor_core.operand_selector.max_m=8", "arch.tensor_core.dtypes.fp16.sparse.1:4=2048",
                            "arch.tensor_core.dtypes.fp16.sparse.2:8=2048"});
  for (const char* p : {"dense", "2:4", "1:4", "2:8", "64:2:8", "32:2:16", "128:2:8"}) {
    for (const auto& s : std::vector<std::array<std::int64_t, 3>>{{127, 509, 251}, {300, 700, 1000}, {8, 129, 4101}}) {
      const GemmOp g = gemm(s[0], s[1], s[2], p);
      const Planned r = plan(g, wide);
      INFO(p << " " << s[0] << "x" << s[1] << "x" << s[2]);
      REQUIRE(r.map.path == (std::string(p) == "dense" ? MathPath::dense : MathPath::sparse_nm));
      const SparseOperand op = build_operand(g, 1, 1);
      CHECK(r.roof.s_bytes == op.compressed->compressed_bytes(DType::fp16));
      // D and C by the GEMM's sizes: D is K x M (S = B^T), C is N x M.
      CHECK(r.roof.c_bytes == static_cast<std::uint64_t>(s[1] * s[0] * 2));
      if (std::string(p).find(':') == std::string::npos || std::count(p, p + std::strlen(p), ':') == 1) {
        CHECK(r.roof.d_bytes == static_cast<std::uint64_t>(s[2] * s[0] * 2));
      }
    }
  }
}

TEST_CASE("the rate is the path's: sparse entries are dense-equivalent, dense on zeros runs at the dense rate",
          "[report][roofline]") {
  const MachineConfig h100 = machine("h100.yaml");
  const double tcs = 132.0 * 4;
  CHECK(plan(gemm(1024, 1024, 1024, "dense", DType::tf32), h100).roof.macs_per_cycle == tcs * 256);
  CHECK(plan(gemm(1024, 1024, 1024, "1:2", DType::tf32), h100).roof.macs_per_cycle == tcs * 512);
  CHECK(plan(gemm(1024, 1024, 1024, "2:4", DType::int8), h100).roof.macs_per_cycle == tcs * 2048);
  // H100 has no 1:4: dense on explicit zeros, dense MACs and the dense S.
  const Planned zeros = plan(gemm(1024, 1024, 1024, "1:4"), h100);
  REQUIRE(zeros.map.path == MathPath::dense_on_zeros);
  CHECK(zeros.roof.macs_per_cycle == tcs * 512);
  CHECK(zeros.roof.work_macs == 1024ULL * 1024 * 1024);
  CHECK(zeros.roof.s_bytes == 1024ULL * 1024 * 2);
  // V100: no sparse tensor cores, 80 SMs x 8 tensor cores x 64.
  const Planned v100 = plan(gemm(1024, 1024, 1024, "2:4"), machine("v100.yaml"));
  REQUIRE(v100.map.path == MathPath::dense_on_zeros);
  CHECK(v100.roof.macs_per_cycle == 80.0 * 8 * 64);
  CHECK(v100.roof.compute_cycles == Approx(1024.0 * 1024 * 1024 / (80.0 * 8 * 64)));
  // A 1:4 rate of four times dense gives a quarter of the dense compute time.
  const MachineConfig wide = machine(
      "h100.yaml", {"arch.tensor_core.operand_selector.max_m=8", "arch.tensor_core.dtypes.fp16.sparse.1:4=2048"});
  CHECK(plan(gemm(1024, 1024, 1024, "1:4"), wide).roof.compute_cycles ==
        Approx(plan(gemm(1024, 1024, 1024, "dense"), wide).roof.compute_cycles / 4));
}

TEST_CASE("mask-based patterns: kept work, kept values, the K one CTA walks", "[report][roofline]") {
  const MachineConfig h100 = machine("h100.yaml");
  const std::uint64_t dense_macs = 300ULL * 700 * 1000;
  // tw keeps whole rows and tile K-segments: its compacted tiles are exactly the kept products.
  const Planned tw = plan(gemm(300, 700, 1000, "tw(g=128,sparsity=0.5)"), h100);
  CHECK(tw.roof.work_macs == tw.plan.kept_macs());
  CHECK(tw.roof.work_macs < dense_macs);
  // tvw's tiles run 2:4 inside: the work is the compacted tiles', at the 2:4 rate.
  const Planned tvw = plan(gemm(300, 700, 1000, "tvw(g=128,sparsity=0.5,n=2,m=4)"), h100);
  // (2:4 keeps half of each full group; a tile's short last group may keep more than half.)
  CHECK(tvw.roof.work_macs > tvw.plan.kept_macs());
  CHECK(static_cast<double>(tvw.roof.work_macs) ==
        Approx(2.0 * static_cast<double>(tvw.plan.kept_macs())).epsilon(0.01));
  CHECK(tvw.roof.macs_per_cycle == 132.0 * 4 * 1024);
  // block runs its kept blocks only.
  const Planned block = plan(gemm(300, 700, 1000, "block(b=32,sparsity=0.5)"), h100);
  CHECK(block.roof.work_macs == block.plan.kept_macs());
  // unstructured runs dense MMAs over every k-block holding a non-zero: far more than it keeps.
  const Planned un = plan(gemm(300, 700, 1000, "unstructured(sparsity=0.9)"), h100);
  CHECK(un.roof.work_macs >= 5 * un.plan.kept_macs());
  CHECK(un.roof.work_macs <= dense_macs);
  for (const Planned* p : {&tw, &tvw, &block, &un}) {
    // S: the kept values, no more than the layout stores; D: at most all of K x P; C: the rows written.
    CHECK(p->roof.s_bytes == p->plan.kept_macs() / 300 * 2);
    CHECK(p->roof.s_bytes <= p->op->compressed->compressed_bytes(DType::fp16));
    CHECK(p->roof.d_bytes > 0);
    CHECK(p->roof.d_bytes <= 1000ULL * 300 * 2);
    CHECK(p->roof.c_bytes <= 700ULL * 300 * 2);
  }
  // tw's compacted output: only kept rows are written.
  CHECK(tw.roof.c_bytes < 700ULL * 300 * 2);
  CHECK(block.roof.c_bytes == 700ULL * 300 * 2);
}

TEST_CASE("a roofline for a rate the machine lacks is an error", "[report][roofline]") {
  const MachineConfig h100 = machine("h100.yaml");
  const GemmOp g = gemm(256, 256, 256, "1:4");
  const GemmMapping zeros = map_gemm(g, h100);
  const LaunchPlan p = plan_launch(g, zeros, h100);
  GemmMapping forced = zeros;
  forced.path = MathPath::sparse_nm;
  forced.hw_n = 1;
  forced.hw_m = 4;
  CHECK_THROWS_AS(roofline(g, forced, h100, p), Error);
  const GemmOp int8 = gemm(256, 256, 256, "dense", DType::int8);
  const MachineConfig v100 = machine("v100.yaml");
  CHECK_THROWS_AS(roofline(int8, GemmMapping{}, v100, p), Error);
}
