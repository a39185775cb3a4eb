// Workload descriptions (workloads/*.yaml, format in workloads/README.md): a model's GEMMs as shape
// expressions over its parameters, the batch size and the sequence length, and the trace they make.
//
// One YAML layer entry becomes exactly one trace line, so a trace line is always traced back to one
// entry. Linear layers are GEMMs with a weight operand; attention's batched GEMMs have none and stay
// dense; convolutions become implicit GEMMs (M = batch*OH*OW, N = out, K = in*kernel^2 per group).
// Deliberately left out: everything that is not a GEMM (normalisation, activations, softmax,
// pooling, embedding look-ups), and incremental (token-by-token) decoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "config/yaml_doc.h"
#include "trace/gemm.h"
#include "trace/trace_io.h"
#include "workload/expr.h"

namespace stcsim {

// An expression and where it was written, so that an error found only when a batch or seq is
// chosen still names the file, line and key path.
struct ShapeExpr {
  Expr expr;
  std::string where;     // "file:line"
  std::string key_path;  // "layers[3].n"
};

// A 2-D convolution with square kernel, stride and padding; h and w are the input's size.
struct ConvShape {
  ShapeExpr in, out, kernel, stride, pad, h, w, groups;
};

struct WorkloadLayer {
  std::string name;
  std::string where;              // of the list entry
  std::string key_path;           // "layers[3]"
  std::optional<ConvShape> conv;  // set: a convolution; otherwise m, n, k below
  ShapeExpr m, n, k;
  ShapeExpr count;  // "1" when not given
  Operand weights = Operand::B;
};

struct Workload {
  std::string path;
  std::string name;
  std::string description;
  std::string source;
  std::vector<std::pair<std::string, std::int64_t>> params;  // evaluated, in document order
  std::int64_t default_batch = 1;
  std::optional<std::int64_t> default_seq;  // set exactly when the workload takes a sequence length
  std::optional<std::int64_t> max_seq;      // longest sequence the model accepts, where it has a limit
  DType dtype = DType::fp16;
  std::vector<WorkloadLayer> layers;

  bool takes_seq() const { return default_seq.has_value(); }
};

// Loads and checks a workload completely, generating its trace at the defaults so that shapes that
// do not work are found now. `sets` are "key.path=value" overrides (YamlDoc::apply_set), for
// example "params.image=320". ConfigError naming file:line and key path on the first defect.
Workload load_workload(const std::string& path, const std::vector<std::string>& sets = {});
Workload parse_workload(const std::string& text, const std::string& name);
Workload workload_from_yaml(const YamlDoc& doc);

// The trace of one forward pass. Weight GEMMs get their weight operand as the sparse operand and
// `pattern_spec` (canonicalised); activation GEMMs get '-' and dense. Layer names are
// "<workload>.<layer>". `seq` must be given exactly when the workload takes one. The trace's
// `source` is the workload file and `lines` the YAML line of each layer entry (0 if unknown).
Trace generate_trace(const Workload& w, std::int64_t batch, std::optional<std::int64_t> seq,
                     const std::string& pattern_spec, std::optional<DType> dtype = std::nullopt);

struct TraceTotals {
  std::size_t lines = 0;
  std::uint64_t dense_macs = 0;       // all GEMMs, count included
  std::uint64_t weight_elements = 0;  // weight operands' elements, count included: the parameter count
};
TraceTotals trace_totals(const Trace& t);

// The command that makes this trace, in a canonical form that scripts/gen_traces.sh also writes:
// "stcsim trace workloads/bert-base.yaml --batch 32 --seq 128 --pattern 2:4 --dtype fp16".
std::string trace_command(const std::string& workload_path, std::int64_t batch, std::optional<std::int64_t> seq,
                          const std::string& pattern_spec, DType dtype, const std::vector<std::string>& sets = {});
// The comment block written at the top of a generated trace: the command, the workload and totals.
std::string trace_comment(const Workload& w, const Trace& t, const std::string& command);
// The shipped file name for these arguments: "bert-base_b32_s128.trace", "resnet-50_b32_2-4.trace";
// the dtype is named only when it is not the workload's own ("gpt2_b8_s1024_bf16.trace").
std::string trace_file_name(const Workload& w, std::int64_t batch, std::optional<std::int64_t> seq,
                            const std::string& pattern_spec, DType dtype);

}  // namespace stcsim
