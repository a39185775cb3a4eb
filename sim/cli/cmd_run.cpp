// stcsim run: simulate a trace or one GEMM on a configured machine. The cycle-level model is not
// built yet: this loads and checks everything a simulation needs, maps each GEMM onto the machine,
// prints what would be simulated, and says that nothing was.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "cli/app.h"
#include "cli/usage.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/strings.h"
#include "config/machine_config.h"
#include "mapping/math_path.h"
#include "sparsity/registry.h"
#include "trace/trace_io.h"
#include "workload/workload.h"

namespace stcsim::cli {

namespace {

constexpr const char* kUsage =
    "Usage: stcsim run [--config C] (--trace T | --gemm MxNxK [--dtype D]) [--pattern P] [--set k=v]... [--out DIR]\n\n"
    "Simulates a GEMM trace, or one GEMM, on the machine described by config C (default configs/h100.yaml).\n"
    "--pattern applies P to the weight operand of every weight GEMM (those whose sparse operand is A or B);\n"
    "--gemm puts the weights on operand B. --set overrides any config key by its path.\n"
    "Status: the cycle-level model is the next piece of work. Until it lands, run loads and checks the\n"
    "machine and the GEMMs, maps each GEMM onto the machine, prints what it would simulate, and says so;\n"
    "with --out it writes the resolved config (config.yaml) and the GEMMs as run (gemms.trace).";

constexpr const char* kExamples =
    "  stcsim run --trace traces/bert-base_b32_s128.trace\n"
    "  stcsim run --config configs/a100.yaml --gemm 8192x8192x8192 --dtype bf16 --pattern 2:4\n"
    "  stcsim run --config configs/h100.yaml --trace traces/resnet-50_b32.trace --pattern 'tw(g=128,sparsity=0.5)' \\\n"
    "             --set arch.sms=114 --set arch.dram.bandwidth_gbps=2000\n";

std::string default_config() {
  const std::string local = "configs/h100.yaml";
  if (std::filesystem::exists(local)) return local;
  const std::string shipped = std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml";
  if (std::filesystem::exists(shipped)) return shipped;
  throw UsageError("no --config given and configs/h100.yaml is not in the working folder");
}

GemmOp parse_gemm(const std::string& text, DType dtype) {
  const auto parts = split(text, 'x');
  if (parts.size() != 3) throw UsageError(fmt::format("--gemm: expected MxNxK, got '{}'", text));
  GemmOp g;
  g.layer = "gemm";
  std::int64_t* dims[] = {&g.m, &g.n, &g.k};
  for (int i = 0; i < 3; ++i) {
    const auto v = parse_int(parts[static_cast<std::size_t>(i)]);
    if (!v) throw UsageError(fmt::format("--gemm: '{}' in '{}' is not an integer", std::string(parts[static_cast<std::size_t>(i)]), text));
    *dims[i] = *v;
  }
  g.dtype = dtype;
  g.sparse = Operand::B;
  return g;
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()
      ("config,c", po::value<std::string>(), "machine config (default configs/h100.yaml)")
      ("trace,t", po::value<std::string>(), "GEMM trace to simulate")
      ("gemm,g", po::value<std::string>(), "one GEMM MxNxK instead of a trace, weights on operand B")
      ("dtype", po::value<std::string>()->default_value("fp16"), "data type of --gemm: fp16, bf16, tf32, int8, fp8")
      ("pattern,p", po::value<std::string>(), "sparsity pattern for every weight GEMM")
      ("set,s", po::value<std::vector<std::string>>()->composing(), "override a config key: key.path=value (repeatable)")
      ("out,o", po::value<std::string>(), "folder for the results");
  po::variables_map vm;
  if (!parse_args(args, opts, {}, vm, kUsage, kExamples)) return 0;

  if (vm.count("trace") == vm.count("gemm")) throw UsageError("give exactly one of --trace and --gemm");
  if (vm.count("trace") && !vm["dtype"].defaulted()) throw UsageError("--dtype goes with --gemm; a trace gives each GEMM's type");
  const std::string config_path = vm.count("config") ? vm["config"].as<std::string>() : default_config();
  const auto sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  const MachineConfig machine = load_machine_config(config_path, sets);

  Trace trace;
  if (vm.count("trace")) {
    trace = read_trace(vm["trace"].as<std::string>(), builtin_registry());
  } else {
    const auto dtype = parse_dtype(vm["dtype"].as<std::string>());
    if (!dtype) throw UsageError(fmt::format("--dtype: '{}' is not one of {}", vm["dtype"].as<std::string>(), dtype_choices()));
    trace.source = "--gemm " + vm["gemm"].as<std::string>();
    trace.ops.push_back(parse_gemm(vm["gemm"].as<std::string>(), *dtype));
    trace.lines.push_back(1);
    if (const auto problem = gemm_problem(trace.ops[0])) throw UsageError(fmt::format("--gemm: {}: {}", problem->first, problem->second));
  }
  if (vm.count("pattern")) {
    const std::string spec = builtin_registry().canonical(vm["pattern"].as<std::string>());
    for (auto& g : trace.ops) {
      if (g.sparse != Operand::none) g.pattern = spec;
    }
  }

  std::printf("machine: %s%s\n", config_path.c_str(), sets.empty() ? "" : fmt::format(" with --set {}", join(sets, ", ")).c_str());
  std::fputs(describe(machine).c_str(), stdout);
  std::printf("\nworkload: %s (%zu GEMM lines)\n", trace.source.c_str(), trace.ops.size());
  std::printf("%-28s %7s %7s %7s %-5s %-28s %6s %12s  %s\n", "layer", "m", "n", "k", "dtype", "pattern", "count", "dense GMACs", "math path");
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const GemmOp& g = trace.ops[i];
    GemmMapping mapping;
    try {
      mapping = map_gemm(g, machine);
    } catch (const Error& e) {
      throw Error(fmt::format("{}:{}: {}", trace.source, trace.lines[i], e.what()));
    }
    const std::uint64_t macs = g.dense_macs();
    std::printf("%-28s %7lld %7lld %7lld %-5s %-28s %6lld %12.3f  %s\n", g.layer.c_str(), static_cast<long long>(g.m),
                static_cast<long long>(g.n), static_cast<long long>(g.k), std::string(dtype_name(g.dtype)).c_str(),
                g.pattern.c_str(), static_cast<long long>(g.count), static_cast<double>(macs) * 1e-9, mapping.note.c_str());
  }
  std::printf("total dense GMACs: %.3f\n", static_cast<double>(trace_totals(trace).dense_macs) * 1e-9);
  if (vm.count("out")) {
    const std::string dir = vm["out"].as<std::string>();
    ensure_dir(dir);
    write_file_atomic(dir + "/config.yaml", to_yaml(machine));
    write_trace(dir + "/gemms.trace", trace, "GEMMs as given to stcsim run (pattern overrides applied)");
    std::printf("wrote %s/config.yaml and %s/gemms.trace\n", dir.c_str(), dir.c_str());
  }
  std::printf("\nstcsim run: the cycle-level model is not built yet; the machine and the GEMMs above were loaded and\n"
              "checked, and nothing was simulated (no cycles, no energy).\n");
  return 0;
}

}  // namespace stcsim::cli
