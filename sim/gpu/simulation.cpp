#include "gpu/simulation.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>

#include "common/checked.h"
#include "common/error.h"
#include "functional/cycle_functional.h"
#include "common/strings.h"
#include "gpu/gpu_module.h"
#include "gpu/sanitizer_stack.h"
#include "sm/cycle_sm.h"
#include "report/energy.h"
#include "report/power.h"
#include "scheduler/launch_plan.h"
#include "scheduler/tile_scheduler.h"
#include "sm/kblock_cost.h"

namespace stcsim {

namespace {

bool g_elaborated = false;

// Waves of CTAs a probe of an equal-work launch runs before its whole time is estimated from them.
constexpr int kProbeWaves = 4;

// One way to run a line: a kernel (one of the machine's variants), the path it takes there, and
// its plan and coster.
struct LineOption {
  const MachineConfig* machine = nullptr;
  std::shared_ptr<const GemmMapping> mapping;
  std::shared_ptr<const LaunchPlan> plan;
  std::shared_ptr<const KBlockCoster> coster;
  bool dense = false;      // the dense kernel of a sparse line (kernel.dense_fallback)
  std::size_t probe = 0;   // the launch that times it alone (lines with more than one option)
};

// Everything one trace line needs alive while SystemC runs.
struct LinePlan {
  const GemmOp* op = nullptr;
  std::size_t line = 0;
  GemmMapping mapping;              // under the machine's own kernel (the first variant)
  std::vector<LineOption> options;  // shared by equal lines (line_key); more than one: a choice
};

// Probe launches, each alone on a fresh memory system: one per option of a line with a choice.
struct Probe {
  const LinePlan* line = nullptr;  // the first line timed by it (for errors)
  std::size_t run = 0;
  std::size_t option = 0;
};

std::string where(const Trace& t, std::size_t i) {
  return fmt::format("{}:{}", t.source, i < t.lines.size() ? t.lines[i] : i + 1);
}

// Lines with equal keys get the same plan and the same timing: the GEMM but for its layer name,
// and for the patterns whose mask is cut from generated weights, the layer and line they are seeded by.
std::string line_key(const GemmOp& g, const GemmMapping& map, std::size_t line) {
  return fmt::format("{}x{}x{} {} {} {} {} {}", g.m, g.n, g.k, dtype_name(g.dtype), operand_name(g.sparse), g.pattern,
                     g.count, plan_needs_operand(g, map) ? fmt::format("{}:{}", g.layer, line) : "");
}

LineOption plan_option(const GemmOp& op, const MachineConfig& machine, const SparseOperand* operand, bool dense) {
  LineOption o;
  o.machine = &machine;
  o.dense = dense;
  o.mapping = std::make_shared<const GemmMapping>(map_gemm(op, machine));
  o.plan = std::make_shared<const LaunchPlan>(plan_launch(op, *o.mapping, machine, operand));
  o.coster = std::make_shared<const KBlockCoster>(machine, op.dtype, *o.mapping);
  return o;
}

// The line's options: its path under each kernel variant that can run it (a variant that cannot is
// left out, as a library skips a kernel that does not apply; the first one's error when none can),
// and with the dense fallback, the dense kernel of the same GEMM under each.
LinePlan plan_line(const std::vector<MachineConfig>& variants, const Trace& t, std::size_t i, std::uint64_t seed,
                   std::map<std::string, LinePlan>& planned) {
  LinePlan lp;
  lp.op = &t.ops[i];
  lp.line = i < t.lines.size() ? t.lines[i] : i + 1;
  try {
    lp.mapping = map_gemm(*lp.op, variants.front());
    const std::string key = line_key(*lp.op, lp.mapping, lp.line);
    if (const auto it = planned.find(key); it != planned.end()) {
      lp.options = it->second.options;
      return lp;
    }
    std::unique_ptr<SparseOperand> operand;
    if (plan_needs_operand(*lp.op, lp.mapping)) {
      operand = std::make_unique<SparseOperand>(build_operand(*lp.op, seed, lp.line));
    }
    const bool fallback = variants.front().kernel.dense_fallback && lp.op->sparse != Operand::none &&
                          lp.mapping.path != MathPath::dense && lp.mapping.path != MathPath::dense_on_zeros;
    GemmOp dense = *lp.op;
    dense.pattern = "dense";
    std::exception_ptr first_error;
    for (const MachineConfig& v : variants) {
      try {
        lp.options.push_back(plan_option(*lp.op, v, operand.get(), false));
      } catch (const UnsupportedError&) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (lp.options.empty()) std::rethrow_exception(first_error);
    if (fallback) {
      for (const MachineConfig& v : variants) {
        try {
          lp.options.push_back(plan_option(dense, v, nullptr, true));
        } catch (const UnsupportedError&) {
        }
      }
    }
    planned.emplace(key, lp);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", where(t, i), e.what()));
  }
  return lp;
}

// Rates from the row's cycles and its time, which the caller sets: the sustained clock's (report/power.h),
// or for a total the sum of its lines'.
void fill_rates(LayerResult& r, const MachineConfig& machine, std::uint64_t tc_busy_cycles, int cooperating) {
  r.tflops = r.time_s > 0 ? 2.0 * static_cast<double>(r.dense_macs) / r.time_s * 1e-12 : 0.0;
  const double tc_cycles = static_cast<double>(machine.arch.tensor_cores()) * static_cast<double>(r.cycles);
  r.tc_utilization = tc_cycles > 0 ? static_cast<double>(tc_busy_cycles) * cooperating / tc_cycles : 0.0;
}

// The path note of a line, and for a line with a choice, what was timed: the dense fallback (the
// fastest sparse option against the fastest dense one) and the kernels of the chosen path.
std::string choice_note(const LinePlan& lp, std::size_t choice, const std::vector<LaunchStats>& launches) {
  const LineOption& chosen = lp.options.at(choice);
  std::string note = chosen.mapping->note;
  if (lp.options.size() < 2) return note;
  const auto best = [&](bool dense) {
    std::uint64_t c = 0;
    for (const LineOption& o : lp.options) {
      if (o.dense == dense && (c == 0 || launches.at(o.probe).estimated_cycles < c)) c = launches.at(o.probe).estimated_cycles;
    }
    return c;
  };
  if (chosen.dense) {
    note += fmt::format(" (dense fallback: the {} kernel took {} cycles alone, the dense one {})",
                        math_path_name(lp.options.front().mapping->path), best(false), best(true));
  }
  std::vector<std::string> timed;
  for (const LineOption& o : lp.options) {
    if (o.dense == chosen.dense) {
      const LaunchStats& p = launches.at(o.probe);
      timed.push_back(fmt::format("{} {}{}", o.machine->kernel.name, p.estimated_cycles, p.truncated ? " (est.)" : ""));
    }
  }
  if (timed.size() > 1) {
    note += fmt::format("; kernel {} chosen by cycles alone: {}", chosen.machine->kernel.name, join(timed, " / "));
    if (note.find("(est.)") != std::string::npos) {
      note += fmt::format(" (est.: scaled from its first {} waves)", kProbeWaves);
    }
  }
  return note;
}

LayerResult line_result(const MachineConfig& machine, const LinePlan& lp, const LaunchStats& st,
                        const std::vector<LaunchStats>& launches) {
  const GemmOp& g = *lp.op;
  LayerResult r = describe_gemm(g);
  const LineOption& chosen = lp.options.at(st.choice);
  const KBlockCoster* coster = chosen.coster.get();
  r.math_path = choice_note(lp, st.choice, launches);
  r.kernel = chosen.machine->kernel.name;
  r.dense_fallback = chosen.dense;
  r.cycles = st.cycles;
  const SmActivity& u = st.sm.units;
  r.executed_macs = u.tensor_core.executed_macs();
  r.l2_bytes = st.memory.l2_bytes();
  r.dram_bytes = st.memory.dram_bytes();
  const MainloopStats& ml = st.sm.mainloop;
  r.sm_mma_cycles = ml.mma_cycles;
  r.sm_memory_stall_cycles = ml.memory_stall_cycles;
  r.sm_regfile_stall_cycles = ml.regfile_stall_cycles;
  r.sm_smem_stall_cycles = ml.smem_stall_cycles;
  r.sm_pipeline_cycles = ml.pipeline_cycles;
  r.sm_epilogue_cycles = ml.epilogue_cycles;
  const std::uint64_t sm_cycles = st.cycles * static_cast<std::uint64_t>(machine.arch.sms);
  r.sm_idle_cycles = sm_cycles > st.sm.resident_cycles ? sm_cycles - st.sm.resident_cycles : 0;
  r.ctas = st.scheduler.ctas;
  r.waves = st.scheduler.waves;
  r.wave_efficiency = st.scheduler.wave_efficiency;
  r.imbalance = st.scheduler.imbalance;
  const int cooperating =
      coster->dense_instr().m > 0 ? TensorCore::cooperating_for(chosen.machine->kernel.instruction) : 1;

  EnergyCounts c;
  c.dense_macs = u.tensor_core.dense_macs;
  c.sparse_macs = u.tensor_core.sparse_macs;
  c.selections = u.operand_selector.selections;
  c.metadata_bits = u.register_file.metadata_bits;  // read once from the registers; the selector's decode is per selection
  c.register_reads = u.register_file.reads;
  c.register_writes = u.register_file.writes;
  c.smem_read_bytes = u.shared_memory.read_bytes;
  c.smem_write_bytes = u.shared_memory.write_bytes;
  c.l2_bytes = r.l2_bytes;
  c.dram_bytes = r.dram_bytes;
  c.sm_active_cycles = st.sm.resident_cycles;
  r.energy = compute_energy(c, machine.energy, g.dtype);
  // The power cap: the clock the line sustains, and its time and energy there.
  const SustainedClock clock = sustain_clock({r.energy.core(), r.energy.dram, r.cycles}, machine.arch);
  apply_clock(r.energy, clock);
  r.clock_mhz = clock.clock_mhz;
  r.time_s = clock.time_s;
  r.power_w = clock.power_w;
  fill_rates(r, machine, u.tensor_core.busy_cycles, cooperating);
  return r;
}

LayerResult total_of(const MachineConfig& machine, const std::string& label, const std::vector<LayerResult>& rows,
                     std::uint64_t tc_busy_cycles) {
  LayerResult t;
  t.layer = "total";
  t.pattern = label;
  t.count = 0;
  for (const LayerResult& r : rows) {
    t.count += r.count;
    t.cycles += r.cycles;
    t.dense_macs += r.dense_macs;
    t.executed_macs += r.executed_macs;
    t.l2_bytes += r.l2_bytes;
    t.dram_bytes += r.dram_bytes;
    t.sm_mma_cycles += r.sm_mma_cycles;
    t.sm_memory_stall_cycles += r.sm_memory_stall_cycles;
    t.sm_regfile_stall_cycles += r.sm_regfile_stall_cycles;
    t.sm_smem_stall_cycles += r.sm_smem_stall_cycles;
    t.sm_pipeline_cycles += r.sm_pipeline_cycles;
    t.sm_epilogue_cycles += r.sm_epilogue_cycles;
    t.sm_idle_cycles += r.sm_idle_cycles;
    t.ctas += r.ctas;
    t.waves += r.waves;
    t.energy += r.energy;
    t.time_s += r.time_s;
  }
  // The lines' clocks, cycle-weighted: total cycles over total time.
  t.clock_mhz = t.time_s > 0 ? static_cast<double>(t.cycles) / t.time_s * 1e-6 : machine.arch.clock_mhz;
  t.power_w = t.time_s > 0 ? t.energy_j() / t.time_s : 0.0;
  if (!rows.empty()) t.dtype = rows.front().dtype;
  t.math_path = "";
  fill_rates(t, machine, tc_busy_cycles, TensorCore::cooperating_for(machine.kernel.instruction));
  return t;
}

}  // namespace

SimResult simulate(const MachineConfig& machine, const std::vector<RunInput>& runs, const SimOptions& opts) {
  if (g_elaborated) throw Error("simulate: SystemC elaborates once per process; put every run in one call");
  g_elaborated = true;

  std::size_t lines = 0;
  for (const RunInput& r : runs) lines += r.trace.ops.size();
  if (lines > kMaxSimulatedLines) {
    throw Error(fmt::format("{} GEMM lines over {} run(s); one simulation takes at most {} (its results are held in "
                            "memory): merge repeated lines with the trace's count column, or split the trace",
                            lines, runs.size(), kMaxSimulatedLines));
  }
  // The machine once per kernel candidate; the plans and costers point into it.
  const std::vector<MachineConfig> variants = machine.kernel_variants();
  int slots = 1;
  for (const MachineConfig& v : variants) slots = std::max(slots, TileScheduler::ctas_per_sm(v));
  std::vector<std::vector<LinePlan>> plans(runs.size());
  std::map<std::string, LinePlan> planned;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    for (std::size_t i = 0; i < runs[r].trace.ops.size(); ++i) {
      plans[r].push_back(plan_line(variants, runs[r].trace, i, opts.seed, planned));
    }
  }

