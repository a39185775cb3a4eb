// Tensor-core datapath: exact cycle boundaries of issue and completion, the structural hazard,
// the closed form of a sequence, sparse and fallback modes on the shipped H100 config, and
// functional MMAs equal to a reference GEMM of the pruned matrix.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/machine_config.h"
#include "sparsity/registry.h"
#include "tensor_core/tensor_core.h"
#include "weights/generator.h"

using namespace stcsim;

namespace {

const std::string kH100 = std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml";
const std::string kV100 = std::string(STCSIM_SOURCE_DIR) + "/configs/v100.yaml";

TensorCoreConfig h100(const std::vector<std::string>& sets = {}) {
  return load_machine_config(kH100, sets).arch.tensor_core;
}

// mma.sync m16n8k16 / mma.sp.sync m16n8k32 (fp16, K in elements).
const MmaShape kMmaSp{16, 8, 16, 32};
const MmaInstr kDense{DType::fp16, 16, 8, 16, 0, 0};
const MmaInstr kSparse24{DType::fp16, 16, 8, 32, 2, 4};

std::vector<std::uint64_t> values_of(TensorCoreStats s) {
  std::vector<std::uint64_t> v;
  s.visit([&](const char*, std::uint64_t& x) { v.push_back(x); });
  return v;
}

struct Pruned {
  Matrix pruned;
  NmCompressed packed;
};

Pruned prune(const Matrix& w, const std::string& spec) {
  const auto p = builtin_registry().make(spec);
  const Mask mask = p->build_mask(w);
  const auto c = p->compress(w, mask);
  return {apply_mask(w, mask), dynamic_cast<const NmCompressed&>(*c)};
}

}  // namespace

TEST_CASE("an MMA issued at cycle 0 is done at its latency, not one cycle before", "[tensor_core]") {
  TensorCore tc(h100(), MmaFamily::mma_sp_sync, 1);
  // 16 x 8 x 16 = 2048 MACs at 512/clock: 4 cycles; + 20 path latency.
  CHECK(tc.occupancy_cycles(kDense) == 4);
  CHECK(tc.latency_cycles(kDense) == 24);
  CHECK(tc.done_by(0));  // nothing issued yet
  const std::int64_t done = tc.issue(0, kDense);
  CHECK(done == 24);
  CHECK_FALSE(tc.done_by(23));
  CHECK(tc.done_by(24));
  CHECK(tc.next_free() == 4);
}

TEST_CASE("back-to-back issue waits for the previous occupancy", "[tensor_core]") {
  TensorCore tc(h100(), MmaFamily::mma_sp_sync, 1);
  CHECK(tc.issue(0, kDense) == 24);
  CHECK(tc.issue(0, kDense) == 28);  // structural hazard: starts at 4
  CHECK(tc.next_free() == 8);
  CHECK(tc.issue(7, kDense) == 32);   // still waits for 8
  CHECK(tc.issue(20, kDense) == 44);  // pipeline free: starts when issued
  CHECK(tc.next_free() == 24);
  CHECK_FALSE(tc.done_by(43));
  CHECK(tc.done_by(44));
  CHECK(tc.stats().instructions == 4u);
  CHECK(tc.stats().busy_cycles == 16u);
}

TEST_CASE("sequence_cycles is issuing one by one", "[tensor_core]") {
  for (const MmaInstr& in : {kDense, kSparse24}) {
    TensorCore one(h100(), MmaFamily::mma_sp_sync, 1);
    TensorCore seq(h100(), MmaFamily::mma_sp_sync, 1);
    const std::int64_t count = 10;
    std::int64_t last = 0;
    for (int i = 0; i < count; ++i) last = one.issue(5, in);
    CHECK(last - 5 == one.sequence_cycles(in, count));
    CHECK(one.sequence_cycles(in, count) == (count - 1) * 4 + 24);
    CHECK(seq.issue_sequence(5, in, count) == last);
    CHECK(seq.next_free() == one.next_free());
    CHECK(values_of(seq.stats()) == values_of(one.stats()));
    CHECK(seq.selector().stats().selections == one.selector().stats().selections);
    CHECK(seq.sequence_cycles(in, 1) == seq.latency_cycles(in));
    CHECK(seq.sequence_cycles(in, 0) == 0);
    CHECK(seq.issue_sequence(100, in, 0) == 100);
  }
}

