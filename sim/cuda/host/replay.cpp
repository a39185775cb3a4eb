#include "cuda/host/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>

#include "common/error.h"
#include "common/file_io.h"
#include "common/parallel.h"
#include "common/strings.h"
#include "cuda/host/half.h"
#include "sparsity/registry.h"

namespace stcsim::replay {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double sorted_median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string where(const ReplayItem& it, Backend b) {
  return fmt::format("{}:{}: {} ({}) on {}", it.source, it.line, it.gemm.layer, it.gemm.sparse == Operand::none ? "dense" : it.gemm.pattern,
                     backend_name(b));
}

std::string element(std::int64_t cols, std::int64_t i) {
  return fmt::format("row {}, column {}", i / std::max<std::int64_t>(cols, 1), i % std::max<std::int64_t>(cols, 1));
}

// The reference as a kernel that writes 16-bit output must give it: each element rounded once.
std::vector<float> as_output(const GemmRunner& r, const std::vector<float>& ref, DType t) {
  if (!r.rounds_output()) return ref;
  std::vector<float> out(ref.size());
  parallel_for(static_cast<std::int64_t>(ref.size()), std::int64_t{1} << 18, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const auto j = static_cast<std::size_t>(i);
      out[j] = from_half_bits(to_half_bits(ref[j], t), t);
    }
  });
  return out;
}

ReplayRow blank_row(const PreparedItem& p, Backend b) {
  ReplayRow row;
  row.run = p.item.run_label;
  row.backend = backend_name(b);
  row.result = describe_gemm(p.item.gemm);
  row.result.pattern = p.pattern.empty() ? p.item.gemm.pattern : p.pattern;
  row.result.run = p.item.run_label;
  row.prep_s = p.prep_s;
  return row;
}

void fail(ReplayRow& row, const std::string& why) {
  if (row.status == "failed") return;  // the first failure is the one that counts
  row.status = "failed";
  row.error = why;
}

void fill_measured(ReplayRow& row, const GemmOp& g) {
  LayerResult& lr = row.result;
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
}

// Runs one staged case's checks: the reference, then each backend still without a failure. Returns
// the runners of the backends that passed (for timing), null elsewhere.
struct CaseResult {
  std::vector<std::unique_ptr<GemmRunner>> runners;
  std::unique_ptr<GemmRunner> reference;
};

class Flow {
 public:
  Flow(Device* dev, const ReplayOptions& opt) : dev_(dev), opt_(opt) {}

  // The rows of one prepared line, in backend order.
  std::vector<ReplayRow> run_line(const PreparedItem& p, ReplayPhases& ph) {
    std::vector<ReplayRow> rows;
    for (Backend b : p.item.backends) rows.push_back(blank_row(p, b));
    if (!p.error.empty()) {
      for (auto& r : rows) fail(r, fmt::format("{}: preparing the line: {}", where(p.item, backend_of(r)), p.error));
      return rows;
    }
    if (opt_.dry_run) {
      dry_line(p, rows, ph);
      return rows;
    }
    if (lost_) {
      for (auto& r : rows) fail(r, fmt::format("{}: not run: {}", where(p.item, backend_of(r)), *lost_));
      return rows;
    }
    const auto t0 = Clock::now();
    if (p.exact) exact_case(p, rows);
    CaseResult value = value_case(p, rows);
    const double check = since(t0);
    ph.check_s += check;
    for (std::size_t j = 0; j < rows.size(); ++j) {
      ReplayRow& row = rows[j];
      row.check_s = check / static_cast<double>(rows.size());
      if (row.status == "failed") continue;
      GemmRunner* r = p.item.backends[j] == Backend::cublas ? value.reference.get() : value.runners[j].get();
      const auto t1 = Clock::now();
      guarded(p, row, p.item.backends[j], [&] {
        row.timing = dev_->time(*r, opt_.timing);
        row.status = "ok";
        fill_measured(row, p.item.gemm);
      });
      row.timing_s = since(t1);
      ph.timing_s += row.timing_s;
    }
    return rows;
  }

 private:
  static Backend backend_of(const ReplayRow& r) {
    for (Backend b : kAllBackends) {
      if (backend_name(b) == r.backend) return b;
    }
    return Backend::cublas;
  }

