#include "cli/gemm_arg.h"

#include <fmt/format.h>

#include <filesystem>

#include "cli/usage.h"
#include "common/strings.h"
#include "sparsity/registry.h"

namespace stcsim::cli {

std::string default_config() {
  std::string local = "configs/h100.yaml";
  if (std::filesystem::exists(local)) return local;
  std::string shipped = std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml";
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

Trace workload_from_args(const std::string& trace_path, const std::string& gemm, const std::string& dtype_text) {
  if (trace_path.empty() == gemm.empty()) throw UsageError("give exactly one of --trace and --gemm");
  if (!trace_path.empty()) {
    if (dtype_text != "fp16") throw UsageError("--dtype goes with --gemm; a trace gives each GEMM's type");
    return read_trace(trace_path, builtin_registry());
  }
  const auto dtype = parse_dtype(dtype_text);
  if (!dtype) throw UsageError(fmt::format("--dtype: '{}' is not one of {}", dtype_text, dtype_choices()));
  Trace trace;
  trace.source = "--gemm " + gemm;
  trace.ops.push_back(parse_gemm(gemm, *dtype));
  trace.lines.push_back(1);
  if (const auto problem = gemm_problem(trace.ops[0])) throw UsageError(fmt::format("--gemm: {}: {}", problem->first, problem->second));
  return trace;
}

std::vector<std::pair<std::string, Trace>> runs_for_patterns(const Trace& trace, const std::vector<std::string>& patterns) {
  std::vector<std::pair<std::string, Trace>> runs;
  for (const auto& p : patterns) {
    const std::string spec = builtin_registry().canonical(p);
    Trace t = trace;
    for (auto& g : t.ops) {
      if (g.sparse != Operand::none) g.pattern = spec;
    }
    runs.emplace_back(spec, std::move(t));
  }
  // Without --pattern one run of the lines as given: "gemm" for --gemm, else "trace".
  if (patterns.empty()) runs.emplace_back(trace.source.rfind("--gemm", 0) == 0 ? "gemm" : "trace", trace);
  return runs;
}

}  // namespace stcsim::cli
