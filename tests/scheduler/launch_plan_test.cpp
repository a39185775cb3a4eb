// Launch plans: MACs and bytes conserved, exact coverage of the output by edge tiles, unequal tw
// tiles ordered longest first, determinism, and compact plans for large and batched GEMMs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "scheduler/launch_plan.h"
#include "sparsity/nm_layout.h"
#include "sparsity/tile_layout.h"

using namespace stcsim;

namespace {

const MachineConfig& machine(const std::string& name) {
  static std::map<std::string, MachineConfig> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const auto path = std::filesystem::path(STCSIM_SOURCE_DIR) / "configs" / name;
    it = cache.emplace(name, load_machine_config(path.string())).first;
  }
  return it->second;
}

GemmOp gemm(std::int64_t m, std::int64_t n, std::int64_t k, Operand sparse = Operand::none,
            const std::string& pattern = "dense", std::int64_t count = 1, DType t = DType::fp16) {
  GemmOp g;
  g.layer = "layer";
  g.m = m;
  g.n = n;
  g.k = k;
  g.sparse = sparse;
  g.pattern = pattern;
  g.count = count;
  g.dtype = t;
  return g;
}

struct Planned {
  GemmMapping map;
  SparseOperand op;
  LaunchPlan plan;
};

Planned plan_for(const GemmOp& g, const MachineConfig& mc, std::uint64_t seed = 7) {
  Planned p;
  p.map = map_gemm(g, mc);
  const bool need = plan_needs_operand(g, p.map);
  if (need) p.op = build_operand(g, seed, 3);
  p.plan = plan_launch(g, p.map, mc, need ? &p.op : nullptr);
  return p;
}

// Checks every output element of every copy is covered by CTAs whose dense K adds up to K, and by
// at most one CTA per split. `rows` lists the output rows expected covered (all, unless compacted).
void check_coverage(const LaunchPlan& plan, const std::set<std::int64_t>& rows) {
  const std::int64_t r = plan.r, p = plan.p;
  for (std::int64_t copy = 0; copy < plan.count; ++copy) {
    std::vector<std::int64_t> k_sum(static_cast<std::size_t>(r * p), 0);
    std::vector<std::uint8_t> seen(static_cast<std::size_t>(r * p * plan.splits), 0);
    for (const auto& c : plan.ctas()) {
      if (c.copy != copy) continue;
      const CtaWork& w = plan.work_of(c);
      const auto out_rows = plan.output_rows(c);
      REQUIRE(static_cast<std::int64_t>(out_rows.size()) == w.rows);
      for (const std::int64_t row : out_rows) {
        for (std::int64_t col = plan.col_begin(c); col < plan.col_begin(c) + w.cols; ++col) {
          REQUIRE(row < r);
          REQUIRE(col < p);
          k_sum[static_cast<std::size_t>(row * p + col)] += w.k_dense;
          auto& s = seen[static_cast<std::size_t>((row * p + col) * plan.splits + c.split)];
          REQUIRE(s == 0);
          s = 1;
        }
      }
    }
    for (std::int64_t row = 0; row < r; ++row) {
      const std::int64_t want = rows.count(row) ? plan.k : 0;
      for (std::int64_t col = 0; col < p; ++col) REQUIRE(k_sum[static_cast<std::size_t>(row * p + col)] == want);
    }
  }
}

std::set<std::int64_t> all_rows(std::int64_t r) {
  std::set<std::int64_t> s;
  for (std::int64_t i = 0; i < r; ++i) s.insert(i);
  return s;
}

// S bytes of the CTAs of column block 0, copy 0.
std::uint64_t s_bytes_of_column0(const LaunchPlan& plan) {
  std::uint64_t total = 0;
  for (const auto& c : plan.ctas()) {
    if (c.col_block == 0 && c.copy == 0) total += plan.work_of(c).s_bytes();
  }
  return total;
}

}  // namespace

TEST_CASE("dense and N:M plans conserve dense-equivalent MACs", "[scheduler][plan]") {
  const std::vector<std::array<std::int64_t, 4>> shapes{
      {4096, 4096, 4096, 1}, {1000, 777, 1001, 2}, {1, 1, 1, 3}, {257, 129, 65, 1}, {4099, 17, 3, 1}};
  for (const char* m : {"h100.yaml", "a100.yaml", "v100.yaml"}) {
    for (const auto& [mm, nn, kk, cnt] : shapes) {
      for (const auto& [op, pat] : std::vector<std::pair<Operand, std::string>>{{Operand::none, "dense"},
                                                                                {Operand::A, "2:4"},
                                                                                {Operand::B, "2:4"},
                                                                                {Operand::A, "1:4"},
                                                                                {Operand::B, "2:2:8"}}) {
        for (int split : {1, 3}) {
          MachineConfig mc = machine(m);
          mc.kernel.split_k = split;
          const GemmOp g = gemm(mm, nn, kk, op, pat, cnt);
          const auto p = plan_for(g, mc);
          INFO(m << " " << mm << "x" << nn << "x" << kk << " x" << cnt << " " << pat << " split " << split);
          CHECK(p.plan.dense_macs() == g.dense_macs());
          if (op == Operand::none) CHECK(p.plan.kept_macs() == g.dense_macs());
        }
      }
    }
  }
}