  // Runs `f`; an error becomes the row's failure, and a lost device is noted for the rows to come.
  template <class F>
  void guarded(const PreparedItem& p, ReplayRow& row, Backend b, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      fail(row, fmt::format("{}: {}", where(p.item, b), e.what()));
      if (!lost_) lost_ = dev_->lost();
    }
  }

  void dry_line(const PreparedItem& p, std::vector<ReplayRow>& rows, ReplayPhases& ph) {
    // The host's part of the checks: comparing a result of the line's size with a reference.
    const auto t0 = Clock::now();
    const std::vector<float> c(static_cast<std::size_t>(std::max<std::int64_t>(p.rows, 0) * std::max<std::int64_t>(p.cols, 0)));
    const Comparison cmp = compare_outputs(c, c);
    const double check = since(t0);
    ph.check_s += check;
    for (std::size_t j = 0; j < rows.size(); ++j) {
      ReplayRow& row = rows[j];
      const std::string& err = p.value.errors.at(j);
      if (!err.empty()) {
        fail(row, fmt::format("{}: {}", where(p.item, p.item.backends[j]), err));
        continue;
      }
      row.status = "dry-run";
      row.exact_check = p.exact ? "not run (dry run)" : fmt::format("skipped: K > {}", kExactCheckMaxK);
      row.max_rel_error = cmp.mismatches == 0 ? -1 : 1;
      row.result.math_path = p.value.backends[j]->own ? "own (not run)" : backend_name(p.item.backends[j]) + " (not run)";
      row.check_s = check / static_cast<double>(rows.size());
    }
  }

  void exact_case(const PreparedItem& p, std::vector<ReplayRow>& rows) {
    const StagedCase& xc = *p.exact;
    std::vector<float> ref;
    std::string ref_error;
    try {
      auto rr = dev_->prepare(*xc.reference);
      rr->launch();
      ref = rr->result();
      if (!p.host_reference.empty()) {
        const Comparison c = compare_outputs(ref, p.host_reference);
        if (c.mismatches > 0) {
          ref_error = fmt::format("the reference GEMM differs from the host's product in {} elements (first at {})", c.mismatches,
                                  element(p.cols, c.first));
        }
      }
    } catch (const std::exception& e) {
      ref_error = fmt::format("exact check: the reference: {}", e.what());
      if (!lost_) lost_ = dev_->lost();
    }
    for (std::size_t j = 0; j < rows.size(); ++j) {
      const Backend b = p.item.backends[j];
      ReplayRow& row = rows[j];
      if (!ref_error.empty()) {
        fail(row, fmt::format("{}: {}", where(p.item, b), ref_error));
        continue;
      }
      if (!xc.errors[j].empty()) {
        fail(row, fmt::format("{}: {}", where(p.item, b), xc.errors[j]));
        continue;
      }
      if (b == Backend::cublas) {
        row.exact_check = p.host_reference.empty() ? "reference" : "bit-exact (host product)";
        continue;
      }
      if (lost_) {
        fail(row, fmt::format("{}: not run: {}", where(p.item, b), *lost_));
        continue;
      }
      guarded(p, row, b, [&] {
        auto r = dev_->prepare(*xc.backends[j]);
        r->launch();
        const Comparison c = compare_outputs(r->result(), as_output(*r, ref, p.item.gemm.dtype));
        if (c.mismatches > 0) {
          throw Error(fmt::format("exact check failed: {} of {} elements differ from the reference (first at {}); kernel {}",
                                  c.mismatches, ref.size(), element(p.cols, c.first), r->kernel()));
        }
        row.exact_check = "bit-exact";
      });
    }
  }

  CaseResult value_case(const PreparedItem& p, std::vector<ReplayRow>& rows) {
    const StagedCase& vc = p.value;
    CaseResult out;
    out.runners.resize(rows.size());
    if (!p.exact) {
      for (auto& r : rows) r.exact_check = fmt::format("skipped: K > {}", kExactCheckMaxK);
    }
    std::vector<float> ref;
    std::string ref_error;
    if (lost_) {
      ref_error = fmt::format("not run: {}", *lost_);
    } else {
      try {
        out.reference = dev_->prepare(*vc.reference);
        out.reference->launch();
        ref = out.reference->result();
      } catch (const std::exception& e) {
        ref_error = fmt::format("value check: the reference: {}", e.what());
        out.reference.reset();
        if (!lost_) lost_ = dev_->lost();
      }
    }
    for (std::size_t j = 0; j < rows.size(); ++j) {
      const Backend b = p.item.backends[j];
      ReplayRow& row = rows[j];
      if (row.status == "failed") continue;
      if (!ref_error.empty()) {
        fail(row, fmt::format("{}: {}", where(p.item, b), ref_error));
        continue;
      }
      if (!vc.errors[j].empty()) {
        fail(row, fmt::format("{}: {}", where(p.item, b), vc.errors[j]));
        continue;
      }
      if (lost_) {
        fail(row, fmt::format("{}: not run: {}", where(p.item, b), *lost_));
        continue;
      }
      guarded(p, row, b, [&] {
        GemmRunner* r = out.reference.get();
        if (b != Backend::cublas) {
          out.runners[j] = dev_->prepare(*vc.backends[j]);
          r = out.runners[j].get();
          r->launch();
        }
        const Comparison c = b == Backend::cublas ? Comparison{} : compare_outputs(r->result(), as_output(*r, ref, p.item.gemm.dtype));
        // A kernel with 16-bit output may round a sum to the neighbouring value: one unit in the last
        // place (2^-10 relative for fp16, 2^-7 for bf16) more.
        const double tol = opt_.tolerance + (r->rounds_output() ? (p.item.gemm.dtype == DType::bf16 ? 0x1p-7 : 0x1p-10) : 0.0);
        if (!(c.rel() <= tol)) {
          out.runners[j].reset();
          throw Error(fmt::format("value check failed: max |difference| {} is {} of max |reference| {} (tolerance {}); kernel {}",
                                  c.max_abs_diff, c.rel(), c.max_abs_ref, tol, r->kernel()));
        }
        row.max_rel_error = c.rel();
        row.result.math_path = r->kernel();
      });
    }
    return out;
  }

  Device* dev_;
  const ReplayOptions& opt_;
  std::optional<std::string> lost_;
};

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
  std::mutex mu;
  parallel_for(static_cast<std::int64_t>(got.size()), std::int64_t{1} << 18, [&](std::int64_t b, std::int64_t e) {
    Comparison part;
    for (std::int64_t i = b; i < e; ++i) {
      const float x = got[static_cast<std::size_t>(i)], y = ref[static_cast<std::size_t>(i)];
      part.max_abs_ref = std::max(part.max_abs_ref, static_cast<double>(std::fabs(y)));
      std::uint32_t ux = 0, uy = 0;
      std::memcpy(&ux, &x, 4);
      std::memcpy(&uy, &y, 4);
      if (ux == uy || (x == 0.0f && y == 0.0f)) continue;
      if (part.mismatches == 0) part.first = i;
      ++part.mismatches;
      const double d = std::isfinite(x) && std::isfinite(y) ? std::fabs(static_cast<double>(x) - y) : INFINITY;
      part.max_abs_diff = std::max(part.max_abs_diff, d);
    }
    const std::lock_guard<std::mutex> lock(mu);
    c.max_abs_ref = std::max(c.max_abs_ref, part.max_abs_ref);
    c.max_abs_diff = std::max(c.max_abs_diff, part.max_abs_diff);
    if (part.mismatches > 0 && (c.first < 0 || part.first < c.first)) c.first = part.first;
    c.mismatches += part.mismatches;
  });
  return c;
}

