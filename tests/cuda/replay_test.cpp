// The replay flow (cuda/host/replay.h) on a host stand-in for the GPU: each GEMM gets the simulator's
// very operands (build_operand and functional_dense_operand with the trace's line numbers and the
// seed), every backend is checked before it is timed (a kernel that gets one metadata nibble wrong is
// an error, not a row), timing statistics are medians of the launches, and results.csv has stcsim
// run's columns with the unmeasured ones empty.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "common/error.h"
#include "common/strings.h"
#include "cuda/host/half.h"
#include "cuda/host/replay.h"
#include "functional/functional.h"
#include "sparsity/registry.h"
#include "tensor_core/tensor_core.h"

using namespace stcsim;
using namespace stcsim::replay;

namespace {

Matrix rounded(const Matrix& m, DType t) {
  Matrix r = m;
  for (float& x : r.data()) x = from_half_bits(to_half_bits(x, t), t);
  return r;
}

class HostRunner : public GemmRunner {
 public:
  HostRunner(std::string kernel, Matrix c) : kernel_(std::move(kernel)), c_(std::move(c)) {}
  std::string kernel() const override { return kernel_; }
  void launch() override { ++launches; }
  std::vector<float> result() override { return c_.data(); }
  int launches = 0;

 private:
  std::string kernel_;
  Matrix c_;
};

// The GPU's stand-in: the own kernel's contract executed on the host (emulate_own_kernel), and the
// reference GEMM for the vendor libraries. Records every problem it is given.
class HostDevice : public Device {
 public:
  DeviceInfo info() override { return DeviceInfo{"host stand-in", "0.0", 1, "", "", "", 0, 0, false, 0}; }
  bool has_backend(Backend b) const override { return b != Backend::cusparselt; }
  std::unique_ptr<GemmRunner> prepare(Backend b, const ReplayProblem& p, const KernelTiling& tl) override {
    seen.push_back({p.gemm.layer, p.line, p.exact_values});
    weights.push_back(p.s.weights);
    dense.push_back(p.d);
    if (b == Backend::own) {
      OwnLayout l = own_layout(*p.s.pattern, *p.s.compressed, p.pruned, p.gemm.dtype, tl);
      if (corrupt_nibble && l.sparse && !l.meta.empty()) l.meta[0] ^= 0x1u;  // position 0 <-> 1 of group 0
      return std::make_unique<HostRunner>("host own", emulate_own_kernel(l, p.d, p.rows, p.gemm.dtype));
    }
    return std::make_unique<HostRunner>("host " + backend_name(b), reference_gemm(rounded(p.pruned, p.gemm.dtype), p.d));
  }
  std::vector<float> reference(const ReplayProblem& p) override {
    return reference_gemm(rounded(p.pruned, p.gemm.dtype), p.d).data();
  }
  Timing time(GemmRunner& r, int warmup, int repeats) override {
    for (int i = 0; i < warmup + repeats; ++i) r.launch();
    Timing t;
    for (int i = 0; i < repeats; ++i) t.seconds.push_back(1e-3 * static_cast<double>((i * 7) % repeats + 1));
    t.sm_clock_mhz = 1000;
    return t;
  }
  struct Seen {
    std::string layer;
    std::size_t line;
    bool exact;
  };
  std::vector<Seen> seen;
  std::vector<Matrix> weights, dense;
  bool corrupt_nibble = false;
};

Trace small_trace() {
  return parse_trace(
      "stcsim-trace v1\n"
      "# layer m n k dtype sparse pattern count\n"
      "qkv 96 64 128 fp16 B dense 2\n"
      "# a comment line between GEMMs\n"
      "scores 64 64 32 fp16 - dense 4\n"
      "fc 40 24 72 bf16 A dense 1\n",
      "small.trace", builtin_registry());
}

std::vector<ReplayRunInput> runs_for(const Trace& t, const std::vector<std::string>& patterns) {
  std::vector<ReplayRunInput> runs;
  for (const auto& p : patterns) {
    ReplayRunInput r{builtin_registry().canonical(p), t};
    for (auto& g : r.trace.ops) {
      if (g.sparse != Operand::none) g.pattern = r.label;
    }
    runs.push_back(std::move(r));
  }
  return runs;
}

}  // namespace

TEST_CASE("replay runs the simulator's operands for each trace line and pattern", "[replay]") {
  const Trace t = small_trace();
  REQUIRE(t.lines == std::vector<std::int64_t>{3, 5, 6});
  HostDevice dev;
  ReplayOptions opt;
  opt.seed = 11;
  opt.tiling.bm = 64, opt.tiling.bn = 64, opt.tiling.wm = 32, opt.tiling.wn = 32;
  const auto runs = runs_for(t, {"dense", "2:4", "tw(g=32,sparsity=0.5)"});
  const auto rows = run_replay(dev, runs, opt);
  // dense: cublas + own per line; 2:4: own on weight lines, cublas + own on the attention line; tw likewise.
  REQUIRE(rows.size() == 6 + 4 + 4);
  for (std::size_t i = 0; i < dev.seen.size(); ++i) {
    const auto& s = dev.seen[i];
    if (s.exact) continue;
    const GemmOp* g = nullptr;
    for (const auto& run : runs) {
      for (std::size_t j = 0; j < run.trace.ops.size(); ++j) {
        if (run.trace.ops[j].layer == s.layer && static_cast<std::size_t>(run.trace.lines[j]) == s.line) g = &run.trace.ops[j];
      }
    }
    REQUIRE(g != nullptr);
    // Bit-identical to what the simulator builds for that line and seed.
    CHECK(dev.weights[i] == build_operand(*g, 11, s.line).weights);
    CHECK(dev.dense[i] == functional_dense_operand(*g, 11, s.line));
  }
  for (const auto& r : rows) {
    CHECK(r.exact_check == "bit-exact");
    CHECK(r.max_rel_error == 0);
    CHECK(r.timing.seconds.size() == 10);
    CHECK(r.timing.median() == Approx(5.5e-3));
    CHECK(r.result.time_s == Approx(5.5e-3 * static_cast<double>(r.result.count)));
    CHECK(r.result.tflops == Approx(2.0 * static_cast<double>(r.result.dense_macs) / r.result.time_s * 1e-12));
    CHECK(r.result.cycles == static_cast<std::uint64_t>(std::llround(r.result.time_s * 1e9)));
  }
  CHECK(rows[0].backend == "cublas");
  CHECK(rows[1].backend == "own");
  CHECK(rows[6].result.pattern == "2:4");
  CHECK(rows[6].backend == "own");
}

