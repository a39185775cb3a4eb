// Invariants of the cycle-level model over a grid of shapes, patterns, data types and machines:
// simulated time never beats the roofline of the configured machine (report/roofline.h); MACs and
// bytes are conserved between the launch plan, the tensor cores' counters and the memory system's;
// N:M sparse compute is about N/M of dense on hardware with the pattern; a memory-bound GEMM comes
// out memory bound and a compute-bound one compute bound; identical input gives identical output.
//
// SystemC elaborates once per process: each test case makes one simulate() call holding its whole
// grid, every grid point a run of its own (so each starts on a fresh memory system and its memory
// counters are its own), and ctest runs each test case in its own process.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "common/rng.h"
#include "config/machine_config.h"
#include "gpu/simulation.h"
#include "mapping/math_path.h"
#include "report/roofline.h"
#include "scheduler/launch_plan.h"
#include "scheduler/tile_scheduler.h"
#include "sm/kblock_cost.h"
#include "support/gemm_runs.h"

using namespace stcsim;

namespace {

const std::string kConfigs = std::string(STCSIM_SOURCE_DIR) + "/configs/";

MachineConfig machine(const std::string& file, const std::vector<std::string>& sets = {}) {
  return load_machine_config(kConfigs + file, sets);
}

// H100 with a hypothetical operand selector of M = 8 and sparse rates for 1:4 and 2:8 at four times
// the dense rate (4:8 at twice), and an L2 link fast enough that large GEMMs are bound by the tensor
// cores rather than by the L2 (see report/roofline.h on the shipped H100).
const std::vector<std::string> kWideSelector = {
    "arch.tensor_core.operand_selector.max_m=8", "arch.tensor_core.dtypes.fp16.sparse.1:4=2048",
    "arch.tensor_core.dtypes.fp16.sparse.2:8=2048", "arch.tensor_core.dtypes.fp16.sparse.4:8=1024",
    "arch.l2.bytes_per_clock=16000"};

GemmOp gemm(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& pattern, DType dtype = DType::fp16,
            Operand sparse = Operand::B, std::int64_t count = 1) {
  GemmOp g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.dtype = dtype;
  g.sparse = sparse;
  g.pattern = pattern;
  g.count = count;
  g.layer = fmt::format("{}x{}x{} {} {} {}{}", m, n, k, dtype_name(dtype), pattern, operand_name(sparse),
                        count > 1 ? fmt::format(" x{}", count) : "");
  return g;
}

const std::vector<std::string> kAllPatterns = {"dense",
                                               "2:4",
                                               "1:4",
                                               "2:8",
                                               "64:2:8",
                                               "tw(g=128,sparsity=0.5)",
                                               "tvw(g=128,sparsity=0.5,n=2,m=4)",
                                               "block(b=32,sparsity=0.5)",
                                               "unstructured(sparsity=0.9)"};
// Patterns whose plan needs no mask: cheap on any shape.
const std::vector<std::string> kSizePatterns = {"dense", "2:4", "1:4", "2:8", "64:2:8"};

// Counter `suffix` summed over the SMs of a run's stats ("tensor_core.busy_cycles").
std::uint64_t sm_sum(const StatsTree& t, const std::string& suffix) {
  std::uint64_t s = 0;
  for (const auto& [key, v] : t.values()) {
    if (key.rfind("gpu.sm", 0) != 0) continue;
    const std::size_t dot = key.find('.', 4);
    if (dot == std::string::npos || key.compare(dot + 1, std::string::npos, suffix) != 0) continue;
    s += std::get<std::uint64_t>(v);
  }
  return s;
}

std::uint64_t stat(const StatsTree& t, const std::string& key) {
  const auto it = t.values().find(key);
  if (it == t.values().end()) FAIL("no counter " << key);
  return std::get<std::uint64_t>(it->second);
}

// Bytes of the D rows that some kept weight of S multiplies (K positions holding a kept weight in
// any row), x P columns, per copy: what any kernel must read of D at least once.
std::uint64_t needed_d_bytes(const SparseOperand& op, std::int64_t p, const GemmOp& g) {
  std::int64_t used = 0;
  for (std::int64_t c = 0; c < op.mask.cols(); ++c) {
    for (std::int64_t r = 0; r < op.mask.rows(); ++r) {
      if (op.mask.at(r, c)) {
        ++used;
        break;
      }
    }
  }
  return static_cast<std::uint64_t>(used) * static_cast<std::uint64_t>(p) *
         static_cast<std::uint64_t>(dtype_bytes(g.dtype)) * static_cast<std::uint64_t>(g.count);
}

// The plan and roofline of one line, rebuilt as simulate() builds them (seed 1, trace line 1), and
// what its MMAs must cover.
struct Expected {
  GemmMapping map;
  std::unique_ptr<SparseOperand> op;
  LaunchPlan plan;
  Roofline roof;
  std::uint64_t mma_macs = 0;     // dense-equivalent MACs of every MMA the plan issues
  std::uint64_t padded_macs = 0;  // the CTAs' k-blocks rounded up to whole instructions
  std::uint64_t k_blocks = 0;
  std::uint64_t needed_d_bytes = 0;  // D rows some kept weight multiplies (mask patterns), x P
};

Expected expect(const MachineConfig& mc, const GemmOp& g) {
  Expected e;
  e.map = map_gemm(g, mc);
  if (plan_needs_operand(g, e.map)) e.op = std::make_unique<SparseOperand>(build_operand(g, 1, 1));
  e.plan = plan_launch(g, e.map, mc, e.op.get());
  e.roof = roofline(g, e.map, mc, e.plan);
  const KBlockCoster coster(mc, g.dtype, e.map);
  const MmaInstr& in = e.map.path == MathPath::sparse_nm ? coster.sparse_instr() : coster.dense_instr();
  const auto up = [](std::int64_t v, std::int64_t q) { return static_cast<std::uint64_t>((v + q - 1) / q * q); };
  for (const CtaPos& c : e.plan.ctas()) {
    const CtaWork& w = e.plan.work_of(c);
    e.mma_macs += static_cast<std::uint64_t>(w.dense_mmas()) * static_cast<std::uint64_t>(coster.dense_instr().macs());
    if (w.sparse_mmas() > 0) {
      e.mma_macs +=
          static_cast<std::uint64_t>(w.sparse_mmas()) * static_cast<std::uint64_t>(coster.sparse_instr().macs());
    }
    std::uint64_t k_padded = 0;
    for (const KBlockRun& r : w.runs()) k_padded += static_cast<std::uint64_t>(r.repeat) * up(r.block.k, in.k);
    e.padded_macs += up(w.rows, in.m) * up(w.cols, in.n) * k_padded;
    e.k_blocks += static_cast<std::uint64_t>(w.k_blocks());
  }
  if (e.op) e.needed_d_bytes = needed_d_bytes(*e.op, e.plan.p, g);
  return e;
}

// What one line gave, for checks across lines.
struct Seen {
  GemmOp g;
  MathPath path = MathPath::dense;
  Roofline roof;
  LayerResult row;
  std::uint64_t dram_busy = 0;  // cycles the DRAM link transferred
  std::uint64_t dram_read = 0;  // bytes
  std::string stats_yaml;
};

// Every per-line invariant. The run holds exactly this line, on a fresh memory system.
Seen check_line(const MachineConfig& machine, const GemmOp& g, const RunResult& run) {
  REQUIRE(run.rows.size() == 1);
  const LayerResult& row = run.rows[0];
  const StatsTree& st = run.stats;
  // The line ran the kernel the selection chose (one of the machine's candidates): expect its plan.
  const std::vector<MachineConfig> variants = machine.kernel_variants();
  const auto chosen = std::find_if(variants.begin(), variants.end(),
                                   [&](const MachineConfig& v) { return v.kernel.name == row.kernel; });
  REQUIRE(chosen != variants.end());
  const MachineConfig& mc = *chosen;
  // A line that fell back to the dense kernel (kernel.dense_fallback) ran the dense plan.
  GemmOp ran = g;
  if (row.dense_fallback) ran.pattern = "dense";
  const Expected e = expect(mc, ran);
  const Roofline& roof = e.roof;
  const auto cycles = static_cast<double>(row.cycles);
  INFO(g.layer << " on " << mc.arch.name << " (" << mc.kernel.name << "), " << row.math_path);
  CAPTURE(row.cycles, roof.compute_cycles, roof.memory_cycles, roof.l2_cycles);

  // Time: never below the roofline, on either side, nor below the L2 link's time for the plan's tiles.
  CHECK(cycles >= roof.compute_cycles);
  CHECK(cycles >= roof.memory_cycles);
  CHECK(cycles >= roof.l2_cycles);

  // MACs: the tensor cores covered exactly the plan's MMAs; those cover at least the path's work and
  // at most its k-blocks rounded up to whole instructions; dense mode executes what it covers, sparse
  // mode its kept share (skipped products counted apart).
  const std::uint64_t equivalent = sm_sum(st, "tensor_core.equivalent_macs");
  const std::uint64_t dense_exec = sm_sum(st, "tensor_core.dense_macs");
  const std::uint64_t sparse_exec = sm_sum(st, "tensor_core.sparse_macs");
  const std::uint64_t skipped = sm_sum(st, "tensor_core.skipped_macs");
  CAPTURE(equivalent, dense_exec, sparse_exec, skipped, roof.work_macs, e.mma_macs, e.padded_macs, e.plan.kept_macs());
  CHECK(row.dense_macs == g.dense_macs());
  CHECK(equivalent == e.mma_macs);
  CHECK(equivalent >= roof.work_macs);
  if (e.map.path != MathPath::block_dense) {
    // Block k-blocks run one MMA row per kept block, so their instruction count is not the CTA
    // tile's; everything else issues whole CTA tiles.
    CHECK(equivalent <= e.padded_macs);
  }
  CHECK(row.executed_macs == dense_exec + sparse_exec);
  CHECK(equivalent == dense_exec + sparse_exec + skipped);
  if (e.map.path == MathPath::sparse_nm) {
    CHECK(dense_exec == 0);
    CHECK(sparse_exec >= e.plan.kept_macs());
    CHECK(sparse_exec * static_cast<std::uint64_t>(e.map.hw_m) == equivalent * static_cast<std::uint64_t>(e.map.hw_n));
  } else {
    CHECK(sparse_exec == 0);
    CHECK(skipped == 0);
    CHECK(dense_exec >= e.plan.kept_macs());
  }
  // Every CTA and k-block of the plan ran, once.
  CHECK(sm_sum(st, "ctas") == e.plan.ctas().size());
  CHECK(sm_sum(st, "mainloop.k_blocks") == e.k_blocks);
  CHECK(row.sm_mma_cycles == sm_sum(st, "mainloop.mma_cycles"));

  // Bytes: the L2 delivered exactly the plan's S and D tiles and took its C tiles; every C byte went
  // on to DRAM; DRAM read at least the compulsory operand bytes (and the D rows some kept weight
  // needs), and no more than the L2 delivered.
  const std::uint64_t l2_read = stat(st, "gpu.memory.l2_read_bytes");
  const std::uint64_t l2_write = stat(st, "gpu.memory.l2_write_bytes");
  const std::uint64_t dram_read = stat(st, "gpu.memory.dram_read_bytes");
  const std::uint64_t dram_write = stat(st, "gpu.memory.dram_write_bytes");
  CAPTURE(l2_read, l2_write, dram_read, dram_write, e.plan.s_bytes(), e.plan.d_bytes(), e.plan.c_bytes(), roof.s_bytes,
          roof.d_bytes, roof.c_bytes, e.needed_d_bytes);
  // (D tiles multicast within a cluster are pulled through the link as one slice per CTA.)
  CHECK(l2_read == e.plan.s_bytes() + e.plan.d_link_bytes(mc.kernel.cluster_m));
  CHECK(l2_write == e.plan.c_bytes());
  CHECK(dram_write == e.plan.c_bytes());
  CHECK(dram_write >= roof.c_bytes);
  CHECK(dram_read >= roof.s_bytes + roof.d_bytes);
  CHECK(dram_read >= roof.s_bytes + e.needed_d_bytes);
  CHECK(dram_read <= l2_read);
  CHECK(row.l2_bytes == l2_read + l2_write);
  CHECK(row.dram_bytes == dram_read + dram_write);
  CHECK(stat(st, "gpu.memory.dram_link.bytes") == dram_read + dram_write);
  CHECK(stat(st, "gpu.memory.l2_link.bytes") == l2_read + l2_write);

  // Time attribution adds up: every SM cycle is resident or idle; with one CTA slot per SM, a
  // resident SM's time is its MMAs plus the stalls charged to memory, the register file, shared
  // memory, the drain and the epilogue, exactly.
  const std::uint64_t resident = sm_sum(st, "resident_cycles");
  const std::uint64_t sm_cycles = row.cycles * static_cast<std::uint64_t>(mc.arch.sms);
  CHECK(resident <= sm_cycles);
  CHECK(row.sm_idle_cycles == sm_cycles - resident);
  const std::uint64_t attributed = row.sm_mma_cycles + row.sm_memory_stall_cycles + row.sm_regfile_stall_cycles +
                                   row.sm_smem_stall_cycles + row.sm_pipeline_cycles + row.sm_epilogue_cycles;
  if (TileScheduler::ctas_per_sm(mc) == 1) CHECK(attributed == resident);
  CHECK(row.tc_utilization <= 1.0);
  return {g, e.map.path, roof, row, stat(st, "gpu.memory.dram_link.busy_cycles"), dram_read, st.to_yaml()};
}

std::vector<Seen> run_grid(const MachineConfig& mc, const std::vector<GemmOp>& grid, SimModel model = SimModel::fast) {
  const std::vector<RunInput> runs = testing::one_run_per_gemm(grid);
  SimOptions opts;
  opts.model = model;
  const SimResult res = simulate(mc, runs, opts);
  REQUIRE(res.runs.size() == grid.size());
  std::vector<Seen> out;
  for (std::size_t i = 0; i < grid.size(); ++i) out.push_back(check_line(mc, grid[i], res.runs[i]));
  return out;
}

const Seen& find(const std::vector<Seen>& seen, const GemmOp& g) {
  for (const Seen& s : seen) {
    if (s.g == g) return s;
  }
  FAIL("no line " << g.layer);
  return seen.front();
}

// Tensor-core busy cycles of a sparse line over its dense twin.
double mma_ratio(const std::vector<Seen>& seen, const GemmOp& sparse, const GemmOp& dense) {
  return static_cast<double>(find(seen, sparse).row.sm_mma_cycles) /
         static_cast<double>(find(seen, dense).row.sm_mma_cycles);
}

// A GEMM the roofline calls memory bound by a wide margin comes out memory bound: DRAM busy nearly
// all the time, time close to the DRAM roofline, the tensor cores mostly idle and the SMs waiting for
// tiles.
void check_memory_bound(const Seen& s) {
  INFO(s.g.layer << ": " << s.row.cycles << " cycles, roofline compute " << s.roof.compute_cycles << " memory "
                 << s.roof.memory_cycles << ", DRAM busy " << s.dram_busy << ", TC utilisation "
                 << s.row.tc_utilization);
  REQUIRE(s.roof.memory_cycles >= 1.5 * std::max(s.roof.compute_cycles, s.roof.l2_cycles));
  const auto cycles = static_cast<double>(s.row.cycles);
  CHECK(static_cast<double>(s.dram_busy) >= 0.9 * cycles);
  CHECK(cycles <= 1.1 * s.roof.memory_cycles);
  CHECK(s.row.tc_utilization < 0.5);
  CHECK(s.row.sm_memory_stall_cycles > s.row.sm_regfile_stall_cycles);
  CHECK(s.row.sm_memory_stall_cycles > s.row.sm_pipeline_cycles);
  CHECK(s.row.sm_memory_stall_cycles + s.row.sm_idle_cycles > s.row.sm_mma_cycles);
}

// A GEMM the roofline calls compute bound by a wide margin (over DRAM and over the L2 link) keeps
// the tensor cores busy and the DRAM link mostly idle.
void check_compute_bound(const Seen& s, double min_utilization) {
  INFO(s.g.layer << ": " << s.row.cycles << " cycles, roofline compute " << s.roof.compute_cycles << " memory "
                 << s.roof.memory_cycles << " L2 " << s.roof.l2_cycles << ", DRAM busy " << s.dram_busy
                 << ", TC utilisation " << s.row.tc_utilization);
  REQUIRE(s.roof.compute_cycles >= 1.5 * std::max(s.roof.memory_cycles, s.roof.l2_cycles));
  CHECK(s.row.tc_utilization >= min_utilization);
  CHECK(static_cast<double>(s.row.cycles) <= s.roof.compute_cycles / min_utilization);
  CHECK(static_cast<double>(s.dram_busy) <= 0.5 * static_cast<double>(s.row.cycles));
  CHECK(s.row.sm_mma_cycles > s.row.sm_memory_stall_cycles);
}

// A large GEMM runs within 30 % of the tightest of its bounds (tensor cores, DRAM, the L2 link):
// nothing the bounds do not explain slows it down.
void check_near_bound(const Seen& s) {
  const double bound = std::max({s.roof.compute_cycles, s.roof.memory_cycles, s.roof.l2_cycles});
  INFO(s.g.layer << ": " << s.row.cycles << " cycles, roofline compute " << s.roof.compute_cycles << " memory "
                 << s.roof.memory_cycles << " L2 " << s.roof.l2_cycles);
  CHECK(static_cast<double>(s.row.cycles) <= 1.3 * bound);
}

}  // namespace

