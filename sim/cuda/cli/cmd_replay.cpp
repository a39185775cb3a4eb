// stcsim-gpu replay: the simulator's workload on the GPU (cuda/host/replay.h).
#include <fmt/format.h>

#include <cstdio>

#include "cli/gemm_arg.h"
#include "cli/usage.h"
#include "common/file_io.h"
#include "common/strings.h"
#include "common/version.h"
#include "config/machine_config.h"
#include "cuda/cli/gpu_app.h"
#include "cuda/device/cuda_device.h"
#include "cuda/host/replay.h"
#include "cuda/host/replay_layout.h"

namespace stcsim::replay::cli {

namespace po = stcsim::cli::po;
using stcsim::cli::UsageError;

namespace {

constexpr const char* kUsage =
    "Usage: stcsim-gpu replay [--config C] (--trace T | --gemm MxNxK [--dtype D]) [--pattern P]... [--set k=v]...\n"
    "                         [--seed S] [--backends LIST] [--warmup W] [--repeats R] [--tolerance X]\n"
    "                         [--energy-window SECONDS] [--device N] [--out DIR]\n\n"
    "Runs the GEMMs of trace T (or one GEMM) on the GPU with the operands stcsim run builds for the same\n"
    "trace, pattern and seed: S, the weight operand pruned and compressed by the core library, and the dense\n"
    "operand D. Each --pattern is one run (as in stcsim run). Each GEMM runs on every backend that handles\n"
    "its pattern (--backends narrows the list: cublas, own, cusparselt, cusparse):\n"
    "  dense         cuBLAS and the own mma.sync kernel          2:4           own mma.sp kernel, cuSPARSELt\n"
    "  tw, tvw       own kernel on compacted tiles               block         cuSPARSE Blocked-ELL\n"
    "  unstructured  cuSPARSE CSR\n"
    "The own kernels take their tiling (CTA and warp tiles, stages, raster, tile order) from the kernel config\n"
    "of C, which must be of the mma.sync / mma.sp.sync family (configs/h100_mma_sp.yaml); with another family\n"
    "only the vendor libraries run. Before it is timed, every kernel's result is checked against cuBLAS on the\n"
    "decompressed matrix: bit for bit on operands whose sums are exact, and within --tolerance x max|reference|\n"
    "on the real ones; a failed check is an error. Timing: W warm-up launches, then R launches each timed with\n"
    "CUDA events (median, min, max); with NVML, launches repeat for --energy-window seconds to read the board's\n"
    "energy per GEMM. --out writes DIR/results.csv (stcsim run's columns, unmeasured ones empty, plus backend\n"
    "and timing columns), DIR/replay.yaml (device, clocks, versions, options) and DIR/gemms.trace.";

constexpr const char* kExamples =
    "  stcsim-gpu replay --config configs/h100_mma_sp.yaml --gemm 8192x8192x8192 --pattern dense --pattern 2:4\n"
    "  stcsim-gpu replay --config configs/h100_mma_sp.yaml --trace traces/bert-base_b32_s128.trace \\\n"
    "                    --pattern dense --pattern 2:4 --pattern 'tw(g=128,sparsity=0.5)' --out /tmp/bert-h100\n";

std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string describe_device_yaml(Device& dev) {
  const DeviceInfo d = dev.info();
  return fmt::format(
      "device:\n  name: {}\n  compute_capability: \"{}\"\n  sms: {}\n  sm_clock_max_mhz: {}\n  mem_clock_max_mhz: {}\n"
      "  power_limit_w: {}\n  nvml: {}\n  driver: {}\n  runtime: {}\n  libraries: {}\n",
      yaml_quote(d.name), d.compute_capability, d.sms, shortest_double(d.sm_clock_max_mhz), shortest_double(d.mem_clock_max_mhz),
      shortest_double(d.power_limit_w), d.nvml ? "true" : "false", yaml_quote(d.driver_version), yaml_quote(d.runtime_version),
      yaml_quote(d.library_versions));
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
      ("warmup", po::value<int>()->default_value(3), "untimed launches before timing")
      ("repeats", po::value<int>()->default_value(10), "timed launches (median, min, max reported)")
      ("tolerance", po::value<double>()->default_value(1e-3), "value check: max |got - reference| / max |reference|")
      ("energy-window", po::value<double>()->default_value(0.5), "seconds of back-to-back launches per energy reading (0: none)")
      ("device", po::value<int>()->default_value(0), "CUDA device index")
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
  ro.warmup = vm["warmup"].as<int>();
  ro.repeats = vm["repeats"].as<int>();
  ro.tolerance = vm["tolerance"].as<double>();
  if (ro.warmup < 0) throw UsageError("--warmup: must be >= 0");
  if (ro.repeats < 1) throw UsageError("--repeats: must be >= 1");
  if (!(ro.tolerance >= 0)) throw UsageError("--tolerance: must be >= 0");
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
  dopt.energy_window_s = vm["energy-window"].as<double>();
  if (!(dopt.energy_window_s >= 0)) throw UsageError("--energy-window: must be >= 0");
  auto dev = open_cuda_device(dopt);
  std::string out_dir;
  if (vm.count("out")) {
    out_dir = vm["out"].as<std::string>();
    ensure_writable_dir(out_dir);
  }
  const std::string device_yaml = describe_device_yaml(*dev);
  std::fputs(device_yaml.c_str(), stdout);
  std::printf("machine: %s (kernel %s)%s\n", config_path.c_str(), machine.kernel.name.c_str(),
              ro.own_kernel ? fmt::format(", own kernels: {}", ro.tiling.describe()).c_str() : "");
  if (!ro.own_kernel) std::printf("own kernels not run: %s\n", own_note.c_str());
  std::printf("%-28s %-28s %-10s %12s %12s %10s  %s\n", "layer", "pattern", "backend", "time_s", "median_us", "TFLOP/s",
              "kernel");
  std::fflush(stdout);
  const auto rows = run_replay(*dev, runs, ro, [](const ReplayRow& r) {
    std::printf("%-28s %-28s %-10s %12.6g %12.3f %10.1f  %s\n", r.result.layer.c_str(), r.result.pattern.c_str(),
                r.backend.c_str(), r.result.time_s, r.timing.median() * 1e6, r.result.tflops, r.result.math_path.c_str());
    std::fflush(stdout);
  });

  if (!out_dir.empty()) {
    std::string meta = fmt::format("# stcsim-gpu {} replay (build of commit {})\n", STCSIM_VERSION, build_commit());
    meta += fmt::format("command: {}\n", yaml_quote("stcsim-gpu replay " + join(args, " ")));
    meta += fmt::format("config: {}\nkernel: {}\nown_kernels: {}\nworkload: {}\nseed: {}\nwarmup: {}\nrepeats: {}\n",
                        yaml_quote(config_path), yaml_quote(machine.kernel.name),
                        yaml_quote(ro.own_kernel ? ro.tiling.describe() : "not run: " + own_note), yaml_quote(trace.source),
                        ro.seed, ro.warmup, ro.repeats);
    meta += fmt::format("tolerance: {}\nenergy_window_s: {}\n", shortest_double(ro.tolerance), shortest_double(dopt.energy_window_s));
    meta += device_yaml;
    write_file_atomic(out_dir + "/results.csv", replay_csv(rows));
    write_file_atomic(out_dir + "/replay.yaml", meta);
    write_trace(out_dir + "/gemms.trace", trace, "GEMMs as given to stcsim-gpu replay (before --pattern)");
    std::printf("\nwrote %s/results.csv, replay.yaml and gemms.trace\n", out_dir.c_str());
  }
  return 0;
}

}  // namespace stcsim::replay::cli
