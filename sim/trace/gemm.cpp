#include "trace/gemm.h"

#include <fmt/format.h>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

std::string_view operand_name(Operand o) {
  switch (o) {
    case Operand::A: return "A";
    case Operand::B: return "B";
    case Operand::none: return "-";
  }
  return "?";
}

std::optional<Operand> parse_operand(std::string_view s) {
  if (s == "A") return Operand::A;
  if (s == "B") return Operand::B;
  if (s == "-") return Operand::none;
  return std::nullopt;
}

std::pair<std::int64_t, std::int64_t> GemmOp::sparse_shape() const {
  return sparse == Operand::B ? std::pair{n, k} : std::pair{m, k};
}

std::uint64_t GemmOp::dense_macs() const {
  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  return checked_mul(checked_mul(checked_mul(u(m), u(n), "gemm"), u(k), "gemm"), u(count), "gemm");
}

bool GemmOp::operator==(const GemmOp& o) const {
  return layer == o.layer && m == o.m && n == o.n && k == o.k && dtype == o.dtype && sparse == o.sparse &&
         pattern == o.pattern && count == o.count;
}

std::optional<std::pair<std::string, std::string>> gemm_problem(const GemmOp& g) {
  const std::pair<const char*, std::int64_t> dims[] = {{"m", g.m}, {"n", g.n}, {"k", g.k}, {"count", g.count}};
  for (const auto& [name, v] : dims) {
    if (v < 1 || v > kMaxDim) return std::pair{std::string(name), fmt::format("must be in 1..{} (got {})", kMaxDim, v)};
  }
  if (g.sparse == Operand::none && g.pattern != "dense") {
    return std::pair{std::string("sparse"), fmt::format("pattern '{}' needs the sparse operand, A or B (got -)", g.pattern)};
  }
  try {
    // Flops (2 per MAC) and the largest operand's bytes, all `count` times, must fit 64 bits.
    checked_mul(g.dense_macs(), 2, "gemm");
    const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
    for (auto [a, b] : {std::pair{g.m, g.k}, {g.k, g.n}, {g.m, g.n}}) {
      checked_mul(checked_mul(checked_mul(u(a), u(b), "gemm"), 4, "gemm"), u(g.count), "gemm");
    }
  } catch (const ShapeError&) {
    return std::pair{std::string("m,n,k,count"),
                     fmt::format("{}x{}x{} x{} overflows 64-bit sizes", g.m, g.n, g.k, g.count)};
  }
  return std::nullopt;
}

}  // namespace stcsim
