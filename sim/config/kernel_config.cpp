// Reading, dumping and comparing the kernel section, with its tile and shape consistency checks
// (see kernel_config.h).
#include "config/kernel_config.h"

#include <fmt/format.h>

#include "common/error.h"
#include "config/config_util.h"

namespace stcsim {

namespace {

constexpr EnumName<OperandSource> kOperandSources[] = {
    {OperandSource::registers, "registers"},
    {OperandSource::shared, "shared"},
};
constexpr EnumName<GlobalLoad> kGlobalLoads[] = {
    {GlobalLoad::ldg_sts, "ldg_sts"},
    {GlobalLoad::cp_async, "cp_async"},
    {GlobalLoad::tma, "tma"},
};
constexpr EnumName<TileOrder> kTileOrders[] = {
    {TileOrder::in_order, "in_order"},
    {TileOrder::longest_first, "longest_first"},
};
constexpr EnumName<RasterOrder> kRasterOrders[] = {
    {RasterOrder::along_m, "along_m"},
    {RasterOrder::along_n, "along_n"},
};

TileShape read_tile(Section& s) {
  TileShape t;
  t.m = get_int32(s, "m", 1, 4096);
  t.n = get_int32(s, "n", 1, 4096);
  t.k = get_int32(s, "k", 1, 4096);
  s.finish();
  return t;
}

YAML::Node tile_yaml(const TileShape& t) {
  YAML::Node n = yaml_flow_map();
  n["m"] = yaml_value(t.m);
  n["n"] = yaml_value(t.n);
  n["k"] = yaml_value(t.k);
  return n;
}

bool is_pow2(int v) { return v > 0 && (v & (v - 1)) == 0; }

}  // namespace

std::string_view operand_source_name(OperandSource s) { return enum_name(s, kOperandSources); }
std::string_view global_load_name(GlobalLoad g) { return enum_name(g, kGlobalLoads); }
std::string_view tile_order_name(TileOrder t) { return enum_name(t, kTileOrders); }
std::string_view raster_order_name(RasterOrder r) { return enum_name(r, kRasterOrders); }

int KernelConfig::compute_warps() const {
  const int tiles = (cta_tile.m / warp_tile.m) * (cta_tile.n / warp_tile.n) * (cta_tile.k / warp_tile.k);
  return family_is_warpgroup(instruction) ? 4 * tiles : tiles;
}

int KernelConfig::min_registers_per_thread() const {
  const int threads_per_tile = family_is_warpgroup(instruction) ? 128 : 32;
  const std::int64_t acc = std::int64_t{warp_tile.m} * warp_tile.n / threads_per_tile;
  // One k-step of fragments, 2 bytes per element, 4 bytes per register, over the tile's threads.
  std::int64_t frag = 0;
  if (a_source == OperandSource::registers) frag += std::int64_t{warp_tile.m} * mma.k * 2;
  if (b_source() == OperandSource::registers) frag += std::int64_t{warp_tile.n} * mma.k * 2;
  const std::int64_t tile_bytes = std::int64_t{4} * threads_per_tile;
  frag = (frag + tile_bytes - 1) / tile_bytes;
  std::int64_t staged = 0;
  if (global_loads == GlobalLoad::ldg_sts && warps_per_cta > 0) {
    const std::int64_t bytes = (std::int64_t{cta_tile.m} * cta_tile.k + std::int64_t{cta_tile.k} * cta_tile.n) * 2;
    const std::int64_t cta_bytes = std::int64_t{4} * threads_per_cta();
    staged = (bytes + cta_bytes - 1) / cta_bytes;
  }
  return static_cast<int>(acc + frag + staged);
}

std::int64_t KernelConfig::register_bytes_per_cta() const {
  const std::int64_t unit = kRegisterAllocationUnit;
  const std::int64_t per_warp = (std::int64_t{min_registers_per_thread()} * 32 + unit - 1) / unit * unit;
  return per_warp * warps_per_cta * 4;
}

std::int64_t KernelConfig::smem_bytes_per_cta() const {
  const std::int64_t per_stage = std::int64_t{cta_tile.m} * cta_tile.k + std::int64_t{cta_tile.k} * cta_tile.n;
  return stages * per_stage * 2;
}

MmaShape KernelConfig::mma_for(DType t) const {
  MmaShape s = mma;
  s.k = k_for_dtype(mma.k, t);
  s.k_sparse = k_for_dtype(mma.k_sparse, t);
  return s;
}

TileShape KernelConfig::cta_tile_for(DType t) const { return {cta_tile.m, cta_tile.n, k_for_dtype(cta_tile.k, t)}; }

TileShape KernelConfig::warp_tile_for(DType t) const { return {warp_tile.m, warp_tile.n, k_for_dtype(warp_tile.k, t)}; }

KernelConfig KernelConfig::from_yaml(Section& s) {
  KernelConfig c;
  c.name = s.get_string("name");
  {
    const std::string fam = s.get_string("instruction");
    const auto f = parse_family(fam);
    if (!f) s.fail_key("instruction", fmt::format("must be one of {} (got '{}')", family_choices(), fam));
    c.instruction = *f;
  }
  c.a_source = get_enum(s, "a_source", kOperandSources);
  if (c.a_source == OperandSource::shared && !family_is_warpgroup(c.instruction)) {
    s.fail_key("a_source", fmt::format("{} reads A from registers (staged through shared memory by ldmatrix); only "
                                       "wgmma reads it from shared memory",
                                       family_name(c.instruction)));
  }

  {
    Section m = s.child("mma");
    c.mma.m = get_int32(m, "m", 1, 256);
    c.mma.n = get_int32(m, "n", 1, 256);
    c.mma.k = get_int32(m, "k", 1, 256);
    if (family_is_sparse(c.instruction)) {
      c.mma.k_sparse = get_int32(m, "k_sparse", 1, 256);
    } else if (m.has("k_sparse")) {
      m.fail_key("k_sparse",
                 fmt::format("{} has no sparse instruction: leave k_sparse out", family_name(c.instruction)));
    }
    m.finish();
    const std::string why = check_mma_shape(c.instruction, c.mma);
    if (!why.empty()) {
      m.fail(
          fmt::format("m{}n{}k{} is not a {} shape: {}", c.mma.m, c.mma.n, c.mma.k, family_name(c.instruction), why));
    }
  }

  Section cta = s.child("cta_tile");
  c.cta_tile = read_tile(cta);
  Section warp = s.child("warp_tile");
  c.warp_tile = read_tile(warp);
  // The warp tile divides the CTA tile, and the instruction divides the warp tile.
  const auto divides = [&](const char* dim, int part, int whole, const std::string& what) {
    if (whole % part != 0) {
      warp.fail_key(dim, fmt::format("{} = {} must divide cta_tile.{} = {}", what, part, dim, whole));
    }
  };
  divides("m", c.warp_tile.m, c.cta_tile.m, "warp_tile.m");
  divides("n", c.warp_tile.n, c.cta_tile.n, "warp_tile.n");
  divides("k", c.warp_tile.k, c.cta_tile.k, "warp_tile.k");
  const auto fits = [&](const char* dim, int inst, int tile, const std::string& what) {
    if (tile % inst != 0) {
      warp.fail_key(dim, fmt::format("must be a multiple of {} = {} (got {})", what, inst, tile));
    }
  };
  fits("m", c.mma.m, c.warp_tile.m, "mma.m");
  fits("n", c.mma.n, c.warp_tile.n, "mma.n");
  fits("k", c.mma.k, c.warp_tile.k, "mma.k");
  if (c.mma.k_sparse) fits("k", c.mma.k_sparse, c.warp_tile.k, "mma.k_sparse");

  c.stages = get_int32(s, "stages", 1, 64);
  const int derived = c.compute_warps();
  if (derived > 32) {
    cta.fail(fmt::format("needs {} compute warps ({} threads); a CTA has at most 32 warps", derived, derived * 32));
  }
  c.warps_per_cta = derived;
  s.opt("warps_per_cta", c.warps_per_cta, {1, 32});
  if (c.warps_per_cta < derived) {
    s.fail_key("warps_per_cta",
               fmt::format("must be >= the {} compute warps the tiles imply (got {})", derived, c.warps_per_cta));
  }
  if (family_is_warpgroup(c.instruction) && c.warps_per_cta % 4 != 0) {
    s.fail_key("warps_per_cta", fmt::format("must be a multiple of 4 (whole warpgroups) for {} (got {})",
                                            family_name(c.instruction), c.warps_per_cta));
  }
  c.global_loads = get_enum(s, "global_loads", kGlobalLoads);
  opt_enum(s, "tile_scheduler", c.tile_scheduler, kTileOrders);
  opt_enum(s, "raster", c.raster, kRasterOrders);
  s.opt("swizzle", c.swizzle, {1, 64});
  if (!is_pow2(c.swizzle)) s.fail_key("swizzle", fmt::format("must be a power of 2 (got {})", c.swizzle));
  s.opt("split_k", c.split_k, {1, 4096});
  s.opt("cluster_m", c.cluster_m, {1, 16});
  if (c.cluster_m > 1 && c.global_loads != GlobalLoad::tma) {
    s.fail_key("cluster_m", fmt::format("multicast to {} CTAs needs global_loads: tma", c.cluster_m));
  }
  s.opt("dense_fallback", c.dense_fallback);
  s.opt("smem_swizzle", c.smem_swizzle);
  s.finish();
  return c;
}

YAML::Node KernelConfig::to_yaml() const {
  YAML::Node n = yaml_map();
  n["name"] = yaml_value(name);
  n["instruction"] = yaml_value(family_name(instruction));
  n["a_source"] = yaml_value(operand_source_name(a_source));
  YAML::Node m = yaml_flow_map();
  m["m"] = yaml_value(mma.m);
  m["n"] = yaml_value(mma.n);
  m["k"] = yaml_value(mma.k);
  if (family_is_sparse(instruction)) m["k_sparse"] = yaml_value(mma.k_sparse);
  n["mma"] = m;
  n["cta_tile"] = tile_yaml(cta_tile);
  n["warp_tile"] = tile_yaml(warp_tile);
  n["stages"] = yaml_value(stages);
  n["warps_per_cta"] = yaml_value(warps_per_cta);
  n["global_loads"] = yaml_value(global_load_name(global_loads));
  n["tile_scheduler"] = yaml_value(tile_order_name(tile_scheduler));
  n["raster"] = yaml_value(raster_order_name(raster));
  n["swizzle"] = yaml_value(swizzle);
  n["split_k"] = yaml_value(split_k);
  n["cluster_m"] = yaml_value(cluster_m);
  n["dense_fallback"] = yaml_value(dense_fallback);
  n["smem_swizzle"] = yaml_value(smem_swizzle);
  return n;
}

bool KernelConfig::operator==(const KernelConfig& o) const {
  return name == o.name && instruction == o.instruction && a_source == o.a_source && mma == o.mma &&
         cta_tile == o.cta_tile && warp_tile == o.warp_tile && stages == o.stages && warps_per_cta == o.warps_per_cta &&
         global_loads == o.global_loads && tile_scheduler == o.tile_scheduler && raster == o.raster &&
         swizzle == o.swizzle && split_k == o.split_k && cluster_m == o.cluster_m &&
         dense_fallback == o.dense_fallback && smem_swizzle == o.smem_swizzle;
}

}  // namespace stcsim
