// The replay flow (cuda/host/replay.h) on a host stand-in for the GPU that computes each backend's
// product from exactly the arrays the backend would upload (cuda/host/replay_stage.h): each GEMM gets
// the simulator's very operands, every backend is checked before it is timed (a kernel that gets one
// metadata nibble wrong fails its row), a failure becomes that row's error and the replay goes on, a
// lost device fails the rows left without running them, rows reach results.csv as they are measured,
// and the preparation threads give the same bytes as one thread.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "common/error.h"
#include "common/parallel.h"
#include "common/strings.h"
#include "cuda/host/half.h"
#include "cuda/host/replay.h"
#include "cuda/host/replay_estimate.h"
#include "functional/functional.h"
#include "scheduler/launch_plan.h"
#include "sparsity/registry.h"
#include "config/machine_config.h"
#include "tensor_core/tensor_core.h"

using namespace stcsim;
using namespace stcsim::replay;

namespace {

Matrix decode(const HalfMatrix& h, std::int64_t rows, std::int64_t cols) {
  Matrix m(rows, cols);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) m.at(r, c) = from_half_bits(h.bits[static_cast<std::size_t>(r * h.ld + c)], h.dtype);
  }
  return m;
}

class HostRunner : public GemmRunner {
 public:
  HostRunner(std::string kernel, Matrix c, bool rounds) : kernel_(std::move(kernel)), c_(std::move(c)), rounds_(rounds) {}
  std::string kernel() const override { return kernel_; }
  void launch() override { ++launches; }
  std::vector<float> result() override { return c_.data(); }
  bool rounds_output() const override { return rounds_; }
  int launches = 0;

 private:
  std::string kernel_;
  Matrix c_;
  bool rounds_;
};

// The GPU's stand-in: each backend's product computed on the host from its staged arrays (the own
// kernel's contract by emulate_own_kernel; CSR and Blocked-ELL walked as cuSPARSE would; cuSPARSELt's
// padded S with 16-bit output). Records what it is given.
class HostDevice : public Device {
 public:
  DeviceInfo info() override { return DeviceInfo{}; }
  bool has_backend(Backend b) const override { return b != Backend::cusparselt || with_lt; }
  std::unique_ptr<GemmRunner> prepare(const StagedGemm& s) override {
    ++prepares;
    if (lost_after_error && lost_msg) FAIL("prepare() called on a lost device");
    if (fail_backend && *fail_backend == s.backend && fail_rows == s.rows) {
      if (lose_device) lost_msg = "the CUDA context is lost: an illegal memory access was encountered";
      throw Error("injected failure");
    }
    staged.push_back(s);
    const Matrix d = decode(*s.d, s.k, s.cols);
    switch (s.backend) {
      case Backend::cublas: return std::make_unique<HostRunner>("host cublas", reference_gemm(decode(*s.s, s.rows, s.k), d), false);
      case Backend::own: {
        OwnLayout l = *s.own;
        if (corrupt_nibble && l.sparse && !l.meta.empty()) l.meta[0] ^= 0x1u;  // position 0 <-> 1 of group 0
        return std::make_unique<HostRunner>("host own", emulate_own_kernel(l, d, s.rows, s.dtype), false);
      }
      case Backend::cusparselt: {
        Matrix c = reference_gemm(decode(*s.s, s.rows, s.k), d);
        for (float& x : c.data()) x = from_half_bits(to_half_bits(x, s.dtype), s.dtype);
        return std::make_unique<HostRunner>("host cusparselt", std::move(c), true);
      }
      case Backend::cusparse: {
        Matrix c(s.rows, s.cols);
        if (s.csr) {
          for (std::int64_t r = 0; r < s.rows; ++r) {
            for (std::int32_t i = s.csr->row_ptr[static_cast<std::size_t>(r)]; i < s.csr->row_ptr[static_cast<std::size_t>(r) + 1]; ++i) {
              const float v = from_half_bits(s.csr->values[static_cast<std::size_t>(i)], s.dtype);
              for (std::int64_t j = 0; j < s.cols; ++j) c.at(r, j) += v * d.at(s.csr->col_idx[static_cast<std::size_t>(i)], j);
            }
          }
        } else {
          const BlockedEllLayout& e = *s.ell;
          const Matrix dp = decode(*s.d, s.d->rows, s.cols);
          for (std::int64_t r = 0; r < s.rows; ++r) {
            const std::int64_t br = r / e.block;
            for (std::int64_t slot = 0; slot < e.ell_blocks; ++slot) {
              const std::int32_t bc = e.col_ind[static_cast<std::size_t>(br * e.ell_blocks + slot)];
              if (bc < 0) continue;
              for (int kk = 0; kk < e.block; ++kk) {
                const float v = from_half_bits(e.values[static_cast<std::size_t>(r * e.ell_blocks * e.block + slot * e.block + kk)], s.dtype);
                for (std::int64_t j = 0; j < s.cols; ++j) c.at(r, j) += v * dp.at(bc * e.block + kk, j);
              }
            }
          }
        }
        return std::make_unique<HostRunner>("host cusparse", std::move(c), false);
      }
    }
    throw Error("unknown backend");
  }
  Timing time(GemmRunner& r, const TimingOptions& t) override {
    ++timed;
    for (int i = 0; i < t.repeats; ++i) r.launch();
    Timing out;
    for (int i = 0; i < t.repeats; ++i) out.seconds.push_back(1e-3 * static_cast<double>((i * 7) % t.repeats + 1));
    out.sm_clock_mhz = 1000;
    out.method = "host";
    return out;
  }
  std::optional<std::string> lost() override { return lost_msg; }

