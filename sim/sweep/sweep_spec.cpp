#include "sweep/sweep_spec.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <algorithm>
#include <map>

#include "common/error.h"
#include "common/strings.h"
#include "config/machine_config.h"
#include "config/yaml_doc.h"
#include "report/results.h"
#include "sparsity/registry.h"

namespace stcsim::sweep {

namespace {

namespace fs = std::filesystem;

constexpr const char* kPatternKey = "pattern";
// An axis or point key naming the machine config file (relative to the sweep file) instead of a key in it.
constexpr const char* kConfigKey = "config";
// Keys "column.NAME" add a column and change nothing: labels for plots (a pattern's g and sparsity).
constexpr const char* kColumnPrefix = "column.";

bool is_column_only(const std::string& key) { return key.rfind(kColumnPrefix, 0) == 0; }

// One swept key: its column name and values (with labels for point names).
struct Leaf {
  std::string key;
  std::string column;
  std::vector<std::string> values;
  std::vector<std::string> labels;
  std::vector<bool> unset;  // zipped leaves: value i is ~, the key keeps the config's value there
};

// Leaves that advance together (one leaf for a plain axis, several for a zip).
using Dimension = std::vector<Leaf>;

std::string resolve(const std::string& base_dir, const std::string& p) {
  const fs::path path(p);
  return fs::absolute(path.is_absolute() ? path : fs::path(base_dir) / path).lexically_normal().string();
}

std::string canonical_pattern(Section& s, const std::string& key, const std::string& spec) {
  try {
    return builtin_registry().canonical(spec);
  } catch (const SpecError& e) {
    s.fail_key(key, e.what());
  }
}

std::vector<std::string> range_values(Section& r) {
  const double from = r.get_double("from"), to = r.get_double("to"), step = r.get_double("step");
  r.finish();
  if (!(step > 0)) r.fail_key("step", "must be > 0");
  if (to < from) r.fail_key("to", fmt::format("must be >= from ({})", shortest_double(from)));
  const double n = std::floor((to - from) / step + 1e-9) + 1;
  if (n > 100000) r.fail("more than 100000 values");
  std::vector<std::string> out;
  for (long i = 0; i < static_cast<long>(n); ++i) {
    const double v = from + static_cast<double>(i) * step;
    out.push_back(v == std::floor(v) && std::fabs(v) < 9e15 ? fmt::format("{}", static_cast<long long>(v)) : shortest_double(v));
  }
  return out;
}

Leaf read_leaf(Section& a, bool zipped) {
  Leaf l;
  l.key = a.get_string("key");
  l.column = l.key == kPatternKey ? "sweep_pattern" : is_column_only(l.key) ? l.key.substr(7) : l.key;
  a.opt("name", l.column);
  const bool has_values = a.has("values"), has_range = a.has("range");
  a.has("labels");  // known here, read below
  if (!has_values && !has_range) {
    a.finish();  // a misspelt key (valeus) is the likelier mistake: name it
    a.fail("give one of values and range");
  }
  if (has_values && has_range) a.fail("give values or range, not both");
  if (has_values && zipped) {
    for (const auto& v : a.get_optional_scalars("values")) {
      l.values.push_back(v.value_or(""));
      l.unset.push_back(!v.has_value());
    }
  } else if (has_values) {
    l.values = a.get_scalars("values");
  } else {
    Section r = a.child("range");
    l.values = range_values(r);
  }
  if (a.has("labels")) {
    l.labels = a.get_scalars("labels");
    if (l.labels.size() != l.values.size()) {
      a.fail_key("labels", fmt::format("has {} entries for {} values", l.labels.size(), l.values.size()));
    }
  } else {
    l.labels = l.values;
  }
  l.unset.resize(l.values.size(), false);
  for (std::size_t i = 0; i < l.values.size(); ++i) {
    if (l.unset[i] && !a.has("labels")) l.labels[i] = "unset";
  }
  if (l.key == kPatternKey) {
    for (std::size_t i = 0; i < l.values.size(); ++i) {
      if (l.unset[i]) a.fail_key(fmt::format("values[{}]", i), "a pattern cannot be left unset (~)");
      l.values[i] = canonical_pattern(a, fmt::format("values[{}]", i), l.values[i]);
    }
  }
  a.finish();
  return l;
}

Dimension read_axis(Section& a) {
  Dimension d;
  if (a.has("zip")) {
    for (Section z : a.children("zip")) d.push_back(read_leaf(z, true));
    a.finish();
    if (d.empty()) a.fail_key("zip", "must list at least one key");
    for (const Leaf& l : d) {
      if (l.values.size() != d[0].values.size()) {
        a.fail_key("zip", fmt::format("'{}' has {} values and '{}' {}: zipped lists must be equally long", d[0].key,
                                      d[0].values.size(), l.key, l.values.size()));
      }
    }
  } else {
    d.push_back(read_leaf(a, false));
  }
  return d;
}

}  // namespace

SweepSpec load_sweep(const std::string& path) { return parse_sweep(YamlDoc::load(path), path); }

SweepSpec parse_sweep(const YamlDoc& doc, const std::string& path) {
  Section top(doc, doc.root(), "");
  SweepSpec s;
  s.path = path;
  const std::string dir = fs::path(path).parent_path().string();
  s.name = top.get_string("name");
  top.opt("description", s.description);
  s.config_name = top.get_string("config");
  s.config = resolve(dir, s.config_name);
  const auto traces = top.get_scalars("traces");
  for (std::size_t i = 0; i < traces.size(); ++i) {
    s.trace_names.push_back(traces[i]);
    s.traces.push_back(resolve(dir, traces[i]));
    if (!fs::is_regular_file(s.traces.back())) top.fail_key(fmt::format("traces[{}]", i), fmt::format("no file {}", s.traces.back()));
  }
  if (top.has("baseline")) s.baseline = canonical_pattern(top, "baseline", top.get_string("baseline"));
  std::vector<std::string> patterns;
  if (top.has("patterns")) {
    const auto ps = top.get_scalars("patterns");
    for (std::size_t i = 0; i < ps.size(); ++i) patterns.push_back(canonical_pattern(top, fmt::format("patterns[{}]", i), ps[i]));
  }
  std::int64_t seed = 1;
  top.opt("seed", seed, Range<std::int64_t>{0, {}});
  s.seed = static_cast<std::uint64_t>(seed);
  top.opt("weight_stats", s.weight_stats);
  if (top.has("model")) {
    s.model = top.get_string("model");
    if (s.model != "fast" && s.model != "cycle") top.fail_key("model", fmt::format("must be fast or cycle (got '{}')", s.model));
  }
  if (top.has("set")) {
    for (const auto& [k, v] : top.get_scalar_map("set")) s.sets.push_back(fmt::format("{}={}", k, v));
  }
  std::vector<Dimension> dims;
  std::vector<std::string> axis_where;
  if (top.has("axes")) {
    for (Section a : top.children("axes")) {
      axis_where.push_back(a.key_path());
      dims.push_back(read_axis(a));
    }
  }
  bool pattern_axis = false;
  std::map<std::string, int> seen_keys;
  std::vector<std::string> taken = {"point", "trace"};
  LayerResult{}.visit([&](const char* name, const auto&) { taken.emplace_back(name); });
  for (const Dimension& d : dims) {
    for (const Leaf& l : d) {
      if (seen_keys[l.key]++) top.fail_key("axes", fmt::format("'{}' is swept twice", l.key));
      if (l.key == kPatternKey) pattern_axis = true;
      if (std::find(taken.begin(), taken.end(), l.column) != taken.end()) {
        top.fail_key("axes", fmt::format("column '{}' (of '{}') is already a results.csv column: give the axis a `name`", l.column, l.key));
      }
      taken.push_back(l.column);
      s.columns.push_back(l.column);
    }
  }
  if (pattern_axis && !patterns.empty()) top.fail_key("patterns", "not with a `pattern` axis: the axis gives each point's run");
  if (patterns.empty() && !pattern_axis && s.baseline.empty()) patterns.push_back("dense");

  auto make_point = [&](std::string name, const std::vector<std::pair<std::string, std::string>>& assigned) {
    SweepPoint p;
    p.index = s.points.size();
    p.name = std::move(name);
    p.config = s.config;
    if (!s.baseline.empty()) p.patterns.push_back(s.baseline);
    std::vector<std::string> runs = patterns;
    for (const auto& [k, v] : assigned) {
      if (k == kPatternKey) {
        runs = {v};
      } else if (k == kConfigKey) {
        p.config = resolve(dir, v);
      } else if (!is_column_only(k)) {
        p.sets.push_back(fmt::format("{}={}", k, v));
      }
    }
    for (const auto& r : runs) {
      if (r != s.baseline) p.patterns.push_back(r);
    }
    return p;
  };

  // The product of the axes, first axis outermost (an odometer over the dimensions). Every point's
  // config is loaded below, so the size is bounded first.
  constexpr std::size_t kMaxPoints = 100000;
  std::size_t product = 1;
  for (const Dimension& d : dims) {
    product *= d[0].values.size();
    if (product > kMaxPoints) top.fail_key("axes", fmt::format("the product has more than {} points", kMaxPoints));
  }
  if (!dims.empty()) {
    std::vector<std::size_t> at(dims.size(), 0);
    while (true) {
      std::vector<std::pair<std::string, std::string>> assigned, columns;
      std::vector<std::string> name;
      for (std::size_t d = 0; d < dims.size(); ++d) {
        for (const Leaf& l : dims[d]) {
          if (!l.unset[at[d]]) assigned.emplace_back(l.key, l.values[at[d]]);
          columns.emplace_back(l.column, l.values[at[d]]);
          name.push_back(l.column + "=" + l.labels[at[d]]);
        }
      }
      SweepPoint p = make_point(join(name, ","), assigned);
      p.columns = std::move(columns);
      s.points.push_back(std::move(p));
      std::size_t d = dims.size();
      while (d > 0 && ++at[d - 1] == dims[d - 1][0].values.size()) at[--d] = 0;
      if (d == 0) break;
    }
  }
  std::size_t named_points = 0;
  std::vector<std::string> point_where;  // file:line of each `points` entry
  if (top.has("points")) {
    for (Section ps : top.children("points")) {
      ++named_points;
      point_where.push_back(doc.where(ps.key_path()));
      const std::string name = ps.get_string("name");
      std::vector<std::pair<std::string, std::string>> assigned;
      if (ps.has("set")) assigned = ps.get_scalar_map("set");
      ps.finish();
      for (auto& [k, v] : assigned) {
        if (k == kPatternKey) v = canonical_pattern(ps, "set.pattern", v);
      }
      SweepPoint p = make_point(name, assigned);
      for (const auto& col : s.columns) {
        std::string value;
        for (const Dimension& d : dims) {
          for (const Leaf& l : d) {
            if (l.column != col) continue;
            for (const auto& [k, v] : assigned) {
              if (k == l.key) value = v;
            }
          }
        }
        p.columns.emplace_back(col, value);
      }
      s.points.push_back(std::move(p));
    }
  }
  top.finish();
  if (s.points.empty()) {
    SweepPoint p = make_point("base", {});
    s.points.push_back(std::move(p));
  }
  for (const SweepPoint& p : s.points) {
    if (p.patterns.empty()) top.fail(fmt::format("point '{}' runs no pattern", p.name));
  }
  // Every point's machine must load: report a bad key or value now, naming the point and the line
  // that set it (its `points` entry, or the axes; a bad top-level `set` names that).
  std::map<std::string, std::size_t> first_on_machine;  // resolved machine -> the first point on it
  for (SweepPoint& p : s.points) {
    std::vector<std::string> sets = s.sets;
    sets.insert(sets.end(), p.sets.begin(), p.sets.end());
    try {
      if (!fs::is_regular_file(p.config)) throw Error(fmt::format("config {}: no such file", p.config));
      const auto [first, fresh] = first_on_machine.emplace(to_yaml(load_machine_config(p.config, sets)), p.index);
      // The baseline runs once per machine: a later point on the same resolved machine takes the first
      // one's baseline rows (a run's rows do not depend on the runs beside it) unless it is all it runs.
      if (!s.baseline.empty() && !fresh && p.patterns.size() > 1) {
        p.baseline_from = static_cast<std::ptrdiff_t>(first->second);
        p.patterns.erase(p.patterns.begin());
      }
    } catch (const Error& e) {
      const bool named = p.index >= s.points.size() - named_points;
      const std::string at = named ? point_where.at(p.index - (s.points.size() - named_points))
                                   : doc.where(top.has("axes") ? "axes" : top.has("set") ? "set" : "");
      throw ConfigError(at, fmt::format("point {} '{}'", p.index, p.name), e.what());
    }
  }
  return s;
}

std::vector<std::string> run_args(const SweepSpec& s, const SweepPoint& p, std::size_t trace) {
  std::vector<std::string> a = {"run", "--config", p.config, "--trace", s.traces.at(trace), "--seed", std::to_string(s.seed)};
  for (const auto& set : s.sets) a.insert(a.end(), {"--set", set});
  for (const auto& set : p.sets) a.insert(a.end(), {"--set", set});
  for (const auto& pat : p.patterns) a.insert(a.end(), {"--pattern", pat});
  if (s.weight_stats) a.push_back("--weight-stats");
  if (s.model != "fast") a.insert(a.end(), {"--model", s.model});
  return a;
}

}  // namespace stcsim::sweep
