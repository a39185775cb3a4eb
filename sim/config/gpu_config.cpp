// Reading, dumping and comparing arch and arch.sm, and the peak rates computed from them (see gpu_config.h).
#include "config/gpu_config.h"

#include <fmt/format.h>

#include "config/config_util.h"

namespace stcsim {

SmConfig SmConfig::from_yaml(Section& s) {
  SmConfig c;
  s.opt("sub_cores", c.sub_cores, {1, 16});
  c.tensor_cores = get_int32(s, "tensor_cores", 1, 1024);
  if (c.tensor_cores % c.sub_cores != 0) {
    s.fail_key("tensor_cores",
               fmt::format("must be a multiple of sub_cores = {} (got {})", c.sub_cores, c.tensor_cores));
  }
  s.opt("warp_schedulers", c.warp_schedulers, {1, 1024});
  if (c.warp_schedulers % c.sub_cores != 0) {
    s.fail_key("warp_schedulers",
               fmt::format("must be a multiple of sub_cores = {} (got {})", c.sub_cores, c.warp_schedulers));
  }
  c.max_warps = get_int32(s, "max_warps", 1, 1024);
  c.max_ctas = get_int32(s, "max_ctas", 1, 1024);
  s.opt("max_threads_per_cta", c.max_threads_per_cta, {32, 32768});
  if (c.max_threads_per_cta % 32 != 0 || c.max_threads_per_cta > c.max_warps * 32) {
    s.fail_key("max_threads_per_cta", fmt::format("must be a multiple of 32 and <= max_warps x 32 = {} (got {})",
                                                  c.max_warps * 32, c.max_threads_per_cta));
  }
  s.opt("math_queue_depth", c.math_queue_depth, {1, 1024});
  s.opt("mio_queue_depth", c.mio_queue_depth, {1, 1024});
  s.opt("max_outstanding_bytes", c.max_outstanding_bytes, {0, std::int64_t{1} << 30});
  Section rf = s.child("register_file");
  c.register_file = RegisterFileConfig::from_yaml(rf);
  Section sh = s.child("shared_memory");
  c.shared_memory = SharedMemoryConfig::from_yaml(sh);
  s.finish();
  return c;
}

YAML::Node SmConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  n["sub_cores"] = yaml_value(sub_cores);
  n["tensor_cores"] = yaml_value(tensor_cores);
  n["warp_schedulers"] = yaml_value(warp_schedulers);
  n["max_warps"] = yaml_value(max_warps);
  n["max_ctas"] = yaml_value(max_ctas);
  n["max_threads_per_cta"] = yaml_value(max_threads_per_cta);
  n["math_queue_depth"] = yaml_value(math_queue_depth);
  n["mio_queue_depth"] = yaml_value(mio_queue_depth);
  n["max_outstanding_bytes"] = yaml_value(max_outstanding_bytes);
  n["register_file"] = register_file.to_yaml();
  n["shared_memory"] = shared_memory.to_yaml();
  return n;
}

bool SmConfig::operator==(const SmConfig& o) const {
  return sub_cores == o.sub_cores && tensor_cores == o.tensor_cores && warp_schedulers == o.warp_schedulers &&
         max_warps == o.max_warps && max_ctas == o.max_ctas && max_threads_per_cta == o.max_threads_per_cta &&
         math_queue_depth == o.math_queue_depth && mio_queue_depth == o.mio_queue_depth &&
         max_outstanding_bytes == o.max_outstanding_bytes && register_file == o.register_file && shared_memory == o.shared_memory;
}

double GpuConfig::tflops(std::int64_t macs_per_clock_per_tc) const {
  return static_cast<double>(tensor_cores()) * static_cast<double>(macs_per_clock_per_tc) * 2.0 * clock_mhz * 1e6 /
         1e12;
}

std::optional<double> GpuConfig::dense_tflops(DType t) const {
  const auto macs = tensor_core.dense_macs_per_clock(t);
  if (!macs) return std::nullopt;
  return tflops(*macs);
}

std::optional<double> GpuConfig::sparse_tflops(DType t, int n, int m) const {
  const auto r = tensor_core.sparse_rate(t, n, m);
  if (!r) return std::nullopt;
  return tflops(r->macs_per_clock);
}

GpuConfig GpuConfig::from_yaml(Section& s) {
  GpuConfig c;
  c.name = s.get_string("name");
  c.sms = get_int32(s, "sms", 1, 100000);
  c.clock_mhz = get_int32(s, "clock_mhz", 1, 100000);
  s.opt("power_cap_w", c.power_cap_w, {0.0, 1e6});
  s.opt("base_clock_mhz", c.base_clock_mhz, {0, 100000});
  if (c.power_cap_w > 0 && c.base_clock_mhz == 0) {
    s.fail_key("base_clock_mhz", fmt::format("required with power_cap_w = {} W: the lowest clock the cap may set",
                                             c.power_cap_w));
  }
  s.opt("static_power_w", c.static_power_w, {0.0, 1e5});
  if (c.power_cap_w > 0 && c.static_power_w >= c.power_cap_w) {
    s.fail_key("static_power_w",
               fmt::format("must be below power_cap_w = {} W (got {})", c.power_cap_w, c.static_power_w));
  }
  Section sm = s.child("sm");
  c.sm = SmConfig::from_yaml(sm);
  Section tc = s.child("tensor_core");
  c.tensor_core = TensorCoreConfig::from_yaml(tc);
  Section l2 = s.child("l2");
  c.l2 = L2Config::from_yaml(l2);
  Section dram = s.child("dram");
  c.dram = DramConfig::from_yaml(dram);
  s.finish();
  return c;
}

YAML::Node GpuConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  n["name"] = yaml_value(name);
  n["sms"] = yaml_value(sms);
  n["clock_mhz"] = yaml_value(clock_mhz);
  n["power_cap_w"] = yaml_value(power_cap_w);
  n["base_clock_mhz"] = yaml_value(base_clock_mhz);
  n["static_power_w"] = yaml_value(static_power_w);
  n["sm"] = sm.to_yaml();
  n["tensor_core"] = tensor_core.to_yaml();
  n["l2"] = l2.to_yaml();
  n["dram"] = dram.to_yaml();
  return n;
}

bool GpuConfig::operator==(const GpuConfig& o) const {
  return name == o.name && sms == o.sms && clock_mhz == o.clock_mhz && power_cap_w == o.power_cap_w &&
         base_clock_mhz == o.base_clock_mhz && static_power_w == o.static_power_w && sm == o.sm &&
         tensor_core == o.tensor_core && l2 == o.l2 && dram == o.dram;
}

}  // namespace stcsim
