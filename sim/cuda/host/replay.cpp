#include "cuda/host/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "common/error.h"
#include "common/strings.h"
#include "cuda/host/half.h"
#include "functional/functional.h"
#include "sparsity/registry.h"
#include "tensor_core/tensor_core.h"

namespace stcsim::replay {

namespace {

double sorted_median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string where(const ReplayRunInput& run, std::size_t line, const GemmOp& g, Backend b) {
  return fmt::format("{}:{}: {} ({}) on {}", run.trace.source, line, g.layer, g.pattern, backend_name(b));
}

std::string element(const ReplayProblem& p, std::int64_t i) {
  return fmt::format("row {}, column {}", i / std::max<std::int64_t>(p.cols, 1), i % std::max<std::int64_t>(p.cols, 1));
}

// The host reference of small exact problems, to check the device's reference itself.
void check_reference_on_host(const ReplayProblem& x, const std::vector<float>& ref, const std::string& at) {
  const Matrix host = reference_gemm(x.pruned, x.d);
  const Comparison c = compare_outputs(ref, host.data());
  if (c.mismatches > 0) {
    throw Error(fmt::format("{}: the reference GEMM differs from the host's reference in {} elements (first at {})", at,
                            c.mismatches, element(x, c.first)));
  }
}

// The reference as a kernel that writes 16-bit output must give it: each element rounded once.
std::vector<float> as_output(const GemmRunner& r, const std::vector<float>& ref, DType t) {
  if (!r.rounds_output()) return ref;
  std::vector<float> out(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) out[i] = from_half_bits(to_half_bits(ref[i], t), t);
  return out;
}

}  // namespace

double Timing::median() const { return sorted_median(seconds); }
double Timing::min() const { return seconds.empty() ? 0 : *std::min_element(seconds.begin(), seconds.end()); }
double Timing::max() const { return seconds.empty() ? 0 : *std::max_element(seconds.begin(), seconds.end()); }

Comparison compare_outputs(const std::vector<float>& got, const std::vector<float>& ref) {
  Comparison c;
  if (got.size() != ref.size()) {
    c.mismatches = std::max(got.size(), ref.size());
    c.first = static_cast<std::int64_t>(std::min(got.size(), ref.size()));
    c.max_abs_diff = INFINITY;
    return c;
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    const float a = got[i], b = ref[i];
    c.max_abs_ref = std::max(c.max_abs_ref, static_cast<double>(std::fabs(b)));
    std::uint32_t ua = 0, ub = 0;
    std::memcpy(&ua, &a, 4);
    std::memcpy(&ub, &b, 4);
    const bool same = ua == ub || (a == 0.0f && b == 0.0f);
    if (!same) {
      if (c.mismatches == 0) c.first = static_cast<std::int64_t>(i);
      ++c.mismatches;
      const double d = std::isfinite(a) && std::isfinite(b) ? std::fabs(static_cast<double>(a) - b) : INFINITY;
      c.max_abs_diff = std::max(c.max_abs_diff, d);
    }
  }
  return c;
}

std::vector<ReplayRow> run_replay(Device& dev, const std::vector<ReplayRunInput>& runs, const ReplayOptions& opt,
                                  const std::function<void(const ReplayRow&)>& on_row) {
  if (opt.repeats < 1) throw Error(fmt::format("--repeats: must be >= 1 (got {})", opt.repeats));
  if (opt.warmup < 0) throw Error(fmt::format("--warmup: must be >= 0 (got {})", opt.warmup));
  std::vector<ReplayRow> rows;
  for (const ReplayRunInput& run : runs) {
    for (std::size_t i = 0; i < run.trace.ops.size(); ++i) {
      const GemmOp& g = run.trace.ops[i];
      const std::size_t line = i < run.trace.lines.size() ? static_cast<std::size_t>(run.trace.lines[i]) : i + 1;
      const auto pattern = builtin_registry().make(g.sparse == Operand::none ? std::string("dense") : g.pattern);
      std::vector<Backend> chosen;
      for (Backend b : backends_for(*pattern, g.dtype)) {
        const bool asked = opt.backends.empty() || std::find(opt.backends.begin(), opt.backends.end(), b) != opt.backends.end();
        if (!asked || !dev.has_backend(b) || (b == Backend::own && !opt.own_kernel)) continue;
        if (b == Backend::own && !own_kernel_supports(*pattern, g.dtype)) continue;
        chosen.push_back(b);
      }
      if (chosen.empty()) {
        throw UnsupportedError(fmt::format(
            "{}:{}: {}: no backend of this build{} runs {} in {} (the own kernels: dense, 2:4, tw, tvw in fp16/bf16; "
            "cuSPARSELt: 2:4; cuSPARSE: block, unstructured; cuBLAS: dense)",
            run.trace.source, line, g.layer, opt.backends.empty() ? "" : " among --backends", pattern->spec(),
            dtype_name(g.dtype)));
      }
      const ReplayProblem p = make_problem(g, opt.seed, line);
      const bool exact_ok = p.k <= kExactCheckMaxK;
      ReplayProblem x;
      std::vector<float> ref_x;
      if (exact_ok) {
        x = exact_variant(p, opt.seed);
        ref_x = dev.reference(x);
        const std::uint64_t macs = static_cast<std::uint64_t>(p.rows) * static_cast<std::uint64_t>(p.cols) *
                                   static_cast<std::uint64_t>(p.k);
        if (macs <= kFunctionalMacLimit) check_reference_on_host(x, ref_x, fmt::format("{}:{}: {}", run.trace.source, line, g.layer));
      }
      const std::vector<float> ref = dev.reference(p);
      for (Backend b : chosen) {
        const std::string at = where(run, line, g, b);
        ReplayRow row;
        if (exact_ok) {
          auto rx = dev.prepare(b, x, opt.tiling);
          rx->launch();
          const Comparison c = compare_outputs(rx->result(), as_output(*rx, ref_x, g.dtype));
          if (c.mismatches > 0) {
            throw Error(fmt::format("{}: exact check failed: {} of {} elements differ from the reference (first at {}); kernel {}",
                                    at, c.mismatches, ref_x.size(), element(p, c.first), rx->kernel()));
          }
          row.exact_check = "bit-exact";
        } else {
          row.exact_check = fmt::format("skipped: K > {}", kExactCheckMaxK);
        }
        auto r = dev.prepare(b, p, opt.tiling);
        r->launch();
        const Comparison c = compare_outputs(r->result(), as_output(*r, ref, g.dtype));
        // A kernel with 16-bit output may round a sum to the neighbouring value: one unit in the last
        // place (2^-10 relative for fp16, 2^-7 for bf16) more.
        const double tol = opt.tolerance + (r->rounds_output() ? (g.dtype == DType::bf16 ? 0x1p-7 : 0x1p-10) : 0.0);
        if (!(c.rel() <= tol)) {
          throw Error(fmt::format("{}: value check failed: max |difference| {} is {} of max |reference| {} (tolerance {}); kernel {}",
                                  at, c.max_abs_diff, c.rel(), c.max_abs_ref, tol, r->kernel()));
        }
        row.max_rel_error = c.rel();
        row.timing = dev.time(*r, opt.warmup, opt.repeats);
        row.run = run.label;
        row.backend = backend_name(b);
        row.result = describe_gemm(g);
        LayerResult& lr = row.result;
        lr.pattern = pattern->spec();
        lr.run = run.label;
        lr.math_path = r->kernel();
        lr.time_s = row.timing.median() * static_cast<double>(g.count);
        lr.tflops = lr.time_s > 0 ? 2.0 * static_cast<double>(lr.dense_macs) / lr.time_s * 1e-12 : 0;
        if (row.timing.sm_clock_mhz > 0) {
          row.have_cycles = true;
          lr.cycles = static_cast<std::uint64_t>(std::llround(lr.time_s * row.timing.sm_clock_mhz * 1e6));
        }
        if (row.timing.energy_j >= 0) {
          row.have_energy = true;
          // Board energy, not split by component: only the total (energy_j) is written.
          lr.energy.static_energy = row.timing.energy_j * static_cast<double>(g.count);
        }
        if (on_row) on_row(row);
        rows.push_back(std::move(row));
      }
    }
  }
  return rows;
}

std::string replay_csv(const std::vector<ReplayRow>& rows) {
  std::vector<LayerResult> results;
  ResultsCsvExtras extras;
  extras.columns = {"backend", "time_median_s", "time_min_s", "time_max_s", "repeats", "sm_clock_mhz",
                    "exact_check", "max_rel_error"};
  // Every schema column the replay does not measure is written empty.
  const std::vector<std::string> measured = {"run", "layer", "m",      "n",      "k",          "dtype",     "pattern", "count",
                                             "math_path", "cycles", "time_s", "tflops", "energy_j", "dense_macs"};
  LayerResult{}.visit([&](const char* name, const auto&) {
    if (std::find(measured.begin(), measured.end(), name) == measured.end()) extras.blank.emplace_back(name);
  });
  const bool any_cycles = std::any_of(rows.begin(), rows.end(), [](const ReplayRow& r) { return r.have_cycles; });
  const bool any_energy = std::any_of(rows.begin(), rows.end(), [](const ReplayRow& r) { return r.have_energy; });
  if (!any_cycles) extras.blank.emplace_back("cycles");
  if (!any_energy) extras.blank.emplace_back("energy_j");
  for (const ReplayRow& r : rows) {
    results.push_back(r.result);
    extras.values.push_back({csv_field(r.backend), shortest_double(r.timing.median()),
                             shortest_double(r.timing.min()), shortest_double(r.timing.max()),
                             fmt::format("{}", r.timing.seconds.size()),
                             r.timing.sm_clock_mhz > 0 ? shortest_double(r.timing.sm_clock_mhz) : std::string(),
                             csv_field(r.exact_check), shortest_double(r.max_rel_error)});
  }
  return results_csv(results, extras);
}

}  // namespace stcsim::replay
