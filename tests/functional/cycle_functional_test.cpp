// FunctionalLaunch fed by hand (the cycle model feeds it in tests/gpu/cycle_functional_test.cpp):
// every instruction tile's k-steps in K order give the reference GEMM; a missing MMA is an error and
// a repeated k-step in place of another one is caught as mismatches, so the check can fail.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "config/machine_config.h"
#include "functional/cycle_functional.h"
#include "mapping/math_path.h"
#include "scheduler/launch_plan.h"
#include "sm/mma_tiles.h"
#include "sparsity/registry.h"

using namespace stcsim;

namespace {

struct Setup {
  MachineConfig mc;
  GemmOp g;
  GemmMapping map;
  SparseOperand op;
  LaunchPlan plan;
};

Setup setup(const std::string& config, const std::string& pattern) {
  Setup s;
  s.mc = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/" + config, {"kernel.dense_fallback=false"});
  s.g.layer = "hand";
  s.g.m = 200;
  s.g.n = 72;
  s.g.k = 136;
  s.g.sparse = Operand::B;
  s.g.pattern = builtin_registry().make(pattern)->spec();
  s.map = map_gemm(s.g, s.mc);
  s.op = build_operand(s.g, 1, 1);
  s.plan = plan_launch(s.g, s.map, s.mc, &s.op);
  return s;
}

// Calls `f(pos, work, tile, kb, step, sparse)` for every MMA of the plan's first copy, each tile's
// k-steps in K order.
void each_mma(const Setup& s,
              const std::function<void(const CtaPos&, const CtaWork&, int, std::int64_t, int, bool)>& f) {
  const KernelConfig& k = s.mc.kernel;
  TensorCore tc(s.mc.arch.tensor_core, k.instruction, TensorCore::cooperating_for(k.instruction));
  const MmaInstr dense = tc.instruction_for(s.g.dtype, k.mma_for(s.g.dtype), 0, 0);
  const TileShape cta = k.cta_tile_for(s.g.dtype), warp = k.warp_tile_for(s.g.dtype);
  for (const CtaPos& pos : s.plan.ctas()) {
    if (pos.copy != 0) continue;
    const CtaWork& w = s.plan.work_of(pos);
    const MmaTiles tiles(w, dense.m, dense.n, warp.m, warp.n, cta.m, cta.n, k.compute_warps() / tc.cooperating());
    for (std::int64_t kb = 0; kb < w.k_blocks(); ++kb) {
      const KBlock& b = w.kblock(kb);
      for (std::int64_t t = 0; t < tiles.count(); ++t) {
        const std::int64_t nd = tiles.dense_steps(b, t), ns = tiles.sparse_steps(b, t);
        for (std::int64_t st = 0; st < nd + ns; ++st) f(pos, w, static_cast<int>(t), kb, static_cast<int>(st), st >= nd);
      }
    }
  }
}

}  // namespace

TEST_CASE("functional launch: every tile's k-steps in K order give the reference GEMM", "[functional]") {
  for (const char* p : {"dense", "2:4", "16:2:8", "tw(g=32,sparsity=0.5)", "block(b=16,sparsity=0.5)"}) {
    const Setup s = setup("a100.yaml", p);
    FunctionalLaunch fl(s.g, s.map, s.mc, s.plan, 1, 1);
    each_mma(s, [&](const CtaPos& pos, const CtaWork& w, int t, std::int64_t kb, int st, bool sp) {
      fl.mma(pos, w, t, kb, st, sp);
    });
    CAPTURE(p);
    CHECK(fl.executed() == fl.expected());
    const FunctionalResult r = fl.finish();
    CHECK(r.exact());
    CHECK(r.elements == 200u * 72u);
  }
}

TEST_CASE("functional launch: a missing MMA is an error, a repeated k-step a mismatch", "[functional]") {
  const Setup s = setup("a100.yaml", "2:4");
  {
    FunctionalLaunch fl(s.g, s.map, s.mc, s.plan, 1, 1);
    bool skipped = false;
    each_mma(s, [&](const CtaPos& pos, const CtaWork& w, int t, std::int64_t kb, int st, bool sp) {
      if (!skipped && kb == 1) {
        skipped = true;
        return;
      }
      fl.mma(pos, w, t, kb, st, sp);
    });
    REQUIRE(skipped);
    CHECK(fl.executed() + 1 == fl.expected());
    CHECK_THROWS_WITH(fl.finish(), Catch::Contains("issued") && Catch::Contains("its plan has"));
  }
  {
    FunctionalLaunch fl(s.g, s.map, s.mc, s.plan, 1, 1);
    bool repeated = false;
    each_mma(s, [&](const CtaPos& pos, const CtaWork& w, int t, std::int64_t kb, int st, bool sp) {
      // The first tile's second k-step of k-block 0 runs its first one again.
      if (!repeated && kb == 0 && t == 0 && st == 1) {
        repeated = true;
        fl.mma(pos, w, t, kb, 0, sp);
        return;
      }
      fl.mma(pos, w, t, kb, st, sp);
    });
    REQUIRE(repeated);
    const FunctionalResult r = fl.finish();
    CHECK(r.mismatches > 0);
    CHECK(r.mismatches <= 16u * 8u);  // one instruction tile's outputs
  }
}

TEST_CASE("functional launch: a split-k plan is refused with the layer named", "[functional]") {
  Setup s = setup("a100.yaml", "2:4");
  s.mc = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/a100.yaml", {"kernel.split_k=2"});
  s.map = map_gemm(s.g, s.mc);
  s.plan = plan_launch(s.g, s.map, s.mc, &s.op);
  REQUIRE(s.plan.splits == 2);
  CHECK_THROWS_WITH(FunctionalLaunch(s.g, s.map, s.mc, s.plan, 1, 1),
                    Catch::Contains("hand") && Catch::Contains("split-k"));
}
