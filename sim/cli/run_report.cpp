#include "cli/run_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace stcsim::cli {

namespace {

std::string short_name(const std::string& s, std::size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width - 1) + "~";
}

double pct(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

std::string layer_line(const LayerResult& r) {
  // Stall shares are of the SM-cycles the main loops and idle time account for.
  const std::uint64_t sm = r.sm_mma_cycles + r.sm_memory_stall_cycles + r.sm_regfile_stall_cycles +
                           r.sm_smem_stall_cycles + r.sm_pipeline_cycles + r.sm_epilogue_cycles + r.sm_idle_cycles;
  const auto dim = [&](std::int64_t v) { return r.layer == "total" ? std::string() : std::to_string(v); };
  return fmt::format("{:<24} {:>6} {:>6} {:>6} {:>5} {:>12} {:>10.2f} {:>8.1f} {:>5.1f}% {:>5.1f} {:>5.1f} {:>5.1f} {:>5.1f} {:>5.1f} {:>5.1f} {:>5.1f} {:>10.3f} {:>8.1f}\n",
                     short_name(r.layer, 24), dim(r.m), dim(r.n), dim(r.k), r.count, r.cycles, r.time_s * 1e6, r.tflops,
                     100.0 * r.tc_utilization, pct(r.sm_mma_cycles, sm), pct(r.sm_memory_stall_cycles, sm),
                     pct(r.sm_regfile_stall_cycles, sm), pct(r.sm_smem_stall_cycles, sm),
                     pct(r.sm_pipeline_cycles, sm), pct(r.sm_epilogue_cycles, sm), pct(r.sm_idle_cycles, sm), r.energy_j() * 1e3, r.power_w);
}

// The clock a row ran at, where the power cap lowered it below the configured one (report/power.h).
std::string clock_line(const MachineConfig& machine, const LayerResult& r) {
  if (r.time_s <= 0 || r.clock_mhz >= machine.arch.clock_mhz) return {};
  return fmt::format("{:<24} clock: {:.0f} MHz sustained (configured {} MHz, base {} MHz): {:.1f} W at the {} W cap\n",
                     "", r.clock_mhz, machine.arch.clock_mhz, machine.arch.base_clock_mhz, r.power_w,
                     machine.arch.power_cap_w);
}

}  // namespace

std::string format_run_report(const MachineConfig& machine, const std::vector<RunResult>& runs) {
  std::string out;
  for (const RunResult& run : runs) {
    out += fmt::format("\n== run: {} ({}) at {} MHz on {} SMs\n", run.label, plural(run.rows.size(), "GEMM line"),
                       machine.arch.clock_mhz, machine.arch.sms);
    out += fmt::format("{:<24} {:>6} {:>6} {:>6} {:>5} {:>12} {:>10} {:>8} {:>6} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>10} {:>8}\n",
                       "layer", "m", "n", "k", "count", "cycles", "time_us", "TFLOP/s", "TC", "mma%", "mem%", "rf%",
                       "smem%", "pipe%", "epi%", "idle%", "energy_mJ", "power_W");
    for (const LayerResult& r : run.rows) {
      out += layer_line(r);
      out += fmt::format("{:<24} path: {}; {} in {} ({:.0f}% full), work imbalance {:.3f}\n", "", r.math_path,
                         plural(r.ctas, "CTA"), plural(r.waves, "wave"), 100.0 * r.wave_efficiency, r.imbalance);
      out += clock_line(machine, r);
    }
    out += layer_line(run.total);
    const auto capped = std::count_if(run.rows.begin(), run.rows.end(),
                                      [&](const LayerResult& r) { return r.clock_mhz < machine.arch.clock_mhz; });
    if (capped > 0) {
      out += fmt::format("{:<24} clock: {:.0f} MHz on average (cycles / time; configured {} MHz): the power cap "
                         "lowered {} of {} lines\n",
                         "", run.total.clock_mhz, machine.arch.clock_mhz, capped, run.rows.size());
    }
    const EnergyBreakdown& e = run.total.energy;
    out += fmt::format("energy by component (mJ): MACs {:.3f}, operand selector + metadata {:.3f}, register file {:.3f}, "
                       "shared memory {:.3f}, L2 {:.3f}, core overhead {:.3f}, active SMs {:.3f}, DRAM {:.3f}, static {:.3f}; total {:.3f} "
                       "in {:.3f} ms: "
                       "average power {:.1f} W{}\n",
                       e.macs * 1e3, e.selector_metadata * 1e3, e.register_file * 1e3, e.shared_memory * 1e3,
                       e.l2 * 1e3, e.overhead * 1e3, e.sm_active * 1e3, e.dram * 1e3, e.static_energy * 1e3, e.total() * 1e3, run.total.time_s * 1e3,
                       run.total.power_w,
                       machine.arch.power_cap_w > 0 ? fmt::format(" (cap {} W)", machine.arch.power_cap_w) : "");
    out += fmt::format("traffic: L2 {}, DRAM {}; MACs executed {} of {} dense\n",
                       si_amount(static_cast<double>(run.total.l2_bytes), "B"),
                       si_amount(static_cast<double>(run.total.dram_bytes), "B"),
                       si_amount(static_cast<double>(run.total.executed_macs), "MACs"),
                       si_amount(static_cast<double>(run.total.dense_macs), "MACs"));
  }
  if (runs.size() > 1) {
    const RunResult& base = runs.front();
    // One row per line and run, the runs of a line together, labels whole (nine patterns stay
    // readable). Speedup is of time: a line the power cap slows takes longer for the same cycles.
    std::size_t width = 3;
    for (const RunResult& r : runs) width = std::max(width, r.label.size());
    out += fmt::format("\n== side by side over '{}': speedup = its time / the run's time, energy = the run's energy / its "
                       "energy\n",
                       base.label);
    out += fmt::format("{:<24} {:<{}} {:>12} {:>10} {:>9} {:>9}\n", "layer", "run", width, "cycles", "time_us", "speedup",
                       "energy");
    const auto block = [&](const std::string& name, const auto& pick) {
      const LayerResult& a = pick(base);
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const LayerResult& b = pick(runs[i]);
        out += fmt::format("{:<24} {:<{}} {:>12} {:>10.2f} {:>8.3f}x {:>8.3f}x\n", i == 0 ? short_name(name, 24) : "",
                           runs[i].label, width, b.cycles, b.time_s * 1e6, b.time_s > 0 ? a.time_s / b.time_s : 0.0,
                           a.energy_j() > 0 ? b.energy_j() / a.energy_j() : 0.0);
      }
    };
    const bool same_lines = std::all_of(runs.begin(), runs.end(), [&](const RunResult& r) { return r.rows.size() == base.rows.size(); });
    if (same_lines) {
      for (std::size_t l = 0; l < base.rows.size(); ++l) {
        block(base.rows[l].layer, [&](const RunResult& r) -> const LayerResult& { return r.rows[l]; });
      }
    }
    block("total", [](const RunResult& r) -> const LayerResult& { return r.total; });
  }
  return out;
}

}  // namespace stcsim::cli
