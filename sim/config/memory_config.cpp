// Reading, dumping and comparing the register file, shared memory, L2 and DRAM configs (see memory_config.h).
#include "config/memory_config.h"

#include <fmt/format.h>

#include "config/config_util.h"

namespace stcsim {

namespace {

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;

}  // namespace

RegisterFileConfig RegisterFileConfig::from_yaml(Section& s) {
  RegisterFileConfig c;
  c.bytes = s.get_int("bytes", {kKiB, 64 * kMiB});
  c.banks_per_sub_core = get_int32(s, "banks_per_sub_core", 1, 64);
  c.port_width_bits = get_int32(s, "port_width_bits", 32, 65536);
  if (c.port_width_bits % 32 != 0) {
    s.fail_key("port_width_bits", fmt::format("must be a multiple of 32 (got {})", c.port_width_bits));
  }
  s.opt("reads_per_cycle_per_bank", c.reads_per_cycle_per_bank, {1, 16});
  s.opt("writes_per_cycle_per_bank", c.writes_per_cycle_per_bank, {1, 16});
  c.reuse_cache_entries = get_int32(s, "reuse_cache_entries", 0, 1024);
  s.opt("max_registers_per_thread", c.max_registers_per_thread, {1, 255});
  s.finish();
  return c;
}

YAML::Node RegisterFileConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  n["bytes"] = yaml_value(bytes);
  n["banks_per_sub_core"] = yaml_value(banks_per_sub_core);
  n["port_width_bits"] = yaml_value(port_width_bits);
  n["reads_per_cycle_per_bank"] = yaml_value(reads_per_cycle_per_bank);
  n["writes_per_cycle_per_bank"] = yaml_value(writes_per_cycle_per_bank);
  n["reuse_cache_entries"] = yaml_value(reuse_cache_entries);
  n["max_registers_per_thread"] = yaml_value(max_registers_per_thread);
  return n;
}

bool RegisterFileConfig::operator==(const RegisterFileConfig& o) const {
  return bytes == o.bytes && banks_per_sub_core == o.banks_per_sub_core && port_width_bits == o.port_width_bits &&
         reads_per_cycle_per_bank == o.reads_per_cycle_per_bank &&
         writes_per_cycle_per_bank == o.writes_per_cycle_per_bank && reuse_cache_entries == o.reuse_cache_entries &&
         max_registers_per_thread == o.max_registers_per_thread;
}

SharedMemoryConfig SharedMemoryConfig::from_yaml(Section& s) {
  SharedMemoryConfig c;
  c.bytes = s.get_int("bytes", {kKiB, 64 * kMiB});
  c.bytes_per_cta = s.get_int("bytes_per_cta", {kKiB, 64 * kMiB});
  if (c.bytes_per_cta > c.bytes) {
    s.fail_key("bytes_per_cta", fmt::format("must be <= bytes = {} (got {})", c.bytes, c.bytes_per_cta));
  }
  s.opt("banks", c.banks, {1, 1024});
  s.opt("bank_width_bytes", c.bank_width_bytes, {1, 64});
  c.bytes_per_clock = get_int32(s, "bytes_per_clock", 1, 1 << 20);
  if (c.bytes_per_clock > c.banks * c.bank_width_bytes) {
    s.fail_key("bytes_per_clock", fmt::format("must be <= banks x bank_width_bytes = {} (got {})",
                                              c.banks * c.bank_width_bytes, c.bytes_per_clock));
  }
  c.latency_cycles = get_int32(s, "latency_cycles", 1, 100000);
  s.finish();
  return c;
}

YAML::Node SharedMemoryConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  n["bytes"] = yaml_value(bytes);
  n["bytes_per_cta"] = yaml_value(bytes_per_cta);
  n["banks"] = yaml_value(banks);
  n["bank_width_bytes"] = yaml_value(bank_width_bytes);
  n["bytes_per_clock"] = yaml_value(bytes_per_clock);
  n["latency_cycles"] = yaml_value(latency_cycles);
  return n;
}

bool SharedMemoryConfig::operator==(const SharedMemoryConfig& o) const {
  return bytes == o.bytes && bytes_per_cta == o.bytes_per_cta && banks == o.banks &&
         bank_width_bytes == o.bank_width_bytes && bytes_per_clock == o.bytes_per_clock &&
         latency_cycles == o.latency_cycles;
}

L2Config L2Config::from_yaml(Section& s) {
  L2Config c;
  c.bytes = s.get_int("bytes", {kKiB, 64 * kGiB});
  c.bytes_per_clock = get_int32(s, "bytes_per_clock", 1, 1 << 20);
  c.latency_near_cycles = get_int32(s, "latency_near_cycles", 1, 100000);
  c.latency_far_cycles = get_int32(s, "latency_far_cycles", 1, 100000);
  if (c.latency_far_cycles < c.latency_near_cycles) {
    s.fail_key("latency_far_cycles", fmt::format("must be >= latency_near_cycles = {} (got {})", c.latency_near_cycles,
                                                 c.latency_far_cycles));
  }
  s.opt("partitions", c.partitions, {1, 64});
  s.finish();
  return c;
}

YAML::Node L2Config::to_yaml() const {
  YAML::Node n = yaml_map();
  n["bytes"] = yaml_value(bytes);
  n["bytes_per_clock"] = yaml_value(bytes_per_clock);
  n["latency_near_cycles"] = yaml_value(latency_near_cycles);
  n["latency_far_cycles"] = yaml_value(latency_far_cycles);
  n["partitions"] = yaml_value(partitions);
  return n;
}

bool L2Config::operator==(const L2Config& o) const {
  return bytes == o.bytes && bytes_per_clock == o.bytes_per_clock && latency_near_cycles == o.latency_near_cycles &&
         latency_far_cycles == o.latency_far_cycles && partitions == o.partitions;
}

DramConfig DramConfig::from_yaml(Section& s) {
  DramConfig c;
  c.bandwidth_gbps = s.get_double("bandwidth_gbps", {0.001, 1e6});
  c.latency_cycles = get_int32(s, "latency_cycles", 1, 1000000);
  c.efficiency = s.get_double("efficiency", {0.01, 1.0});
  s.finish();
  return c;
}

YAML::Node DramConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  n["bandwidth_gbps"] = yaml_value(bandwidth_gbps);
  n["latency_cycles"] = yaml_value(latency_cycles);
  n["efficiency"] = yaml_value(efficiency);
  return n;
}

bool DramConfig::operator==(const DramConfig& o) const {
  return bandwidth_gbps == o.bandwidth_gbps && latency_cycles == o.latency_cycles && efficiency == o.efficiency;
}

}  // namespace stcsim
