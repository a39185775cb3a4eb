// Reading, dumping and comparing the energy section (see energy_config.h).
#include "config/energy_config.h"

#include <fmt/format.h>

#include "config/config_util.h"

namespace stcsim {

namespace {

// Generous bounds: they catch unit mistakes (nJ or fJ written as pJ) without judging the estimate.
constexpr Range<double> kPj{0.0, 1e5};

}  // namespace

std::optional<MacEnergy> EnergyConfig::mac(DType t) const {
  const auto it = mac_pj.find(t);
  if (it == mac_pj.end()) return std::nullopt;
  return it->second;
}

EnergyConfig EnergyConfig::from_yaml(Section& s) {
  EnergyConfig c;
  c.name = s.get_string("name");
  Section mac = s.child("mac_pj");
  for (const std::string& key : mac.keys()) {
    const auto t = parse_dtype(key);
    if (!t) mac.fail_key(key, fmt::format("unknown data type (known: {})", dtype_choices()));
    Section e = mac.child(key);
    MacEnergy m;
    m.dense_pj = e.get_double("dense_pj", kPj);
    m.sparse_pj = e.get_double("sparse_pj", kPj);
    e.finish();
    c.mac_pj.emplace(*t, m);
  }
  if (c.mac_pj.empty()) mac.fail("must give the MAC energy of at least one data type");
  mac.finish();
  c.operand_select_pj = s.get_double("operand_select_pj", kPj);
  c.metadata_pj_per_bit = s.get_double("metadata_pj_per_bit", kPj);
  c.register_read_pj_per_32b = s.get_double("register_read_pj_per_32b", kPj);
  c.register_write_pj_per_32b = s.get_double("register_write_pj_per_32b", kPj);
  c.smem_read_pj_per_byte = s.get_double("smem_read_pj_per_byte", kPj);
  c.smem_write_pj_per_byte = s.get_double("smem_write_pj_per_byte", kPj);
  c.l2_pj_per_byte = s.get_double("l2_pj_per_byte", kPj);
  c.dram_pj_per_byte = s.get_double("dram_pj_per_byte", kPj);
  s.opt("core_overhead", c.core_overhead, {1.0, 100.0});
  s.opt("sm_active_pj_per_cycle", c.sm_active_pj_per_cycle, kPj);
  s.finish();
  return c;
}

YAML::Node EnergyConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  n["name"] = yaml_value(name);
  YAML::Node mac = yaml_map();
  for (const auto& [t, m] : mac_pj) {
    YAML::Node e = yaml_flow_map();
    e["dense_pj"] = yaml_value(m.dense_pj);
    e["sparse_pj"] = yaml_value(m.sparse_pj);
    mac[std::string(dtype_name(t))] = e;
  }
  n["mac_pj"] = mac;
  n["operand_select_pj"] = yaml_value(operand_select_pj);
  n["metadata_pj_per_bit"] = yaml_value(metadata_pj_per_bit);
  n["register_read_pj_per_32b"] = yaml_value(register_read_pj_per_32b);
  n["register_write_pj_per_32b"] = yaml_value(register_write_pj_per_32b);
  n["smem_read_pj_per_byte"] = yaml_value(smem_read_pj_per_byte);
  n["smem_write_pj_per_byte"] = yaml_value(smem_write_pj_per_byte);
  n["l2_pj_per_byte"] = yaml_value(l2_pj_per_byte);
  n["dram_pj_per_byte"] = yaml_value(dram_pj_per_byte);
  n["core_overhead"] = yaml_value(core_overhead);
  n["sm_active_pj_per_cycle"] = yaml_value(sm_active_pj_per_cycle);
  return n;
}

bool EnergyConfig::operator==(const EnergyConfig& o) const {
  return name == o.name && mac_pj == o.mac_pj && operand_select_pj == o.operand_select_pj &&
         metadata_pj_per_bit == o.metadata_pj_per_bit && register_read_pj_per_32b == o.register_read_pj_per_32b &&
         register_write_pj_per_32b == o.register_write_pj_per_32b && smem_read_pj_per_byte == o.smem_read_pj_per_byte &&
         smem_write_pj_per_byte == o.smem_write_pj_per_byte && l2_pj_per_byte == o.l2_pj_per_byte &&
         dram_pj_per_byte == o.dram_pj_per_byte && core_overhead == o.core_overhead &&
         sm_active_pj_per_cycle == o.sm_active_pj_per_cycle;
}

}  // namespace stcsim
