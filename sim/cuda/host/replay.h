// The replay: every GEMM line of a trace, for every pattern asked, on every backend that runs it,
// verified against the reference before it is timed. Device-independent: it drives a Device
// (replay_device.h), so the same flow runs on a GPU and, in the host tests, on a host stand-in.
//
// Per line and backend:
//   1. exact check (K <= kExactCheckMaxK): the backend runs exact_variant (same mask and structure,
//      values whose products and sums are exact in fp32) and must equal the reference bit for bit
//      (+0 == -0); when the line is small (M N K <= 2^30) the reference is itself checked against the
//      host's reference GEMM of the pruned matrix.
//   2. value check: the backend runs the simulator's own operands and must lie within `tolerance` x
//      max |reference| of the reference everywhere (summation order differs between kernels).
//   3. timing: `warmup` launches, then `repeats` launches each timed on its own.
// A failed check is an Error naming the trace line, pattern and backend: never a row.
//
// A row's time is the median launch time times the line's `count` (the copies run one after another,
// as a model's layers do); tflops is dense-equivalent (2 M N K count / time), as stcsim run reports it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cuda/host/replay_device.h"
#include "report/results.h"
#include "trace/trace_io.h"

namespace stcsim::replay {

struct ReplayOptions {
  std::uint64_t seed = 1;
  int warmup = 3;
  int repeats = 10;
  std::vector<Backend> backends;  // empty: every backend that runs the pattern and the build has
  double tolerance = 1e-3;
  bool own_kernel = true;         // false when the kernel config is not of the own kernels' family
  KernelTiling tiling;
};

struct ReplayRunInput {
  std::string label;  // the pattern spec of the run
  Trace trace;
};

struct ReplayRow {
  LayerResult result;              // the schema's measured fields (others stay empty in the CSV)
  std::string run;
  std::string backend;
  Timing timing;
  std::string exact_check;         // "bit-exact", or why it was skipped
  double max_rel_error = 0;        // value check: max |c - ref| / max |ref|
  bool have_cycles = false;
  bool have_energy = false;
};

// Runs the replay; `on_row` sees each row as it is measured (for progress). Error on a failed check,
// UnsupportedError when a pattern has no backend to run it (naming the pattern and the trace line).
std::vector<ReplayRow> run_replay(Device& dev, const std::vector<ReplayRunInput>& runs, const ReplayOptions& opt,
                                  const std::function<void(const ReplayRow&)>& on_row = {});

// results.csv: the simulator's schema (report/results.h) with the columns a GPU does not measure left
// empty, then backend, time_median_s, time_min_s, time_max_s, repeats, sm_clock_mhz,
// exact_check, max_rel_error.
std::string replay_csv(const std::vector<ReplayRow>& rows);

// Compares a backend's output with the reference: elements whose bits differ (+0 == -0), the first
// such element, and the largest |difference| relative to max |reference|.
struct Comparison {
  std::uint64_t mismatches = 0;
  std::int64_t first = -1;       // index of the first mismatch
  double max_abs_diff = 0;
  double max_abs_ref = 0;
  double rel() const { return max_abs_ref > 0 ? max_abs_diff / max_abs_ref : max_abs_diff; }
};
Comparison compare_outputs(const std::vector<float>& got, const std::vector<float>& ref);

}  // namespace stcsim::replay