TEST_CASE("H100: a grid of shapes, patterns and types never beats the roofline and conserves MACs and bytes",
          "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml");
  std::vector<GemmOp> grid;
  // Every pattern on shapes whose sparse operand is small enough to prune quickly: a single output
  // row, primes, non-multiples of every tile, and skewed shapes (the large operand dense).
  const std::vector<std::array<std::int64_t, 3>> small_s = {{1, 1024, 1024}, {127, 509, 251}, {300, 700, 1000}};
  for (const auto& s : small_s) {
    for (const auto& p : kAllPatterns) grid.push_back(gemm(s[0], s[1], s[2], p));
  }
  for (const auto& p : kAllPatterns) {
    grid.push_back(gemm(8, 8192, 8192, p, DType::fp16, Operand::A));  // S = A, 8 x 8192
    grid.push_back(gemm(8192, 8, 8192, p));                           // S = B^T, 8 x 8192
    grid.push_back(gemm(16384, 16, 16384, p));                        // S = B^T, 16 x 16384: memory bound
  }
  // The same skews with the large operand sparse, for the patterns that need no mask.
  for (const auto& p : kSizePatterns) {
    grid.push_back(gemm(8, 8192, 8192, p));
    grid.push_back(gemm(8192, 8, 8192, p, DType::fp16, Operand::A));
  }
  // Large compute-heavy GEMMs, a batched one, an activation GEMM that stays dense, other types.
  for (const char* p : {"dense", "2:4", "64:2:8"}) {
    grid.push_back(gemm(4096, 4096, 4096, p));
    grid.push_back(gemm(8192, 8192, 4096, p));
  }
  grid.push_back(gemm(33792, 64, 8192, "dense"));
  grid.push_back(gemm(256, 16384, 16384, "64:2:8", DType::fp16,
                      Operand::A));  // memory bound with every SM busy: 132 column blocks
  grid.push_back(gemm(512, 512, 64, "dense", DType::fp16, Operand::none, 48));
  grid.push_back(gemm(512, 512, 64, "2:4", DType::fp16, Operand::B, 48));
  for (const DType t : {DType::int8, DType::bf16}) {
    grid.push_back(gemm(2048, 2048, 2048, "dense", t));
    grid.push_back(gemm(2048, 2048, 2048, "2:4", t));
  }
  grid.push_back(gemm(2048, 2048, 2048, "dense", DType::tf32));
  grid.push_back(gemm(2048, 2048, 2048, "1:2", DType::tf32));
  grid.push_back(gemm(1000, 1000, 1000, "dense", DType::fp8));
  grid.push_back(gemm(1000, 1000, 1000, "2:4", DType::fp8));
  const std::vector<Seen> seen = run_grid(mc, grid);

  // 2:4 on H100 halves the tensor cores' busy time of a large GEMM (the 2:4 rate is twice dense), in
  // every type with a sparse rate; 1:4 and 2:8 have none and run dense on explicit zeros.
  for (const auto& [m, n, k] : std::vector<std::array<std::int64_t, 3>>{{4096, 4096, 4096}, {8192, 8192, 4096}}) {
    CHECK(mma_ratio(seen, gemm(m, n, k, "2:4"), gemm(m, n, k, "dense")) == Approx(0.5).epsilon(0.03));
  }
  CHECK(mma_ratio(seen, gemm(2048, 2048, 2048, "2:4", DType::int8), gemm(2048, 2048, 2048, "dense", DType::int8)) ==
        Approx(0.5).epsilon(0.03));
  CHECK(mma_ratio(seen, gemm(2048, 2048, 2048, "2:4", DType::bf16), gemm(2048, 2048, 2048, "dense", DType::bf16)) ==
        Approx(0.5).epsilon(0.03));
  CHECK(mma_ratio(seen, gemm(2048, 2048, 2048, "1:2", DType::tf32), gemm(2048, 2048, 2048, "dense", DType::tf32)) ==
        Approx(0.5).epsilon(0.03));
  CHECK(find(seen, gemm(300, 700, 1000, "1:4")).path == MathPath::dense_on_zeros);
  CHECK(find(seen, gemm(300, 700, 1000, "1:4")).row.cycles == find(seen, gemm(300, 700, 1000, "dense")).row.cycles);
  // A batched GEMM is faster per copy than its copies one after another would be (48 copies of 8
  // CTAs fill the machine together), and 2:4 speeds it up.
  CHECK(find(seen, gemm(512, 512, 64, "2:4", DType::fp16, Operand::B, 48)).row.cycles <
        find(seen, gemm(512, 512, 64, "dense", DType::fp16, Operand::none, 48)).row.cycles);

  // Large GEMMs run close to their tightest bound: on the shipped H100 that is the L2 link, not the
  // tensor cores (report/roofline.h).
  for (const char* p : {"dense", "2:4", "64:2:8"}) {
    check_near_bound(find(seen, gemm(4096, 4096, 4096, p)));
    check_near_bound(find(seen, gemm(8192, 8192, 4096, p)));
  }
  // Memory-bound lines come out memory bound.
  check_memory_bound(find(seen, gemm(16384, 16, 16384, "dense")));
  check_memory_bound(find(seen, gemm(33792, 64, 8192, "dense")));
}

