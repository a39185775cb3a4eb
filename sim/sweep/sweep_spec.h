// Sweep files: a design-space sweep described in YAML (docs/sweeps.md), expanded into points.
//
//   name: scaling                       # required; names the sweep in outputs
//   description: ...                    # optional
//   config: ../h100.yaml                # required: the base machine, relative to the sweep file
//   traces: [../../traces/bert-base_b32_s128.trace]   # required: every point runs every trace
//   baseline: dense                     # optional: a pattern every point runs first (speedups are over it)
//   patterns: [2:4]                     # the runs of each point after the baseline (default [dense]
//                                       # without a baseline, none with one); not with a `pattern` axis
//   seed: 1                             # seed of the weights (default 1)
//   weight_stats: true                  # add kept density, metadata bytes, magnitude kept (run --weight-stats)
//   set: {kernel.cluster_m: 2}          # overrides applied to every point (optional)
//   model: cycle                        # the SM model of every job: fast (default) or cycle
//   axes:                               # optional: the cartesian product of the entries, first outermost
//     - key: arch.sms                   # any --set path, `pattern` (the point's run after the baseline), or
//                                       # column.NAME (only a column, e.g. the g of a zipped tw pattern)
//       name: sms                       # the column name in results.csv (default: the key)
//       values: [66, 132]               # a list ...
//       labels: [half, full]            # ... optionally named, for point names (default: the values)
//     - key: arch.dram.bandwidth_gbps
//       range: {from: 1000, to: 4000, step: 1000}    # ... or an inclusive range
//     - zip:                            # entries that advance together (equal lengths)
//         - {key: arch.tensor_core.operand_selector.max_m, values: [4, 8]}
//         - {key: pattern, values: ["2:4", "2:8"]}
//   points:                             # optional named points, after the product's
//     - {name: h100-fast-dram, set: {arch.dram.bandwidth_gbps: 6700}}
//
// A point is one machine (base config plus the point's overrides) and its list of runs (patterns);
// a job is a point on one trace, what one `stcsim run` computes. The baseline is simulated once per
// distinct machine: points on a machine met before share that point's baseline rows. Expansion loads every point's config,
// so a bad key or value is reported before anything runs, naming the sweep file, the axis and the point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stcsim {
class YamlDoc;
}

namespace stcsim::sweep {

struct SweepPoint {
  std::size_t index = 0;
  std::string name;                                       // "sms=66,dram=1000", or the point's own name
  std::vector<std::pair<std::string, std::string>> columns; // swept column -> value, in axis order
  std::vector<std::string> sets;                          // "key=value" overrides, applied after the sweep's `set`
  std::vector<std::string> patterns;                      // the runs, canonical specs, baseline first
  std::string config;                                     // its machine config (absolute): the sweep's, or a `config` axis value
  // -1: the point runs its own baseline (if the sweep has one). Else the earlier point on the same
  // resolved machine whose baseline rows it shares: `patterns` then leaves the baseline out, and
  // results.csv gives the point those rows under its own name.
  std::ptrdiff_t baseline_from = -1;
};

struct SweepSpec {
  std::string path;          // the sweep file as given
  std::string name;
  std::string description;
  std::string config;        // the base config: absolute path
  std::string config_name;   // as the sweep file writes it
  std::vector<std::string> traces;       // absolute paths
  std::vector<std::string> trace_names;  // as the sweep file writes them (results.csv's trace column)
  std::string baseline;      // canonical spec, or empty
  std::uint64_t seed = 1;
  bool weight_stats = false;
  std::string model = "fast";  // which SM model every job runs: fast or cycle (stcsim run --model)
  std::vector<std::string> sets;    // the sweep-wide overrides
  std::vector<std::string> columns; // swept column names, in order
  std::vector<SweepPoint> points;

  std::size_t jobs() const { return points.size() * traces.size(); }
};

// Reads and expands a sweep file; ConfigError ("file:line: key.path: reason") on any defect, including
// a point whose config does not load (the message names the point).
SweepSpec load_sweep(const std::string& path);
// The same from a document already loaded; relative paths resolve against the folder of `path`.
SweepSpec parse_sweep(const YamlDoc& doc, const std::string& path);

// The arguments of `stcsim run` for job (point, trace): --config, --trace, --set..., --pattern..., --seed.
std::vector<std::string> run_args(const SweepSpec& s, const SweepPoint& p, std::size_t trace);

}  // namespace stcsim::sweep