  std::vector<StagedGemm> staged;
  int prepares = 0, timed = 0;
  bool corrupt_nibble = false, with_lt = false, lose_device = false, lost_after_error = false;
  std::optional<Backend> fail_backend;
  std::int64_t fail_rows = -1;
  std::optional<std::string> lost_msg;
};

// One CSV line's fields (quoted fields may hold commas).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

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

ReplayOptions small_tiles() {
  ReplayOptions opt;
  opt.tiling.bm = 64, opt.tiling.bn = 64, opt.tiling.wm = 32, opt.tiling.wn = 32;
  return opt;
}

}  // namespace

TEST_CASE("replay runs the simulator's operands for each trace line and pattern", "[replay]") {
  const Trace t = small_trace();
  REQUIRE(t.lines == std::vector<std::int64_t>{3, 5, 6});
  HostDevice dev;
  ReplayOptions opt = small_tiles();
  opt.seed = 11;
  const auto runs = runs_for(t, {"dense", "2:4", "tw(g=32,sparsity=0.5)"});
  const auto rows = run_replay(&dev, runs, opt).rows;
  // dense: cublas + own per line; 2:4: own on weight lines, cublas + own on the attention line; tw likewise.
  REQUIRE(rows.size() == 6 + 4 + 4);
  // What was staged is the simulator's operand for that line and seed, bit for bit (as 16-bit values).
  std::size_t checked = 0;
  for (const StagedGemm& s : dev.staged) {
    if (s.backend != Backend::cublas) continue;
    for (const auto& run : runs) {
      for (std::size_t j = 0; j < run.trace.ops.size(); ++j) {
        const GemmOp& g = run.trace.ops[j];
        const auto [r, k] = g.sparse_shape();
        if (r != s.rows || k != s.k) continue;
        const auto line = static_cast<std::size_t>(run.trace.lines[j]);
        const SparseOperand op = build_operand(g, 11, line);
        const Matrix pruned = apply_mask(op.weights, op.mask);
        const Matrix d = functional_dense_operand(g, 11, line);
        if (decode(*s.s, s.rows, s.k) == [&] {
              Matrix x = pruned;
              for (float& v : x.data()) v = from_half_bits(to_half_bits(v, g.dtype), g.dtype);
              return x;
            }()) {
          CHECK(decode(*s.d, s.k, s.cols) == d);
          ++checked;
        }
      }
    }
  }
  CHECK(checked >= 3);  // the value staging of every line of the dense run at least
  for (const auto& r : rows) {
    CHECK(r.status == "ok");
    CHECK((r.exact_check == "bit-exact" || r.exact_check == "reference"));
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

TEST_CASE("a kernel with one wrong metadata nibble fails its row, naming the line, and the replay goes on", "[replay]") {
  HostDevice dev;
  dev.corrupt_nibble = true;
  const auto rows = run_replay(&dev, runs_for(small_trace(), {"2:4", "dense"}), small_tiles()).rows;
  REQUIRE(rows.size() == 4 + 6);
  CHECK(rows[0].status == "failed");
  CHECK_THAT(rows[0].error, Catch::Contains("small.trace:3: qkv (2:4) on own: exact check failed"));
  CHECK(rows[0].timing.seconds.empty());  // a wrong kernel is never timed
  int ok = 0;
  for (const auto& r : rows) ok += r.ok() ? 1 : 0;
  // The dense lines (own mma.sync) and cuBLAS pass; every own 2:4 row fails.
  CHECK(ok == 4 - 2 + 6);
  const ReplaySummary s = summarize(rows);
  CHECK(s.failed == 2);
  CHECK(s.ok == 8);
}

TEST_CASE("an error on one backend is that row's, and a lost device fails the rows left without running them", "[replay]") {
  SECTION("the device survives") {
    HostDevice dev;
    dev.fail_backend = Backend::own;
    dev.fail_rows = 40;  // fc: S is 40 x 72
    const auto rows = run_replay(&dev, runs_for(small_trace(), {"dense"}), small_tiles()).rows;
    REQUIRE(rows.size() == 6);
    for (const auto& r : rows) {
      const bool fc_own = r.result.layer == "fc" && r.backend == "own";
      CHECK(r.ok() == !fc_own);
      if (fc_own) CHECK_THAT(r.error, Catch::Contains("small.trace:6: fc (dense) on own: injected failure"));
    }
  }
  SECTION("the device is lost") {
    HostDevice dev;
    dev.fail_backend = Backend::own;
    dev.fail_rows = 64;  // qkv, the first line: S is its weight, N x K = 64 x 128
    dev.lose_device = true;
    dev.lost_after_error = true;
    const auto rows = run_replay(&dev, runs_for(small_trace(), {"dense", "2:4"}), small_tiles()).rows;
    REQUIRE(rows.size() == 6 + 4);
    CHECK(rows[0].backend == "cublas");
    int failed = 0;
    for (const auto& r : rows) failed += r.status == "failed" ? 1 : 0;
    // Only what ran before the fault passed (qkv's exact reference at most); the rest says why not.
    CHECK(failed == 10);
    CHECK_THAT(rows.back().error, Catch::Contains("not run: the CUDA context is lost"));
  }
}

TEST_CASE("patterns no backend runs are refused before anything runs, and bad options are errors", "[replay]") {
  HostDevice dev;
  ReplayOptions opt;
  CHECK_THROWS_WITH(run_replay(&dev, runs_for(small_trace(), {"1:4"}), opt), Catch::Contains("no backend of this build"));
  CHECK(dev.prepares == 0);
  opt.backends = {Backend::cusparse};
  CHECK_THROWS_WITH(run_replay(&dev, runs_for(small_trace(), {"dense"}), opt), Catch::Contains("among --backends"));
  // cuSPARSELt alone, where the device has none: the reason is in the message.
  opt.backends = {Backend::cusparselt};
  CHECK_THROWS_AS(run_replay(&dev, runs_for(small_trace(), {"2:4"}), opt), UnsupportedError);
  CHECK_THROWS_WITH(parse_backends("cublas,magma"), Catch::Contains("'magma'"));
  CHECK(parse_backends("own, cusparse") == std::vector<Backend>{Backend::own, Backend::cusparse});
  ReplayOptions bad;
  bad.timing.repeats = 0;
  CHECK_THROWS_AS(run_replay(&dev, runs_for(small_trace(), {"dense"}), bad), Error);
  CHECK_THROWS_AS(run_replay(nullptr, runs_for(small_trace(), {"dense"}), ReplayOptions{}), Error);
}

TEST_CASE("block, unstructured and cuSPARSELt rows are checked from their staged layouts", "[replay]") {
  HostDevice dev;
  dev.with_lt = true;
  ReplayOptions opt = small_tiles();
  opt.own_kernel = false;
  const auto rows =
      run_replay(&dev, runs_for(small_trace(), {"dense", "block(b=16,sparsity=0.5)", "unstructured(sparsity=0.8)", "2:4"}), opt).rows;
  std::map<std::string, int> per_backend;
  for (const auto& r : rows) {
    CHECK(r.status == "ok");
    ++per_backend[r.backend];
  }
  CHECK(per_backend["cublas"] == 3 + 1 + 1 + 1);  // every dense line, and the attention line of the sparse runs
  CHECK(per_backend["cusparse"] == 4);
  CHECK(per_backend["cusparselt"] == 2);
  CHECK(per_backend.count("own") == 0);
  // cuSPARSELt's staging is padded to 32 rows, 64 K and 32 columns, with zeros.
  for (const StagedGemm& s : dev.staged) {
    if (s.backend != Backend::cusparselt) continue;
    CHECK(s.s->rows % 32 == 0);
    CHECK(s.s->ld % 64 == 0);
    CHECK(s.d->ld % 32 == 0);
    CHECK(s.s->rows >= s.rows);
  }
}

TEST_CASE("a dry run prepares and stages every row and runs nothing", "[replay]") {
  ReplayOptions opt = small_tiles();
  opt.dry_run = true;
  const auto rep = run_replay(nullptr, runs_for(small_trace(), {"dense", "2:4", "tvw(g=32,sparsity=0.5,n=2,m=4)"}), opt);
  REQUIRE(rep.rows.size() == 6 + 6 + 4);  // cuSPARSELt counts as present in a dry run
  for (const auto& r : rep.rows) {
    CHECK(r.status == "dry-run");
    CHECK(r.timing.seconds.empty());
  }
  CHECK(rep.phases.prep_s > 0);
  CHECK(summarize(rep.rows).dry_run == 16);
}

TEST_CASE("results.csv has stcsim run's columns, unmeasured ones empty, then the replay's", "[replay]") {
  HostDevice dev;
  dev.corrupt_nibble = true;
  const auto rows = run_replay(&dev, runs_for(small_trace(), {"dense", "2:4"}), small_tiles()).rows;
  const std::string csv = replay_csv(rows);
  const std::string sim_header = results_csv({}).substr(0, results_csv({}).find('\n'));
  REQUIRE(csv.rfind(sim_header + ",backend,status,error,time_median_s,time_min_s,time_max_s,repeats,launches_per_sample,"
                                 "timing_method,sm_clock_mhz,sm_clock_min_mhz,sm_clock_max_mhz,exact_check,max_rel_error,"
                                 "prep_s,check_s,timing_s\n",
                    0) == 0);
  const auto lines = split(csv, '\n');
  const auto header = csv_fields(std::string(lines[0]));
  auto row_at = [&](std::size_t i) {
    const auto f = csv_fields(std::string(lines[i]));
    REQUIRE(header.size() == f.size());
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < header.size(); ++c) row[std::string(header[c])] = std::string(f[c]);
    return row;
  };
  auto first = row_at(1);
  CHECK(first["layer"] == "qkv");
  CHECK(first["pattern"] == "dense");
  CHECK(first["backend"] == "cublas");
  CHECK(first["status"] == "ok");
  CHECK(first["count"] == "2");
  CHECK(first["time_s"] == "0.011");
  CHECK(first["time_median_s"] == "0.0055");
  CHECK(first["repeats"] == "10");
  CHECK(first["timing_method"] == "host");
  CHECK(first["sm_clock_mhz"] == "1000");
  CHECK(first["exact_check"] == "reference");
  CHECK(first["l2_bytes"].empty());
  CHECK(first["sm_mma_cycles"].empty());
  CHECK(first["energy_j"].empty());  // no energy counter on the stand-in
  CHECK_FALSE(first["cycles"].empty());
  // The failed 2:4 row: its status and error, and no time.
  auto failed = row_at(7);
  CHECK(failed["pattern"] == "2:4");
  CHECK(failed["status"] == "failed");
  CHECK(failed["time_s"].empty());
  CHECK(failed["cycles"].empty());
  CHECK(failed["tflops"].empty());
  CHECK_FALSE(failed["error"].empty());
}

TEST_CASE("results.csv on disk holds every row measured so far, whole, after each one", "[replay]") {
  const std::string path = "replay_results_file_test.csv";
  HostDevice dev;
  ResultsFile file(path);
  file.write();
  std::vector<std::size_t> lines_seen;
  run_replay(&dev, runs_for(small_trace(), {"dense"}), small_tiles(), [&](const ReplayRow& r) {
    file.add(r);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    REQUIRE(text == replay_csv(file.rows()));
    lines_seen.push_back(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
  });
  CHECK(lines_seen == std::vector<std::size_t>{2, 3, 4, 5, 6, 7});
  std::remove(path.c_str());
}

TEST_CASE("preparation gives the same bytes on any number of threads and workers, and shares a line's operands", "[replay][prep]") {
  const auto runs = runs_for(small_trace(), {"dense", "2:4", "tw(g=32,sparsity=0.5)", "unstructured(sparsity=0.8)"});
  auto staged_bytes = [&](int threads, int workers) {
    set_host_threads(threads);
    ReplayOptions opt = small_tiles();
    opt.prep_workers = workers;
    HostDevice dev;
    run_replay(&dev, runs, opt);
    set_host_threads(0);
    std::vector<std::vector<std::uint16_t>> out;
    for (const StagedGemm& s : dev.staged) {
      out.push_back(s.s ? s.s->bits : std::vector<std::uint16_t>{});
      out.push_back(s.d->bits);
      if (s.own) out.push_back(s.own->a_values);
    }
    return out;
  };
  const auto one = staged_bytes(1, 1);
  CHECK(staged_bytes(4, 3) == one);
  CHECK(staged_bytes(3, 1) == one);
}

TEST_CASE("the GPU estimate grows with the work and the timing protocol", "[replay][estimate]") {
  const GpuConfig arch = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/h200_mma_sp.yaml", {}).arch;
  GemmOp small;
  small.layer = "g";
  small.m = small.n = small.k = 4096;
  GemmOp big = small;
  big.m = big.n = big.k = 8192;
  // 8192^3 is 8x the work of 4096^3; the bound is at least the work at a quarter of the peak.
  CHECK(estimate_launch_s(big, arch) > 7 * (estimate_launch_s(small, arch) - 10e-6));
  CHECK(estimate_launch_s(big, arch) >= 2.0 * 8192.0 * 8192 * 8192 / (0.25 * *arch.dense_tflops(DType::fp16) * 1e12));
  ReplayOptions opt;
  std::vector<ReplayItem> items(1);
  items[0].gemm = big;
  items[0].backends = {Backend::cublas, Backend::own};
  const double base = estimate_replay(items, opt, arch).gpu_s;
  opt.timing.energy_window_s += 1;
  CHECK(estimate_replay(items, opt, arch).gpu_s == Approx(base + 2));
  CHECK(estimate_replay(items, opt, arch).rows == 2);
}