TEST_CASE("A100: the grid never beats the roofline, conserves MACs and bytes, and 2:4 halves the MMA time",
          "[gpu][invariants]") {
  const MachineConfig mc = machine("a100.yaml");
  std::vector<GemmOp> grid;
  for (const auto& p : kAllPatterns) {
    grid.push_back(gemm(1, 1024, 1024, p));
    grid.push_back(gemm(127, 509, 251, p));
    grid.push_back(gemm(300, 700, 1000, p));
    grid.push_back(gemm(8192, 8, 8192, p));
  }
  for (const char* p : {"dense", "2:4", "64:2:8"}) {
    grid.push_back(gemm(4096, 4096, 4096, p));
    grid.push_back(gemm(8192, 8192, 4096, p));
  }
  grid.push_back(gemm(16384, 16, 16384, "dense"));
  grid.push_back(gemm(2048, 2048, 2048, "dense", DType::tf32));
  grid.push_back(gemm(2048, 2048, 2048, "1:2", DType::tf32));
  grid.push_back(gemm(2048, 2048, 2048, "dense", DType::int8));
  grid.push_back(gemm(2048, 2048, 2048, "2:4", DType::int8));
  const std::vector<Seen> seen = run_grid(mc, grid);
  CHECK(mma_ratio(seen, gemm(4096, 4096, 4096, "2:4"), gemm(4096, 4096, 4096, "dense")) == Approx(0.5).epsilon(0.03));
  CHECK(mma_ratio(seen, gemm(2048, 2048, 2048, "1:2", DType::tf32), gemm(2048, 2048, 2048, "dense", DType::tf32)) ==
        Approx(0.5).epsilon(0.03));
  CHECK(mma_ratio(seen, gemm(2048, 2048, 2048, "2:4", DType::int8), gemm(2048, 2048, 2048, "dense", DType::int8)) ==
        Approx(0.5).epsilon(0.03));
  check_memory_bound(find(seen, gemm(16384, 16, 16384, "dense")));
}

