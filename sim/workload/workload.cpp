// Workload loading (strict, through Section) and trace generation; see workload.h.
#include "workload/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/checked.h"
#include "common/error.h"
#include "common/strings.h"
#include "sparsity/registry.h"

namespace stcsim {

namespace {

constexpr const char* kBatch = "batch";
constexpr const char* kSeq = "seq";

bool name_chars_ok(const std::string& s, bool allow_path_chars) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    const bool basic =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    return basic || (allow_path_chars && (c == '/' || c == '[' || c == ']'));
  });
}

// Refills text (a YAML block scalar) into lines of at most `width` characters after `label`,
// continuation lines indented, for a trace's comment block.
std::string fill(const std::string& label, std::string text, std::size_t width = 100) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  std::string out = label;
  std::size_t line_len = label.size();
  for (auto word : split_ws(text)) {
    if (line_len > 2 && line_len + 1 + word.size() > width) {
      out += "\n  ";
      line_len = 2;
    } else if (!out.empty()) {
      out += ' ';
      ++line_len;
    }
    out += std::string(word);
    line_len += word.size();
  }
  return out;
}

// Reports a misspelt key before the required key it was meant to be is reported missing.
void reject_unknown_keys(const Section& s, const std::vector<std::string>& allowed) {
  for (const auto& key : s.keys()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      // YAML ends a flow-mapping value at a comma: {k: ceil_div(a, b)} reads as keys "k" and "b)".
      const bool cut = key.find_first_of("()*/+") != std::string::npos;
      s.fail_key(key, fmt::format("unknown key (known here: {}){}", join(allowed, ", "),
                                  cut ? "; inside {...} a comma ends a value, so quote expressions that have one: "
                                        "\"ceil_div(a, b)\""
                                      : ""));
    }
  }
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// Reads the workload's sections; `known` are the variable names a layer expression may use.
class Loader {
 public:
  explicit Loader(const YamlDoc& doc) : doc_(doc) {}

  Workload load() {
    Workload w;
    w.path = doc_.path();
    Section root(doc_, doc_.root(), "");
    reject_unknown_keys(root, {"name", "description", "source", "params", "defaults", "max_seq", "dtype", "layers"});
    w.name = root.get_string("name");
    if (!name_chars_ok(w.name, false)) {
      root.fail_key(
          "name", fmt::format("'{}' must use only letters, digits and _ . - (it names trace lines and files)", w.name));
    }
    w.description = root.get_string("description");
    w.source = root.get_string("source");

    Section defaults = root.child("defaults");
    reject_unknown_keys(defaults, {kBatch, kSeq});
    w.default_batch = defaults.get_int(kBatch, {1, kMaxDim});
    if (defaults.has(kSeq)) w.default_seq = defaults.get_int(kSeq, {1, kMaxDim});
    defaults.finish();
    if (root.has("max_seq")) {
      if (!w.takes_seq())
        root.fail_key("max_seq", "only a workload that takes a sequence length (defaults.seq) has one");
      w.max_seq = root.get_int("max_seq", {1, kMaxDim});
      if (*w.default_seq > *w.max_seq) {
        root.fail_key("max_seq", fmt::format("is {}, shorter than defaults.seq ({})", *w.max_seq, *w.default_seq));
      }
    }
    std::string dtype(dtype_name(DType::fp16));
    std::vector<std::string> dtypes;
    for (DType t : kAllDTypes) dtypes.emplace_back(dtype_name(t));
    root.opt_choice("dtype", dtype, dtypes);
    w.dtype = *parse_dtype(dtype);

    if (auto params = root.opt_child("params")) read_params(*params, w);

    known_ = {kBatch};
    if (w.takes_seq()) known_.insert(kSeq);
    for (const auto& [name, value] : w.params) known_.insert(name);
    takes_seq_ = w.takes_seq();

    auto layers = root.children("layers");
    if (layers.empty()) root.fail_key("layers", "must list at least one layer");
    std::map<std::string, std::string> names;  // layer name -> key path of its first use
    for (auto& s : layers) {
      WorkloadLayer l = read_layer(s);
      if (const auto it = names.find(l.name); it != names.end()) {
        s.fail_key("name", fmt::format("'{}' is already the name of {}", l.name, it->second));
      }
      names.emplace(l.name, l.key_path);
      w.layers.push_back(std::move(l));
    }
    root.finish();

    // A parameter nothing uses is either dead text or a misspelt use of it; both are worth a stop.
    for (const auto& [name, value] : w.params) {
      if (!used_.count(name)) {
        throw ConfigError(doc_.where("params." + name), "params." + name,
                          "is not used by any layer or parameter (remove it)");
      }
    }
    return w;
  }

