#include "cli/file_kind.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

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
  // Not YAML at all: say what stcsim reads rather than report the syntax of a file that never was
  // YAML (a README); a .yaml file keeps its syntax error and line.
  const auto ext = std::filesystem::path(path).extension().string();
  const bool yaml_name = ext == ".yaml" || ext == ".yml";
  std::optional<YamlDoc> parsed;
  try {
    parsed.emplace(YamlDoc::parse(text, path));
  } catch (const ConfigError&) {
    if (yaml_name) throw;
  }
  if (!parsed || !parsed->root().IsMap()) {
    throw ConfigError(path, "(document)",
                      "not a file stcsim knows: a trace starts with 'stcsim-trace v1'; machine configs, workloads and "
                      "sweeps are YAML maps");
  }
  const YamlDoc& doc = *parsed;
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
      return fmt::format("trace: {}, {:.3f} dense GMACs", plural(totals.lines, "GEMM line"), static_cast<double>(totals.dense_macs) * 1e-9);
    }
    case FileKind::config: {
      return fmt::format("config: {}", join(validate_config_file(path), ", "));
    }
    case FileKind::sweep: {
      const sweep::SweepSpec s = sweep::load_sweep(path);
      return fmt::format("sweep {}: {} x {} = {}", s.name, plural(s.points.size(), "point"), plural(s.traces.size(), "trace"),
                         plural(s.jobs(), "job"));
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