TEST_CASE("V100: N:M runs dense on explicit zeros at dense speed, and a large dense GEMM keeps the tensor cores busy",
          "[gpu][invariants]") {
  const MachineConfig mc = machine("v100.yaml");
  std::vector<GemmOp> grid;
  for (const auto& p : kAllPatterns) {
    grid.push_back(gemm(1, 1024, 1024, p));
    grid.push_back(gemm(127, 509, 251, p));
    grid.push_back(gemm(8, 8192, 8192, p, DType::fp16, Operand::A));
    grid.push_back(gemm(16384, 16, 16384, p));
  }
  for (const char* p : {"dense", "2:4", "64:2:8"}) grid.push_back(gemm(4096, 4096, 4096, p));
  const std::vector<Seen> seen = run_grid(mc, grid);
  for (const char* p : {"2:4", "64:2:8"}) {
    const Seen& s = find(seen, gemm(4096, 4096, 4096, p));
    CHECK(s.path == MathPath::dense_on_zeros);
    CHECK(s.row.cycles == find(seen, gemm(4096, 4096, 4096, "dense")).row.cycles);
    CHECK(s.row.executed_macs == find(seen, gemm(4096, 4096, 4096, "dense")).row.executed_macs);
  }
  // V100's L2 link nearly keeps up with its tensor cores: the dense GEMM runs close to both bounds.
  check_near_bound(find(seen, gemm(4096, 4096, 4096, "dense")));
  CHECK(find(seen, gemm(4096, 4096, 4096, "dense")).row.tc_utilization >= 0.8);
  check_memory_bound(find(seen, gemm(16384, 16, 16384, "dense")));
}

