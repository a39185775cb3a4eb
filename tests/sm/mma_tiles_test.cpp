// MmaTiles (sm/mma_tiles.h): a full CTA's issuers get exactly their warp tiles; every plan's MMAs are
// its tiles' k-steps (conserved for every family, block's segments included); edge CTAs spread
// their tiles over all issuers.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "scheduler/launch_plan.h"
#include "sm/mma_tiles.h"
#include "tensor_core/tensor_core.h"
#include "sparsity/registry.h"

using namespace stcsim;

TEST_CASE("mma tiles: a full CTA's issuers get their own warp tiles, row-major", "[sm]") {
  CtaWork w;
  w.rows = 128;
  w.cols = 128;
  // m16n8 instructions, 64x64 warp tiles of a 128x128 CTA: 4 warps of 4 x 8 tiles.
  const MmaTiles t(w, 16, 8, 64, 64, 128, 128, 4);
  REQUIRE(t.count() == 8 * 16);
  for (int wi = 0; wi < 4; ++wi) {
    const auto [first, last] = t.range(wi);
    REQUIRE(last - first == 32);
    for (std::int64_t p = first; p < last; ++p) {
      const MmaTile& x = t.tile(p);
      const std::int64_t a = p - first;
      CHECK(x.row0 == (wi / 2) * 64 + (a / 8) * 16);
      CHECK(x.col0 == (wi % 2) * 64 + (a % 8) * 8);
      CHECK(x.rows == 16);
      CHECK(x.cols == 8);
    }
  }
}

TEST_CASE("mma tiles: an edge CTA's partial tiles cover its output once, spread over every issuer", "[sm]") {
  CtaWork w;
  w.rows = 40;
  w.cols = 20;
  const MmaTiles t(w, 16, 8, 64, 64, 128, 128, 4);
  REQUIRE(t.count() == 3 * 3);
  std::set<std::pair<int, int>> seen;
  std::int64_t cells = 0;
  for (std::int64_t p = 0; p < t.count(); ++p) {
    const MmaTile& x = t.tile(p);
    seen.insert({x.row0, x.col0});
    cells += std::int64_t{x.rows} * x.cols;
  }
  CHECK(seen.size() == 9);
  CHECK(cells == 40 * 20);
  for (int wi = 0; wi < 4; ++wi) CHECK(t.range(wi).second - t.range(wi).first >= 2);
}

TEST_CASE("mma tiles: every plan's MMAs are its tiles' k-steps, block segments included", "[sm]") {
  for (const char* cfg : {"h100.yaml", "a100.yaml", "v100.yaml"}) {
    const MachineConfig mc = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/" + cfg);
    const KernelConfig& k = mc.kernel;
    for (const char* p :
         {"dense", "2:4", "16:2:8", "tw(g=32,sparsity=0.5)", "tvw(g=32,sparsity=0.5,n=2,m=4)",
          "block(b=16,sparsity=0.5)", "block(b=32,sparsity=0.6)", "unstructured(sparsity=0.7)"}) {
      GemmOp g;
      g.layer = "tiles";
      g.m = 300;
      g.n = 200;
      g.k = 520;
      g.sparse = p == std::string("dense") ? Operand::none : Operand::B;
      g.pattern = builtin_registry().make(p)->spec();
      const GemmMapping map = map_gemm(g, mc);
      const SparseOperand op = build_operand(g, 1, 1);
      const LaunchPlan plan = plan_launch(g, map, mc, &op);
      const MmaShape shape = k.mma_for(g.dtype);
      const TileShape cta = k.cta_tile_for(g.dtype), warp = k.warp_tile_for(g.dtype);
      const int issuers = k.compute_warps() / TensorCore::cooperating_for(k.instruction);
      CAPTURE(cfg, p);
      for (const CtaWork& w : plan.work()) {
        const MmaTiles t(w, shape.m, shape.n, warp.m, warp.n, cta.m, cta.n, issuers);
        std::int64_t cells = 0;
        for (std::int64_t x = 0; x < t.count(); ++x) cells += std::int64_t{t.tile(x).rows} * t.tile(x).cols;
        CHECK(cells == w.rows * w.cols);
        for (std::int64_t kb = 0; kb < w.k_blocks(); ++kb) {
          const KBlock& b = w.kblock(kb);
          std::int64_t dense = 0, sparse = 0;
          for (std::int64_t x = 0; x < t.count(); ++x) {
            dense += t.dense_steps(b, x);
            sparse += t.sparse_steps(b, x);
          }
          CHECK(dense == b.dense_mmas);
          CHECK(sparse == b.sparse_mmas);
        }
      }
    }
  }
}
