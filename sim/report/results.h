// One row of results per trace line, and the files and tables made from them: results.csv (the
// schema the CUDA backend writes too, so the two join on layer and pattern) and the printed report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "report/energy.h"
#include "trace/gemm.h"

namespace stcsim {

struct LayerResult {
  std::string run;  // the run's label: its pattern (`--pattern`), or "trace" for the patterns the trace gives
  std::string layer;
  std::int64_t m = 0, n = 0, k = 0;
  DType dtype = DType::fp16;
  std::string pattern;
  std::int64_t count = 1;
  std::string math_path;
  bool dense_fallback = false;  // the sparse kernel was slower alone: the dense one ran (kernel.dense_fallback)
  std::string kernel;           // the kernel that ran the line (kernel.name, or the candidate chosen)
  std::uint64_t cycles = 0;     // of the whole line (all count copies)
  double time_s = 0;            // cycles / clock_mhz
  double clock_mhz = 0;         // the clock the line sustained: arch.clock_mhz, or lower under the power cap (report/power.h)
  double power_w = 0;           // average power: energy / time
  double tflops = 0;            // dense-equivalent: 2 m n k count / time
  double tc_utilization = 0;    // tensor-core busy cycles / (tensor cores x cycles)
  std::uint64_t dense_macs = 0; // m n k count
  std::uint64_t executed_macs = 0;
  std::uint64_t l2_bytes = 0;
  std::uint64_t dram_bytes = 0;
  // Where the SMs' cycles went, summed over SMs: busy on MMAs, waiting for memory, bound by register
  // file or shared memory beyond the MMAs' own time, pipeline drain, the epilogue staging C through
  // shared memory, idle (no CTA).
  std::uint64_t sm_mma_cycles = 0;
  std::uint64_t sm_memory_stall_cycles = 0;
  std::uint64_t sm_regfile_stall_cycles = 0;
  std::uint64_t sm_smem_stall_cycles = 0;
  std::uint64_t sm_pipeline_cycles = 0;
  std::uint64_t sm_epilogue_cycles = 0;
  std::uint64_t sm_idle_cycles = 0;
  // The tile scheduler's view of the launch: CTAs, waves of sms x CTAs-per-SM slots, how full the
  // waves are, and the largest CTA's main-loop K over the mean (1 for equal work; tw/tvw show more).
  std::uint64_t ctas = 0;
  std::uint64_t waves = 0;
  double wave_efficiency = 0;
  double imbalance = 0;
  EnergyBreakdown energy;
  // What pruning kept of the line's weights (stcsim run --weight-stats; empty in results.csv without
  // it, and for lines without weights): kept fraction, compressed-form metadata bytes, sum |w| kept / sum |w|.
  bool weight_stats = false;
  double weight_density = 0;
  std::uint64_t metadata_bytes = 0;
  double magnitude_kept = 0;

  double energy_j() const { return energy.total(); }

  // Each column once, in CSV order.
  template <class F>
  void visit(F&& f) const {
    f("run", run);
    f("layer", layer);
    f("m", m);
    f("n", n);
    f("k", k);
    f("dtype", std::string(dtype_name(dtype)));
    f("pattern", pattern);
    f("count", count);
    f("math_path", math_path);
    f("cycles", cycles);
    f("time_s", time_s);
    f("clock_mhz", clock_mhz);
    f("power_w", power_w);
    f("tflops", tflops);
    f("tc_utilization", tc_utilization);
    f("energy_j", energy_j());
    energy.visit([&](const char* name, double v) { f((std::string("energy_") + name + "_j").c_str(), v); });
    f("dense_macs", dense_macs);
    f("executed_macs", executed_macs);
    f("l2_bytes", l2_bytes);
    f("dram_bytes", dram_bytes);
    f("sm_mma_cycles", sm_mma_cycles);
    f("sm_memory_stall_cycles", sm_memory_stall_cycles);
    f("sm_regfile_stall_cycles", sm_regfile_stall_cycles);
    f("sm_smem_stall_cycles", sm_smem_stall_cycles);
    f("sm_pipeline_cycles", sm_pipeline_cycles);
    f("sm_epilogue_cycles", sm_epilogue_cycles);
    f("sm_idle_cycles", sm_idle_cycles);
    f("ctas", ctas);
    f("waves", waves);
    f("wave_efficiency", wave_efficiency);
    f("imbalance", imbalance);
    f("weight_density", weight_density);
    f("metadata_bytes", metadata_bytes);
    f("magnitude_kept", magnitude_kept);
    f("dense_fallback", std::int64_t{dense_fallback ? 1 : 0});
    f("kernel", kernel);
  }
};

// A row's description of GEMM g: layer, shape, dtype, pattern, count and dense MACs.
LayerResult describe_gemm(const GemmOp& g);

// results.csv text: a header line, then one line per result; doubles in shortest round-trip form,
// strings quoted where they hold a comma or a quote.
std::string results_csv(const std::vector<LayerResult>& rows);

// The same schema as written by a producer that measures only some columns and adds its own (the
// replay backend, cuda/host/replay.h): `blank` schema columns are written empty, and
// `columns` follow the schema's, `values[i]` (CSV-ready text, see csv_field) giving row i's;
// `row_blank[i]`, where present, names more schema columns left empty in row i alone.
struct ResultsCsvExtras {
  std::vector<std::string> blank;
  std::vector<std::vector<std::string>> row_blank;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> values;
};
std::string results_csv(const std::vector<LayerResult>& rows, const ResultsCsvExtras& extras);

// A CSV field: quoted where it holds a comma, a quote or a newline.
std::string csv_field(const std::string& s);

}  // namespace stcsim