TEST_CASE("H100 with the mma.sp kernel: the grid never beats the roofline and conserves MACs and bytes",
          "[gpu][invariants]") {
  const MachineConfig mc = machine("h100_mma_sp.yaml");
  std::vector<GemmOp> grid;
  for (const auto& p : kAllPatterns) {
    grid.push_back(gemm(1, 1024, 1024, p));
    grid.push_back(gemm(127, 509, 251, p));
    grid.push_back(gemm(300, 700, 1000, p));
    grid.push_back(gemm(8192, 8, 8192, p));
  }
  for (const char* p : {"dense", "2:4", "64:2:8"}) grid.push_back(gemm(4096, 4096, 4096, p));
  grid.push_back(gemm(2048, 2048, 2048, "dense", DType::int8));
  grid.push_back(gemm(2048, 2048, 2048, "2:4", DType::int8));
  grid.push_back(gemm(16384, 16, 16384, "dense"));
  const std::vector<Seen> seen = run_grid(mc, grid);
  CHECK(mma_ratio(seen, gemm(4096, 4096, 4096, "2:4"), gemm(4096, 4096, 4096, "dense")) == Approx(0.5).epsilon(0.03));
  check_memory_bound(find(seen, gemm(16384, 16, 16384, "dense")));
}

TEST_CASE(
    "H100 with other kernel schedules (split-k, longest first, along-n raster, swizzle, 2 stages) keeps the invariants",
    "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml", {"kernel.split_k=3", "kernel.tile_scheduler=longest_first",
                                                 "kernel.raster=along_n", "kernel.swizzle=4", "kernel.stages=2"});
  std::vector<GemmOp> grid;
  for (const auto& p : kAllPatterns) {
    grid.push_back(gemm(127, 509, 251, p));
    grid.push_back(gemm(300, 700, 1000, p));
    grid.push_back(gemm(8192, 8, 8192, p));
  }
  for (const char* p : {"dense", "2:4"}) grid.push_back(gemm(2048, 2048, 4096, p));
  const std::vector<Seen> seen = run_grid(mc, grid);
  CHECK(mma_ratio(seen, gemm(2048, 2048, 4096, "2:4"), gemm(2048, 2048, 4096, "dense")) == Approx(0.5).epsilon(0.03));
}

TEST_CASE(
    "hypothetical H100 with a wide selector and a fast L2: large GEMMs are compute bound, 4:8 and V:N:M halve the MMA "
    "time",
    "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml", kWideSelector);
  std::vector<GemmOp> grid;
  for (const char* p : {"dense", "2:4", "4:8", "64:2:8", "64:3:8"}) grid.push_back(gemm(4096, 4096, 4096, p));
  for (const char* p :
       {"dense", "2:4", "4:8", "64:2:8", "64:3:8", "tw(g=128,sparsity=0.5)", "tvw(g=128,sparsity=0.5,n=2,m=4)",
        "tvw(g=128,sparsity=0.5,n=4,m=8)", "block(b=32,sparsity=0.5)", "unstructured(sparsity=0.9)"}) {
    grid.push_back(gemm(300, 700, 1000, p));
  }
  const std::vector<Seen> seen = run_grid(mc, grid);
  const GemmOp dense = gemm(4096, 4096, 4096, "dense");
  check_compute_bound(find(seen, dense), 0.85);
  // 2:4 and 4:8 have twice the dense rate here (V:N:M with 2N = M, which would be 4:8, is refused).
  for (const char* p : {"2:4", "4:8"}) {
    INFO(p);
    CHECK(find(seen, gemm(4096, 4096, 4096, p)).path == MathPath::sparse_nm);
    CHECK(mma_ratio(seen, gemm(4096, 4096, 4096, p), dense) == Approx(0.5).epsilon(0.03));
  }
  // 64:2:8 gathers 4 of every 8 columns and runs them 2:4: a quarter of the dense MMA time.
  CHECK(mma_ratio(seen, gemm(4096, 4096, 4096, "64:2:8"), dense) == Approx(0.25).epsilon(0.03));
}

