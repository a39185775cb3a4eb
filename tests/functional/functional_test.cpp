// Functional mode: every pattern family, computed through its datapath from the compressed operand,
// equals the reference GEMM of the pruned matrix bit for bit, on odd shapes (not multiples of the MMA,
// CTA or pattern tiles, and a single row), with the sparse path where the machine has one and dense on
// explicit zeros where it does not; the work counted is the path's; a corrupted metadata index is
// caught; oversized GEMMs and mismatched operands are typed errors.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/machine_config.h"
#include "functional/functional.h"
#include "mapping/math_path.h"
#include "scheduler/launch_plan.h"
#include "sparsity/nm_layout.h"

using namespace stcsim;

namespace {

const std::string kConfigs = std::string(STCSIM_SOURCE_DIR) + "/configs/";

MachineConfig machine(const std::string& file, const std::vector<std::string>& sets = {}) {
  return load_machine_config(kConfigs + file, sets);
}

// H100 with a hypothetical operand selector of M = 8 and sparse rates for 1:4, 2:8 and 4:8 (V:N:M with
// N = 4 runs 4:8).
MachineConfig wide_h100() {
  return machine("h100.yaml",
                 {"arch.tensor_core.operand_selector.max_m=8", "arch.tensor_core.dtypes.fp16.sparse.1:4=2048",
                  "arch.tensor_core.dtypes.fp16.sparse.2:8=2048", "arch.tensor_core.dtypes.fp16.sparse.4:8=1024"});
}

GemmOp gemm(std::int64_t m, std::int64_t n, std::int64_t k, Operand sparse, const std::string& pattern,
            DType dtype = DType::fp16) {
  GemmOp g;
  g.layer = "fc";
  g.m = m;
  g.n = n;
  g.k = k;
  g.sparse = sparse;
  g.pattern = pattern;
  g.dtype = dtype;
  return g;
}

struct Run {
  FunctionalResult result;
  SparseOperand op;
};

Run run(const GemmOp& g, const MachineConfig& mc, std::uint64_t seed = 7, std::size_t line = 3) {
  Run r{{}, build_operand(g, seed, line)};
  r.result = run_functional(g, map_gemm(g, mc), mc, r.op, seed, line);
  return r;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::vector<std::string> kPatterns = {"dense",
                                            "2:4",
                                            "1:4",
                                            "2:8",
                                            "16:2:8",
                                            "4:2:7",
                                            "16:4:16",
                                            "tw(g=16,sparsity=0.5)",
                                            "tvw(g=16,sparsity=0.4,n=2,m=4)",
                                            "tvw(g=8,sparsity=0.3,n=2,m=8)",
                                            "block(b=16,sparsity=0.5)",
                                            "unstructured(sparsity=0.7)"};

// 72 x 40 output over K = 200 (S on A, and on B: S = B^T), and a one-row S.
const std::vector<GemmOp> kShapes(const std::string& pattern) {
  return {gemm(72, 40, 200, Operand::A, pattern), gemm(40, 72, 200, Operand::B, pattern),
          gemm(1, 40, 200, Operand::A, pattern), gemm(33, 1, 200, Operand::B, pattern)};
}

void check_all_exact(const MachineConfig& mc) {
  for (const auto& pattern : kPatterns) {
    for (const GemmOp& g : kShapes(pattern)) {
      INFO(pattern << " " << g.m << "x" << g.n << "x" << g.k << " S on " << operand_name(g.sparse));
      const Run r = run(g, mc);
      INFO(r.result.path);
      CHECK(r.result.exact());
      CHECK(r.result.max_abs_error == 0.0);
      CHECK(r.result.elements == static_cast<std::uint64_t>(r.result.rows * r.result.cols));
      CHECK(r.result.k == 200);
      CHECK(r.result.tensor_core.busy_cycles == 0u);
    }
  }
}

}  // namespace

TEST_CASE("functional mode is exact for every pattern on the H100 wgmma kernel", "[functional]") {
  check_all_exact(machine("h100.yaml"));
}

TEST_CASE("functional mode is exact for every pattern on the H100 mma.sp.sync kernel", "[functional]") {
  check_all_exact(machine("h100_mma_sp.yaml"));
}

TEST_CASE("functional mode is exact for every pattern on V100 (no sparse tensor cores)", "[functional]") {
  check_all_exact(machine("v100.yaml"));
}

TEST_CASE("functional mode is exact for every pattern with an M = 8 operand selector", "[functional]") {
  check_all_exact(wide_h100());
}

TEST_CASE("functional mode reports the datapath per pattern and machine", "[functional]") {
  const MachineConfig h100 = machine("h100.yaml");
  const MachineConfig wide = wide_h100();
  const auto path = [](const std::string& pattern, const MachineConfig& mc) {
    return run(gemm(72, 40, 200, Operand::B, pattern), mc).result.path;
  };
  CHECK(path("dense", h100) == "dense MMAs");
  CHECK(path("2:4", h100) == "sparse 2:4 MMAs through the operand selector");
  CHECK(has(path("1:4", h100), "dense MMAs on explicit zeros"));
  CHECK(has(path("2:8", h100), "dense MMAs on explicit zeros"));
  CHECK(path("1:4", wide) == "sparse 1:4 MMAs through the operand selector");
  CHECK(path("2:8", wide) == "sparse 2:8 MMAs through the operand selector");
  CHECK(has(path("16:2:8", h100), "sparse 2:4 MMAs through the operand selector"));
  CHECK(has(path("16:4:16", h100), "explicit zeros"));
  CHECK(has(path("16:4:16", wide), "sparse 4:8 MMAs through the operand selector"));
  CHECK(has(path("tw(g=16,sparsity=0.5)", h100), "dense MMAs on kept tiles (tw)"));
  CHECK(
      has(path("tvw(g=16,sparsity=0.4,n=2,m=4)", h100), "sparse 2:4 MMAs through the operand selector on kept tiles"));
  CHECK(has(path("tvw(g=8,sparsity=0.3,n=2,m=8)", h100), "explicit zeros in kept tiles"));
  CHECK(has(path("tvw(g=8,sparsity=0.3,n=2,m=8)", wide), "sparse 2:8 MMAs through the operand selector on kept tiles"));
  CHECK(has(path("block(b=16,sparsity=0.5)", h100), "kept 16x16 blocks"));
  CHECK(has(path("unstructured(sparsity=0.7)", h100), "CTA k-blocks (128x64) holding a non-zero"));
}

TEST_CASE("functional N:M on the sparse path executes the kept products only, through the selector", "[functional]") {
  const MachineConfig h100 = machine("h100.yaml");
  const MachineConfig wide = wide_h100();
  // K = 200 is whole groups of 4 and 8, so every group keeps exactly N: no padding slots.
  for (const auto& [pattern, mc, sparse] :
       std::vector<std::tuple<std::string, const MachineConfig*, bool>>{{"2:4", &h100, true},
                                                                        {"1:4", &h100, false},
                                                                        {"2:8", &h100, false},
                                                                        {"1:4", &wide, true},
                                                                        {"2:8", &wide, true}}) {
    INFO(pattern << (sparse ? " sparse" : " on zeros"));
    const Run r = run(gemm(72, 40, 200, Operand::A, pattern), *mc);
    REQUIRE(r.result.exact());
    const TensorCoreStats& tc = r.result.tensor_core;
    const std::uint64_t kept_products = static_cast<std::uint64_t>(count_kept(r.op.mask)) * 40u;
    if (sparse) {
      CHECK(tc.sparse_instructions == tc.instructions);
      CHECK(tc.dense_macs == 0u);
      CHECK(tc.sparse_macs == kept_products);
      CHECK(r.result.selector.selections == kept_products);
      CHECK(r.result.selector.metadata_bits > 0u);
      CHECK(tc.skipped_macs == tc.equivalent_macs - tc.sparse_macs);
    } else {
      CHECK(tc.sparse_instructions == 0u);
      CHECK(tc.sparse_macs == 0u);
      CHECK(r.result.selector.selections == 0u);
      CHECK(tc.dense_macs > kept_products);  // the zeros are multiplied
    }
  }
}

TEST_CASE("functional tile, block and CSR paths skip pruned work", "[functional]") {
  const MachineConfig h100 = machine("h100.yaml");
  // Shapes the wgmma m64 and the 128x64 CTA k-block divide, so padding does not blur the comparison.
  const auto dense_macs = run(gemm(512, 40, 512, Operand::A, "dense"), h100).result.tensor_core.dense_macs;
  for (const std::string pattern :
       {"tw(g=64,sparsity=0.5)", "block(b=64,sparsity=0.5)", "unstructured(sparsity=0.9999)"}) {
    INFO(pattern);
    const Run r = run(gemm(512, 40, 512, Operand::A, pattern), h100);
    INFO(r.result.path);
    REQUIRE(r.result.exact());
    CHECK(r.result.tensor_core.sparse_macs == 0u);
    CHECK(r.result.tensor_core.dense_macs < dense_macs);
    CHECK(r.result.tensor_core.dense_macs >= static_cast<std::uint64_t>(count_kept(r.op.mask)) * 40u);
  }
  // tvw: sparse MMAs on the compacted tiles execute the kept products and the N:M padding slots: about
  // (1 - sparsity) x N / M of dense.
  const Run tvw = run(gemm(512, 40, 512, Operand::A, "tvw(g=64,sparsity=0.5,n=2,m=4)"), h100);
  REQUIRE(tvw.result.exact());
  CHECK(tvw.result.tensor_core.dense_macs == 0u);
  CHECK(tvw.result.tensor_core.sparse_macs > 0u);
  CHECK(tvw.result.tensor_core.sparse_macs >= static_cast<std::uint64_t>(count_kept(tvw.op.mask)) * 40u);
  CHECK(tvw.result.tensor_core.sparse_macs < dense_macs / 3);
  CHECK(tvw.result.selector.selections == tvw.result.tensor_core.sparse_macs);
}

TEST_CASE("functional mode catches a corrupted metadata index", "[functional]") {
  for (const auto& [pattern, mc] : std::vector<std::pair<std::string, MachineConfig>>{
           {"2:4", machine("h100.yaml")}, {"2:8", wide_h100()}, {"2:4", machine("h100_mma_sp.yaml")}}) {
    INFO(pattern);
    const GemmOp g = gemm(72, 40, 200, Operand::A, pattern);
    Run r = run(g, mc);
    REQUIRE(r.result.exact());
    auto* nm = dynamic_cast<NmCompressed*>(r.op.compressed.get());
    REQUIRE(nm != nullptr);
    // Row 5, group 3: move its first kept value to a position the group does not keep.
    const std::int64_t row = 5, slot = std::int64_t{3} * nm->n();
    std::vector<bool> taken(static_cast<std::size_t>(nm->m()), false);
    for (int i = 0; i < nm->n(); ++i) taken[static_cast<std::size_t>(nm->index(row, slot + i))] = true;
    int free_pos = 0;
    while (taken[static_cast<std::size_t>(free_pos)]) ++free_pos;
    nm->set_index(row, slot, free_pos);
    const FunctionalResult bad = run_functional(g, map_gemm(g, mc), mc, r.op, 7, 3);
    CHECK_FALSE(bad.exact());
    CHECK(bad.mismatches > 0u);
    CHECK(bad.mismatches <= 40u);  // only row 5's outputs
    CHECK(bad.max_abs_error > 0.0);
  }
}

TEST_CASE("functional mode is exact for tf32 1:2, bf16 and int8 2:4", "[functional]") {
  const MachineConfig h100 = machine("h100.yaml");
  for (const auto& [dtype, pattern] : std::vector<std::pair<DType, std::string>>{
           {DType::tf32, "1:2"}, {DType::bf16, "2:4"}, {DType::int8, "2:4"}, {DType::fp8, "2:4"}}) {
    INFO(dtype_name(dtype) << " " << pattern);
    const Run r = run(gemm(72, 40, 200, Operand::B, pattern, dtype), h100);
    CHECK(r.result.exact());
    CHECK(has(r.result.path, "through the operand selector"));
    CHECK(r.result.tensor_core.sparse_instructions > 0u);
  }
}

TEST_CASE("functional dense operand is exact in the data type, non-zero and seeded per line", "[functional]") {
  const GemmOp g = gemm(8, 24, 16, Operand::B, "2:4", DType::int8);
  const Matrix d = functional_dense_operand(g, 1, 0);
  CHECK(d.rows() == 16);
  CHECK(d.cols() == 8);  // S on B: D is K x M
  for (float x : d.data()) {
    CHECK(x != 0.0f);
    CHECK(x == static_cast<float>(static_cast<int>(x)));
    CHECK(std::abs(x) <= 8.0f);
  }
  CHECK(functional_dense_operand(g, 1, 0) == d);
  CHECK(functional_dense_operand(g, 1, 1) != d);
  CHECK(functional_dense_operand(g, 2, 0) != d);
  GemmOp f = g;
  f.dtype = DType::fp16;
  const Matrix d16 = functional_dense_operand(f, 1, 0);
  for (float x : d16.data()) CHECK(x * 8.0f == static_cast<float>(static_cast<int>(x * 8.0f)));

  // The same line and seed give the same result and the same work.
  const MachineConfig h100 = machine("h100.yaml");
  const Run a = run(gemm(72, 40, 200, Operand::A, "16:2:8"), h100);
  const Run b = run(gemm(72, 40, 200, Operand::A, "16:2:8"), h100);
  CHECK(a.result.path == b.result.path);
  CHECK(a.result.tensor_core.sparse_macs == b.result.tensor_core.sparse_macs);
  CHECK(a.result.selector.selections == b.result.selector.selections);
}

TEST_CASE("functional mode refuses a GEMM over its MAC limit, naming the layer and the limit", "[functional]") {
  const MachineConfig h100 = machine("h100.yaml");
  GemmOp g = gemm(1024, 1024, 1025, Operand::B, "2:4");
  g.layer = "encoder.0.ffn";
  g.count = 1;
  const SparseOperand none;  // the limit is checked before the operand is looked at
  try {
    run_functional(g, map_gemm(g, h100), h100, none, 1, 0);
    FAIL("no error");
  } catch (const ShapeError& e) {
    CHECK(has(e.what(), "encoder.0.ffn"));
    CHECK(has(e.what(), std::to_string(kFunctionalMacLimit)));
  }
  // At the limit it goes on, to the operand check.
  g.k = 1024;
  try {
    run_functional(g, map_gemm(g, h100), h100, none, 1, 0);
    FAIL("no error");
  } catch (const ShapeError& e) {
    CHECK(has(e.what(), "encoder.0.ffn"));
    CHECK_FALSE(has(e.what(), "limit"));
  }
}

TEST_CASE("functional mode checks the operand and mapping against the GEMM", "[functional]") {
  const MachineConfig h100 = machine("h100.yaml");
  const GemmOp g = gemm(72, 40, 200, Operand::A, "2:4");
  const GemmMapping map = map_gemm(g, h100);
  // Wrong shape: an operand of the transposed GEMM.
  const SparseOperand other = build_operand(gemm(40, 72, 200, Operand::A, "2:4"), 1, 0);
  CHECK_THROWS_AS(run_functional(g, map, h100, other, 1, 0), ShapeError);
  // Pruned by another pattern.
  const SparseOperand tw = build_operand(gemm(72, 40, 200, Operand::A, "tw(g=16,sparsity=0.5)"), 1, 0);
  CHECK_THROWS_AS(run_functional(g, map, h100, tw, 1, 0), Error);
  // A mapping that does not fit the family.
  GemmMapping wrong = map;
  wrong.path = MathPath::block_dense;
  const SparseOperand ok = build_operand(g, 1, 0);
  CHECK_THROWS_AS(run_functional(g, wrong, h100, ok, 1, 0), Error);
  // The sparse path on a kernel without a sparse instruction.
  const MachineConfig wgmma_only =
      machine("h100.yaml", {"kernel.instruction=wgmma", "kernel.mma={m: 64, n: 256, k: 16}"});
  CHECK_THROWS_AS(run_functional(g, map, wgmma_only, ok, 1, 0), UnsupportedError);
}
