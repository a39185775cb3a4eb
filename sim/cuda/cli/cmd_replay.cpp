// stcsim-gpu replay: the simulator's workload on the GPU (cuda/host/replay.h).
#include <fmt/format.h>

#include <cstdio>

#include "cli/gemm_arg.h"
#include "cli/usage.h"
#include "common/file_io.h"
#include "common/parallel.h"
#include "common/strings.h"
#include "common/version.h"
#include "config/machine_config.h"
#include "cuda/cli/gpu_app.h"
#include "cuda/device/cuda_device.h"
#include "cuda/host/replay.h"
#include "cuda/host/replay_estimate.h"
#include "cuda/host/replay_layout.h"

namespace stcsim::replay::cli {

namespace po = stcsim::cli::po;
using stcsim::cli::UsageError;

namespace {

constexpr const char* kUsage =
    "Usage: stcsim-gpu replay [--config C] (--trace T | --gemm MxNxK [--dtype D]) [--pattern P]... [--set k=v]...\n"
    "                         [--seed S] [--backends LIST] [--repeats R] [--warmup-s S] [--min-sample-s S]\n"
    "                         [--no-graph] [--energy-window S] [--tolerance X] [--host-reference] [--no-lt-search]\n"
    "                         [--threads N] [--device N] [--dry-run] [--out DIR]\n\n"
    "Runs the GEMMs of trace T (or one GEMM) on the GPU with the operands stcsim run builds for the same\n"
    "trace, pattern and seed: S, the weight operand pruned and compressed by the core library, and the dense\n"
    "operand D. Each --pattern is one run (as in stcsim run). Each GEMM runs on every backend that handles\n"
    "its pattern (--backends narrows the list: cublas, own, cusparselt, cusparse):\n"
    "  dense         cuBLAS and the own mma.sync kernel          2:4           own mma.sp kernel, cuSPARSELt\n"
    "  tw, tvw       own kernel on compacted tiles               block         cuSPARSE Blocked-ELL\n"
    "  unstructured  cuSPARSE CSR\n"
    "The own kernels take their tiling (CTA and warp tiles, stages, raster, tile order) from the kernel config\n"
    "of C, which must be of the mma.sync / mma.sp.sync family (configs/h200_mma_sp.yaml); with another family\n"
    "only the vendor libraries run. Operands are built and staged on all host threads (--threads) ahead of\n"
    "the GPU. Before it is timed, every kernel's result is checked against cuBLAS on the decompressed matrix:\n"
    "bit for bit on operands whose sums are exact, and within --tolerance x max|reference| on the real ones.\n"
    "Timing: a warm-up of --warmup-s seconds brings the clock up, then R samples, each of the fewest\n"
    "back-to-back launches (a CUDA graph where they can be captured) that last --min-sample-s, between two\n"
    "CUDA events; the SM clock is sampled while they run. A failed check, or any error, becomes that row's\n"
    "error and the replay goes on. --out writes DIR/results.csv (stcsim run's columns, unmeasured ones empty,\n"
    "then the replay's), one row added as each is measured, so that an interrupted replay keeps its rows;\n"
    "DIR/replay.yaml (device, clocks, versions, options, summary, phase times, GPU estimate) and\n"
    "DIR/gemms.trace. --dry-run runs the host side alone (operands, staging, comparisons; no kernel) and\n"
    "estimates the GPU time the replay would take on the machine of --config. Exit status: 0 when every\n"
    "row passed, 1 when any failed (the rows say why).";

constexpr const char* kExamples =
    "  stcsim-gpu replay --config configs/h200_mma_sp.yaml --gemm 8192x8192x8192 --pattern dense --pattern 2:4\n"
    "  stcsim-gpu replay --config configs/h200_mma_sp.yaml --trace traces/bert-base_b32_s128.trace \\\n"
    "                    --pattern dense --pattern 2:4 --pattern 'tw(g=128,sparsity=0.5)' --out /tmp/bert-h200\n"
    "  stcsim-gpu replay --dry-run --config configs/h200_mma_sp.yaml --gemm 4096x4096x4096 --pattern 2:4\n";

double positive(const po::variables_map& vm, const char* name, bool allow_zero) {
  const double v = vm[name].as<double>();
  if (!(allow_zero ? v >= 0 : v > 0) || !std::isfinite(v)) {
    throw UsageError(fmt::format("--{}: must be {} (got {})", name, allow_zero ? ">= 0" : "> 0", v));
  }
  return v;
}

}  // namespace

std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

std::string describe_device_yaml(Device& dev) {
  const DeviceInfo d = dev.info();
  return fmt::format(
      "device:\n  name: {}\n  compute_capability: \"{}\"\n  sms: {}\n  memory_bytes: {}\n  l2_bytes: {}\n"
      "  sm_clock_max_mhz: {}\n  sm_clock_now_mhz: {}\n  mem_clock_max_mhz: {}\n  power_limit_w: {}\n  nvml: {}\n"
      "  driver: {}\n  runtime: {}\n  libraries: {}\n",
      yaml_quote(d.name), d.compute_capability, d.sms, d.memory_bytes, d.l2_bytes, shortest_double(d.sm_clock_max_mhz),
      shortest_double(d.sm_clock_now_mhz), shortest_double(d.mem_clock_max_mhz), shortest_double(d.power_limit_w),
      d.nvml ? "true" : "false", yaml_quote(d.driver_version), yaml_quote(d.runtime_version), yaml_quote(d.library_versions));
}

std::string phases_yaml(const ReplayPhases& ph) {
  return fmt::format(
      "phases:\n  wall_s: {}\n  host_prep_s: {}\n  host_wait_s: {}\n  gpu_check_s: {}\n  gpu_timing_s: {}\n  prep_workers: {}\n"
      "  host_threads: {}\n",
      shortest_double(ph.wall_s), shortest_double(ph.prep_s), shortest_double(ph.wait_s), shortest_double(ph.check_s),
      shortest_double(ph.timing_s), ph.prep_workers, ph.threads);
}

void print_phases(const ReplayPhases& ph, const char* gpu_word) {
  std::printf("phases: wall %.2f s; host preparation %.2f s on %d workers x %d threads, of which %.2f s on the critical path; "
              "%s checks %.2f s, timing %.2f s\n",
              ph.wall_s, ph.prep_s, ph.prep_workers, ph.threads, ph.wait_s, gpu_word, ph.check_s, ph.timing_s);
}

int cmd_replay(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()
      ("config,c", po::value<std::string>(), "machine config (default configs/h100.yaml); its kernel tiles the own kernels")
      ("trace,t", po::value<std::string>(), "GEMM trace to replay")
      ("gemm,g", po::value<std::string>(), "one GEMM MxNxK instead of a trace, weights on operand B")
      ("dtype", po::value<std::string>()->default_value("fp16"), "data type of --gemm: fp16 or bf16")
      ("pattern,p", po::value<std::vector<std::string>>()->composing(), "sparsity pattern of the weights; repeat for runs")
      ("set,s", po::value<std::vector<std::string>>()->composing(), "override a config key: key.path=value (repeatable)")
      ("seed", po::value<std::string>()->default_value("1"), "seed of the weights (as stcsim run)")
      ("backends,b", po::value<std::string>(), "comma-separated subset of cublas, own, cusparselt, cusparse")
      ("repeats", po::value<int>()->default_value(10), "timed samples per row (median, min, max reported)")
      ("warmup-s", po::value<double>()->default_value(0.1), "seconds of launches before timing a row (brings the clock up)")
      ("min-sample-s", po::value<double>()->default_value(2e-3), "each sample runs back-to-back launches for at least this long")
      ("no-graph", "time samples as launches on the stream, not as a CUDA graph")
      ("energy-window", po::value<double>()->default_value(0.2), "seconds of launches per energy reading (0: none)")
      ("tolerance", po::value<double>()->default_value(1e-3), "value check: max |got - reference| / max |reference|")
      ("host-reference", "also check cuBLAS against the host's product (lines up to 2^30 MACs)")
      ("no-lt-search", "cuSPARSELt: its default algorithm instead of cusparseLtMatmulSearch")
      ("threads", po::value<int>(), "host threads for operands and staging (default: all; or STCSIM_THREADS)")
      ("device", po::value<int>()->default_value(0), "CUDA device index")
      ("dry-run", "the host side only, and an estimate of the GPU time; needs no GPU")
      ("out,o", po::value<std::string>(), "folder for results.csv, replay.yaml and gemms.trace");
  po::variables_map vm;
  if (!stcsim::cli::parse_args(args, opts, {}, vm, kUsage, kExamples)) return 0;

  const std::string config_path = vm.count("config") ? vm["config"].as<std::string>() : stcsim::cli::default_config();
  const auto sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  const MachineConfig machine = load_machine_config(config_path, sets);
  const Trace trace = stcsim::cli::workload_from_args(vm.count("trace") ? vm["trace"].as<std::string>() : std::string(),
                                                      vm.count("gemm") ? vm["gemm"].as<std::string>() : std::string(),
                                                      vm["dtype"].as<std::string>());
  std::vector<ReplayRunInput> runs;
  for (auto& [label, t] : stcsim::cli::runs_for_patterns(
           trace, vm.count("pattern") ? vm["pattern"].as<std::vector<std::string>>() : std::vector<std::string>{})) {
    runs.push_back({label, std::move(t)});
  }
  ReplayOptions ro;
  const auto seed = parse_int(vm["seed"].as<std::string>());
  if (!seed || *seed < 0) throw UsageError(fmt::format("--seed: '{}' is not an integer >= 0", vm["seed"].as<std::string>()));
  ro.seed = static_cast<std::uint64_t>(*seed);
  ro.timing.repeats = vm["repeats"].as<int>();
  if (ro.timing.repeats < 1) throw UsageError("--repeats: must be >= 1");
  ro.timing.warmup_s = positive(vm, "warmup-s", true);
  ro.timing.min_sample_s = positive(vm, "min-sample-s", false);
  ro.timing.energy_window_s = positive(vm, "energy-window", true);
  ro.timing.graph = vm.count("no-graph") == 0;
  ro.tolerance = positive(vm, "tolerance", true);
  ro.host_reference = vm.count("host-reference") > 0;
  ro.dry_run = vm.count("dry-run") > 0;
  if (vm.count("threads")) {
    const int n = vm["threads"].as<int>();
    if (n < 1 || n > 1024) throw UsageError(fmt::format("--threads: must be 1..1024 (got {})", n));
    set_host_threads(n);
  }
  if (vm.count("backends")) ro.backends = parse_backends(vm["backends"].as<std::string>());
  std::string own_note;
  try {
    ro.tiling = kernel_tiling(machine.kernel);
  } catch (const UnsupportedError& e) {
    ro.own_kernel = false;
    own_note = e.what();
  }
  CudaDeviceOptions dopt;
  dopt.index = vm["device"].as<int>();
  dopt.lt_search = vm.count("no-lt-search") == 0;
  // Bad input is refused before the device opens or anything is written.
  const std::vector<ReplayItem> items = plan_items(nullptr, runs, ro);
  std::unique_ptr<Device> dev;
  if (!ro.dry_run) dev = open_cuda_device(dopt);
  std::string out_dir;
  if (vm.count("out")) {
    out_dir = vm["out"].as<std::string>();
    ensure_writable_dir(out_dir);
  }
  const std::string device_yaml = dev ? describe_device_yaml(*dev) : std::string("device: null  # dry run: no kernel ran\n");
  std::fputs(device_yaml.c_str(), stdout);
  std::printf("machine: %s (kernel %s)%s\n", config_path.c_str(), machine.kernel.name.c_str(),
              ro.own_kernel ? fmt::format(", own kernels: {}", ro.tiling.describe()).c_str() : "");
  if (!ro.own_kernel) std::printf("own kernels not run: %s\n", own_note.c_str());
  const ReplayEstimate est = estimate_replay(items, ro, machine.arch);
  std::printf("GPU estimate on %s: %.1f s for %zu rows (%s)\n", machine.arch.name.c_str(), est.gpu_s, est.rows,
              kEstimateBasis);

  std::string meta = fmt::format("# stcsim-gpu {} replay (build of commit {})\n", STCSIM_VERSION, build_commit());
  meta += fmt::format("command: {}\n", yaml_quote("stcsim-gpu replay " + join(args, " ")));
  meta += fmt::format("dry_run: {}\n", ro.dry_run ? "true" : "false");
  meta += fmt::format("config: {}\nkernel: {}\nown_kernels: {}\nworkload: {}\nseed: {}\n", yaml_quote(config_path),
                      yaml_quote(machine.kernel.name), yaml_quote(ro.own_kernel ? ro.tiling.describe() : "not run: " + own_note),
                      yaml_quote(trace.source), ro.seed);
  meta += fmt::format(
      "timing:\n  repeats: {}\n  warmup_s: {}\n  min_sample_s: {}\n  graph: {}\n  energy_window_s: {}\ntolerance: {}\n"
      "host_reference: {}\ncusparselt_search: {}\n",
      ro.timing.repeats, shortest_double(ro.timing.warmup_s), shortest_double(ro.timing.min_sample_s), ro.timing.graph ? "true" : "false",
      shortest_double(ro.timing.energy_window_s), shortest_double(ro.tolerance), ro.host_reference ? "true" : "false",
      dopt.lt_search ? "true" : "false");
  meta += device_yaml;
  meta += fmt::format("estimate:\n  machine: {}\n  gpu_s: {}\n  rows: {}\n  basis: {}\n", yaml_quote(machine.arch.name),
                      shortest_double(est.gpu_s), est.rows, yaml_quote(kEstimateBasis));
  std::unique_ptr<ResultsFile> results;
  if (!out_dir.empty()) {
    write_trace(out_dir + "/gemms.trace", trace, "GEMMs as given to stcsim-gpu replay (before --pattern)");
    write_file_atomic(out_dir + "/replay.yaml", meta + "status: running\n");
    results = std::make_unique<ResultsFile>(out_dir + "/results.csv");
    results->write();
  }

  std::printf("%-28s %-28s %-10s %-7s %12s %12s %10s %8s  %s\n", "layer", "pattern", "backend", "status", "time_s", "median_us",
              "TFLOP/s", "MHz", "kernel or error");
  std::fflush(stdout);
  const ReplayReport rep = run_replay(dev.get(), runs, ro, [&](const ReplayRow& r) {
    if (results) results->add(r);
    if (r.ok()) {
      std::printf("%-28s %-28s %-10s %-7s %12.6g %12.3f %10.1f %8.0f  %s\n", r.result.layer.c_str(), r.result.pattern.c_str(),
                  r.backend.c_str(), r.status.c_str(), r.result.time_s, r.timing.median() * 1e6, r.result.tflops, r.timing.sm_clock_mhz,
                  r.result.math_path.c_str());
    } else {
      std::printf("%-28s %-28s %-10s %-7s %12s %12s %10s %8s  %s\n", r.result.layer.c_str(), r.result.pattern.c_str(),
                  r.backend.c_str(), r.status.c_str(), "-", "-", "-", "-", r.status == "failed" ? r.error.c_str() : r.result.math_path.c_str());
    }
    std::fflush(stdout);
  });

  const ReplaySummary sum = summarize(rep.rows);
  print_phases(rep.phases, ro.dry_run ? "host part of the" : "GPU");
  if (ro.dry_run) {
    std::printf("estimate: host %.1f s measured here (%d threads) + GPU %.1f s estimated = %.1f s\n", rep.phases.wall_s,
                rep.phases.threads, est.gpu_s, rep.phases.wall_s + est.gpu_s);
  }
  std::printf("summary: %zu rows: %d ok, %d failed, %d dry-run\n", rep.rows.size(), sum.ok, sum.failed, sum.dry_run);
  for (std::size_t i = 0; i < sum.failures.size() && i < 10; ++i) std::printf("  failed: %s\n", sum.failures[i].c_str());
  if (sum.failures.size() > 10) std::printf("  ... and %zu more (results.csv has every error)\n", sum.failures.size() - 10);
  if (!out_dir.empty()) {
    meta += phases_yaml(rep.phases);
    meta += fmt::format("summary:\n  rows: {}\n  ok: {}\n  failed: {}\n  dry_run: {}\nstatus: done\n", rep.rows.size(), sum.ok,
                        sum.failed, sum.dry_run);
    write_file_atomic(out_dir + "/replay.yaml", meta);
    std::printf("wrote %s/results.csv, replay.yaml and gemms.trace\n", out_dir.c_str());
  }
  std::fflush(stdout);
  if (sum.failed > 0) {
    std::fprintf(stderr, "stcsim-gpu replay: %d of %zu rows failed (their errors are in the rows)\n", sum.failed, rep.rows.size());
    return 1;
  }
  return 0;
}

}  // namespace stcsim::replay::cli