// Regression: the plan once counted 1:4 and 2:8 sparse MMAs with 2:4's K per instruction (the
// kernel's k_sparse) while the tensor core issues K = k x M / N (64 for fp16), so the MMA time came
// out half of dense instead of a quarter.
TEST_CASE("hypothetical H100 with a wide selector: 1:4 and 2:8 take about a quarter of the dense MMA time",
          "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml", kWideSelector);
  std::vector<GemmOp> grid;
  for (const char* p : {"dense", "1:4", "2:8"}) grid.push_back(gemm(4096, 4096, 4096, p));
  for (const char* p : {"dense", "1:4", "2:8", "tvw(g=128,sparsity=0.5,n=1,m=4)"})
    grid.push_back(gemm(300, 700, 1000, p));
  const std::vector<Seen> seen = run_grid(mc, grid);
  const GemmOp dense = gemm(4096, 4096, 4096, "dense");
  for (const char* p : {"1:4", "2:8"}) {
    INFO(p);
    CHECK(find(seen, gemm(4096, 4096, 4096, p)).path == MathPath::sparse_nm);
    CHECK(mma_ratio(seen, gemm(4096, 4096, 4096, p), dense) == Approx(0.25).epsilon(0.03));
  }
}

// Regression: V:N:M plans once loaded D as the gathered K under plain D tile keys shared by every row
// block, though each block of V rows keeps its own 2N columns per group: the model read about half
// of D where the kept weights multiply nearly all of it. Now each V-block's gather is pulled out of
// the k-block's D region, and DRAM brings in the rows gathers have not yet fetched.
TEST_CASE("V:N:M on H100: DRAM reads every D row the kept weights multiply", "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml");
  const std::vector<GemmOp> grid = {gemm(256, 16384, 16384, "64:2:8", DType::fp16, Operand::A),
                                    gemm(1024, 2048, 1024, "64:2:8"), gemm(1024, 2048, 1024, "128:2:16"),
                                    gemm(64, 16384, 16384, "64:2:8", DType::fp16, Operand::A)};
  const std::vector<Seen> seen = run_grid(mc, grid);
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const GemmOp& g = grid[i];
    const SparseOperand op = build_operand(g, 1, 1);
    const std::uint64_t needed = needed_d_bytes(op, g.sparse == Operand::B ? g.m : g.n, g);
    const std::uint64_t s_bytes = op.compressed->compressed_bytes(g.dtype);
    const double rate = seen[i].roof.dram_bytes_per_cycle;
    INFO(g.layer << ": " << seen[i].row.cycles << " cycles; S " << s_bytes << " B and the D rows used " << needed
                 << " B need " << static_cast<double>(s_bytes + needed) / rate << " cycles of DRAM");
    CHECK(seen[i].dram_read >= s_bytes + needed);
    CHECK(static_cast<double>(seen[i].row.cycles) >= static_cast<double>(s_bytes + needed) / rate);
  }
}

// Regression: a wgmma kernel on 2 tensor cores per SM once ran as if it had 4 (twice the configured
// rate); the config now refuses a warpgroup kernel unless the SM has whole groups of 4.
TEST_CASE("hypothetical H100 with two tensor cores per SM never beats their rate", "[gpu][invariants]") {
  const std::vector<std::string> two_cores{"arch.sm.sub_cores=2", "arch.sm.tensor_cores=2", "arch.sm.warp_schedulers=2"};
  // A warpgroup MMA needs four tensor cores at once: the wgmma kernel is refused on this SM...
  try {
    machine("h100.yaml", two_cores);
    FAIL("a wgmma kernel loaded on an SM of 2 tensor cores");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("kernel.instruction") && Catch::Contains("not a multiple of 4"));
  }
  // ...and the warp-level mma.sp kernel runs on it, never faster than its two tensor cores.
  const MachineConfig mc = machine("h100_mma_sp.yaml", two_cores);
  run_grid(mc, {gemm(4096, 4096, 4096, "dense"), gemm(4096, 4096, 4096, "2:4"), gemm(300, 700, 1000, "dense")});
}

namespace {

// A window of 16 KiB, less than one of the H100 kernel's k-blocks (128x64 + 64x256 fp16 = 48 KiB):
// each SM has one load in flight at a time, and the next waits for it to arrive. (That it costs
// cycles against no window is checked by cli.case_load_window: one simulate() call per process.)
void check_window(SimModel model) {
  const MachineConfig narrow = machine("h100.yaml", {"arch.sm.max_outstanding_bytes=16384"});
  const std::int64_t kblock_bytes = (128 * 64 + 64 * 256) * 2;
  const std::vector<GemmOp> grid = {gemm(1024, 1024, 2048, "dense"), gemm(1024, 1024, 2048, "2:4"),
                                    gemm(300, 700, 1000, "dense")};
  const std::vector<Seen> held = run_grid(narrow, grid, model);  // every invariant of check_line holds
  for (std::size_t i = 0; i < grid.size(); ++i) {
    INFO(grid[i].layer);
    const YAML::Node st = YAML::Load(held[i].stats_yaml);
    std::uint64_t throttled = 0, lg_throttle = 0;
    for (const auto& kv : st["gpu"]) {
      if (kv.first.as<std::string>().rfind("sm", 0) != 0) continue;
      const YAML::Node lw = kv.second["load_window"];
      REQUIRE(lw);
      CHECK(lw["peak_bytes"].as<std::int64_t>() <= kblock_bytes);
      throttled += lw["throttled_requests"].as<std::uint64_t>();
      if (model == SimModel::cycle) {
        lg_throttle += kv.second["cycle"]["sub_cores"]["warp_cycles_lg_throttle"].as<std::uint64_t>();
      }
    }
    CHECK(throttled > 0);
    if (model == SimModel::cycle) CHECK(lg_throttle > 0);
  }
}

}  // namespace

TEST_CASE("fast model: a window of outstanding loads bounds what each SM has in flight and holds loads back",
          "[gpu][invariants]") {
  check_window(SimModel::fast);
}

TEST_CASE("cycle model: a window of outstanding loads bounds what each SM has in flight and stalls the copying warps",
          "[gpu][invariants]") {
  check_window(SimModel::cycle);
}

namespace {

// Every column but the run's label (the runs compared carry different labels).
std::vector<std::string> row_fields(const LayerResult& r) {
  std::vector<std::string> out;
  r.visit([&](const char* name, const auto& v) {
    if (std::string(name) != "run") out.push_back(fmt::format("{}={}", name, v));
  });
  return out;
}

}  // namespace

