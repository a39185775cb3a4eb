// Whole machines: loading with overrides, the checks across sections, validation of partial files,
// the human summary and the resolved dump (see machine_config.h).
#include "config/machine_config.h"

#include "scheduler/tile_scheduler.h"

#include <fmt/format.h>

#include <optional>

#include "common/error.h"
#include "common/strings.h"
#include "config/config_util.h"

namespace stcsim {

namespace {

struct Sections {
  std::optional<GpuConfig> arch;
  std::optional<KernelConfig> kernel;
  std::vector<KernelConfig> candidates;
  std::optional<EnergyConfig> energy;
};

// `from`'s keys onto `into`, mappings merged key by key, anything else replaced whole.
void merge_into(YAML::Node into, const YAML::Node& from) {
  for (const auto& kv : from) {
    const std::string key = kv.first.as<std::string>();
    YAML::Node cur = into[key];
    if (cur && cur.IsMap() && kv.second.IsMap()) {
      merge_into(cur, kv.second);
    } else {
      into[key] = YAML::Clone(kv.second);
    }
  }
}

// The kernel section: the kernel itself, and each of `candidates` merged onto it (kernel_config.h).
void read_kernels(const YamlDoc& doc, Section& root, Sections& out) {
  Section k = root.child("kernel");
  const YAML::Node node = doc.root()["kernel"];
  if (!node.IsMap()) k.fail("must be a mapping");
  YAML::Node base = YAML::Clone(node);
  base.remove("candidates");
  Section b(doc, base, "kernel");
  out.kernel = KernelConfig::from_yaml(b);
  if (!k.has("candidates")) return;
  const YAML::Node list = node["candidates"];
  if (!list.IsSequence()) {
    throw ConfigError(doc.where("kernel.candidates"), "kernel.candidates",
                      "must be a list of kernels, each the keys that differ from kernel's");
  }
  std::vector<std::string> names{out.kernel->name};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = fmt::format("kernel.candidates[{}]", i);
    if (!list[i].IsMap()) throw ConfigError(doc.where("kernel.candidates"), path, "must be a mapping of kernel keys");
    if (!list[i]["name"]) {
      throw ConfigError(doc.where("kernel.candidates"), path + ".name", "missing: each candidate needs its own name");
    }
    YAML::Node merged = YAML::Clone(base);
    merge_into(merged, list[i]);
    Section c(doc, merged, path);
    KernelConfig kc = KernelConfig::from_yaml(c);
    for (const std::string& n : names) {
      if (n == kc.name) {
        throw ConfigError(doc.where("kernel.candidates"), path + ".name",
                          fmt::format("'{}' is taken by another kernel of this machine", kc.name));
      }
    }
    names.push_back(kc.name);
    out.candidates.push_back(std::move(kc));
  }
}

// Reads the sections present (all three required when `whole`), rejecting other top-level keys.
Sections read_sections(const YamlDoc& doc, bool whole) {
  Section root(doc, doc.root(), "");
  Sections out;
  if (whole) {
    Section a = root.child("arch");
    out.arch = GpuConfig::from_yaml(a);
    read_kernels(doc, root, out);
    Section e = root.child("energy");
    out.energy = EnergyConfig::from_yaml(e);
  } else {
    if (auto a = root.opt_child("arch")) out.arch = GpuConfig::from_yaml(*a);
    if (root.has("kernel")) read_kernels(doc, root, out);
    if (auto e = root.opt_child("energy")) out.energy = EnergyConfig::from_yaml(*e);
    if (!out.arch && !out.kernel && !out.energy) root.fail("holds none of the sections arch, kernel, energy");
  }
  root.finish();
  return out;
}

[[noreturn]] void fail_at(const YamlDoc& doc, const std::string& key_path, const std::string& reason) {
  throw ConfigError(doc.where(key_path), key_path, reason);
}

// Checks that need the GPU and the kernel (`at`: the kernel's key path, for errors).
void check_arch_kernel(const GpuConfig& a, const KernelConfig& k, const YamlDoc& doc, const std::string& at = "kernel") {
  std::vector<MmaFamily> needed{dense_family(k.instruction)};
  if (family_is_sparse(k.instruction)) needed.push_back(k.instruction);
  for (MmaFamily f : needed) {
    if (!a.tensor_core.instruction(f)) {
      std::vector<std::string> has;
      for (const auto& kv : a.tensor_core.instructions) has.emplace_back(family_key(kv.first));
      fail_at(doc, at + ".instruction",
              fmt::format("{} needs arch.tensor_core.instructions.{}, which {} lacks (it has {})",
                          family_name(k.instruction), family_key(f), a.name, join(has, ", ")));
    }
  }

  // A warpgroup instruction runs on four tensor cores at once (one per sub-core): the SM must have
  // whole groups of four.
  if (family_is_warpgroup(k.instruction) && a.sm.tensor_cores % 4 != 0) {
    fail_at(doc, at + ".instruction",
            fmt::format("{} runs on 4 tensor cores at once; arch.sm.tensor_cores = {} is not a multiple of 4",
                        family_name(k.instruction), a.sm.tensor_cores));
  }

  const std::int64_t smem = k.smem_bytes_per_cta();
  if (smem > a.sm.shared_memory.bytes_per_cta) {
    fail_at(doc, at + ".stages",
        fmt::format("shared memory per CTA = stages x (cta_tile.m x k + k x n) x 2 B = {} x ({} x {} + {} x {}) x 2 "
                    "= {} B exceeds arch.sm.shared_memory.bytes_per_cta = {} B",
                    k.stages, k.cta_tile.m, k.cta_tile.k, k.cta_tile.k, k.cta_tile.n, smem,
                    a.sm.shared_memory.bytes_per_cta));
  }
  if (k.threads_per_cta() > a.sm.max_threads_per_cta) {
    fail_at(doc, at + ".warps_per_cta",
            fmt::format("{} warps = {} threads exceed arch.sm.max_threads_per_cta = {}", k.warps_per_cta,
                        k.threads_per_cta(), a.sm.max_threads_per_cta));
  }
  const int regs = k.min_registers_per_thread();
  if (regs > a.sm.register_file.max_registers_per_thread) {
    fail_at(doc, at + ".warp_tile",
            fmt::format("a thread needs at least {} registers (accumulators and one k-step of register fragments{}), "
                        "more than arch.sm.register_file.max_registers_per_thread = {}",
                        regs, k.global_loads == GlobalLoad::ldg_sts ? ", and the k-block staged for st.shared" : "",
                        a.sm.register_file.max_registers_per_thread));
  }
  const std::int64_t reg_bytes = k.register_bytes_per_cta();
  if (reg_bytes > a.sm.register_file.bytes) {
    fail_at(doc, at + ".cta_tile",
            fmt::format("{} warps x {} registers per thread ({} B, the {} x {} fp32 accumulators {} B of it) exceed "
                        "arch.sm.register_file.bytes = {} B",
                        k.warps_per_cta, regs, reg_bytes, k.cta_tile.m, k.cta_tile.n, k.accumulator_bytes_per_cta(),
                        a.sm.register_file.bytes));
  }
}

// Checks that need the GPU and the energy table.
void check_arch_energy(const GpuConfig& a, const EnergyConfig& e, const YamlDoc& doc) {
  for (const auto& kv : a.tensor_core.dtypes) {
    if (!e.mac(kv.first)) {
      fail_at(doc, "energy.mac_pj",
              fmt::format("has no entry for {}, which {}'s tensor cores support", dtype_name(kv.first), a.name));
    }
  }
}

// Emits a tree built by the to_yaml() members, double-quoting scalars with a ':' so that pattern keys
// such as "2:4" stay strings for every YAML reader (YAML 1.1 would read 2:4 as a base-60 number).
void emit(YAML::Emitter& out, const YAML::Node& n) {
  if (n.IsMap()) {
    if (n.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
    out << YAML::BeginMap;
    for (const auto& kv : n) {
      out << YAML::Key;
      emit(out, kv.first);
      out << YAML::Value;
      emit(out, kv.second);
    }
    out << YAML::EndMap;
  } else if (n.IsSequence()) {
    out << YAML::BeginSeq;
    for (const auto& item : n) emit(out, item);
    out << YAML::EndSeq;
  } else if (n.IsScalar()) {
    if (n.Scalar().find(':') != std::string::npos) out << YAML::DoubleQuoted;
    out << n.Scalar();
  }
}

std::string bytes_text(std::int64_t b) {
  constexpr std::int64_t kMiB = std::int64_t{1024} * 1024;
  if (b % kMiB == 0) return fmt::format("{} MiB", b / kMiB);
  if (b % 1024 == 0) return fmt::format("{} KiB", b / 1024);
  return fmt::format("{} B", b);
}

}  // namespace

MachineConfig MachineConfig::from_yaml(const YamlDoc& doc) {
  Sections s = read_sections(doc, true);
  check_arch_kernel(*s.arch, *s.kernel, doc);
  for (std::size_t i = 0; i < s.candidates.size(); ++i) {
    check_arch_kernel(*s.arch, s.candidates[i], doc, fmt::format("kernel.candidates[{}]", i));
  }
  check_arch_energy(*s.arch, *s.energy, doc);
  return MachineConfig{*s.arch, *s.kernel, s.candidates, *s.energy};
}

std::vector<MachineConfig> MachineConfig::kernel_variants() const {
  std::vector<MachineConfig> out;
  MachineConfig one = *this;
  one.kernel_candidates.clear();
  out.push_back(one);
  for (const KernelConfig& k : kernel_candidates) {
    one.kernel = k;
    out.push_back(one);
  }
  return out;
}

MachineConfig load_machine_config(const std::string& path, const std::vector<std::string>& sets) {
  YamlDoc doc = YamlDoc::load(path);
  for (const auto& a : sets) doc.apply_set(a);
  return MachineConfig::from_yaml(doc);
}

std::vector<std::string> validate_config_file(const std::string& path) {
  const YamlDoc doc = YamlDoc::load(path);
  Sections s = read_sections(doc, false);
  if (s.arch && s.kernel) {
    check_arch_kernel(*s.arch, *s.kernel, doc);
    for (std::size_t i = 0; i < s.candidates.size(); ++i) {
      check_arch_kernel(*s.arch, s.candidates[i], doc, fmt::format("kernel.candidates[{}]", i));
    }
  }
  if (s.arch && s.energy) check_arch_energy(*s.arch, *s.energy, doc);
  std::vector<std::string> held;
  if (s.arch) held.emplace_back("arch");
  if (s.kernel) held.emplace_back("kernel");
  if (s.energy) held.emplace_back("energy");
  return held;
}

std::string describe(const MachineConfig& c) {
  const GpuConfig& a = c.arch;
  const KernelConfig& k = c.kernel;
  std::string out =
      fmt::format("machine   {}: {} SMs x {} tensor cores at {} MHz", a.name, a.sms, a.sm.tensor_cores, a.clock_mhz);
  if (a.power_cap_w > 0) out += fmt::format(", power cap {} W", a.power_cap_w);
  out += "\n";

  // In the datasheets' order, widest type first; int8's figures are TOPS.
  std::vector<std::string> peaks;
  for (const DType t : kDatasheetOrder) {
    const auto it = a.tensor_core.dtypes.find(t);
    if (it == a.tensor_core.dtypes.end()) continue;
    std::string p = fmt::format("{} {:.1f}", dtype_name(t), a.tflops(it->second.dense_macs_per_clock));
    for (const auto& [spec, sr] : it->second.sparse) p += fmt::format(" ({} {:.1f})", spec, a.tflops(sr.macs_per_clock));
    peaks.push_back(p + (t == DType::int8 ? " TOPS" : ""));
  }
  out += fmt::format("peak      TFLOP/s dense (sparse, dense-equivalent): {}\n", join(peaks, ", "));
  out += fmt::format(
      "sparsity  unsupported N:M patterns: {}\n",
      a.tensor_core.unsupported_sparsity == UnsupportedSparsity::dense ? "run dense on explicit zeros" : "refused");
  out += fmt::format("memory    DRAM {} GB/s ({}% achievable), L2 {}, shared memory {}/SM, registers {}/SM\n",
                     a.dram.bandwidth_gbps, a.dram.efficiency * 100, bytes_text(a.l2.bytes),
                     bytes_text(a.sm.shared_memory.bytes), bytes_text(a.sm.register_file.bytes));

  std::string shape = fmt::format("m{}n{}k{}", k.mma.m, k.mma.n, k.mma.k);
  if (k.mma.k_sparse) shape += fmt::format(" (sparse k{})", k.mma.k_sparse);
  out += fmt::format(
      "kernel    {}: {} {}, A from {}, CTA {}x{}x{}, {} {}x{}x{}, {} stages, {} warps, {} shared memory/CTA, {} loads",
      k.name, family_name(k.instruction), shape, operand_source_name(k.a_source), k.cta_tile.m, k.cta_tile.n,
      k.cta_tile.k, family_is_warpgroup(k.instruction) ? "warpgroup" : "warp", k.warp_tile.m, k.warp_tile.n,
      k.warp_tile.k, k.stages, k.warps_per_cta, bytes_text(k.smem_bytes_per_cta()), global_load_name(k.global_loads));
  if (k.split_k > 1) out += fmt::format(", split-k {}", k.split_k);
  out += fmt::format(", {} tiles\n", tile_order_name(k.tile_scheduler));
  if (!c.kernel_candidates.empty()) {
    std::vector<std::string> names;
    for (const KernelConfig& kc : c.kernel_candidates) {
      names.push_back(fmt::format("{} ({} {}x{}x{}, {} stages{}{})", kc.name, family_name(kc.instruction), kc.cta_tile.m,
                                  kc.cta_tile.n, kc.cta_tile.k, kc.stages,
                                  kc.swizzle > 1 ? fmt::format(", swizzle {}", kc.swizzle) : "",
                                  kc.split_k > 1 ? fmt::format(", split-k {}", kc.split_k) : ""));
    }
    out += fmt::format("          and {} more candidates, the fastest simulated running each line: {}\n",
                       names.size(), join(names, "; "));
  }
  out += fmt::format("energy    {}\n", c.energy.name);
  return out;
}

std::string to_yaml(const MachineConfig& c) {
  YAML::Node root = yaml_map();
  root["arch"] = c.arch.to_yaml();
  root["kernel"] = c.kernel.to_yaml();
  if (!c.kernel_candidates.empty()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const KernelConfig& k : c.kernel_candidates) list.push_back(k.to_yaml());
    root["kernel"]["candidates"] = list;
  }
  root["energy"] = c.energy.to_yaml();
  YAML::Emitter out;
  out << YAML::Comment("Resolved stcsim machine: every key, defaults and derived values included.") << YAML::Newline;
  emit(out, root);
  return std::string(out.c_str()) + "\n";
}

}  // namespace stcsim
