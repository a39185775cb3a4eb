// The replay flow: each (run, trace line) is prepared on the host (replay_prep.h) while the GPU
// checks and times the lines before it. For every backend of a line:
//   1. exact check (K <= kExactCheckMaxK): the backend runs exact_variant (same mask and structure,
//      values whose sums fp32 holds exactly) and must equal the reference, cuBLAS on the decompressed
//      S, bit for bit; the reference is itself checked against the host's product where asked
//      (selftest, --host-reference);
//   2. value check: on the simulator's own operands, max |C - reference| within the tolerance;
//   3. timing (replay_device.h TimingOptions).
// A failure at any step, or in preparing the line, becomes that row's error (status "failed") and
// the replay goes on with the next backend, line and run; once the device is lost (a kernel fault),
// the rows left are written as failed without running. Each row goes to `on_row` as soon as it is
// measured: the CLI appends it to results.csv there (ResultsFile).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cuda/host/replay_device.h"
#include "cuda/host/replay_prep.h"
#include "report/results.h"
#include "trace/trace_io.h"

namespace stcsim::replay {

struct ReplayOptions {
  std::uint64_t seed = 1;
  std::vector<Backend> backends;  // empty: every backend that runs the pattern and the device has
  double tolerance = 1e-3;
  bool own_kernel = true;         // false when the kernel config is not of the own kernels' family
  KernelTiling tiling;
  TimingOptions timing;
  bool dry_run = false;           // the host side only: operands prepared and staged, nothing run
  bool host_reference = false;    // check cuBLAS against the host's product (lines up to 2^30 MACs)
  int prep_workers = 0;           // PrepOptions::workers
  std::uint64_t prep_memory = 0;  // PrepOptions::memory_budget
};

struct ReplayRunInput {
  std::string label;  // the pattern spec of the run
  Trace trace;
};

struct ReplayRow {
  LayerResult result;              // the schema's measured fields (others stay empty in the CSV)
  std::string run;
  std::string backend;
  std::string status;              // "ok", "failed" or "dry-run"
  std::string error;               // why it failed
  Timing timing;
  std::string exact_check;         // "bit-exact", or why it was not run
  double max_rel_error = -1;       // value check: max |c - ref| / max |ref|; < 0 when not checked
  bool have_cycles = false;
  bool have_energy = false;
  double prep_s = 0;               // host: preparing the line (all its backends), on a worker
  double check_s = 0;              // GPU and host: uploads, check launches, downloads, comparisons
  double timing_s = 0;             // GPU: warm-up, timed samples, energy window
  bool ok() const { return status == "ok"; }
};

struct ReplayPhases {
  double wall_s = 0;
  double prep_s = 0;      // sum over lines of their preparation (worker wall time, overlapping the GPU)
  double wait_s = 0;      // time the GPU waited for preparation: host work on the critical path
  double check_s = 0;
  double timing_s = 0;
  int prep_workers = 0;
  int threads = 0;        // host_threads()
};

struct ReplaySummary {
  int ok = 0, failed = 0, dry_run = 0;
  std::vector<std::string> failures;  // "where: error" of each failed row
};
ReplaySummary summarize(const std::vector<ReplayRow>& rows);

struct ReplayReport {
  std::vector<ReplayRow> rows;
  ReplayPhases phases;
};

// The lines and their backends, in run order. UnsupportedError, before anything runs, naming the
// first pattern and trace line that no backend of this build (or of --backends) runs. `dev` may be
// null (a dry run): every backend then counts as present.
std::vector<ReplayItem> plan_items(const Device* dev, const std::vector<ReplayRunInput>& runs, const ReplayOptions& opt);

// Runs the replay. `dev` may be null for a dry run. Errors of the input (plan_items) are thrown;
// failures while running become rows.
ReplayReport run_replay(Device* dev, const std::vector<ReplayRunInput>& runs, const ReplayOptions& opt,
                        const std::function<void(const ReplayRow&)>& on_row = {});

// results.csv: the simulator's schema (report/results.h) with the columns a GPU does not measure left
// empty, then the replay's own: backend, status, error, time_median_s, time_min_s, time_max_s,
// repeats, launches_per_sample, timing_method, sm_clock_mhz, sm_clock_min_mhz, sm_clock_max_mhz,
// exact_check, max_rel_error, prep_s, check_s, timing_s.
std::string replay_csv(const std::vector<ReplayRow>& rows);

// results.csv kept whole on disk as rows arrive: each add() rewrites the file to a temporary and
// renames it over the old one, so a kill at any moment leaves the rows measured so far, never a torn
// file.
class ResultsFile {
 public:
  explicit ResultsFile(std::string path) : path_(std::move(path)) {}
  void add(const ReplayRow& row);
  void write();  // the header alone, or the rows so far
  const std::vector<ReplayRow>& rows() const { return rows_; }

 private:
  std::string path_;
  std::vector<ReplayRow> rows_;
};

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
