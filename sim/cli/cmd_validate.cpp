// stcsim validate: checks config, trace and workload files without running anything.
#include <fmt/format.h>

#include <cstdio>

#include "cli/app.h"
#include "cli/usage.h"
#include "cli/file_kind.h"
#include "common/error.h"

namespace stcsim::cli {

namespace {

constexpr const char* kUsage =
    "Usage: stcsim validate FILE...\n\n"
    "Checks each file completely without running anything: machine configs and their include files\n"
    "(YAML with arch, kernel or energy), workloads (YAML with layers) and GEMM traces. Prints 'ok' and\n"
    "a summary per good file, one error line per bad one; exits 1 if any file is bad.";

constexpr const char* kExamples =
    "  stcsim validate configs/h100.yaml\n"
    "  stcsim validate configs/*.yaml traces/*.trace workloads/*.yaml\n";

}  // namespace

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()("files", po::value<std::vector<std::string>>(), "files to check");
  po::positional_options_description pos;
  pos.add("files", -1);
  po::variables_map vm;
  if (!parse_args(args, opts, pos, vm, kUsage, kExamples)) return 0;
  if (!vm.count("files")) throw UsageError("give at least one file");

  int bad = 0;
  for (const auto& f : vm["files"].as<std::vector<std::string>>()) {
    try {
      const std::string summary = validate_file(f);
      std::printf("ok    %s (%s)\n", f.c_str(), summary.c_str());
    } catch (const Error& e) {
      std::fprintf(stderr, "stcsim: %s\n", e.what());
      ++bad;
    }
  }
  return bad ? 1 : 0;
}

}  // namespace stcsim::cli