TEST_CASE("a kernel with one wrong metadata nibble fails the exact check, naming the line", "[replay]") {
  HostDevice dev;
  dev.corrupt_nibble = true;
  ReplayOptions opt;
  opt.tiling.bm = 64, opt.tiling.bn = 64, opt.tiling.wm = 32, opt.tiling.wn = 32;
  CHECK_THROWS_WITH(run_replay(dev, runs_for(small_trace(), {"2:4"}), opt),
                    Catch::Contains("small.trace:3: qkv (2:4) on own: exact check failed"));
}

TEST_CASE("patterns no backend runs, and bad options, are errors", "[replay]") {
  HostDevice dev;
  ReplayOptions opt;
  CHECK_THROWS_WITH(run_replay(dev, runs_for(small_trace(), {"1:4"}), opt), Catch::Contains("no backend of this build"));
  opt.backends = {Backend::cusparse};
  CHECK_THROWS_WITH(run_replay(dev, runs_for(small_trace(), {"dense"}), opt), Catch::Contains("among --backends"));
  CHECK_THROWS_WITH(parse_backends("cublas,magma"), Catch::Contains("'magma'"));
  CHECK(parse_backends("own, cusparse") == std::vector<Backend>{Backend::own, Backend::cusparse});
  ReplayOptions bad;
  bad.repeats = 0;
  CHECK_THROWS_AS(run_replay(dev, runs_for(small_trace(), {"dense"}), bad), Error);
}

TEST_CASE("block and unstructured run on cuSPARSE only, the own kernel is skipped off its family", "[replay]") {
  HostDevice dev;
  ReplayOptions opt;
  opt.own_kernel = false;
  const auto rows = run_replay(dev, runs_for(small_trace(), {"dense", "block(b=16,sparsity=0.5)", "unstructured(sparsity=0.8)"}), opt);
  std::map<std::string, int> per_backend;
  for (const auto& r : rows) ++per_backend[r.backend];
  CHECK(per_backend["cublas"] == 3 + 1 + 1);  // every dense line, and the attention line of the sparse runs
  CHECK(per_backend["cusparse"] == 4);
  CHECK(per_backend.count("own") == 0);
}

TEST_CASE("results.csv has stcsim run's columns, unmeasured ones empty, then the replay's", "[replay]") {
  HostDevice dev;
  ReplayOptions opt;
  opt.tiling.bm = 64, opt.tiling.bn = 64, opt.tiling.wm = 32, opt.tiling.wn = 32;
  const auto rows = run_replay(dev, runs_for(small_trace(), {"dense"}), opt);
  const std::string csv = replay_csv(rows);
  const std::string sim_header = results_csv({}).substr(0, results_csv({}).find('\n'));
  REQUIRE(csv.rfind(sim_header + ",backend,time_median_s,time_min_s,time_max_s,repeats,sm_clock_mhz,exact_check,max_rel_error\n",
                    0) == 0);
  const auto lines = split(csv, '\n');
  const auto header = split(lines[0], ',');
  const auto first = split(lines[1], ',');
  REQUIRE(header.size() == first.size());
  std::map<std::string, std::string> row;
  for (std::size_t i = 0; i < header.size(); ++i) row[std::string(header[i])] = std::string(first[i]);
  CHECK(row["layer"] == "qkv");
  CHECK(row["pattern"] == "dense");
  CHECK(row["backend"] == "cublas");
  CHECK(row["count"] == "2");
  CHECK(row["time_s"] == "0.011");
  CHECK(row["time_median_s"] == "0.0055");
  CHECK(row["repeats"] == "10");
  CHECK(row["exact_check"] == "bit-exact");
  CHECK(row["l2_bytes"].empty());
  CHECK(row["sm_mma_cycles"].empty());
  CHECK(row["energy_j"].empty());  // no energy counter on the stand-in
  CHECK(row["energy_macs_j"].empty());
  CHECK_FALSE(row["cycles"].empty());
}

TEST_CASE("output comparison: bits, signed zeros and sizes", "[replay]") {
  CHECK(compare_outputs({1.0f, 0.0f}, {1.0f, -0.0f}).mismatches == 0);
  const Comparison c = compare_outputs({1.0f, 2.0f, 3.5f}, {1.0f, 2.5f, 3.0f});
  CHECK(c.mismatches == 2);
  CHECK(c.first == 1);
  CHECK(c.rel() == Approx(0.5 / 3.0));
  CHECK(compare_outputs({1.0f}, {1.0f, 2.0f}).mismatches == 2);
}
