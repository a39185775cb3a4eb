// A whole simulation: the traces of one or more runs (the same trace dense and 2:4, say) mapped onto
// the machine, cut into launches, played by GpuModule in one SystemC elaboration, and turned into
// per-line results with energy, and the stats tree. SystemC elaborates once per process, so
// simulate() runs at most once per process (a second call throws Error); runs that must be compared
// go into one call, each on a fresh memory system so that none sees another's L2 contents.
// Lines that are equal but for their layer name share one plan (mask-based patterns: equal layer and
// line too, their weights being seeded by them).
// Dense fallback (kernel.dense_fallback): each distinct line on a sparse path is first timed twice,
// its sparse kernel and the dense kernel of the same GEMM, each alone on a fresh memory system; the
// line then runs whichever was faster (LayerResult::dense_fallback when the dense one). The timing
// launches come before every run and appear in no result but SimResult's totals of simulated cycles
// and MMAs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/machine_config.h"
#include "functional/functional.h"
#include "gpu/sim_model.h"
#include "mapping/math_path.h"
#include "report/results.h"
#include "report/stats_tree.h"
#include "trace/trace_io.h"

namespace stcsim {

struct SimOptions {
  std::uint64_t seed = 1;  // weights of sparse operands: derive_seed(seed, layer, line)
  std::string vcd_path;    // write a waveform here ("" for none); ".vcd" is appended when missing
  // Which model plays the SMs: fast (k-blocks priced in closed form) or cycle (warps on SystemC
  // sub-cores, register files, selectors, tensor cores and shared memory).
  SimModel model = SimModel::fast;
  // Functional mode through the cycle model (functional/cycle_functional.h): every line's MMAs, as
  // the cycle model's warps issue them, computed on values and compared with the reference GEMM
  // (RunResult::functional). Cycle model only; small GEMMs (functional mode's limits, and at most
  // kFunctionalValueLimit values over all lines, which are held at once).
  bool functional = false;
};

// One run: a trace with a label ("dense", "2:4").
struct RunInput {
  std::string label;
  Trace trace;
};

struct RunResult {
  std::string label;
  std::vector<LayerResult> rows;  // one per trace line
  LayerResult total;              // layer "total": sums, and rates over the summed time
  StatsTree stats;                // every counter, gpu.smN.*, gpu.memory.*, gpu.scheduler.*
  std::vector<FunctionalResult> functional;  // SimOptions::functional: one per trace line
};

struct SimResult {
  std::vector<RunResult> runs;
  std::uint64_t simulated_cycles = 0;  // over all runs
  std::uint64_t mma_instructions = 0;  // over all runs
};

// Most GEMM lines one simulate() call takes, over all runs: 200,000 (a few GB of plans and results).
inline constexpr std::size_t kMaxSimulatedLines = 200000;

// Throws Error naming trace:line for a GEMM the machine cannot run (UnsupportedError), Error when
// the runs hold more than kMaxSimulatedLines lines, and Error when called a second time in a process.
// With opts.functional: Error naming trace:line for a line functional mode cannot take or whose MMAs
// are not the plan's; Error unless opts.model is cycle. A line whose output differs from the
// reference is no error: its FunctionalResult says so.
SimResult simulate(const MachineConfig& machine, const std::vector<RunInput>& runs, const SimOptions& opts = {});

// results.csv of several runs: their rows in order (totals not included).
std::string runs_csv(const std::vector<RunResult>& runs);
// stats.yaml of several runs: a list of {label, stats}.
std::string runs_stats_yaml(const std::vector<RunResult>& runs, const std::string& header_comment);

}  // namespace stcsim
