// stcsim-gpu selftest and info: the backend's checks on small GEMMs, on whatever GPU is there.
#include <fmt/format.h>

#include <cstdio>

#include "cli/gemm_arg.h"
#include "cli/usage.h"
#include "common/parallel.h"
#include "config/machine_config.h"
#include "cuda/cli/gpu_app.h"
#include "cuda/device/cuda_device.h"
#include "cuda/host/replay.h"
#include "cuda/host/replay_estimate.h"
#include "sparsity/registry.h"

namespace stcsim::replay::cli {

namespace po = stcsim::cli::po;

namespace {

constexpr const char* kSelftestUsage =
    "Usage: stcsim-gpu selftest [--device N] [--dry-run]\n\n"
    "Runs every backend on small GEMMs of every pattern family it handles, in fp16 and bf16, with each\n"
    "tiling the own kernel is compiled for: shapes that are and are not multiples of the tiles, a single\n"
    "16x8x32 sparse MMA (the metadata fragment layout), and tiles of unequal K. Each is checked bit for bit\n"
    "on exact operands and within tolerance on the simulator's own operands (stcsim-gpu replay's checks).\n"
    "cuBLAS, the reference, is itself checked against the host's product. Exits 0 when all pass, 1 when any\n"
    "fails, 77 (printing SKIP) where there is no GPU. --dry-run prepares and stages every check on the host.";

constexpr const char* kInfoUsage =
    "Usage: stcsim-gpu info [--device N]\n\n"
    "Prints the libraries loaded at run time (the cuSPARSELt plugin, NVML: where each was found, or where\n"
    "it was looked for), the own kernel's tilings, then the device, its clocks, the driver and the libraries.";

GemmOp op(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k, Operand sparse, DType t) {
  GemmOp g;
  g.layer = name;
  g.m = m, g.n = n, g.k = k;
  g.sparse = sparse;
  g.dtype = t;
  return g;
}

}  // namespace

int cmd_selftest(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()("device", po::value<int>()->default_value(0), "CUDA device index")(
      "dry-run", "prepare and stage every check on the host; run nothing (needs no GPU)")(
      "config", po::value<std::string>(), "machine whose GPU a --dry-run estimates the time for (default configs/h100.yaml)");
  po::variables_map vm;
  if (!stcsim::cli::parse_args(args, opts, {}, vm, kSelftestUsage, "  stcsim-gpu selftest\n")) return 0;
  const bool dry = vm.count("dry-run") > 0;
  CudaDeviceOptions dopt;
  dopt.index = vm["device"].as<int>();
  std::unique_ptr<Device> dev;
  if (!dry) {
    try {
      dev = open_cuda_device(dopt);
    } catch (const NoGpuError& e) {
      std::printf("SKIP: %s\n", e.what());
      return kExitNoGpu;
    }
    std::fputs(describe_device_yaml(*dev).c_str(), stdout);
  }
  std::vector<KernelTiling> tilings = compiled_tilings();
  if (tilings.empty()) tilings = {KernelTiling{}};  // a build without CUDA: the default tiling, for the dry run

  const std::vector<std::string> patterns = {"dense",
                                             "2:4",
                                             "tw(g=32,sparsity=0.5)",
                                             "tw(g=128,sparsity=0.75)",
                                             "tvw(g=64,sparsity=0.5,n=2,m=4)",
                                             "block(b=16,sparsity=0.5)",
                                             "unstructured(sparsity=0.9)"};
  int passed = 0, failed = 0, prepared = 0;
  double estimate_s = 0, host_s = 0;
  const GpuConfig arch =
      load_machine_config(vm.count("config") ? vm["config"].as<std::string>() : stcsim::cli::default_config(), {}).arch;
  for (const KernelTiling& tiling : tilings) {
    for (DType t : {DType::fp16, DType::bf16}) {
      Trace trace;
      trace.source = fmt::format("selftest({}, {})", tiling.describe(), dtype_name(t));
      trace.ops = {op("one_mma", 16, 8, 32, Operand::A, t), op("edges", 200, 72, 136, Operand::B, t),
                   op("tiles", 256, 256, 512, Operand::A, t), op("skewed", 8, 1000, 96, Operand::B, t)};
      trace.lines = {1, 2, 3, 4};
      std::vector<ReplayRunInput> runs;
      for (const std::string& p : patterns) {
        ReplayRunInput run{builtin_registry().canonical(p), trace};
        for (auto& g : run.trace.ops) g.pattern = run.label;
        runs.push_back(std::move(run));
      }
      ReplayOptions ro;
      ro.timing.warmup_s = 0;
      ro.timing.repeats = 1;
      ro.timing.min_sample_s = 1e-6;
      ro.timing.graph = false;
      ro.timing.energy_window_s = 0;
      ro.tiling = tiling;
      ro.host_reference = true;
      ro.dry_run = dry;
      const ReplayReport rep = run_replay(dev.get(), runs, ro);
      estimate_s += estimate_replay(plan_items(nullptr, runs, ro), ro, arch).gpu_s;
      host_s += rep.phases.wall_s;
      for (const auto& r : rep.rows) {
        if (r.ok()) {
          ++passed;
          std::printf("ok    %-9s %-5s %-34s %-10s %s\n", r.result.layer.c_str(), dtype_name(t).data(), r.result.pattern.c_str(),
                      r.backend.c_str(), r.result.math_path.c_str());
        } else if (r.status == "dry-run") {
          ++prepared;
        } else {
          ++failed;
          std::printf("FAIL  %s\n", r.error.c_str());
        }
      }
      std::fflush(stdout);
    }
  }
  if (dry) {
    std::printf("selftest --dry-run: %d checks prepared and staged, %d failed to prepare\n", prepared, failed);
    std::printf("estimate: host %.1f s measured here (%d threads) + GPU %.1f s estimated = %.1f s\n", host_s, host_threads(), estimate_s,
                host_s + estimate_s);
  } else {
    std::printf("selftest: %d checks passed, %d failed\n", passed, failed);
  }
  return failed == 0 ? 0 : 1;
}

int cmd_info(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()("device", po::value<int>()->default_value(0), "CUDA device index");
  po::variables_map vm;
  if (!stcsim::cli::parse_args(args, opts, {}, vm, kInfoUsage, "  stcsim-gpu info\n")) return 0;
  std::printf("libraries_loaded_at_run_time:\n");
  for (const std::string& line : runtime_library_report()) std::printf("  - %s\n", yaml_quote(line).c_str());
  std::string tilings;
  for (const KernelTiling& t : compiled_tilings()) tilings += (tilings.empty() ? "" : "; ") + t.describe();
  std::printf("own_kernel_tilings: \"%s\"\n", tilings.c_str());
  std::fflush(stdout);
  CudaDeviceOptions dopt;
  dopt.index = vm["device"].as<int>();
  auto dev = open_cuda_device(dopt);
  std::fputs(describe_device_yaml(*dev).c_str(), stdout);
  return 0;
}

}  // namespace stcsim::replay::cli
