// stcsim run: simulate a trace or one GEMM on a configured machine, cycle by cycle, and report cycles,
// stalls and energy per trace line (gpu/simulation.h). Several --pattern values give several runs of
// the same GEMMs in one simulation, printed side by side.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "cli/app.h"
#include "cli/gemm_arg.h"
#include "cli/usage.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/strings.h"
#include "cli/run_report.h"
#include "config/machine_config.h"
#include "functional/functional.h"
#include "gpu/simulation.h"
#include "report/results.h"
#include "mapping/math_path.h"
#include "sparsity/registry.h"
#include "sparsity/stats.h"
#include "trace/trace_io.h"
#include "workload/workload.h"

namespace stcsim::cli {

namespace {

constexpr const char* kUsage =
    "Usage: stcsim run [--config C] (--trace T | --gemm MxNxK [--dtype D]) [--pattern P]... [--set k=v]...\n"
    "                  [--seed S] [--out DIR] [--vcd FILE] [--functional] [--weight-stats] [--model M]\n\n"
    "Simulates a GEMM trace, or one GEMM, cycle by cycle on the machine described by config C (default\n"
    "configs/h100.yaml) and prints per layer and in total: cycles, time at the configured clock, TFLOP/s\n"
    "(dense-equivalent), tensor-core utilisation, where the SMs' cycles went, and energy by component.\n"
    "--pattern applies P to the weight operand of every weight GEMM (those whose sparse operand is A or B);\n"
    "given several times, each pattern is one run of the same GEMMs and the runs are compared side by side\n"
    "(--pattern dense --pattern 2:4). --gemm puts the weights on operand B. --set overrides any config key\n"
    "by its path. --seed seeds the weights that tile-wise, block and unstructured masks are cut from.\n"
    "--out writes DIR/results.csv (one row per run and trace line), DIR/stats.yaml (every counter under\n"
    "the module hierarchy's names), DIR/config.yaml (the resolved machine) and DIR/gemms.trace.\n"
    "--vcd writes a waveform (1 ns = 1 cycle) of each SM's resident CTAs and k-block loads and of the\n"
    "L2 and DRAM backlogs (with --model cycle also each sub-core's instructions issued and each tensor\n"
    "core's busy signal); meant for small runs.\n"
    "--model picks the SM model: fast (the default: each CTA's main loop as k-blocks priced from the\n"
    "tensor cores, register file and shared memory) or cycle (each CTA as warps issuing instructions into\n"
    "SystemC sub-cores, register files, operand selectors, tensor cores and shared memory joined by\n"
    "bounded queues; slower, and the reference the fast model is checked against: docs/model.md).\n"
    "--weight-stats adds to each weight line's row in results.csv what pruning kept of its weights: density,\n"
    "metadata bytes of the compressed form, and the fraction of sum |w| kept.\n"
    "--functional (small GEMMs, at most 2^30 MACs per copy) first computes every GEMM for real from the\n"
    "compressed weights through the operand selector and the tensor-core lanes, compares it bit for bit\n"
    "with a reference GEMM of the pruned weights, prints the comparison (DIR/functional.csv with --out),\n"
    "and fails if any GEMM differs. With --model cycle the values are computed by the MMAs the cycle\n"
    "model's warps issue, as its tensor cores start them (split-K launches refused); cycles are unchanged.";

constexpr const char* kExamples =
    "  stcsim run --trace traces/bert-base_b32_s128.trace --pattern dense --pattern 2:4\n"
    "  stcsim run --config configs/a100.yaml --gemm 8192x8192x8192 --dtype bf16 --pattern 2:4 --out /tmp/a100\n"
    "  stcsim run --config configs/h100.yaml --trace traces/resnet-50_b32.trace --pattern 'tw(g=128,sparsity=0.5)' \\\n"
    "             --set arch.sms=114 --set arch.dram.bandwidth_gbps=2000\n"
    "  stcsim run --gemm 256x256x256 --pattern 2:4 --vcd /tmp/small.vcd\n"
    "  stcsim run --gemm 200x72x136 --pattern 2:4 --pattern 'tw(g=32,sparsity=0.5)' --pattern 16:2:8 --functional\n";

// --functional: the table and functional.csv of every line's comparison (results[run][line]);
// throws Error when any line differs from the reference.
std::string report_functional(const std::vector<RunInput>& runs, const std::vector<std::vector<FunctionalResult>>& results,
                              const char* through) {
  std::string csv = "run,layer,m,n,k,dtype,pattern,path,elements,mismatches,max_abs_error,exact\n";
  std::printf("\n== functional mode: each GEMM computed through %s vs the reference GEMM of the pruned weights\n", through);
  std::printf("%-24s %-32s %10s %10s %12s  %s\n", "layer", "pattern", "elements", "mismatches", "max |error|", "path");
  std::size_t failed = 0;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const RunInput& run = runs[r];
    for (std::size_t i = 0; i < run.trace.ops.size() && i < results.at(r).size(); ++i) {
      const GemmOp& g = run.trace.ops[i];
      const FunctionalResult& f = results[r][i];
      failed += f.exact() ? 0 : 1;
      std::printf("%-24s %-32s %10llu %10llu %12.6g  %s\n", g.layer.c_str(), g.pattern.c_str(),
                  static_cast<unsigned long long>(f.elements), static_cast<unsigned long long>(f.mismatches),
                  f.max_abs_error, f.path.c_str());
      csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(run.label), csv_field(g.layer), g.m, g.n, g.k,
                         dtype_name(g.dtype), csv_field(g.pattern), csv_field(f.path), f.elements, f.mismatches,
                         shortest_double(f.max_abs_error), f.exact() ? 1 : 0);
    }
  }
  if (failed > 0) throw Error(fmt::format("functional mode: {} GEMM line(s) differ from the reference GEMM", failed));
  std::printf("functional mode: every GEMM equals the reference bit for bit\n");
  return csv;
}