TEST_CASE("2:4 on H100 covers twice the K in the dense occupancy", "[tensor_core]") {
  TensorCore tc(h100(), MmaFamily::mma_sp_sync, 1);
  CHECK(tc.mode(DType::fp16, 2, 4) == MmaMode::sparse);
  const MmaInstr sp = tc.instruction_for(DType::fp16, kMmaSp, 2, 4);
  CHECK(sp.k == 32);
  CHECK(tc.instruction_for(DType::fp16, kMmaSp, 0, 0).k == 16);
  CHECK(tc.occupancy_cycles(sp) == tc.occupancy_cycles(kDense));
  CHECK(tc.latency_cycles(sp) == 24);  // Luo et al.: 24.0 (mma.sp) vs 24.1 (mma)
  tc.issue(0, sp);
  CHECK(tc.stats().equivalent_macs == 4096u);
  CHECK(tc.stats().sparse_macs == 2048u);
  CHECK(tc.stats().skipped_macs == 2048u);
  CHECK(tc.stats().dense_macs == 0u);
  CHECK(tc.stats().sparse_instructions == 1u);
  // 16 rows x 16 kept values, each routed for 8 columns; 2-bit indices decoded once: 512 bits,
  // the metadata register of mma.sp m16n8k32.
  CHECK(tc.selector().stats().selections == 2048u);
  CHECK(tc.selector().stats().metadata_bits == 512u);

  // tf32 1:2: m16n8k8 dense and m16n8k16 sparse, both 4 cycles at 256 and 512 MACs/clock.
  const MachineConfig m = load_machine_config(kH100);
  const MmaShape tf32{16, 8, 8, 16};
  CHECK(tc.instruction_for(DType::tf32, tf32, 1, 2).k == 16);
  CHECK(tc.occupancy_cycles(tc.instruction_for(DType::tf32, tf32, 1, 2)) == 4);
  CHECK(tc.occupancy_cycles(tc.instruction_for(DType::tf32, tf32, 0, 0)) == 4);

  // wgmma on the four tensor cores of an SM: m64n256k16 and m64n256k32 (2:4) both take 128 cycles.
  TensorCore wg(m.arch.tensor_core, MmaFamily::wgmma_sp, TensorCore::cooperating_for(MmaFamily::wgmma_sp));
  CHECK(wg.cooperating() == 4);
  const MmaShape wg_shape{64, 256, 16, 32};
  CHECK(wg.occupancy_cycles(wg.instruction_for(DType::fp16, wg_shape, 0, 0)) == 128);
  CHECK(wg.occupancy_cycles(wg.instruction_for(DType::fp16, wg_shape, 2, 4)) == 128);
  CHECK(wg.latency_cycles(wg.instruction_for(DType::fp16, wg_shape, 2, 4)) == 128);
}

TEST_CASE("dense instructions bypass the selector", "[tensor_core]") {
  TensorCore tc(h100(), MmaFamily::mma_sp_sync, 1);
  tc.issue_sequence(0, kDense, 3);
  CHECK(tc.stats().dense_macs == 3u * 2048);
  CHECK(tc.stats().sparse_macs == 0u);
  CHECK(tc.stats().skipped_macs == 0u);
  CHECK(tc.selector().stats().selections == 0u);
  CHECK(tc.selector().stats().metadata_bits == 0u);
}

