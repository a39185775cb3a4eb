// Functional mode through the cycle model (functional/cycle_functional.h): every pattern family, on
// edge shapes (partial CTA and instruction tiles in both directions, K not a multiple of the CTA's),
// batched copies, A or B sparse, and the data types, is computed from the MMAs the cycle model's warps
// issue and equals the reference GEMM bit for bit on every shipped architecture. SystemC elaborates
// once per process: each test case is one simulate() call (ctest runs each case in its own process).
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "config/machine_config.h"
#include "gpu/simulation.h"
#include "sparsity/registry.h"
#include "support/gemm_runs.h"

using namespace stcsim;

namespace {

GemmOp gemm(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& pattern, Operand sparse = Operand::B,
            DType t = DType::fp16, std::int64_t count = 1) {
  GemmOp g;
  g.layer = fmt::format("{}x{}x{} {}", m, n, k, pattern);
  g.m = m;
  g.n = n;
  g.k = k;
  g.dtype = t;
  g.sparse = pattern == "dense" ? Operand::none : sparse;
  g.pattern = builtin_registry().make(pattern)->spec();
  g.count = count;
  return g;
}

// One run per GEMM; every line must be computed exactly, with the plan's MMA count (finish() throws
// otherwise, which simulate() reports).
void check_exact(const std::string& config, const std::vector<GemmOp>& grid) {
  const MachineConfig mc =
      load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/" + config, {"kernel.dense_fallback=false"});
  const std::vector<RunInput> runs = testing::one_run_per_gemm(grid);
  SimOptions opts;
  opts.model = SimModel::cycle;
  opts.functional = true;
  const SimResult res = simulate(mc, runs, opts);
  REQUIRE(res.runs.size() == grid.size());
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const GemmOp& g = grid[i];
    REQUIRE(res.runs[i].functional.size() == 1);
    const FunctionalResult& f = res.runs[i].functional[0];
    CAPTURE(config, g.layer, f.path, f.max_abs_error);
    const auto [rows, k] = g.sparse_shape();
    CHECK(f.elements == static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(g.m * g.n / rows));
    CHECK(f.k == k);
    CHECK(f.mismatches == 0);
    CHECK(f.tensor_core.instructions > 0);
  }
}

const std::vector<std::string> kPatterns = {"dense",
                                            "2:4",
                                            "1:4",
                                            "2:8",
                                            "16:2:8",
                                            "tw(g=32,sparsity=0.5)",
                                            "tvw(g=32,sparsity=0.5,n=2,m=4)",
                                            "block(b=16,sparsity=0.5)",
                                            "block(b=32,sparsity=0.6)",
                                            "unstructured(sparsity=0.7)"};

// `types`: int8 and bf16 lines too (not on Volta, whose tensor cores run fp16 only).
std::vector<GemmOp> grid(bool types = true) {
  std::vector<GemmOp> out;
  for (const std::string& p : kPatterns) {
    out.push_back(gemm(200, 72, 136, p));
    out.push_back(gemm(300, 200, 520, p));
  }
  out.push_back(gemm(72, 200, 136, "2:4", Operand::A));
  out.push_back(gemm(200, 72, 136, "2:4", Operand::B, types ? DType::int8 : DType::fp16));
  out.push_back(gemm(200, 72, 136, "16:2:8", Operand::B, types ? DType::bf16 : DType::fp16, 3));
  out.push_back(gemm(200, 72, 136, "tw(g=32,sparsity=0.5)", Operand::B, DType::fp16, 2));
  return out;
}

}  // namespace

TEST_CASE("cycle model functional: H100 (wgmma) MMAs equal the reference GEMM for every pattern", "[gpu][functional]") {
  check_exact("h100.yaml", grid());
}

TEST_CASE("cycle model functional: H100 with the mma.sp kernel for every pattern", "[gpu][functional]") {
  check_exact("h100_mma_sp.yaml", grid());
}

TEST_CASE("cycle model functional: A100 MMAs equal the reference GEMM for every pattern", "[gpu][functional]") {
  check_exact("a100.yaml", grid());
}

TEST_CASE("cycle model functional: V100 (wmma on two tensor cores per sub-core) for every pattern", "[gpu][functional]") {
  check_exact("v100.yaml", grid(false));
}
