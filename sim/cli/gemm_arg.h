// Command-line arguments shared by the front ends (stcsim and stcsim-gpu): the default machine
// config and a single GEMM given as MxNxK.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "trace/gemm.h"
#include "trace/trace_io.h"

namespace stcsim::cli {

// configs/h100.yaml in the working folder, else the source tree's; UsageError when neither exists.
std::string default_config();

// "MxNxK" as one GEMM named "gemm" with its weights on operand B; UsageError on bad text.
GemmOp parse_gemm(const std::string& text, DType dtype);

// The GEMMs of --trace PATH or --gemm MxNxK (exactly one non-empty) with --dtype for --gemm.
// UsageError on bad arguments, the trace reader's errors on a bad trace.
Trace workload_from_args(const std::string& trace_path, const std::string& gemm, const std::string& dtype);

// One run per --pattern (label: the canonical spec), the pattern put on every GEMM with a weight
// operand; with no pattern, one run "trace" of the GEMMs as the trace gives them.
std::vector<std::pair<std::string, Trace>> runs_for_patterns(const Trace& trace, const std::vector<std::string>& patterns);

}  // namespace stcsim::cli
