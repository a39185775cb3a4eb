// Which model plays the SMs (docs/model.md): the fast one, whose CTAs are main loops of priced
// k-blocks (sm/sm_module.h), or the cycle one, whose CTAs are warps issuing instructions into
// SystemC modules of the sub-cores, register files, operand selectors, tensor cores and shared
// memory (sm/cycle_sm.h). Both share the tile scheduler and the memory system.
#pragma once

#include <optional>
#include <string_view>

namespace stcsim {

enum class SimModel { fast, cycle };

inline std::string_view sim_model_name(SimModel m) { return m == SimModel::cycle ? "cycle" : "fast"; }
inline std::optional<SimModel> parse_sim_model(std::string_view s) {
  if (s == "fast") return SimModel::fast;
  if (s == "cycle") return SimModel::cycle;
  return std::nullopt;
}

}  // namespace stcsim