std::vector<ReplayItem> plan_items(const Device* dev, const std::vector<ReplayRunInput>& runs, const ReplayOptions& opt) {
  std::vector<ReplayItem> items;
  for (std::size_t ri = 0; ri < runs.size(); ++ri) {
    const ReplayRunInput& run = runs[ri];
    for (std::size_t i = 0; i < run.trace.ops.size(); ++i) {
      const GemmOp& g = run.trace.ops[i];
      const std::size_t line = i < run.trace.lines.size() ? static_cast<std::size_t>(run.trace.lines[i]) : i + 1;
      const auto pattern = builtin_registry().make(g.sparse == Operand::none ? std::string("dense") : g.pattern);
      ReplayItem it;
      it.run = ri;
      it.run_label = run.label;
      it.source = run.trace.source;
      it.gemm = g;
      it.line = line;
      std::string missing;
      for (Backend b : backends_for(*pattern, g.dtype)) {
        const bool asked = opt.backends.empty() || std::find(opt.backends.begin(), opt.backends.end(), b) != opt.backends.end();
        if (!asked || (b == Backend::own && !opt.own_kernel)) continue;
        if (b == Backend::own && !own_kernel_supports(*pattern, g.dtype)) continue;
        if (dev != nullptr && !dev->has_backend(b)) {
          missing += fmt::format("; {}: {}", backend_name(b), dev->backend_note(b));
          continue;
        }
        it.backends.push_back(b);
      }
      if (it.backends.empty()) {
        throw UnsupportedError(fmt::format(
            "{}:{}: {}: no backend of this build{} runs {} in {} (the own kernels: dense, 2:4, tw, tvw in fp16/bf16; "
            "cuSPARSELt: 2:4; cuSPARSE: block, unstructured; cuBLAS: dense){}",
            run.trace.source, line, g.layer, opt.backends.empty() ? "" : " among --backends", pattern->spec(), dtype_name(g.dtype),
            missing));
      }
      items.push_back(std::move(it));
    }
  }
  return items;
}