TEST_CASE("an unsupported pattern runs dense on zeros or is refused, per config", "[tensor_core]") {
  SECTION("unsupported_sparsity: dense (the shipped H100)") {
    TensorCore tc(h100(), MmaFamily::mma_sp_sync, 1);
    CHECK(tc.mode(DType::fp16, 1, 4) == MmaMode::dense_on_zeros);  // no 1:4 rate
    CHECK(tc.mode(DType::fp16, 2, 8) == MmaMode::dense_on_zeros);
    CHECK(tc.mode(DType::tf32, 2, 4) == MmaMode::dense_on_zeros);  // tf32 has 1:2 only
    const MmaInstr in = tc.instruction_for(DType::fp16, kMmaSp, 1, 4);
    CHECK(in.k == 16);  // the dense instruction
    CHECK(tc.occupancy_cycles(in) == 4);
    CHECK(tc.issue(0, in) == 24);
    CHECK(tc.stats().dense_macs == 2048u);
    CHECK(tc.stats().sparse_instructions == 0u);
    CHECK(tc.selector().stats().selections == 0u);
  }
  SECTION("unsupported_sparsity: error") {
    TensorCore tc(h100({"arch.tensor_core.unsupported_sparsity=error"}), MmaFamily::mma_sp_sync, 1);
    CHECK(tc.mode(DType::fp16, 2, 4) == MmaMode::sparse);
    CHECK_THROWS_AS(tc.mode(DType::fp16, 1, 4), UnsupportedError);
    CHECK_THROWS_WITH(tc.mode(DType::fp16, 1, 4),
                      Catch::Contains("fp16 1:4 is not supported") && Catch::Contains("unsupported_sparsity: error"));
    const MmaInstr in{DType::fp16, 16, 8, 16, 1, 4};
    CHECK_THROWS_AS(tc.issue(0, in), UnsupportedError);
    CHECK(tc.stats().instructions == 0u);
  }
  SECTION("a dense-only instruction family cannot use the sparse path") {
    TensorCore tc(h100(), MmaFamily::mma_sync, 1);
    CHECK(tc.mode(DType::fp16, 2, 4) == MmaMode::dense_on_zeros);
    TensorCore strict(h100({"arch.tensor_core.unsupported_sparsity=error"}), MmaFamily::wgmma, 4);
    CHECK_THROWS_WITH(strict.mode(DType::fp16, 2, 4), Catch::Contains("has no sparse form"));
  }
  SECTION("a group wider than the selector") {
    TensorCore tc(h100({"arch.tensor_core.dtypes.fp16.sparse.2:8=1024", "arch.tensor_core.operand_selector.max_m=8"}),
                  MmaFamily::mma_sp_sync, 1);
    CHECK(tc.mode(DType::fp16, 2, 8) == MmaMode::sparse);
    TensorCoreConfig narrow = tc.config();
    narrow.operand_selector->max_m = 4;
    narrow.unsupported_sparsity = UnsupportedSparsity::error;
    CHECK_THROWS_WITH(TensorCore(narrow, MmaFamily::mma_sp_sync, 1).mode(DType::fp16, 2, 8),
                      Catch::Contains("operand_selector.max_m"));
  }
  SECTION("a data type the tensor cores lack") {
    TensorCore tc(load_machine_config(kV100).arch.tensor_core, MmaFamily::wmma, 1);
    CHECK_THROWS_AS(tc.mode(DType::bf16, 0, 0), UnsupportedError);
    CHECK_THROWS_AS(tc.occupancy_cycles(MmaInstr{DType::bf16, 16, 16, 16, 0, 0}), UnsupportedError);
  }
}

