#include <fmt/format.h>

#include <cstdio>

#include "cli/usage.h"
#include "cuda/cli/gpu_app.h"
#include "cuda/device/cuda_device.h"

namespace stcsim::replay::cli {

namespace {

constexpr const char* kHelp =
    "Usage: stcsim-gpu <command> [options]\n\n"
    "Replays stcsim's workloads on a real GPU: the same GEMMs, masks and compressed operands the simulator\n"
    "uses, run by cuBLAS, cuSPARSE, cuSPARSELt (where built) and the project's own kernels, each checked\n"
    "against the reference before it is timed.\n\n"
    "Commands:\n"
    "  replay    time a trace or one GEMM for one or more patterns; writes results.csv in stcsim run's schema\n"
    "  selftest  check every backend and pattern on small GEMMs (exit 77 where there is no GPU)\n"
    "  info      print the device, clocks, driver and library versions\n\n"
    "Run 'stcsim-gpu <command> --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  return stcsim::cli::run_guarded("stcsim-gpu", cmd, [&]() {
    try {
      if (cmd == "replay") return cmd_replay(args);
      if (cmd == "selftest") return cmd_selftest(args);
      if (cmd == "info") return cmd_info(args);
    } catch (const NoGpuError& e) {
      std::fprintf(stderr, "stcsim-gpu: %s\n", e.what());
      return kExitNoGpu;
    }
    std::fprintf(stderr, "stcsim-gpu: unknown command '%s' (replay, selftest, info)\n", cmd.c_str());
    return 2;
  });
}

}  // namespace stcsim::replay::cli

int main(int argc, char** argv) { return stcsim::replay::cli::main(argc, argv); }
