// The operand selector of a sparse tensor core: it decodes the N:M metadata of the sparse operand
// (S, the MMA's A side) and, for each kept value, routes the matching element of the dense
// operand's K group (one of M positions) into the value's dot-product lane: one M-to-1 multiplexer
// per lane. Generic in N and M up to the configured max_m. Timing is a fixed latency added to a
// sparse MMA and a throughput of selections per clock (one selection = one kept value routed for
// one dense column); the counts (selections, metadata bits decoded) feed the energy model.
// Dense MMAs bypass it: nothing is counted for them. A tensor core without a selector
// (arch.tensor_core.operand_selector absent) supports no N:M pattern.
//
// Left out: the sparsity-selector operand of mma.sp (which threads of a quad supply metadata), the
// wiring of metadata from registers (the register file counts those reads), and any pipelining of
// decode against selection inside the latency.
#pragma once

#include <cstdint>
#include <optional>

#include "common/error.h"
#include "config/tensor_core_config.h"
#include "sparsity/nm_layout.h"

namespace stcsim {

struct OperandSelectorStats {
  std::uint64_t selections = 0;     // dense-operand elements routed to a lane (kept value x dense column)
  std::uint64_t metadata_bits = 0;  // index bits decoded (once per kept value per instruction)

  template <class F>
  void visit(F&& f) {
    f("selections", selections);
    f("metadata_bits", metadata_bits);
  }
};

class OperandSelector {
 public:
  // `cfg` absent: dense-only hardware, supports() is false for every pattern.
  explicit OperandSelector(const std::optional<OperandSelectorConfig>& cfg);

  bool present() const { return cfg_.has_value(); }
  int max_m() const { return cfg_ ? cfg_->max_m : 0; }
  // True when the selector exists and 1 <= n < m <= max_m.
  bool supports(int n, int m) const;
  // UnsupportedError saying why when !supports(n, m).
  void check(int n, int m) const;

  // Cycles the selection adds to a sparse MMA (0 without a selector).
  std::int64_t latency_cycles() const { return cfg_ ? cfg_->latency_cycles : 0; }
  // Cycles `units` selectors (one per cooperating tensor core) need for `selections`:
  // ceil(selections / (selections_per_clock x units)); 0 for none. UnsupportedError without a selector.
  std::int64_t cycles_for(std::int64_t selections, int units = 1) const;

  // Functional path. Decodes the N positions (0..M-1, increasing) of group `group` of row `row`
  // into `positions`, counting N x bits metadata bits.
  void decode(const NmCompressed& s, std::int64_t row, std::int64_t group, int* positions);
  // Routes out[i] = dense_group[positions[i] * stride] for i < n: n selections. `dense_group` is the
  // dense operand's column at this K group (M elements, `stride` apart).
  void route(const int* positions, int n, const float* dense_group, std::int64_t stride, float* out);
  // decode + route for one dense column: `out` receives the N dense elements matching the N kept
  // values of the group, in slot order.
  void select(const NmCompressed& s, std::int64_t row, std::int64_t group, const float* dense_group, float* out,
              std::int64_t stride = 1);

  // Timing path: counts the work of instructions that are timed, not executed on values.
  void account(std::uint64_t selections, std::uint64_t metadata_bits);

  const std::optional<OperandSelectorConfig>& config() const { return cfg_; }
  OperandSelectorStats& stats() { return stats_; }
  const OperandSelectorStats& stats() const { return stats_; }

 private:
  std::optional<OperandSelectorConfig> cfg_;
  OperandSelectorStats stats_;
};

}  // namespace stcsim