TEST_CASE("identical runs give identical results and stats, whatever ran before them", "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml");
  Trace t;
  t.source = "determinism";
  for (const auto& p : kAllPatterns) t.ops.push_back(gemm(300, 700, 1000, p));
  t.ops.push_back(gemm(2048, 2048, 2048, "2:4"));
  t.ops.push_back(gemm(512, 512, 64, "dense", DType::fp16, Operand::none, 48));
  for (std::size_t i = 0; i < t.ops.size(); ++i) t.lines.push_back(static_cast<std::int64_t>(i) + 1);
  Trace other;
  other.source = "other";
  other.ops = {gemm(4096, 4096, 1024, "dense"), gemm(16384, 16, 16384, "2:4")};
  other.lines = {1, 2};
  const SimResult res = simulate(mc, {{"first", t}, {"other", other}, {"again", t}, {"third", t}});
  REQUIRE(res.runs.size() == 4);
  const RunResult& a = res.runs[0];
  for (const std::size_t j : {2, 3}) {
    const RunResult& b = res.runs[j];
    INFO("run " << b.label);
    REQUIRE(a.rows.size() == b.rows.size());
    for (std::size_t i = 0; i < a.rows.size(); ++i) CHECK(row_fields(a.rows[i]) == row_fields(b.rows[i]));
    CHECK(a.stats.values() == b.stats.values());
    CHECK(a.stats.to_yaml() == b.stats.to_yaml());
  }
  // The same bytes but for the run label that starts each row.
  RunResult relabelled = res.runs[2];
  for (auto& row : relabelled.rows) row.run = res.runs[0].label;
  CHECK(runs_csv({res.runs[0]}) == runs_csv({relabelled}));
}

namespace {

// Randomly drawn GEMMs for the property tests: shapes with 1, primes, non-multiples of every tile and
// powers of two, skewed about a third of the time; every data type the machine has; every pattern
// family; weights on A or B; a few batched. The sparse operand is kept small enough to prune quickly.
std::vector<GemmOp> draw_gemms(const MachineConfig& mc, std::uint64_t seed, int count) {
  static const std::int64_t kDims[] = {1, 3, 7, 13, 31, 61, 64, 100, 127, 128, 200, 251, 256, 300, 509, 512, 1000, 1024, 2048};
  static const char* kPatterns[] = {"dense", "2:4", "1:4", "2:8", "4:8", "1:2", "16:2:8", "64:2:8",
                                    "tw(g=32,sparsity=0.75)", "tw(g=128,sparsity=0.5)", "tvw(g=64,sparsity=0.5,n=2,m=4)",
                                    "block(b=16,sparsity=0.5)", "unstructured(sparsity=0.8)"};
  std::vector<DType> types;
  for (DType t : kAllDTypes) {
    if (mc.arch.tensor_core.dtypes.count(t) && mc.energy.mac(t)) types.push_back(t);
  }
  Rng rng(seed);
  auto pick = [&](auto& arr, std::size_t n) { return arr[rng.below(n)]; };
  std::vector<GemmOp> out;
  while (static_cast<int>(out.size()) < count) {
    std::int64_t m = pick(kDims, std::size(kDims)), n = pick(kDims, std::size(kDims)), k = pick(kDims, std::size(kDims));
    if (rng.below(3) == 0) {  // skewed: one side tiny, the others large
      m = 1 + static_cast<std::int64_t>(rng.below(8));
      n = 4096 + static_cast<std::int64_t>(rng.below(4096));
      k = 1024 + static_cast<std::int64_t>(rng.below(3072));
    }
    const Operand sparse = rng.below(5) == 0 ? Operand::none : rng.below(2) ? Operand::A : Operand::B;
    const std::int64_t rows = sparse == Operand::A ? m : n;
    if (rows * k > (std::int64_t{1} << 22) && sparse != Operand::none) continue;  // keep pruning quick
    const DType t = types[rng.below(types.size())];
    const std::string p = sparse == Operand::none ? "dense" : pick(kPatterns, std::size(kPatterns));
    out.push_back(gemm(m, n, k, p, t, sparse, 1 + static_cast<std::int64_t>(rng.below(3))));
  }
  return out;
}

void check_random(const std::string& config, const std::vector<std::string>& sets = {}) {
  // The seed is fixed so failures reproduce; STCSIM_PROPERTY_SEED draws other GEMMs.
  const char* env = std::getenv("STCSIM_PROPERTY_SEED");
  const std::uint64_t seed = env ? std::strtoull(env, nullptr, 10) : 20261124;
  const MachineConfig mc = machine(config, sets);
  std::vector<GemmOp> grid = draw_gemms(mc, seed, 24);
  const std::size_t drawn = grid.size();
  // Each sparse line's dense twin: the same GEMM with the pattern dense (what the line would cost
  // without sparsity), then the first 8 lines again, each a run of its own later in the same call.
  std::vector<std::size_t> twin(drawn, 0);
  for (std::size_t i = 0; i < drawn; ++i) {
    const GemmOp& g = grid[i];
    const GemmOp d = gemm(g.m, g.n, g.k, "dense", g.dtype, g.sparse, g.count);
    const auto it = std::find(grid.begin(), grid.end(), d);
    twin[i] = static_cast<std::size_t>(it - grid.begin());
    if (it == grid.end()) grid.push_back(d);
  }
  const std::size_t repeats = grid.size();
  for (std::size_t i = 0; i < 8; ++i) grid.push_back(grid[i]);
  INFO("property seed " << seed << " on " << config << " (rerun with STCSIM_PROPERTY_SEED=" << seed << ")");
  const std::vector<Seen> seen = run_grid(mc, grid);
  REQUIRE(seen.size() == grid.size());
  for (std::size_t i = 0; i < drawn; ++i) {
    const Seen& s = seen[i];
    const Seen& d = seen[twin[i]];
    INFO(s.g.layer << ": " << s.row.cycles << " cycles, dense " << d.row.cycles << ", " << s.row.math_path);
    // Sparsity never makes a line slower than the dense kernel would, unless the machine runs the
    // pattern dense on explicit zeros or the config turns the fallback off; a line that fell back
    // runs exactly the dense kernel's cycles.
    if (mc.kernel.dense_fallback && s.path != MathPath::dense_on_zeros) CHECK(s.row.cycles <= d.row.cycles);
    if (s.row.dense_fallback) CHECK(s.row.cycles == d.row.cycles);
    if (s.row.dense_fallback) {
      const MathPath own = map_gemm(s.g, mc).path;
      CHECK(mc.kernel.dense_fallback);
      CHECK(own != MathPath::dense);
      CHECK(own != MathPath::dense_on_zeros);
      CHECK(s.row.math_path.find("dense fallback") != std::string::npos);
    }
  }
  // Identical input, identical rows and stats, wherever in the call it ran.
  for (std::size_t j = 0; j < 8; ++j) {
    INFO(grid[j].layer << " again");
    CHECK(row_fields(seen[repeats + j].row) == row_fields(seen[j].row));
    CHECK(seen[repeats + j].stats_yaml == seen[j].stats_yaml);
  }
}

}  // namespace