 private:
  ShapeExpr read_expr(Section& s, const std::string& key) {
    const std::string text = s.get_string(key);
    return parse_expr(s, key, text);
  }

  // An absent key reads as `fallback`; its errors then point at the enclosing entry.
  ShapeExpr opt_expr(Section& s, const std::string& key, const char* fallback) {
    if (s.has(key)) return read_expr(s, key);
    return parse_expr(s, key, fallback);
  }

  ShapeExpr parse_expr(Section& s, const std::string& key, const std::string& text) {
    ShapeExpr e;
    e.key_path = join_path(s.key_path(), key);
    e.where = doc_.where(e.key_path);
    try {
      e.expr = Expr::parse(text);
    } catch (const ExprError& err) {
      s.fail_key(key, err.what());
    }
    for (const auto& v : e.expr.variables()) {
      if (known_.count(v)) {
        used_.insert(v);
        continue;
      }
      if (in_params_ && (v == kBatch || v == kSeq)) {
        s.fail_key(
            key, fmt::format("expression '{}': parameters are model constants and cannot use '{}'", e.expr.text(), v));
      }
      if (v == kSeq && !takes_seq_) {
        s.fail_key(key, fmt::format("expression '{}': unknown variable 'seq': this workload takes no sequence length "
                                    "(give defaults.seq if it should)",
                                    e.expr.text()));
      }
      const std::vector<std::string> known(known_.begin(), known_.end());
      s.fail_key(key, fmt::format("expression '{}': unknown variable '{}' (known: {})", e.expr.text(), v,
                                  known.empty() ? "none" : join(known, ", ")));
    }
    return e;
  }

  void read_params(Section& params, Workload& w) {
    in_params_ = true;
    ExprVars values;
    for (const auto& name : params.keys()) {
      if (!is_identifier(name))
        params.fail_key(name, "a parameter name must be letters, digits and _, not starting with a digit");
      if (name == kBatch || name == kSeq) {
        params.fail_key(
            name, fmt::format("'{}' is set on the command line (defaults.{} gives its default), not a parameter", name,
                              name));
      }
      if (is_function_name(name)) params.fail_key(name, fmt::format("'{}' is the name of a function", name));
      const ShapeExpr e = read_expr(params, name);
      std::int64_t v = 0;
      try {
        v = e.expr.eval(values);
      } catch (const ExprError& err) {
        params.fail_key(name, err.what());
      }
      values[name] = v;
      known_.insert(name);
      w.params.emplace_back(name, v);
    }
    params.finish();
    in_params_ = false;
  }

  WorkloadLayer read_layer(Section& s) {
    WorkloadLayer l;
    l.key_path = s.key_path();
    l.where = doc_.where(l.key_path);
    if (s.has("conv")) {
      reject_unknown_keys(s, {"name", "conv", "count", "m", "n", "k", "weights"});  // m..weights refused below
    } else {
      reject_unknown_keys(s, {"name", "m", "n", "k", "weights", "count"});
    }
    l.name = s.get_string("name");
    if (!name_chars_ok(l.name, true))
      s.fail_key("name", fmt::format("'{}' must use only letters, digits and _ . - / [ ]", l.name));
    if (s.has("conv")) {
      for (const char* k : {"m", "n", "k", "weights"}) {
        if (s.has(k))
          s.fail_key(k, "a conv layer takes no m, n, k or weights: its GEMM follows from conv (weights are B)");
      }
      Section c = s.child("conv");
      reject_unknown_keys(c, {"in", "out", "kernel", "stride", "pad", "h", "w", "groups"});
      ConvShape cs;
      cs.in = read_expr(c, "in");
      cs.out = read_expr(c, "out");
      cs.kernel = read_expr(c, "kernel");
      cs.stride = opt_expr(c, "stride", "1");
      cs.pad = opt_expr(c, "pad", "0");
      cs.h = read_expr(c, "h");
      cs.w = read_expr(c, "w");
      cs.groups = opt_expr(c, "groups", "1");
      c.finish();
      l.conv = std::move(cs);
      l.weights = Operand::B;
    } else {
      l.m = read_expr(s, "m");
      l.n = read_expr(s, "n");
      l.k = read_expr(s, "k");
      const std::string weights = s.get_choice("weights", {"A", "B", "none"});
      l.weights = weights == "none" ? Operand::none : *parse_operand(weights);
    }
    l.count = opt_expr(s, "count", "1");
    s.finish();
    return l;
  }