  // Kernel selection and the dense fallback: a line with more than one option times each first, alone
  // on a fresh memory system, once per distinct line (a mask-based pattern's weights depend on the
  // layer and line); the line's own launch then runs the fastest.
  std::vector<Probe> probes;
  std::map<std::string, std::size_t> probe_of;
  for (std::size_t r = 0; r < plans.size(); ++r) {
    for (LinePlan& lp : plans[r]) {
      if (lp.options.size() < 2) continue;
      const auto [it, fresh] = probe_of.emplace(line_key(*lp.op, lp.mapping, lp.line), probes.size());
      if (fresh) {
        for (std::size_t o = 0; o < lp.options.size(); ++o) probes.push_back({&lp, r, o});
      }
      for (std::size_t o = 0; o < lp.options.size(); ++o) lp.options[o].probe = it->second + o;
    }
  }
  // Functional mode: one FunctionalLaunch per line and option (the option chosen gets the MMAs).
  std::vector<std::vector<std::vector<std::unique_ptr<FunctionalLaunch>>>> values(runs.size());
  if (opts.functional) {
    if (opts.model != SimModel::cycle) throw Error("simulate: functional mode through the timing run needs the cycle model");
    std::uint64_t held = 0;
    for (std::size_t r = 0; r < plans.size(); ++r) {
      const Trace& t = runs[r].trace;
      for (std::size_t i = 0; i < plans[r].size(); ++i) {
        const LinePlan& lp = plans[r][i];
        try {
          check_functional_size(*lp.op);
          const auto m = static_cast<std::uint64_t>(lp.op->m), n = static_cast<std::uint64_t>(lp.op->n),
                     k = static_cast<std::uint64_t>(lp.op->k);
          held = checked_add(held, checked_add(checked_add(m * k, k * n, "values"), m * n, "values"), "values");
          if (held > kFunctionalValueLimit) {
            throw ShapeError(fmt::format("functional mode through the cycle model holds every line's operands at once: "
                                         "{} values up to this line, over the limit of {} (2^28); run fewer lines",
                                         held, kFunctionalValueLimit));
          }
          values[r].emplace_back();
          for (const LineOption& o : lp.options) {
            values[r].back().push_back(
                std::make_unique<FunctionalLaunch>(*lp.op, *o.mapping, *o.machine, *o.plan, opts.seed, lp.line));
          }
        } catch (const Error& e) {
          throw Error(fmt::format("{}: functional mode: {}", where(t, i), e.what()));
        }
      }
    }
  }
  const auto values_of = [&](std::size_t r, std::size_t i, std::size_t o) -> MmaValues* {
    return opts.functional ? values[r][i][o].get() : nullptr;
  };
  GpuModule gpu("gpu", machine, slots, opts.model);
  for (const Probe& p : probes) {
    const LineOption& o = p.line->options[p.option];
    gpu.add_probe(*o.plan, *o.coster, kProbeWaves);
  }
  for (std::size_t r = 0; r < plans.size(); ++r) {
    bool first = true;
    for (std::size_t i = 0; i < plans[r].size(); ++i) {
      const LinePlan& lp = plans[r][i];
      if (lp.options.size() > 1) {
        std::vector<GpuModule::Option> options;
        for (std::size_t o = 0; o < lp.options.size(); ++o) {
          const LineOption& opt = lp.options[o];
          options.push_back({opt.plan.get(), opt.coster.get(), opt.probe, values_of(r, i, o)});
        }
        gpu.add_launch_choice(options, first);
      } else {
        gpu.add_launch(*lp.options.front().plan, *lp.options.front().coster, first, values_of(r, i, 0));
      }
      first = false;
    }
  }
  sc_core::sc_trace_file* tf = nullptr;
  if (!opts.vcd_path.empty()) {
    std::string base = opts.vcd_path;
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0) base.resize(base.size() - 4);
    // SystemC opens the file only when the simulation starts: check that it can be written now.
    if (!std::ofstream(base + ".vcd")) throw IoError(fmt::format("{}: cannot create the waveform file", base + ".vcd"));
    tf = sc_core::sc_create_vcd_trace_file(base.c_str());
    if (tf == nullptr) throw IoError(fmt::format("{}: cannot create the waveform file", opts.vcd_path));
    tf->set_time_unit(1, sc_core::SC_NS);
    gpu.add_to_waveform(tf);
  }
  try {
    sc_core::sc_start();
  } catch (const sc_core::sc_report& e) {
    sanitizer_back_on_thread_stack();
    throw Error(fmt::format("simulation kernel: {}", e.what()));
  }
  sanitizer_back_on_thread_stack();
  if (tf != nullptr) sc_core::sc_close_vcd_trace_file(tf);
  if (gpu.error()) {
    std::size_t l = gpu.error_launch();
    if (l < probes.size()) {
      const Probe& p = probes[l];
      const LineOption& o = p.line->options[p.option];
      try {
        std::rethrow_exception(gpu.error());
      } catch (const std::exception& e) {
        throw Error(fmt::format("{}: run '{}' (kernel {}, {}, timed to choose the line's kernel): {}",
                                where(runs[p.run].trace, static_cast<std::size_t>(p.line - plans[p.run].data())),
                                runs[p.run].label, o.machine->kernel.name, o.dense ? "dense" : "sparse", e.what()));
      }
    }
    l -= probes.size();
    for (std::size_t r = 0; r < runs.size(); ++r) {
      if (l < plans[r].size()) {
        try {
          std::rethrow_exception(gpu.error());
        } catch (const std::exception& e) {
          throw Error(fmt::format("{}: run '{}': {}", where(runs[r].trace, l), runs[r].label, e.what()));
        }
      }
      l -= plans[r].size();
    }
    std::rethrow_exception(gpu.error());
  }

