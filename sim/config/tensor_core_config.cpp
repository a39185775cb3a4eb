// Reading, dumping and comparing arch.tensor_core (see tensor_core_config.h); sparse-rate keys are
// validated through the pattern registry.
#include "config/tensor_core_config.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/strings.h"
#include "config/config_util.h"
#include "sparsity/registry.h"

namespace stcsim {

namespace {

constexpr EnumName<UnsupportedSparsity> kUnsupportedSparsity[] = {
    {UnsupportedSparsity::dense, "dense"},
    {UnsupportedSparsity::error, "error"},
};

constexpr std::int64_t kMaxMacsPerClock = std::int64_t{1} << 24;

// Reads dtypes.<t>.sparse: pattern spec -> rate, each key validated as an N:M pattern whose group
// fits the operand selector (when there is one; its absence is reported by the caller).
std::map<std::string, SparseRate> read_sparse_table(Section& s, const std::optional<OperandSelectorConfig>& sel) {
  std::map<std::string, SparseRate> out;
  for (const std::string& key : s.keys()) {
    std::unique_ptr<Pattern> p;
    try {
      p = builtin_registry().make(key);
    } catch (const SpecError& e) {
      s.fail_key(key, e.what());
    }
    if (!p->is_nm()) s.fail_key(key, fmt::format("must be an N:M pattern (got '{}', a {} pattern)", key, p->family()));
    const std::string spec = p->spec();
    if (out.count(spec)) s.fail_key(key, fmt::format("pattern {} given twice", spec));
    if (sel && p->m() > sel->max_m) {
      s.fail_key(key, fmt::format("group M = {} exceeds operand_selector.max_m = {}", p->m(), sel->max_m));
    }
    SparseRate r;
    r.n = p->n();
    r.m = p->m();
    r.macs_per_clock = s.get_int(key, {1, kMaxMacsPerClock});
    out.emplace(spec, r);
  }
  s.finish();
  return out;
}

}  // namespace

std::string_view unsupported_sparsity_name(UnsupportedSparsity u) { return enum_name(u, kUnsupportedSparsity); }

bool DTypeRate::operator==(const DTypeRate& o) const {
  return dense_macs_per_clock == o.dense_macs_per_clock && sparse == o.sparse;
}

std::optional<std::int64_t> TensorCoreConfig::dense_macs_per_clock(DType t) const {
  const auto it = dtypes.find(t);
  if (it == dtypes.end()) return std::nullopt;
  return it->second.dense_macs_per_clock;
}

std::optional<SparseRate> TensorCoreConfig::sparse_rate(DType t, int n, int m) const {
  const auto it = dtypes.find(t);
  if (it == dtypes.end()) return std::nullopt;
  for (const auto& kv : it->second.sparse) {
    if (kv.second.n == n && kv.second.m == m) return kv.second;
  }
  return std::nullopt;
}

std::optional<InstructionPath> TensorCoreConfig::instruction(MmaFamily f) const {
  const auto it = instructions.find(f);
  if (it == instructions.end()) return std::nullopt;
  return it->second;
}

bool TensorCoreConfig::has_sparse() const {
  for (const auto& kv : dtypes) {
    if (!kv.second.sparse.empty()) return true;
  }
  return false;
}

TensorCoreConfig TensorCoreConfig::from_yaml(Section& s) {
  TensorCoreConfig c;

  if (auto os = s.opt_child("operand_selector")) {
    OperandSelectorConfig o;
    os->opt("max_m", o.max_m, {2, 16});
    os->opt("latency_cycles", o.latency_cycles, {0, 10000});
    o.selections_per_clock = os->get_int("selections_per_clock", {1, kMaxMacsPerClock});
    os->finish();
    c.operand_selector = o;
  }

  Section dt = s.child("dtypes");
  for (const std::string& key : dt.keys()) {
    const auto t = parse_dtype(key);
    if (!t) dt.fail_key(key, fmt::format("unknown data type (known: {})", dtype_choices()));
    Section e = dt.child(key);
    DTypeRate r;
    r.dense_macs_per_clock = e.get_int("dense_macs_per_clock", {1, kMaxMacsPerClock});
    if (auto sp = e.opt_child("sparse")) r.sparse = read_sparse_table(*sp, c.operand_selector);
    e.finish();
    c.dtypes.emplace(*t, std::move(r));
  }
  if (c.dtypes.empty()) dt.fail("must give the rate of at least one data type");
  dt.finish();

  Section ins = s.child("instructions");
  for (const std::string& key : ins.keys()) {
    const auto f = parse_family_key(key);
    if (!f) {
      std::vector<std::string> keys;
      for (MmaFamily g : kAllMmaFamilies) keys.emplace_back(family_key(g));
      ins.fail_key(key, fmt::format("unknown instruction (known: {})", join(keys, ", ")));
    }
    Section e = ins.child(key);
    InstructionPath p;
    p.latency_cycles = get_int32(e, "latency_cycles", 0, 100000);
    e.opt("rate_fraction", p.rate_fraction, {0.001, 1.0});
    e.finish();
    c.instructions.emplace(*f, p);
  }
  if (c.instructions.empty()) ins.fail("must list at least one instruction path");
  ins.finish();

  opt_enum(s, "unsupported_sparsity", c.unsupported_sparsity, kUnsupportedSparsity);

  if (c.has_sparse() && !c.operand_selector) {
    s.fail_key("operand_selector", "missing (required when a data type has sparse rates)");
  }
  // Sparse rates and sparse instructions come together: one without the other cannot run.
  bool sparse_instruction = false;
  for (const auto& kv : c.instructions) sparse_instruction = sparse_instruction || family_is_sparse(kv.first);
  if (sparse_instruction && !c.has_sparse()) {
    s.fail_key("instructions", "lists a sparse instruction but no data type has sparse rates");
  }
  if (c.has_sparse() && !sparse_instruction) {
    s.fail_key("instructions",
               "data types have sparse rates but no sparse instruction (mma_sp_sync, wgmma_sp) is listed");
  }
  s.finish();
  return c;
}

YAML::Node TensorCoreConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  YAML::Node dt = yaml_map();
  for (const auto& [t, r] : dtypes) {
    YAML::Node e = yaml_flow_map();
    e["dense_macs_per_clock"] = yaml_value(r.dense_macs_per_clock);
    if (!r.sparse.empty()) {
      YAML::Node sp = yaml_flow_map();
      for (const auto& [spec, sr] : r.sparse) sp[spec] = yaml_value(sr.macs_per_clock);
      e["sparse"] = sp;
    }
    dt[std::string(dtype_name(t))] = e;
  }
  n["dtypes"] = dt;
  YAML::Node ins = yaml_map();
  for (const auto& [f, p] : instructions) {
    YAML::Node e = yaml_flow_map();
    e["latency_cycles"] = yaml_value(p.latency_cycles);
    e["rate_fraction"] = yaml_value(p.rate_fraction);
    ins[std::string(family_key(f))] = e;
  }
  n["instructions"] = ins;
  n["unsupported_sparsity"] = yaml_value(unsupported_sparsity_name(unsupported_sparsity));
  if (operand_selector) {
    YAML::Node o = yaml_map();
    o["max_m"] = yaml_value(operand_selector->max_m);
    o["latency_cycles"] = yaml_value(operand_selector->latency_cycles);
    o["selections_per_clock"] = yaml_value(operand_selector->selections_per_clock);
    n["operand_selector"] = o;
  }
  return n;
}

bool TensorCoreConfig::operator==(const TensorCoreConfig& o) const {
  return dtypes == o.dtypes && instructions == o.instructions && unsupported_sparsity == o.unsupported_sparsity &&
         operand_selector == o.operand_selector;
}

}  // namespace stcsim