  const YamlDoc& doc_;
  std::set<std::string> known_;
  std::set<std::string> used_;
  bool takes_seq_ = false;
  bool in_params_ = false;
};

std::int64_t where_line(const std::string& where) {
  const auto colon = where.rfind(':');
  if (colon == std::string::npos) return 0;
  return parse_int(std::string_view(where).substr(colon + 1)).value_or(0);
}

std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_./:=,+-").find(c) != std::string_view::npos;
  });
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Workload workload_from_yaml(const YamlDoc& doc) {
  Workload w = Loader(doc).load();
  // Shapes are checked by making the trace at the defaults: a division that does not come out even
  // or a window larger than its input is reported now, not when someone first runs the model.
  generate_trace(w, w.default_batch, w.default_seq, "dense");
  return w;
}

Workload load_workload(const std::string& path, const std::vector<std::string>& sets) {
  YamlDoc doc = YamlDoc::load(path);
  for (const auto& s : sets) doc.apply_set(s);
  return workload_from_yaml(doc);
}

Workload parse_workload(const std::string& text, const std::string& name) {
  return workload_from_yaml(YamlDoc::parse(text, name));
}

Trace generate_trace(const Workload& w, std::int64_t batch, std::optional<std::int64_t> seq,
                     const std::string& pattern_spec, std::optional<DType> dtype) {
  if (batch < 1 || batch > kMaxDim)
    throw Error(fmt::format("workload {}: batch must be in 1..{} (got {})", w.name, kMaxDim, batch));
  if (w.takes_seq()) {
    if (!seq)
      throw Error(fmt::format("workload {} needs a sequence length, seq (its default is {})", w.name, *w.default_seq));
    if (*seq < 1 || *seq > kMaxDim)
      throw Error(fmt::format("workload {}: seq must be in 1..{} (got {})", w.name, kMaxDim, *seq));
    if (w.max_seq && *seq > *w.max_seq) {
      throw Error(fmt::format("workload {}: seq {} is longer than the model's {} positions (max_seq)", w.name, *seq,
                              *w.max_seq));
    }
  } else if (seq) {
    throw Error(fmt::format("workload {} takes no seq: it has no sequence length (its input size is set by its params)",
                            w.name));
  }
  const std::string pattern = builtin_registry().canonical(pattern_spec);

  ExprVars vars;
  for (const auto& [name, value] : w.params) vars[name] = value;
  vars[kBatch] = batch;
  if (seq) vars[kSeq] = *seq;
  const std::string at = seq ? fmt::format("batch {}, seq {}", batch, *seq) : fmt::format("batch {}", batch);

  const auto eval = [&](const ShapeExpr& e) {
    try {
      return e.expr.eval(vars);
    } catch (const ExprError& err) {
      throw ConfigError(e.where, e.key_path, fmt::format("{} (at {})", err.what(), at));
    }
  };
  const auto value = [&](const ShapeExpr& e, std::int64_t min) {
    const std::int64_t v = eval(e);
    if (v < min || v > kMaxDim) {
      throw ConfigError(e.where, e.key_path,
                        fmt::format("'{}' = {}: must be in {}..{} (at {})", e.expr.text(), v, min, kMaxDim, at));
    }
    return v;
  };
  const auto product = [&](const WorkloadLayer& l, const char* what, std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r) || r > kMaxDim) {
      throw ConfigError(l.where, l.key_path,
                        fmt::format("{} = {} x {} is larger than {} (at {})", what, a, b, kMaxDim, at));
    }
    return r;
  };

  Trace t;
  t.source = w.path;
  for (const auto& l : w.layers) {
    GemmOp g;
    g.layer = w.name + "." + l.name;
    g.dtype = dtype.value_or(w.dtype);
    g.count = value(l.count, 1);
    if (l.conv) {
      const ConvShape& c = *l.conv;
      const std::int64_t in = value(c.in, 1), out = value(c.out, 1), kernel = value(c.kernel, 1);
      const std::int64_t stride = value(c.stride, 1), pad = value(c.pad, 0);
      const std::int64_t h = value(c.h, 1), wd = value(c.w, 1), groups = value(c.groups, 1);
      if (in % groups != 0 || out % groups != 0) {
        throw ConfigError(
            c.groups.where, c.groups.key_path,
            fmt::format("groups = {} must divide both in ({}) and out ({}) (at {})", groups, in, out, at));
      }
      std::int64_t oh = 0, ow = 0;
      try {
        oh = conv_out_size(h, kernel, stride, pad);
        ow = conv_out_size(wd, kernel, stride, pad);
      } catch (const ExprError& err) {
        throw ConfigError(l.where, l.key_path + ".conv", fmt::format("output size: {} (at {})", err.what(), at));
      }
      g.m = product(l, "M = batch*OH*OW", product(l, "batch*OH", batch, oh), ow);
      g.n = out / groups;
      g.k = product(l, "K = in/groups*kernel^2", product(l, "in/groups*kernel", in / groups, kernel), kernel);
      g.count = product(l, "count*groups", g.count, groups);
    } else {
      g.m = value(l.m, 1);
      g.n = value(l.n, 1);
      g.k = value(l.k, 1);
    }
    g.sparse = l.weights;
    g.pattern = l.weights == Operand::none ? "dense" : pattern;
    if (const auto problem = gemm_problem(g)) {
      throw ConfigError(l.where, l.key_path,
                        fmt::format("GEMM {}: {}: {} (at {})", g.layer, problem->first, problem->second, at));
    }
    t.ops.push_back(std::move(g));
    t.lines.push_back(where_line(l.where));
  }
  return t;
}

