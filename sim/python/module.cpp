// The compiled half of `import stcsim` (sim/python/stcsim/__init__.py is the other): one simulation
// run to its results.csv and stats.yaml text, and one matrix pruned by a pattern. The Python layer
// runs each simulation in a child process of its own (SystemC elaborates one model per process), and
// turns these into rows, a stats tree and NumPy arrays. Every stcsim error arrives in Python as
// stcsim.Error carrying the command line's one-line message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/gemm_arg.h"
#include "cli/usage.h"
#include "common/dtype.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/matrix.h"
#include "common/npy.h"
#include "config/machine_config.h"
#include "gpu/sim_model.h"
#include "gpu/simulation.h"
#include "sparsity/registry.h"
#include "sparsity/stats.h"

namespace py = pybind11;

namespace stcsim {
namespace {

// A simulation as `stcsim run` does it: returns results.csv and stats.yaml as text.
py::dict run_once(const std::string& config, const std::vector<std::string>& sets, const std::string& trace,
                  const std::string& gemm, const std::string& dtype, const std::vector<std::string>& patterns,
                  const std::string& model, std::uint64_t seed) {
  const MachineConfig machine = load_machine_config(config, sets);
  const Trace t = cli::workload_from_args(trace, gemm, dtype);
  std::vector<RunInput> runs;
  for (auto& [label, tr] : cli::runs_for_patterns(t, patterns)) runs.push_back({label, std::move(tr)});
  SimOptions opts;
  opts.seed = seed;
  const auto m = parse_sim_model(model);
  if (!m) throw cli::UsageError(fmt::format("model: '{}' is not fast or cycle", model));
  opts.model = *m;
  const SimResult result = simulate(machine, runs, opts);
  py::dict out;
  out["results_csv"] = runs_csv(result.runs);
  out["stats_yaml"] = runs_stats_yaml(result.runs, fmt::format("# stcsim run from Python: config {}\n", config));
  out["config_yaml"] = to_yaml(machine);
  return out;
}

// weights [rows, cols] (cols along K) pruned by `pattern`: the mask, the statistics, and the
// compressed arrays written as .npy files into `dir` (their names returned), as `stcsim prune --out`.
py::dict prune(const py::array_t<float, py::array::c_style | py::array::forcecast>& weights, const std::string& pattern,
               const std::string& dtype, const std::string& dir) {
  if (weights.ndim() != 2) throw ShapeError(fmt::format("prune: expected a 2-d array [rows, cols], got {} dimensions", weights.ndim()));
  const auto dt = parse_dtype(dtype);
  if (!dt) throw cli::UsageError(fmt::format("dtype: '{}' is not one of {}", dtype, dtype_choices()));
  Matrix w(weights.shape(0), weights.shape(1));
  const float* src = weights.data();
  std::copy(src, src + w.size(), w.data().begin());
  const auto p = builtin_registry().make(pattern);
  const Mask mask = p->build_mask(w);
  p->check_mask(mask);
  const auto compressed = p->compress(w, mask);
  const PatternStats stats = measure(*p, w, mask, *compressed, *dt);
  py::dict st;
  stats.visit([&](const char* name, const auto& v) { st[name] = v; });
  py::dict details;
  for (const auto& [k, v] : stats.details) details[py::str(k)] = v;
  st["details"] = details;
  py::array_t<std::uint8_t> m({mask.rows(), mask.cols()});
  std::copy(mask.data().begin(), mask.data().end(), m.mutable_data());
  py::dict out;
  out["mask"] = m;
  out["stats"] = st;
  out["files"] = compressed->save(dir);
  return out;
}

}  // namespace
}  // namespace stcsim

PYBIND11_MODULE(_stcsim, mod) {
  mod.doc() = "stcsim's compiled core; use the stcsim package (run, prune, load_results, ...)";
  static py::exception<stcsim::Error> error(mod, "Error");
  // pybind11 takes a void (*)(std::exception_ptr): the pointer by value is its interface.
  py::register_exception_translator([](std::exception_ptr p) {  // NOLINT(performance-unnecessary-value-param)
    try {
      if (p) std::rethrow_exception(p);
    } catch (const stcsim::Error& e) {
      error(e.what());
    } catch (const stcsim::cli::UsageError& e) {
      error(e.what());
    }
  });
  mod.def("run_once", &stcsim::run_once, py::arg("config"), py::arg("sets"), py::arg("trace"), py::arg("gemm"),
          py::arg("dtype"), py::arg("patterns"), py::arg("model"), py::arg("seed"),
          "One simulation (once per process); returns results_csv, stats_yaml and config_yaml text.");
  mod.def("prune", &stcsim::prune, py::arg("weights"), py::arg("pattern"), py::arg("dtype"), py::arg("dir"),
          "Prunes a 2-d array; returns mask, stats and the compressed arrays' file names in dir.");
  mod.attr("version") = STCSIM_VERSION;
  mod.attr("source_dir") = STCSIM_SOURCE_DIR;
}