TEST_CASE("rate fraction, selector throughput and selector latency enter the timing", "[tensor_core]") {
  SECTION("rate_fraction") {
    TensorCore tc(h100({"arch.tensor_core.instructions.mma_sync.rate_fraction=0.5"}), MmaFamily::mma_sp_sync, 1);
    CHECK(tc.occupancy_cycles(kDense) == 8);
    CHECK(tc.latency_cycles(kDense) == 28);
    CHECK(tc.occupancy_cycles(kSparse24) == 4);  // mma_sp_sync keeps its own path
    TensorCore third(h100({"arch.tensor_core.instructions.mma_sync.rate_fraction=0.3"}), MmaFamily::mma_sync, 1);
    CHECK(third.occupancy_cycles(kDense) == 14);  // 2048 / 153.6 = 13.3
  }
  SECTION("a slow selector bounds the sparse occupancy; its latency adds to sparse MMAs only") {
    TensorCore tc(h100({"arch.tensor_core.operand_selector.selections_per_clock=256",
                        "arch.tensor_core.operand_selector.latency_cycles=3"}),
                  MmaFamily::mma_sp_sync, 1);
    CHECK(tc.occupancy_cycles(kSparse24) == 8);  // 2048 selections / 256
    CHECK(tc.latency_cycles(kSparse24) == 8 + 20 + 3);
    CHECK(tc.latency_cycles(kDense) == 24);
    CHECK(tc.issue(0, kSparse24) == 31);
    CHECK_FALSE(tc.done_by(30));
    CHECK(tc.done_by(31));
  }
}

TEST_CASE("bad shapes and arguments are typed errors", "[tensor_core]") {
  TensorCore tc(h100(), MmaFamily::mma_sp_sync, 1);
  CHECK_THROWS_AS(TensorCore(h100(), MmaFamily::mma_sp_sync, 0), ShapeError);
  CHECK_THROWS_AS(tc.occupancy_cycles(MmaInstr{DType::fp16, 0, 8, 16, 0, 0}), ShapeError);
  CHECK_THROWS_AS(tc.occupancy_cycles(MmaInstr{DType::fp16, 16, 8, 30, 2, 4}), ShapeError);  // K not whole groups
  CHECK_THROWS_AS(tc.mode(DType::fp16, 4, 4), ShapeError);
  CHECK_THROWS_AS(tc.sequence_cycles(kDense, -1), ShapeError);
  TensorCoreConfig no_wgmma = h100();
  no_wgmma.instructions.erase(MmaFamily::wgmma);
  no_wgmma.instructions.erase(MmaFamily::wgmma_sp);
  CHECK_THROWS_WITH(TensorCore(no_wgmma, MmaFamily::wgmma_sp, 4),
                    Catch::Contains("arch.tensor_core.instructions.wgmma_sp"));
}

TEST_CASE("functional sparse MMAs equal the reference GEMM of the pruned matrix, bit for bit", "[tensor_core]") {
  // Sparse rates for every pattern tried, and a selector wide enough for M = 8.
  const TensorCoreConfig wide =
      h100({"arch.tensor_core.dtypes.fp16.sparse.1:4=2048", "arch.tensor_core.dtypes.fp16.sparse.2:8=2048",
            "arch.tensor_core.dtypes.fp16.sparse.4:8=1024", "arch.tensor_core.dtypes.fp16.sparse.1:2=1024",
            "arch.tensor_core.operand_selector.max_m=8"});
  // R not a multiple of 16, K not a multiple of the instruction's K (nor of 8), P not of 8.
  const std::int64_t R = 40, K = 100, P = 20;
  const Matrix d = generate_weights(K, P, 7, WeightDist::uniform);
  std::uint64_t seed = 100;
  for (const char* spec : {"2:4", "1:4", "2:8", "4:8", "1:2"}) {
    INFO(spec);
    const Matrix w = generate_weights(R, K, ++seed, WeightDist::laplace);
    const Pruned s = prune(w, spec);
    const Matrix ref = reference_gemm(s.pruned, d);
    REQUIRE(ref != reference_gemm(w, d));  // the pruning matters

    TensorCore tc(wide, MmaFamily::mma_sp_sync, 1);
    REQUIRE(tc.mode(DType::fp16, s.packed.n(), s.packed.m()) == MmaMode::sparse);
    CHECK(functional_gemm(tc, DType::fp16, kMmaSp, s.packed, d) == ref);
    CHECK(tc.stats().sparse_instructions == tc.stats().instructions);
    CHECK(tc.stats().dense_macs == 0u);
    // One selection per stored value (kept or padding slot) per output column.
    const std::uint64_t slots = static_cast<std::uint64_t>(R * s.packed.slots_per_row());
    CHECK(tc.selector().stats().selections == slots * P);
    CHECK(tc.stats().sparse_macs == slots * P);
    // Metadata decoded once per instruction: once per column tile of 8.
    CHECK(tc.selector().stats().metadata_bits == slots * static_cast<std::uint64_t>(s.packed.bits()) * 3);

    // The shipped H100 runs the same operand through its own path (fp16 2:4 sparse, the others dense
    // on zeros): the same result.
    TensorCore shipped(h100(), MmaFamily::mma_sp_sync, 1);
    CHECK(functional_gemm(shipped, DType::fp16, kMmaSp, s.packed, d) == ref);
    const bool sparse = std::string(spec) == "2:4";
    CHECK((shipped.stats().sparse_instructions > 0) == sparse);
  }
}