TEST_CASE("N:M: S bytes of one tile column are the compressed operand's bytes", "[scheduler][plan]") {
  for (const char* m : {"h100.yaml", "a100.yaml"}) {
    for (const auto& [mm, nn, kk] :
         std::vector<std::array<std::int64_t, 3>>{{512, 384, 1024}, {300, 200, 1003}, {5, 7, 3}}) {
      for (int split : {1, 4}) {
        MachineConfig mc = machine(m);
        mc.kernel.split_k = split;
        const GemmOp g = gemm(mm, nn, kk, Operand::A, "2:4");
        const auto p = plan_for(g, mc);
        REQUIRE(p.map.path == MathPath::sparse_nm);
        const NmCompressed c(mm, kk, 2, 4);
        INFO(m << " " << mm << "x" << nn << "x" << kk << " split " << split);
        CHECK(s_bytes_of_column0(p.plan) == c.value_bytes(DType::fp16) + c.metadata_bytes());
        // D moves dense: K x P per row block.
        CHECK(p.plan.d_bytes() == static_cast<std::uint64_t>(kk * nn * 2 * ceil_div(mm, p.plan.cta.m)));
        CHECK(p.plan.c_bytes() == static_cast<std::uint64_t>(mm * nn) * (p.plan.splits > 1 ? 4u * p.plan.splits : 2u));
      }
    }
  }
}

TEST_CASE("kept MACs are the mask's kept products times P", "[scheduler][plan]") {
  const MachineConfig& mc = machine("a100.yaml");
  const std::vector<std::pair<Operand, std::string>> cases{
      {Operand::A, "2:4"},
      {Operand::B, "2:4"},
      {Operand::A, "tw(g=128,sparsity=0.6)"},
      {Operand::B, "tw(g=48,sparsity=0.5)"},
      {Operand::A, "tvw(g=64,sparsity=0.5,n=2,m=4)"},
      {Operand::A, "tvw(g=100,sparsity=0.3,n=2,m=4)"},
      {Operand::A, "block(b=32,sparsity=0.75)"},
      {Operand::B, "block(b=48,sparsity=0.5)"},
      {Operand::A, "unstructured(sparsity=0.9)"},
  };
  for (const auto& [op, pat] : cases) {
    for (int split : {1, 2}) {
      MachineConfig m = mc;
      m.kernel.split_k = split;
      const GemmOp g = gemm(520, 300, 700, op, pat, 2);
      const auto p = plan_for(g, m);
      const SparseOperand o = build_operand(g, 7, 3);
      const std::int64_t pdim = op == Operand::B ? g.m : g.n;
      INFO(pat << " split " << split);
      CHECK(p.plan.kept_macs() == static_cast<std::uint64_t>(count_kept(o.mask) * pdim * g.count));
    }
  }
}

TEST_CASE("edge tiles cover the output exactly once", "[scheduler][plan]") {
  const std::vector<std::array<std::int64_t, 4>> shapes{
      {1, 1, 1, 1}, {7, 13, 5, 2}, {257, 129, 65, 1}, {131, 509, 97, 1}};
  for (const char* m : {"h100.yaml", "a100.yaml"}) {
    for (const auto& [mm, nn, kk, cnt] : shapes) {
      for (int split : {1, 2, 5}) {
        for (const auto& [op, pat] :
             std::vector<std::pair<Operand, std::string>>{{Operand::none, "dense"},
                                                          {Operand::A, "2:4"},
                                                          {Operand::B, "2:4"},
                                                          {Operand::A, "block(b=16,sparsity=0.5)"}}) {
          MachineConfig mc = machine(m);
          mc.kernel.split_k = split;
          mc.kernel.raster = split == 2 ? RasterOrder::along_n : RasterOrder::along_m;
          mc.kernel.swizzle = split == 5 ? 4 : 1;
          const GemmOp g = gemm(mm, nn, kk, op, pat, cnt);
          const auto p = plan_for(g, mc);
          INFO(m << " " << mm << "x" << nn << "x" << kk << " " << pat << " split " << split);
          if (pat.rfind("block", 0) == 0) {
            // Tiles whose rows keep nothing in a split's K range have no CTA there; every tile has one.
            std::set<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> tiles;
            for (const auto& c : p.plan.ctas()) tiles.insert({c.copy, c.row_block, c.col_block});
            CHECK(static_cast<std::int64_t>(tiles.size()) ==
                  cnt * ceil_div(p.plan.r, p.plan.cta.m) * p.plan.col_blocks());
          } else {
            check_coverage(p.plan, all_rows(p.plan.r));
          }
        }
      }
    }
  }
}

