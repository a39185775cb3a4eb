#include "cli/file_kind.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/strings.h"
#include "config/machine_config.h"
#include "config/yaml_doc.h"
#include "sparsity/registry.h"
#include "sweep/sweep_spec.h"
#include "trace/trace_io.h"
#include "workload/workload.h"

namespace stcsim::cli {

FileKind detect_file_kind(const std::string& path) {
  const std::string text = read_file(path);
  // A trace's first meaningful line is its header.
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (const auto h = line.find('#'); h != std::string_view::npos) line = line.substr(0, h);
    line = trim(line);
    pos = end + 1;
    if (line.empty()) continue;
    if (line.rfind("stcsim-trace", 0) == 0) return FileKind::trace;
    break;
  }
  const YamlDoc doc = YamlDoc::parse(text, path);
  if (doc.root()["layers"]) return FileKind::workload;
  if (doc.root()["traces"] && doc.root()["config"]) return FileKind::sweep;
  if (doc.root()["arch"] || doc.root()["kernel"] || doc.root()["energy"] || doc.root()["include"]) return FileKind::config;
  throw ConfigError(path, "(document)",
                    "not a trace (stcsim-trace header), a machine config (arch, kernel, energy), a workload (layers) or a "
                    "sweep (config, traces)");
}

std::string validate_file(const std::string& path) {
  switch (detect_file_kind(path)) {
    case FileKind::trace: {
      const TraceTotals totals = trace_totals(read_trace(path, builtin_registry()));
      return fmt::format("trace: {} GEMM lines, {:.3f} dense GMACs", totals.lines, static_cast<double>(totals.dense_macs) * 1e-9);
    }
    case FileKind::config: {
      return fmt::format("config: {}", join(validate_config_file(path), ", "));
    }
    case FileKind::sweep: {
      const sweep::SweepSpec s = sweep::load_sweep(path);
      return fmt::format("sweep {}: {} points x {} traces = {} jobs", s.name, s.points.size(), s.traces.size(), s.jobs());
    }
    case FileKind::workload: {
      const Workload w = load_workload(path);
      const Trace t = generate_trace(w, w.default_batch, w.default_seq, "dense");
      const TraceTotals totals = trace_totals(t);
      return fmt::format("workload {}: {} layers, {:.3f} dense GMACs at batch {}{}", w.name, w.layers.size(),
                         static_cast<double>(totals.dense_macs) * 1e-9, w.default_batch,
                         w.default_seq ? fmt::format(", seq {}", *w.default_seq) : std::string());
    }
  }
  return {};
}

}  // namespace stcsim::cli