TEST_CASE("functional dense MMAs equal the reference GEMM", "[tensor_core]") {
  TensorCore tc(h100(), MmaFamily::mma_sync, 1);
  const Matrix s = generate_weights(33, 70, 3);
  const Matrix d = generate_weights(70, 9, 4);
  CHECK(functional_gemm(tc, DType::fp16, MmaShape{16, 8, 16, 0}, s, d) == reference_gemm(s, d));
  CHECK(tc.stats().sparse_macs == 0u);
  CHECK(tc.selector().stats().selections == 0u);
  // 3 row tiles x 2 column tiles x 5 K steps.
  CHECK(tc.stats().instructions == 30u);

  Matrix c(2, 2);
  CHECK_THROWS_AS(tc.mma_dense(Matrix(2, 3), Matrix(4, 2), c), ShapeError);
  CHECK_THROWS_AS(functional_gemm(tc, DType::fp16, MmaShape{16, 8, 16, 0}, s, Matrix(71, 9)), ShapeError);
}

TEST_CASE("functional and timed execution count the same work", "[tensor_core]") {
  // Shapes the MMA divides: 2 x 2 output tiles of m16n8, 2 K steps of 32.
  const Matrix w = generate_weights(32, 64, 21);
  const Matrix d = generate_weights(64, 16, 22);
  const Pruned s = prune(w, "2:4");
  TensorCore functional(h100(), MmaFamily::mma_sp_sync, 1);
  TensorCore timed(h100(), MmaFamily::mma_sp_sync, 1);
  functional_gemm(functional, DType::fp16, kMmaSp, s.packed, d);
  timed.issue_sequence(0, timed.instruction_for(DType::fp16, kMmaSp, 2, 4), 8);
  TensorCoreStats f = functional.stats();
  f.busy_cycles = timed.stats().busy_cycles;  // functional calls take no time
  CHECK(values_of(f) == values_of(timed.stats()));
  CHECK(functional.selector().stats().selections == timed.selector().stats().selections);
  CHECK(functional.selector().stats().metadata_bits == timed.selector().stats().metadata_bits);
}

TEST_CASE("mma_sparse checks its operands", "[tensor_core]") {
  const Pruned s = prune(generate_weights(16, 32, 5), "2:8");
  TensorCore tc(h100(), MmaFamily::mma_sp_sync, 1);  // selector max_m = 4
  Matrix c(16, 8);
  CHECK_THROWS_AS(tc.mma_sparse(s.packed, 0, 0, Matrix(32, 8), c), UnsupportedError);
  const Pruned s24 = prune(generate_weights(16, 32, 5), "2:4");
  CHECK_THROWS_AS(tc.mma_sparse(s24.packed, 0, 2, Matrix(32, 8), c), ShapeError);  // K offset inside a group
  CHECK_THROWS_AS(tc.mma_sparse(s24.packed, 0, 0, Matrix(30, 8), c), ShapeError);  // K extent not whole groups
  CHECK_THROWS_AS(tc.mma_sparse(s24.packed, 0, 0, Matrix(32, 4), c), ShapeError);  // B and C columns differ
  CHECK(tc.stats().instructions == 0u);
}