TEST_CASE("tw: CTAs cover each tile's kept rows once, tiles differ in K, longest_first orders by work",
          "[scheduler][plan]") {
  MachineConfig mc = machine("a100.yaml");
  const GemmOp g = gemm(1024, 200, 1024, Operand::A, "tw(g=128,sparsity=0.5)");
  const auto p = plan_for(g, mc, 11);
  const auto* tc = dynamic_cast<const TileCompressed*>(p.op.compressed.get());
  REQUIRE(tc);
  std::set<std::int64_t> kept(tc->kept_rows().begin(), tc->kept_rows().end());
  check_coverage(p.plan, kept);

  std::set<std::int64_t> ks;
  for (const auto& c : p.plan.ctas()) ks.insert(p.plan.work_of(c).k_work());
  CHECK(ks.size() > 1);
  // Each CTA walks exactly its tile's kept K.
  for (const auto& c : p.plan.ctas()) {
    CHECK(p.plan.work_of(c).k_work() == tc->tile(p.plan.row_blocks()[c.row_block].tile).kept_k);
  }
  const auto in_order = p.plan.ctas();
  CHECK_FALSE(std::is_sorted(in_order.begin(), in_order.end(), [&](const CtaPos& a, const CtaPos& b) {
    return p.plan.work_of(a).k_work() > p.plan.work_of(b).k_work();
  }));

  mc.kernel.tile_scheduler = TileOrder::longest_first;
  const auto q = plan_for(g, mc, 11);
  const auto& lf = q.plan.ctas();
  REQUIRE(lf.size() == in_order.size());
  for (std::size_t i = 1; i < lf.size(); ++i) {
    const auto a = q.plan.work_of(lf[i - 1]).k_work(), b = q.plan.work_of(lf[i]).k_work();
    REQUIRE(a >= b);
  }
  // Stable: CTAs of equal work keep their raster order.
  std::map<std::int64_t, std::vector<std::pair<std::uint32_t, std::uint32_t>>> by_work_in, by_work_lf;
  for (const auto& c : in_order) by_work_in[p.plan.work_of(c).k_work()].push_back({c.row_block, c.col_block});
  for (const auto& c : lf) by_work_lf[q.plan.work_of(c).k_work()].push_back({c.row_block, c.col_block});
  CHECK(by_work_in == by_work_lf);
}

TEST_CASE("tvw runs sparse MMAs over each tile's kept K, block issues only kept blocks", "[scheduler][plan]") {
  const MachineConfig& mc = machine("h100.yaml");
  {
    const auto p = plan_for(gemm(512, 256, 512, Operand::A, "tvw(g=64,sparsity=0.5,n=2,m=4)"), mc);
    REQUIRE(p.map.path == MathPath::sparse_nm);
    for (const auto& w : p.plan.work()) {
      CHECK(w.dense_mmas() == 0);
      CHECK(w.sparse_mmas() > 0);
    }
  }
  {
    const auto p = plan_for(gemm(512, 256, 512, Operand::A, "block(b=64,sparsity=0.75)"), mc);
    std::uint64_t k_run = 0;
    for (const auto& c : p.plan.ctas()) k_run += static_cast<std::uint64_t>(p.plan.work_of(c).k_work());
    // A quarter of the blocks kept: CTAs of one 128-row tile (two block rows) walk between a quarter
    // and a half of K on average, never all of it.
    CHECK(k_run < static_cast<std::uint64_t>(p.plan.ctas().size()) * 512);
    CHECK(p.plan.kept_macs() * 4 == static_cast<std::uint64_t>(512) * 256 * 512);
  }
}

TEST_CASE("plans are deterministic", "[scheduler][plan]") {
  MachineConfig mc = machine("h100.yaml");
  mc.kernel.tile_scheduler = TileOrder::longest_first;
  for (const char* pat : {"tw(g=64,sparsity=0.5)", "unstructured(sparsity=0.95)", "2:4"}) {
    const GemmOp g = gemm(700, 300, 900, Operand::B, pat, 3);
    const auto a = plan_for(g, mc, 42);
    const auto b = plan_for(g, mc, 42);
    REQUIRE(a.plan.ctas().size() == b.plan.ctas().size());
    for (std::size_t i = 0; i < a.plan.ctas().size(); ++i) {
      const auto& x = a.plan.ctas()[i];
      const auto& y = b.plan.ctas()[i];
      REQUIRE((x.work == y.work && x.row_block == y.row_block && x.col_block == y.col_block && x.split == y.split &&
               x.copy == y.copy));
    }
    CHECK(a.plan.work() == b.plan.work());
  }
}

