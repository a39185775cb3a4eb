// stcsim-gpu selftest and info: the backend's checks on small GEMMs, on whatever GPU is there.
#include <fmt/format.h>

#include <cstdio>

#include "cli/usage.h"
#include "cuda/cli/gpu_app.h"
#include "cuda/device/cuda_device.h"
#include "cuda/host/replay.h"
#include "sparsity/registry.h"

namespace stcsim::replay::cli {

namespace po = stcsim::cli::po;

namespace {

constexpr const char* kSelftestUsage =
    "Usage: stcsim-gpu selftest [--device N]\n\n"
    "Runs every backend on small GEMMs of every pattern family it handles, in fp16 and bf16, with each\n"
    "tiling the own kernel is compiled for: shapes that are and are not multiples of the tiles, a single\n"
    "16x8x32 sparse MMA (the metadata fragment layout), and tiles of unequal K. Each is checked bit for bit\n"
    "on exact operands and within tolerance on the simulator's own operands (stcsim-gpu replay's checks).\n"
    "Exits 0 when all pass, 1 when any fails, 77 (printing SKIP) where there is no GPU.";

constexpr const char* kInfoUsage = "Usage: stcsim-gpu info [--device N]\n\nPrints the device, its clocks, the driver and the libraries.";

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
  opts.add_options()("device", po::value<int>()->default_value(0), "CUDA device index");
  po::variables_map vm;
  if (!stcsim::cli::parse_args(args, opts, {}, vm, kSelftestUsage, "  stcsim-gpu selftest\n")) return 0;
  CudaDeviceOptions dopt;
  dopt.index = vm["device"].as<int>();
  dopt.energy_window_s = 0;
  std::unique_ptr<Device> dev;
  try {
    dev = open_cuda_device(dopt);
  } catch (const NoGpuError& e) {
    std::printf("SKIP: %s\n", e.what());
    return kExitNoGpu;
  }
  std::fputs(describe_device_yaml(*dev).c_str(), stdout);

  const std::vector<std::string> patterns = {"dense",
                                             "2:4",
                                             "tw(g=32,sparsity=0.5)",
                                             "tw(g=128,sparsity=0.75)",
                                             "tvw(g=64,sparsity=0.5,n=2,m=4)",
                                             "block(b=16,sparsity=0.5)",
                                             "unstructured(sparsity=0.9)"};
  int passed = 0, failed = 0;
  for (const KernelTiling& tiling : compiled_tilings()) {
    for (DType t : {DType::fp16, DType::bf16}) {
      Trace trace;
      trace.source = fmt::format("selftest({}, {})", tiling.describe(), dtype_name(t));
      trace.ops = {op("one_mma", 16, 8, 32, Operand::A, t), op("edges", 200, 72, 136, Operand::B, t),
                   op("tiles", 256, 256, 512, Operand::A, t), op("skewed", 8, 1000, 96, Operand::B, t)};
      trace.lines = {1, 2, 3, 4};
      for (const std::string& p : patterns) {
        ReplayRunInput run{builtin_registry().canonical(p), trace};
        for (auto& g : run.trace.ops) g.pattern = run.label;
        ReplayOptions ro;
        ro.warmup = 0;
        ro.repeats = 1;
        ro.tiling = tiling;
        try {
          const auto rows = run_replay(*dev, {run}, ro);
          passed += static_cast<int>(rows.size());
          for (const auto& r : rows) {
            std::printf("ok    %-9s %-5s %-34s %-10s %s\n", r.result.layer.c_str(), dtype_name(t).data(), r.result.pattern.c_str(),
                        r.backend.c_str(), r.result.math_path.c_str());
          }
        } catch (const Error& e) {
          ++failed;
          std::printf("FAIL  %s: %s\n", trace.source.c_str(), e.what());
        }
        std::fflush(stdout);
      }
    }
  }
  std::printf("selftest: %d checks passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

int cmd_info(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()("device", po::value<int>()->default_value(0), "CUDA device index");
  po::variables_map vm;
  if (!stcsim::cli::parse_args(args, opts, {}, vm, kInfoUsage, "  stcsim-gpu info\n")) return 0;
  CudaDeviceOptions dopt;
  dopt.index = vm["device"].as<int>();
  auto dev = open_cuda_device(dopt);
  std::fputs(describe_device_yaml(*dev).c_str(), stdout);
  std::string tilings;
  for (const KernelTiling& t : compiled_tilings()) tilings += (tilings.empty() ? "" : "; ") + t.describe();
  std::printf("own_kernel_tilings: \"%s\"\n", tilings.c_str());
  return 0;
}

}  // namespace stcsim::replay::cli