TraceTotals trace_totals(const Trace& t) {
  TraceTotals s;
  s.lines = t.ops.size();
  for (const auto& g : t.ops) {
    s.dense_macs = checked_add(s.dense_macs, g.dense_macs(), "trace MACs");
    if (g.sparse == Operand::none) continue;
    const auto [rows, cols] = g.sparse_shape();
    const std::uint64_t elements =
        checked_mul(checked_mul(static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols), "weights"),
                    static_cast<std::uint64_t>(g.count), "weights");
    s.weight_elements = checked_add(s.weight_elements, elements, "weights");
  }
  return s;
}

std::string trace_command(const std::string& workload_path, std::int64_t batch, std::optional<std::int64_t> seq,
                          const std::string& pattern_spec, DType dtype, const std::vector<std::string>& sets) {
  std::string cmd = fmt::format("stcsim trace {} --batch {}", shell_word(workload_path), batch);
  if (seq) cmd += fmt::format(" --seq {}", *seq);
  cmd += fmt::format(" --pattern {} --dtype {}", shell_word(pattern_spec), dtype_name(dtype));
  for (const auto& s : sets) cmd += " --set " + shell_word(s);
  return cmd;
}

std::string trace_comment(const Workload& w, const Trace& t, const std::string& command) {
  const TraceTotals s = trace_totals(t);
  return fmt::format("generated by: {}\n{}\n{}\ntotals: {}, {:.3f} dense GMACs, {:.3f} M weight parameters",
                     command, fill("workload: " + w.name + ":", w.description), fill("source:", w.source), plural(s.lines, "GEMM line"),
                     static_cast<double>(s.dense_macs) * 1e-9, static_cast<double>(s.weight_elements) * 1e-6);
}

std::string trace_file_name(const Workload& w, std::int64_t batch, std::optional<std::int64_t> seq,
                            const std::string& pattern_spec, DType dtype) {
  std::string name = fmt::format("{}_b{}", w.name, batch);
  if (seq) name += fmt::format("_s{}", *seq);
  const std::string pattern = builtin_registry().canonical(pattern_spec);
  if (pattern != "dense") {
    std::string p;
    for (char c : pattern) {
      const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.';
      if (keep) {
        p += c;
      } else if (!p.empty() && p.back() != '-') {
        p += '-';
      }
    }
    while (!p.empty() && p.back() == '-') p.pop_back();
    name += "_" + p;
  }
  if (dtype != w.dtype) name += fmt::format("_{}", dtype_name(dtype));
  return name + ".trace";
}

}  // namespace stcsim