  SimResult out;
  // The probes come first: one launch and one memory system each.
  std::size_t launch = probes.size();
  std::size_t memory_index = probes.size();
  for (std::size_t i = 0; i < launch; ++i) {
    out.simulated_cycles += gpu.results().at(i).cycles;
    out.mma_instructions += gpu.results().at(i).sm.units.tensor_core.instructions;
  }
  for (std::size_t r = 0; r < runs.size(); ++r) {
    RunResult rr;
    rr.label = runs[r].label;
    std::uint64_t busy = 0;
    const std::size_t first_launch = launch;
    for (std::size_t i = 0; i < plans[r].size(); ++i) {
      const LinePlan& lp = plans[r][i];
      const LaunchStats& st = gpu.results().at(launch++);
      if (opts.functional) {
        try {
          rr.functional.push_back(values[r][i].at(st.choice)->finish());
        } catch (const Error& e) {
          throw Error(fmt::format("{}: {}", where(runs[r].trace, i), e.what()));
        }
      }
      rr.rows.push_back(line_result(machine, lp, st, gpu.results()));
      rr.rows.back().run = rr.label;
      busy += st.sm.units.tensor_core.busy_cycles;
      out.simulated_cycles += st.cycles;
      out.mma_instructions += st.sm.units.tensor_core.instructions;
      rr.stats.add_all(fmt::format("gpu.scheduler.launch{}", launch - 1 - first_launch), st.scheduler);
    }
    rr.total = total_of(machine, rr.label, rr.rows, busy);
    rr.stats.add("gpu.cycles", rr.total.cycles);
    for (const auto& sm : gpu.sms()) {
      // Runs without launches get no memory system and no per-run SM stats slot.
      const SmStats s = plans[r].empty() || sm->per_run().size() <= memory_index ? SmStats{} : sm->per_run()[memory_index];
      s.add_to(rr.stats, fmt::format("gpu.sm{}", sm->id()));
      // The cycle model's own counters: sub-cores (issue, stall reasons per warp-cycle), operand
      // collectors, selector stages and tensor-core pipes, each summed over the SM's sub-cores.
      if (const auto* c = dynamic_cast<const CycleSm*>(sm.get())) {
        const CycleSmStats cs = plans[r].empty() || c->cycle_per_run().size() <= memory_index
                                    ? CycleSmStats{}
                                    : c->cycle_per_run()[memory_index];
        const std::string p = fmt::format("gpu.sm{}.cycle", sm->id());
        rr.stats.add_all(p + ".sub_cores", cs.sub_cores);
        rr.stats.add_all(p + ".register_files", cs.operand_collectors);
        rr.stats.add_all(p + ".operand_selectors", cs.selectors);
        rr.stats.add_all(p + ".tensor_cores", cs.tensor_core_pipes);
      }
    }
    if (!plans[r].empty()) {
      const auto& m = gpu.memory_totals().at(memory_index++);
      rr.stats.add_all("gpu.memory", m.memory);
      rr.stats.add_all("gpu.memory.l2", m.l2);
      rr.stats.add_all("gpu.memory.l2_link", m.l2_link);
      rr.stats.add_all("gpu.memory.dram_link", m.dram_link);
    }
    out.runs.push_back(std::move(rr));
  }
  return out;
}

std::string runs_csv(const std::vector<RunResult>& runs) {
  std::vector<LayerResult> rows;
  for (const RunResult& r : runs) rows.insert(rows.end(), r.rows.begin(), r.rows.end());
  return results_csv(rows);
}

std::string runs_stats_yaml(const std::vector<RunResult>& runs, const std::string& header_comment) {
  std::string out = header_comment;
  out += "runs:\n";
  for (const RunResult& r : runs) {
    std::string quoted;
    for (char c : r.label) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    out += fmt::format("  - label: \"{}\"\n    stats:\n", quoted);
    const std::string body = r.stats.to_yaml();
    std::size_t pos = 0;
    while (pos < body.size()) {
      const std::size_t nl = body.find('\n', pos);
      const std::size_t end = nl == std::string::npos ? body.size() : nl;
      out += "      " + body.substr(pos, end - pos) + "\n";
      pos = end + 1;
    }
  }
  return out;
}

}  // namespace stcsim
