// stcsim trace: turns a workload description (workloads/*.yaml) into a GEMM trace file.
#include <fmt/format.h>

#include <cstdio>

#include "cli/app.h"
#include "cli/usage.h"
#include "common/error.h"
#include "common/strings.h"
#include "sparsity/registry.h"
#include "workload/workload.h"

namespace stcsim::cli {

namespace {

constexpr const char* kUsage =
    "Usage: stcsim trace WORKLOAD.yaml [--batch B] [--seq S] [--pattern P] [--dtype D] [--set K=V]... -o FILE\n\n"
    "Writes the GEMMs of one forward pass of the workload as a trace (traces/README.md). Weight GEMMs\n"
    "get pattern P on their weight operand; activation-by-activation GEMMs (attention) stay dense.\n"
    "Batch and sequence length default to the workload's defaults; --seq is refused for workloads\n"
    "without a sequence length (CNNs: their input size is a parameter, changed with --set params.image=N).\n"
    "The file starts with a comment naming the command that made it; a one-line summary is printed.";

constexpr const char* kExamples =
    "  stcsim trace workloads/bert-base.yaml --batch 32 --seq 128 -o bert-base_b32_s128.trace\n"
    "  stcsim trace workloads/resnet-50.yaml --batch 32 --pattern 2:4 -o resnet-50_b32_2-4.trace\n"
    "  stcsim trace workloads/gpt2.yaml --seq 512 --pattern 64:2:8 --dtype bf16 -o gpt2.trace\n"
    "  stcsim trace workloads/resnet-50.yaml --batch 1 --set params.image=320 -o r50_320.trace\n";

}  // namespace

int cmd_trace(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  // clang-format off
  opts.add_options()
      ("workload", po::value<std::string>(), "workload description (YAML)")
      ("batch,b", po::value<std::int64_t>(), "batch size (default: the workload's defaults.batch)")
      ("seq,s", po::value<std::int64_t>(), "sequence length (default: the workload's defaults.seq; only for workloads that have one)")
      ("pattern,p", po::value<std::string>()->default_value("dense"), "sparsity pattern of the weight operands, e.g. 2:4, 64:2:8, tw(g=128,sparsity=0.75)")
      ("dtype", po::value<std::string>(), "data type: fp16, bf16, tf32, int8, fp8 (default: the workload's dtype)")
      ("set", po::value<std::vector<std::string>>(), "override a workload key, e.g. --set params.image=320 (repeatable)")
      ("out,o", po::value<std::string>(), "trace file to write (required; - for standard output)");
  // clang-format on
  po::positional_options_description pos;
  pos.add("workload", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, pos, vm, kUsage, kExamples)) return 0;

  if (!vm.count("workload")) throw UsageError("give a workload file");
  if (!vm.count("out")) throw UsageError("-o FILE is required");
  std::optional<DType> dtype;
  if (vm.count("dtype")) {
    dtype = parse_dtype(vm["dtype"].as<std::string>());
    if (!dtype)
      throw UsageError(fmt::format("--dtype: '{}' is not one of {}", vm["dtype"].as<std::string>(), dtype_choices()));
  }
  const std::string path = vm["workload"].as<std::string>();
  const auto sets = vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  const Workload w = load_workload(path, sets);

  const std::int64_t batch = vm.count("batch") ? vm["batch"].as<std::int64_t>() : w.default_batch;
  std::optional<std::int64_t> seq;
  if (vm.count("seq")) {
    if (!w.takes_seq()) throw UsageError(fmt::format("workload {} takes no --seq (it has no sequence length)", w.name));
    seq = vm["seq"].as<std::int64_t>();
  } else if (w.takes_seq()) {
    seq = w.default_seq;
  }
  if (batch < 1) throw UsageError(fmt::format("--batch must be >= 1 (got {})", batch));
  if (seq && *seq < 1) throw UsageError(fmt::format("--seq must be >= 1 (got {})", *seq));

  const std::string pattern = builtin_registry().canonical(vm["pattern"].as<std::string>());
  const DType dt = dtype.value_or(w.dtype);
  const Trace t = generate_trace(w, batch, seq, pattern, dt);
  const std::string out = vm["out"].as<std::string>();
  const std::string comment = trace_comment(w, t, trace_command(path, batch, seq, pattern, dt, sets));
  if (out == "-") {  // standard output: the trace alone, for a pipe
    std::fputs(format_trace(t, comment).c_str(), stdout);
    return 0;
  }
  write_trace(out, t, comment);

  const TraceTotals totals = trace_totals(t);
  fmt::print("wrote {}: {}, {:.3f} dense GMACs ({}, batch {}{}, pattern {}, {})\n", out, plural(totals.lines, "GEMM line"),
             static_cast<double>(totals.dense_macs) * 1e-9, w.name, batch, seq ? fmt::format(", seq {}", *seq) : "",
             pattern, dtype_name(dt));
  return 0;
}

}  // namespace stcsim::cli