TEST_CASE("properties on randomly drawn GEMMs: H100", "[gpu][invariants][property]") { check_random("h100.yaml"); }
TEST_CASE("properties on randomly drawn GEMMs: H100 with the mma.sp kernel", "[gpu][invariants][property]") {
  check_random("h100_mma_sp.yaml");
}
TEST_CASE("properties on randomly drawn GEMMs: H200 with the mma.sp kernel", "[gpu][invariants][property]") {
  check_random("h200_mma_sp.yaml");  // the replay backend's GPU and its own kernels' instruction path
}
TEST_CASE("properties on randomly drawn GEMMs: A100", "[gpu][invariants][property]") { check_random("a100.yaml"); }
TEST_CASE("properties on randomly drawn GEMMs: V100", "[gpu][invariants][property]") { check_random("v100.yaml"); }

// The dense fallback (kernel.dense_fallback): tile-wise sparsity at g = 32 on the H100 runs slower
// than dense (small compacted tiles, gathers), so with the fallback on the line runs the dense
// kernel, its cycles exactly those of the dense run, and says so; 2:4, faster, stays sparse.
TEST_CASE("dense fallback on: a sparse line slower than dense runs the dense kernel", "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml");
  REQUIRE(mc.kernel.dense_fallback);
  const GemmOp tw = gemm(2048, 1024, 4096, "tw(g=32,sparsity=0.75)");
  const GemmOp nm = gemm(2048, 1024, 4096, "2:4");
  const GemmOp dense = gemm(2048, 1024, 4096, "dense");
  const std::vector<Seen> seen = run_grid(mc, {tw, nm, dense});
  CHECK(seen[0].row.dense_fallback);
  CHECK(seen[0].row.cycles == seen[2].row.cycles);
  CHECK(seen[0].row.executed_macs == seen[2].row.executed_macs);
  CHECK_THAT(seen[0].row.math_path, Catch::Contains("dense fallback: the tiles-dense kernel took"));
  CHECK_FALSE(seen[1].row.dense_fallback);
  CHECK(seen[1].row.cycles < seen[2].row.cycles);
}

TEST_CASE("dense fallback off: the sparse kernel runs however slow", "[gpu][invariants]") {
  const MachineConfig mc = machine("h100.yaml", {"kernel.dense_fallback=false"});
  const GemmOp tw = gemm(2048, 1024, 4096, "tw(g=32,sparsity=0.75)");
  const GemmOp dense = gemm(2048, 1024, 4096, "dense");
  const std::vector<Seen> seen = run_grid(mc, {tw, dense});
  CHECK_FALSE(seen[0].row.dense_fallback);
  CHECK(seen[0].row.cycles > seen[1].row.cycles);
  CHECK(seen[0].path == MathPath::tiles_dense);
}

// Regressions found by the property tests (seeds 12, 10 and 26): tw gathers of many tiles out of one D
// column once treated the tiles' kept K as independent draws and read 2 to 4% less from DRAM than the
// union of the rows the kept weights multiply (gathers now name their rows); and the roofline asked
// V:N:M for its gathered K of D (2N of every M) where K, or the last group of K mod M rows, is shorter.
TEST_CASE("tw gathers read the union of their D rows, and V:N:M's compulsory D is at most K", "[gpu][invariants]") {
  const MachineConfig mc = machine("a100.yaml", {"kernel.dense_fallback=false"});
  run_grid(mc, {gemm(2048, 128, 200, "tw(g=32,sparsity=0.75)", DType::tf32, Operand::B, 3),
                gemm(1, 128, 1, "16:2:8", DType::bf16, Operand::B, 3),
                gemm(3, 7957, 1665, "16:2:8", DType::bf16, Operand::A, 3)});
}

// The cycle model (--model cycle) keeps the same invariants: every pattern on small and skewed shapes
// and a 1024 x 1024 x 512 GEMM, on H100 (wgmma, TMA, warp-specialised) and A100 (mma.sync, cp.async).
static void check_cycle_grid(const char* file) {
  const MachineConfig mc = machine(file);
  std::vector<GemmOp> grid;
  for (const auto& p : kAllPatterns) {
    grid.push_back(gemm(127, 509, 251, p));
    grid.push_back(gemm(4096, 8, 1024, p));
  }
  for (const char* p : {"dense", "2:4"}) grid.push_back(gemm(1024, 1024, 512, p));
  grid.push_back(gemm(256, 256, 64, "2:4", DType::fp16, Operand::B, 12));
  const std::vector<Seen> seen = run_grid(mc, grid, SimModel::cycle);
  // 2:4 takes the tensor cores well under the dense time (half the MMA occupancy, less waiting).
  CHECK(mma_ratio(seen, gemm(1024, 1024, 512, "2:4"), gemm(1024, 1024, 512, "dense")) < 0.75);
}

TEST_CASE("cycle model: an H100 grid never beats the roofline and conserves MACs and bytes", "[gpu][invariants][cycle]") {
  check_cycle_grid("h100.yaml");
}

TEST_CASE("cycle model: an A100 grid never beats the roofline and conserves MACs and bytes", "[gpu][invariants][cycle]") {
  check_cycle_grid("a100.yaml");
}