ReplayReport run_replay(Device* dev, const std::vector<ReplayRunInput>& runs, const ReplayOptions& opt,
                        const std::function<void(const ReplayRow&)>& on_row) {
  if (opt.timing.repeats < 1) throw Error(fmt::format("--repeats: must be >= 1 (got {})", opt.timing.repeats));
  if (!(opt.timing.warmup_s >= 0)) throw Error("--warmup-s: must be >= 0");
  if (dev == nullptr && !opt.dry_run) throw Error("replay: no device (only a dry run runs without one)");
  const auto t0 = Clock::now();
  ReplayReport rep;
  std::vector<ReplayItem> items = plan_items(opt.dry_run ? nullptr : dev, runs, opt);
  PrepOptions po;
  po.seed = opt.seed;
  po.tiling = opt.tiling;
  po.host_reference = opt.host_reference;
  po.workers = opt.prep_workers;
  po.memory_budget = opt.prep_memory;
  Preparer prep(std::move(items), po);
  Flow flow(dev, opt);
  while (auto p = prep.next()) {
    rep.phases.prep_s += p->prep_s;
    for (ReplayRow& row : flow.run_line(*p, rep.phases)) {
      if (on_row) on_row(row);
      rep.rows.push_back(std::move(row));
    }
  }
  rep.phases.wait_s = prep.waited_s();
  rep.phases.prep_workers = prep.workers();
  rep.phases.threads = host_threads();
  rep.phases.wall_s = since(t0);
  return rep;
}

ReplaySummary summarize(const std::vector<ReplayRow>& rows) {
  ReplaySummary s;
  for (const ReplayRow& r : rows) {
    if (r.status == "ok") {
      ++s.ok;
    } else if (r.status == "dry-run") {
      ++s.dry_run;
    } else {
      ++s.failed;
      s.failures.push_back(r.error);
    }
  }
  return s;
}

std::string replay_csv(const std::vector<ReplayRow>& rows) {
  std::vector<LayerResult> results;
  ResultsCsvExtras extras;
  extras.columns = {"backend",     "status",        "error",        "time_median_s",    "time_min_s",       "time_max_s",
                    "repeats",     "launches_per_sample", "timing_method", "sm_clock_mhz", "sm_clock_min_mhz", "sm_clock_max_mhz",
                    "exact_check", "max_rel_error", "prep_s",       "check_s",          "timing_s"};
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
  auto num = [](double v) { return shortest_double(v); };
  for (const ReplayRow& r : rows) {
    results.push_back(r.result);
    const bool timed = r.ok();
    std::vector<std::string> blank;
    if (!timed) blank = {"cycles", "time_s", "tflops", "energy_j"};
    if (timed && !r.have_cycles) blank.emplace_back("cycles");
    if (timed && !r.have_energy) blank.emplace_back("energy_j");
    extras.row_blank.push_back(std::move(blank));
    const Timing& t = r.timing;
    extras.values.push_back({csv_field(r.backend), csv_field(r.status), csv_field(r.error), timed ? num(t.median()) : "",
                             timed ? num(t.min()) : "", timed ? num(t.max()) : "",
                             timed ? fmt::format("{}", t.seconds.size()) : "", timed ? fmt::format("{}", t.launches_per_sample) : "",
                             csv_field(timed ? t.method : std::string()), t.sm_clock_mhz > 0 ? num(t.sm_clock_mhz) : "",
                             t.sm_clock_min_mhz > 0 ? num(t.sm_clock_min_mhz) : "", t.sm_clock_max_mhz > 0 ? num(t.sm_clock_max_mhz) : "",
                             csv_field(r.exact_check), r.max_rel_error >= 0 ? num(r.max_rel_error) : "", num(r.prep_s), num(r.check_s),
                             num(r.timing_s)});
  }
  return results_csv(results, extras);
}

void ResultsFile::add(const ReplayRow& row) {
  rows_.push_back(row);
  write();
}

void ResultsFile::write() { write_file_atomic(path_, replay_csv(rows_)); }

}  // namespace stcsim::replay
