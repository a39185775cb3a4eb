#include "cli/app.h"

#include <fmt/format.h>

#include <cstdio>

#include "cli/usage.h"
#include "common/error.h"

namespace stcsim::cli {

namespace {

constexpr const char* kTopHelp = R"(stcsim: a cycle-level simulator of sparse tensor cores

Usage: stcsim COMMAND [OPTIONS]

Commands:
  trace     turn a workload description into a GEMM trace
  prune     prune a weight matrix with a sparsity pattern; statistics, mask and compressed form
  validate  check config and trace files without running
  run       simulate a trace or a single GEMM on a configured machine
  sweep     run a design-space sweep described in YAML (in parallel, resumable, or on a cluster)

  stcsim COMMAND --help   shows a command's options and examples.
  stcsim --version        prints the version.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kTopHelp, stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("stcsim %s\n", STCSIM_VERSION);
    return 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  return run_guarded("stcsim", cmd, [&]() {
    if (cmd == "trace") return cmd_trace(args);
    if (cmd == "prune") return cmd_prune(args);
    if (cmd == "validate") return cmd_validate(args);
    if (cmd == "run") return cmd_run(args);
    if (cmd == "sweep") return cmd_sweep(args);
    std::fprintf(stderr, "stcsim: unknown command '%s' (commands: trace, prune, validate, run, sweep)\n", cmd.c_str());
    return 2;
  });
}

}  // namespace stcsim::cli