// --functional with the fast model: every line of every run computed for real through the datapath
// (run_functional) before the timing run. Throws Error naming the trace line for a GEMM over the size
// limit.
std::vector<std::vector<FunctionalResult>> run_functional_checks(const MachineConfig& machine,
                                                                 const std::vector<RunInput>& runs, std::uint64_t seed) {
  std::vector<std::vector<FunctionalResult>> out;
  for (const RunInput& run : runs) {
    out.emplace_back();
    for (std::size_t i = 0; i < run.trace.ops.size(); ++i) {
      const GemmOp& g = run.trace.ops[i];
      const std::size_t line = i < run.trace.lines.size() ? run.trace.lines[i] : i + 1;
      try {
        check_functional_size(g);  // before the operands are generated
        const GemmMapping map = map_gemm(g, machine);
        const SparseOperand op = build_operand(g, seed, line);
        out.back().push_back(run_functional(g, map, machine, op, seed, line));
      } catch (const Error& e) {
        throw Error(fmt::format("{}:{}: functional mode: {}", run.trace.source, line, e.what()));
      }
    }
  }
  return out;
}

// --weight-stats: what pruning kept of each weight line's generated weights (the simulator's own
// operand, build_operand), added to its rows.
void add_weight_stats(std::vector<RunResult>& results, const std::vector<RunInput>& runs, std::uint64_t seed) {
  for (std::size_t r = 0; r < results.size(); ++r) {
    const Trace& t = runs.at(r).trace;
    for (std::size_t i = 0; i < t.ops.size() && i < results[r].rows.size(); ++i) {
      const GemmOp& g = t.ops[i];
      if (g.sparse == Operand::none) continue;
      const std::size_t line = i < t.lines.size() ? static_cast<std::size_t>(t.lines[i]) : i + 1;
      const SparseOperand op = build_operand(g, seed, line);
      const PatternStats st = measure(*op.pattern, op.weights, op.mask, *op.compressed, g.dtype);
      LayerResult& row = results[r].rows[i];
      row.weight_stats = true;
      row.weight_density = st.density;
      row.metadata_bytes = st.metadata_bytes;
      row.magnitude_kept = st.abs_kept;
    }
  }
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()
      ("config,c", po::value<std::string>(), "machine config (default configs/h100.yaml)")
      ("trace,t", po::value<std::string>(), "GEMM trace to simulate")
      ("gemm,g", po::value<std::string>(), "one GEMM MxNxK instead of a trace, weights on operand B")
      ("dtype", po::value<std::string>()->default_value("fp16"), "data type of --gemm: fp16, bf16, tf32, int8, fp8")
      ("pattern,p", po::value<std::vector<std::string>>()->composing(), "sparsity pattern for every weight GEMM; repeat to compare runs")
      ("set,s", po::value<std::vector<std::string>>()->composing(), "override a config key: key.path=value (repeatable)")
      ("out,o", po::value<std::string>(), "folder for the results")
      ("seed", po::value<std::string>()->default_value("1"), "seed of the generated weights (an integer >= 0)")
      ("vcd", po::value<std::string>(), "write a waveform of the main signals to FILE")
      ("functional", "also compute every GEMM for real through the datapath and compare with a reference GEMM (small GEMMs)")
      ("weight-stats", "add each weight line's kept density, metadata bytes and magnitude kept to results.csv")
      ("model", po::value<std::string>()->default_value("fast"), "SM model: fast (priced k-blocks) or cycle (warps on SystemC sub-cores, register files, selectors, tensor cores)");
  po::variables_map vm;
  if (!parse_args(args, opts, {}, vm, kUsage, kExamples)) return 0;

  if (vm.count("trace") == vm.count("gemm")) throw UsageError("give exactly one of --trace and --gemm");
  if (vm.count("trace") && !vm["dtype"].defaulted()) throw UsageError("--dtype goes with --gemm; a trace gives each GEMM's type");
  const std::string config_path = vm.count("config") ? vm["config"].as<std::string>() : default_config();
  const auto sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  const MachineConfig machine = load_machine_config(config_path, sets);

  const Trace trace = workload_from_args(vm.count("trace") ? vm["trace"].as<std::string>() : std::string(),
                                         vm.count("gemm") ? vm["gemm"].as<std::string>() : std::string(),
                                         vm["dtype"].as<std::string>());
  std::vector<RunInput> runs;
  for (auto& [label, t] : runs_for_patterns(trace, vm.count("pattern") ? vm["pattern"].as<std::vector<std::string>>()
                                                                         : std::vector<std::string>{})) {
    runs.push_back({label, std::move(t)});
  }
  SimOptions sim_opts;
  const auto seed = parse_int(vm["seed"].as<std::string>());
  if (!seed || *seed < 0) throw UsageError(fmt::format("--seed: '{}' is not an integer >= 0", vm["seed"].as<std::string>()));
  sim_opts.seed = static_cast<std::uint64_t>(*seed);
  const std::string model = vm["model"].as<std::string>();
  const auto m = parse_sim_model(model);
  if (!m) throw UsageError(fmt::format("--model: '{}' is not fast or cycle", model));
  sim_opts.model = *m;
  if (vm.count("vcd")) sim_opts.vcd_path = vm["vcd"].as<std::string>();
  std::string out_dir;
  if (vm.count("out")) {
    out_dir = vm["out"].as<std::string>();
    ensure_writable_dir(out_dir);  // before the simulation, not after it
  }

  std::printf("machine: %s%s\n", config_path.c_str(), sets.empty() ? "" : fmt::format(" with --set {}", join(sets, ", ")).c_str());
  std::fputs(describe(machine).c_str(), stdout);
  std::printf("workload: %s (%s, %s dense)\n", trace.source.c_str(), plural(trace.ops.size(), "GEMM line").c_str(),
              si_amount(static_cast<double>(trace_totals(trace).dense_macs), "MACs").c_str());
  std::fflush(stdout);

  // Functional mode: with the fast model through the datapath before the timing run; with the cycle
  // model inside it, the MMAs its warps issue computed as its tensor cores start them.
  std::string functional_csv;
  const bool functional = vm.count("functional") > 0;
  sim_opts.functional = functional && sim_opts.model == SimModel::cycle;
  if (functional && !sim_opts.functional) {
    functional_csv = report_functional(runs, run_functional_checks(machine, runs, sim_opts.seed), "the datapath");
  }

  SimResult result = simulate(machine, runs, sim_opts);
  if (sim_opts.functional) {
    std::vector<std::vector<FunctionalResult>> f;
    for (const RunResult& r : result.runs) f.push_back(r.functional);
    functional_csv = report_functional(runs, f, "the cycle model's MMAs");
  }
  if (vm.count("weight-stats")) add_weight_stats(result.runs, runs, sim_opts.seed);
  std::fputs(format_run_report(machine, result.runs).c_str(), stdout);

  if (!out_dir.empty()) {
    const std::string header = fmt::format("# stcsim {} run: config {}{}, workload {}, seed {}\n", STCSIM_VERSION, config_path,
                                           sets.empty() ? "" : " --set " + join(sets, " --set "), trace.source, sim_opts.seed);
    // All files written first, then renamed into place: a failed write leaves the folder as it was.
    FileSet files;
    try {
      files.add(out_dir + "/results.csv", runs_csv(result.runs));
      files.add(out_dir + "/stats.yaml", runs_stats_yaml(result.runs, header));
      files.add(out_dir + "/config.yaml", to_yaml(machine));
      files.add(out_dir + "/gemms.trace", format_trace(trace, "GEMMs as given to stcsim run (before --pattern)"));
      if (!functional_csv.empty()) files.add(out_dir + "/functional.csv", functional_csv);
      files.commit();
    } catch (const IoError& e) {
      throw IoError(fmt::format("{} (results not written; the files already in {} are as they were)", e.what(), out_dir));
    }
    std::printf("\nwrote %s/results.csv, stats.yaml, config.yaml and gemms.trace%s\n", out_dir.c_str(),
                functional_csv.empty() ? "" : " and functional.csv");
  }
  if (!sim_opts.vcd_path.empty()) std::printf("wrote waveform %s\n", sim_opts.vcd_path.c_str());
  return 0;
}

}  // namespace stcsim::cli
