#include "operand_selector/operand_selector.h"

#include <fmt/format.h>

#include "common/checked.h"

namespace stcsim {

OperandSelector::OperandSelector(const std::optional<OperandSelectorConfig>& cfg) : cfg_(cfg) {}

bool OperandSelector::supports(int n, int m) const { return cfg_ && n >= 1 && n < m && m <= cfg_->max_m; }

void OperandSelector::check(int n, int m) const {
  if (!cfg_) {
    throw UnsupportedError(fmt::format(
        "{}:{}: the tensor cores have no operand selector (arch.tensor_core.operand_selector absent)", n, m));
  }
  if (n < 1 || n >= m) throw UnsupportedError(fmt::format("{}:{}: not an N:M pattern (need 1 <= N < M)", n, m));
  if (m > cfg_->max_m) {
    throw UnsupportedError(
        fmt::format("{}:{}: group of {} is wider than the operand selector's {} inputs "
                    "(arch.tensor_core.operand_selector.max_m)",
                    n, m, m, cfg_->max_m));
  }
}

std::int64_t OperandSelector::cycles_for(std::int64_t selections, int units) const {
  if (!cfg_) throw UnsupportedError("operand selector: none configured (arch.tensor_core.operand_selector absent)");
  if (selections <= 0) return 0;
  const std::int64_t per_clock =
      static_cast<std::int64_t>(checked_mul(static_cast<std::uint64_t>(cfg_->selections_per_clock),
                                            static_cast<std::uint64_t>(units), "operand selector rate"));
  return ceil_div(selections, per_clock);
}

void OperandSelector::decode(const NmCompressed& s, std::int64_t row, std::int64_t group, int* positions) {
  check(s.n(), s.m());
  if (row < 0 || row >= s.rows() || group < 0 || group >= s.groups_per_row()) {
    throw ShapeError(fmt::format("operand selector: row {}, group {} outside the {}x{} groups of the operand", row,
                                 group, s.rows(), s.groups_per_row()));
  }
  for (int i = 0; i < s.n(); ++i) {
    const int p = s.index(row, group * s.n() + i);
    // Possible only for an M that is not a power of two, with corrupt metadata.
    if (p >= s.m())
      throw ShapeError(fmt::format("operand selector: row {}, group {}: index {} >= M = {}", row, group, p, s.m()));
    positions[i] = p;
  }
  stats_.metadata_bits += static_cast<std::uint64_t>(s.n()) * static_cast<std::uint64_t>(s.bits());
}

void OperandSelector::route(const int* positions, int n, const float* dense_group, std::int64_t stride, float* out) {
  for (int i = 0; i < n; ++i) out[i] = dense_group[positions[i] * stride];
  stats_.selections += static_cast<std::uint64_t>(n);
}

void OperandSelector::select(const NmCompressed& s, std::int64_t row, std::int64_t group, const float* dense_group,
                             float* out, std::int64_t stride) {
  int positions[16];  // max_m and therefore N are at most 16 (OperandSelectorConfig)
  if (s.n() > 16) throw ShapeError(fmt::format("operand selector: N = {} exceeds 16", s.n()));
  decode(s, row, group, positions);
  route(positions, s.n(), dense_group, stride, out);
}

void OperandSelector::account(std::uint64_t selections, std::uint64_t metadata_bits) {
  stats_.selections = checked_add(stats_.selections, selections, "operand selector selections");
  stats_.metadata_bits = checked_add(stats_.metadata_bits, metadata_bits, "operand selector metadata bits");
}

}  // namespace stcsim