TEST_CASE("a 4096^3 GEMM and a 4608-copy batched GEMM plan compactly", "[scheduler][plan]") {
  const MachineConfig& mc = machine("h100.yaml");
  {
    const auto p = plan_for(gemm(4096, 4096, 4096), mc);
    CHECK(p.plan.ctas().size() == 32 * 16);
    CHECK(p.plan.work().size() == 1);
    CHECK(p.plan.work()[0].runs().size() == 1);
    CHECK(p.plan.work()[0].k_blocks() == 64);
    CHECK(p.plan.work()[0].dense_mmas() == 2 * 1 * 4 * 64);  // m64n256k16 over 128x256x64 per k-block
  }
  {
    const auto p = plan_for(gemm(4096, 4096, 4096, Operand::A, "2:4"), mc);
    CHECK(p.plan.work().size() == 1);
    CHECK(p.plan.work()[0].sparse_mmas() == 2 * 1 * 2 * 64);  // m64n256k32
  }
  {
    const auto p = plan_for(gemm(512, 512, 64, Operand::none, "dense", 4608), mc);
    CHECK(p.plan.ctas().size() == 4608u * 4 * 2);
    CHECK(p.plan.work().size() == 1);
    CHECK(p.plan.dense_macs() == gemm(512, 512, 64, Operand::none, "dense", 4608).dense_macs());
  }
}

TEST_CASE("raster order and L2 keys", "[scheduler][plan]") {
  MachineConfig mc = machine("a100.yaml");  // 128 x 128 CTA tiles
  const GemmOp g = gemm(512, 512, 256);
  {
    const auto p = plan_for(g, mc);
    const auto& c = p.plan.ctas();
    // along_m, swizzle 1: down the rows of column 0 first.
    CHECK((c[0].row_block == 0 && c[0].col_block == 0));
    CHECK((c[1].row_block == 1 && c[1].col_block == 0));
    CHECK((c[4].row_block == 0 && c[4].col_block == 1));
    // D tiles are shared by row blocks, S tiles by column blocks.
    CHECK(p.plan.d_key(c[0], 1) == p.plan.d_key(c[1], 1));
    CHECK(p.plan.s_key(c[0], 1) != p.plan.s_key(c[1], 1));
    CHECK(p.plan.s_key(c[0], 2) == p.plan.s_key(c[4], 2));
    CHECK(p.plan.s_key(c[0], 2).k == 2);
  }
  {
    mc.kernel.raster = RasterOrder::along_n;
    mc.kernel.swizzle = 2;
    const auto p = plan_for(g, mc);
    const auto& c = p.plan.ctas();
    CHECK((c[0].row_block == 0 && c[0].col_block == 0));
    CHECK((c[1].row_block == 1 && c[1].col_block == 0));
    CHECK((c[2].row_block == 0 && c[2].col_block == 1));
  }
  {
    mc.kernel.split_k = 2;
    const auto p = plan_for(g, mc);
    // The second split's keys continue the first's K.
    for (const auto& c : p.plan.ctas()) {
      if (c.split == 1) CHECK(p.plan.s_key(c, 0).k == 2);
    }
  }
}

TEST_CASE("a pattern needing its mask is refused without one", "[scheduler][plan]") {
  const MachineConfig& mc = machine("a100.yaml");
  const GemmOp g = gemm(256, 256, 256, Operand::A, "tw(g=64,sparsity=0.5)");
  CHECK_THROWS_AS(plan_launch(g, map_gemm(g, mc), mc, nullptr), Error);
  const GemmOp other = gemm(128, 256, 256, Operand::A, "tw(g=64,sparsity=0.5)");
  const SparseOperand wrong = build_operand(other, 1, 0);
  CHECK_THROWS_AS(plan_launch(g, map_gemm(g, mc), mc, &wrong), Error);
}

TEST_CASE("V:N:M and unstructured: S bytes of one tile column are the layout's bytes", "[scheduler][plan]") {
  const MachineConfig& mc = machine("h100.yaml");
  for (const auto& [pat, k] : std::vector<std::pair<std::string, std::int64_t>>{
           {"2:4", 1001}, {"64:2:8", 1000}, {"100:2:8", 997}, {"unstructured(sparsity=0.9)", 900}}) {
    const GemmOp g = gemm(300, 260, k, Operand::A, pat);
    const auto p = plan_for(g, mc);
    const SparseOperand o = build_operand(g, 7, 3);
    INFO(pat);
    CHECK(s_bytes_of_column0(p.plan) == o.compressed->compressed_bytes(DType::fp16));
  }
}
