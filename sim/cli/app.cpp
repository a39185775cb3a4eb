#include "cli/app.h"

#include <boost/program_options/errors.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <new>

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
  try {
    if (cmd == "trace") return cmd_trace(args);
    if (cmd == "prune") return cmd_prune(args);
    if (cmd == "validate") return cmd_validate(args);
    if (cmd == "run") return cmd_run(args);
    std::fprintf(stderr, "stcsim: unknown command '%s' (commands: trace, prune, validate, run)\n", cmd.c_str());
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "stcsim %s: %s (see stcsim %s --help)\n", cmd.c_str(), e.what(), cmd.c_str());
    return 2;
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "stcsim %s: %s (see stcsim %s --help)\n", cmd.c_str(), e.what(), cmd.c_str());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "stcsim: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "stcsim: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stcsim: internal error: %s\n", e.what());
    return 3;
  }
}

}  // namespace stcsim::cli
