// GEMM trace files, format v1 (traces/README.md):
//
//   stcsim-trace v1
//   # layer  m  n  k  dtype  sparse  pattern  count
//   bert.l0.qkv  4096  2304  768  fp16  B  2:4  12
//
// The first line that is not blank or a comment is the version header. Then one GEMM per line,
// eight fields separated by spaces or tabs; '#' starts a comment anywhere. Every error names the
// file, the line and the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sparsity/registry.h"
#include "trace/gemm.h"

namespace stcsim {

inline constexpr const char* kTraceHeader = "stcsim-trace v1";

struct Trace {
  std::string source;              // file name, for messages
  std::vector<GemmOp> ops;
  std::vector<std::int64_t> lines; // source line of each op (1-based)
};

// Parses text; ParseError ("file:line: field: reason") on the first defect.
Trace parse_trace(const std::string& text, const std::string& name, const PatternRegistry& reg);
// Trace files are read whole: larger than kMaxTraceBytes (64 MiB, about two million lines) is
// refused with IoError naming the file.
inline constexpr std::uintmax_t kMaxTraceBytes = std::uintmax_t{64} << 20;
Trace read_trace(const std::string& path, const PatternRegistry& reg);

// The file text; parse_trace(format_trace(t)) gives t back.
std::string format_trace(const Trace& t, const std::string& comment = "");
void write_trace(const std::string& path, const Trace& t, const std::string& comment = "");

}  // namespace stcsim
