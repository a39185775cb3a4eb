#include "tensor_core/tensor_core.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

std::string_view mma_mode_name(MmaMode m) {
  switch (m) {
    case MmaMode::dense:
      return "dense";
    case MmaMode::sparse:
      return "sparse";
    case MmaMode::dense_on_zeros:
      return "dense-on-zeros";
  }
  return "?";
}

std::int64_t MmaInstr::macs() const {
  if (m < 1 || n < 1 || k < 1) throw ShapeError(fmt::format("MMA {}x{}x{}: every dimension must be >= 1", m, n, k));
  const std::uint64_t mn = checked_mul(static_cast<std::uint64_t>(m), static_cast<std::uint64_t>(n), "MMA MACs");
  return static_cast<std::int64_t>(checked_mul(mn, static_cast<std::uint64_t>(k), "MMA MACs"));
}

namespace {

// ceil(macs / (rate x fraction)). The fraction is a calibration double: a quotient within rounding
// error of an integer is that integer, so that 0.5 of 512 MACs/clock gives exactly 2048 / 256.
std::int64_t rate_cycles(std::int64_t macs, std::int64_t rate, double fraction) {
  if (macs <= 0) return 0;
  if (fraction == 1.0) return ceil_div(macs, rate);
  const double q = static_cast<double>(macs) / (static_cast<double>(rate) * fraction);
  const double r = std::round(q);
  if (std::fabs(q - r) <= 1e-9 * std::max(1.0, q)) return static_cast<std::int64_t>(r);
  return static_cast<std::int64_t>(std::ceil(q));
}

// One lane step: a fused multiply-add in fp32, one rounding, the same in every build (no reliance on
// the compiler's choice to contract a * b + c).
inline float lane_mac(float acc, float a, float b) { return std::fma(a, b, acc); }

// Products the sparse mode executes for an instruction: m x n x (k / M) x N.
std::uint64_t kept_macs(const MmaInstr& in) {
  const std::uint64_t kept_k = static_cast<std::uint64_t>(in.k / in.sparse_m) * static_cast<std::uint64_t>(in.sparse_n);
  return checked_mul(checked_mul(static_cast<std::uint64_t>(in.m), static_cast<std::uint64_t>(in.n), "MMA MACs"),
                     kept_k, "MMA MACs");
}

}  // namespace

TensorCore::TensorCore(const TensorCoreConfig& cfg, MmaFamily family, int cooperating)
    : cfg_(cfg), family_(family), cooperating_(cooperating), selector_(cfg.operand_selector) {
  if (cooperating < 1)
    throw ShapeError(fmt::format("tensor core: cooperating tensor cores must be >= 1 (got {})", cooperating));
  const MmaFamily dense_f = dense_family(family);
  auto dense = cfg.instruction(dense_f);
  if (!dense) dense = cfg.instruction(family);  // a sparse family's path also times its dense form
  if (!dense) {
    throw UnsupportedError(fmt::format("{}: the GPU has no such instruction path (arch.tensor_core.instructions.{})",
                                       family_name(family), family_key(family)));
  }
  dense_path_ = *dense;
  if (family_is_sparse(family)) {
    sparse_path_ = cfg.instruction(family);
    if (!sparse_path_) {
      throw UnsupportedError(fmt::format("{}: the GPU has no such instruction path (arch.tensor_core.instructions.{})",
                                         family_name(family), family_key(family)));
    }
  }
}

MmaMode TensorCore::mode(DType dtype, int n, int m) const {
  if (!cfg_.dense_macs_per_clock(dtype)) {
    throw UnsupportedError(fmt::format("{}: the tensor cores have no {} path (no arch.tensor_core.dtypes.{})",
                                       dtype_name(dtype), dtype_name(dtype), dtype_name(dtype)));
  }
  if (n == 0 && m == 0) return MmaMode::dense;
  if (n < 1 || n >= m) throw ShapeError(fmt::format("{}:{}: not an N:M pattern (need 1 <= N < M)", n, m));
  std::string why;
  if (!cfg_.sparse_rate(dtype, n, m)) {
    why = fmt::format("no sparse rate (arch.tensor_core.dtypes.{}.sparse has no \"{}:{}\")", dtype_name(dtype), n, m);
  } else if (!sparse_path_) {
    why = fmt::format("the kernel's instruction {} has no sparse form", family_name(family_));
  } else if (!selector_.supports(n, m)) {
    why = fmt::format("the operand selector takes groups of at most {} (arch.tensor_core.operand_selector.max_m)",
                      selector_.max_m());
  } else {
    return MmaMode::sparse;
  }
  if (cfg_.unsupported_sparsity == UnsupportedSparsity::error) {
    throw UnsupportedError(fmt::format("{} {}:{} is not supported: {} (arch.tensor_core.unsupported_sparsity: error)",
                                       dtype_name(dtype), n, m, why));
  }
  return MmaMode::dense_on_zeros;
}

MmaInstr TensorCore::instruction_for(DType dtype, const MmaShape& shape, int n, int m) const {
  MmaInstr in{dtype, shape.m, shape.n, shape.k, n, m};
  if (mode(dtype, n, m) == MmaMode::sparse) {
    if (shape.k % n != 0) {
      throw ShapeError(fmt::format("MMA k = {} kept values per row do not form whole {}:{} groups", shape.k, n, m));
    }
    in.k = shape.k / n * m;
  }
  in.macs();  // checks the dimensions
  return in;
}

const InstructionPath& TensorCore::path(MmaMode md) const {
  return md == MmaMode::sparse ? *sparse_path_ : dense_path_;
}

std::int64_t TensorCore::rate(const MmaInstr& in, MmaMode md) const {
  if (md == MmaMode::sparse) return cfg_.sparse_rate(in.dtype, in.sparse_n, in.sparse_m)->macs_per_clock;
  return *cfg_.dense_macs_per_clock(in.dtype);
}

std::int64_t TensorCore::datapath_cycles(const MmaInstr& in) const {
  const MmaMode md = mode(in);
  const std::int64_t macs = in.macs();
  if (md == MmaMode::sparse && in.k % in.sparse_m != 0) {
    throw ShapeError(fmt::format("sparse MMA k = {} is not a multiple of the group size {}", in.k, in.sparse_m));
  }
  const std::int64_t lanes = static_cast<std::int64_t>(checked_mul(
      static_cast<std::uint64_t>(rate(in, md)), static_cast<std::uint64_t>(cooperating_), "tensor-core rate"));
  return rate_cycles(macs, lanes, path(md).rate_fraction);
}

std::int64_t TensorCore::selector_cycles(const MmaInstr& in) const {
  if (mode(in) != MmaMode::sparse) return 0;
  return selector_.cycles_for(static_cast<std::int64_t>(kept_macs(in)), cooperating_);
}

std::int64_t TensorCore::occupancy_cycles(const MmaInstr& in) const {
  return std::max(datapath_cycles(in), selector_cycles(in));
}

std::int64_t TensorCore::pipeline_latency_cycles(const MmaInstr& in) const {
  const MmaMode md = mode(in);
  return path(md).latency_cycles + (md == MmaMode::sparse ? selector_.latency_cycles() : 0);
}

std::int64_t TensorCore::latency_cycles(const MmaInstr& in) const {
  return occupancy_cycles(in) + pipeline_latency_cycles(in);
}

void TensorCore::count(const MmaInstr& in, std::uint64_t instructions) {
  add_counts(in, mode(in), instructions, occupancy_cycles(in));
}

std::int64_t TensorCore::sequence_cycles(const MmaInstr& in, std::int64_t count) const {
  if (count < 0) throw ShapeError(fmt::format("MMA sequence: count must be >= 0 (got {})", count));
  if (count == 0) return 0;
  return (count - 1) * occupancy_cycles(in) + latency_cycles(in);
}

void TensorCore::add_counts(const MmaInstr& in, MmaMode md, std::uint64_t instructions, std::int64_t occupancy) {
  const std::uint64_t macs = checked_mul(static_cast<std::uint64_t>(in.macs()), instructions, "MMA MACs");
  stats_.instructions += instructions;
  stats_.busy_cycles =
      checked_add(stats_.busy_cycles, checked_mul(static_cast<std::uint64_t>(occupancy), instructions, "busy cycles"),
                  "busy cycles");
  stats_.equivalent_macs = checked_add(stats_.equivalent_macs, macs, "MACs");
  if (md == MmaMode::sparse) {
    const std::uint64_t kept = checked_mul(kept_macs(in), instructions, "MMA MACs");
    stats_.sparse_instructions += instructions;
    stats_.sparse_macs = checked_add(stats_.sparse_macs, kept, "MACs");
    stats_.skipped_macs = checked_add(stats_.skipped_macs, macs - kept, "MACs");
    // Each kept A value is routed once per B column; its index is decoded once per instruction.
    const std::uint64_t kept_values = static_cast<std::uint64_t>(in.m) *
                                      static_cast<std::uint64_t>(in.k / in.sparse_m) *
                                      static_cast<std::uint64_t>(in.sparse_n);
    const std::uint64_t bits =
        checked_mul(kept_values, static_cast<std::uint64_t>(index_bits(in.sparse_m)), "metadata bits");
    selector_.account(kept, checked_mul(bits, instructions, "metadata bits"));
  } else {
    stats_.dense_macs = checked_add(stats_.dense_macs, macs, "MACs");
  }
}

std::int64_t TensorCore::issue(std::int64_t now, const MmaInstr& in) { return issue_sequence(now, in, 1); }

std::int64_t TensorCore::issue_sequence(std::int64_t now, const MmaInstr& in, std::int64_t count) {
  if (count < 0) throw ShapeError(fmt::format("MMA sequence: count must be >= 0 (got {})", count));
  if (count == 0) return now;
  const MmaMode md = mode(in);
  const std::int64_t occupancy = occupancy_cycles(in);
  const std::int64_t latency = latency_cycles(in);
  const std::int64_t start = std::max(now, next_free_);
  const std::int64_t done = start + (count - 1) * occupancy + latency;
  next_free_ = start + count * occupancy;
  last_done_ = std::max(last_done_, done);
  add_counts(in, md, static_cast<std::uint64_t>(count), occupancy);
  return done;
}

void TensorCore::mma_dense(const Matrix& a, const Matrix& b, Matrix& c) {
  if (a.cols() != b.rows() || c.rows() != a.rows() || c.cols() != b.cols()) {
    throw ShapeError(fmt::format("mma_dense: A {}x{}, B {}x{} and C {}x{} do not fit", a.rows(), a.cols(), b.rows(),
                                 b.cols(), c.rows(), c.cols()));
  }
  for (std::int64_t i = 0; i < a.rows(); ++i) {
    const float* arow = a.row(i);
    for (std::int64_t j = 0; j < b.cols(); ++j) {
      float acc = c.at(i, j);
      for (std::int64_t kk = 0; kk < a.cols(); ++kk) acc = lane_mac(acc, arow[kk], b.at(kk, j));
      c.at(i, j) = acc;
    }
  }
  const std::uint64_t macs =
      checked_mul(checked_mul(static_cast<std::uint64_t>(a.rows()), static_cast<std::uint64_t>(b.cols()), "MACs"),
                  static_cast<std::uint64_t>(a.cols()), "MACs");
  stats_.instructions += 1;
  stats_.equivalent_macs = checked_add(stats_.equivalent_macs, macs, "MACs");
  stats_.dense_macs = checked_add(stats_.dense_macs, macs, "MACs");
}

void TensorCore::mma_sparse(const NmCompressed& s, std::int64_t row0, std::int64_t k0, const Matrix& b, Matrix& c) {
  selector_.check(s.n(), s.m());
  const int n_keep = s.n();
  const int m_group = s.m();
  if (n_keep > 16) throw ShapeError(fmt::format("mma_sparse: N = {} exceeds the 16 lanes of a group", n_keep));
  if (b.cols() != c.cols() || row0 < 0 || k0 < 0 || k0 % m_group != 0 || b.rows() % m_group != 0) {
    throw ShapeError(
        fmt::format("mma_sparse: S rows from {}, K from {} ({}:{}), B {}x{} and C {}x{} do not fit "
                    "(K offset and extent must be multiples of {})",
                    row0, k0, n_keep, m_group, b.rows(), b.cols(), c.rows(), c.cols(), m_group));
  }
  const std::int64_t g0 = k0 / m_group;
  const std::int64_t groups =
      std::min<std::int64_t>(b.rows() / m_group, std::max<std::int64_t>(0, s.groups_per_row() - g0));
  int positions[16];  // N < M <= 16 (OperandSelectorConfig::max_m)
  float selected[16];
  std::uint64_t executed = 0;
  for (std::int64_t i = 0; i < c.rows(); ++i) {
    const std::int64_t r = row0 + i;
    if (r >= s.rows()) break;
    const float* values = s.values().data() + r * s.slots_per_row();
    for (std::int64_t gi = 0; gi < groups; ++gi) {
      const std::int64_t g = g0 + gi;
      selector_.decode(s, r, g, positions);
      const float* kept = values + g * n_keep;
      for (std::int64_t j = 0; j < c.cols(); ++j) {
        selector_.route(positions, n_keep, &b.at(gi * m_group, j), b.cols(), selected);
        float acc = c.at(i, j);
        for (int slot = 0; slot < n_keep; ++slot) acc = lane_mac(acc, kept[slot], selected[slot]);
        c.at(i, j) = acc;
      }
      executed += static_cast<std::uint64_t>(n_keep) * static_cast<std::uint64_t>(c.cols());
    }
  }
  const std::uint64_t macs =
      checked_mul(checked_mul(static_cast<std::uint64_t>(c.rows()), static_cast<std::uint64_t>(c.cols()), "MACs"),
                  static_cast<std::uint64_t>(b.rows()), "MACs");
  stats_.instructions += 1;
  stats_.sparse_instructions += 1;
  stats_.equivalent_macs = checked_add(stats_.equivalent_macs, macs, "MACs");
  stats_.sparse_macs = checked_add(stats_.sparse_macs, executed, "MACs");
  stats_.skipped_macs = checked_add(stats_.skipped_macs, macs - executed, "MACs");
}

namespace {

void check_gemm(const MmaShape& shape, std::int64_t s_cols, const Matrix& d) {
  if (shape.m < 1 || shape.n < 1 || shape.k < 1) {
    throw ShapeError(
        fmt::format("functional GEMM: MMA shape m{}n{}k{} must have every dimension >= 1", shape.m, shape.n, shape.k));
  }
  if (d.rows() != s_cols)
    throw ShapeError(fmt::format("functional GEMM: S has K = {}, D has {} rows", s_cols, d.rows()));
}

// Rows [k0, k0 + k) and columns [c0, c0 + nc) of d, zero past its end.
Matrix b_fragment(const Matrix& d, std::int64_t k0, std::int64_t k, std::int64_t c0, std::int64_t nc) {
  Matrix b(k, nc);
  for (std::int64_t kk = 0; kk < k && k0 + kk < d.rows(); ++kk) {
    for (std::int64_t j = 0; j < nc; ++j) b.at(kk, j) = d.at(k0 + kk, c0 + j);
  }
  return b;
}

void store(const Matrix& frag, std::int64_t r0, std::int64_t c0, Matrix& out) {
  for (std::int64_t i = 0; i < frag.rows(); ++i) {
    for (std::int64_t j = 0; j < frag.cols(); ++j) out.at(r0 + i, c0 + j) = frag.at(i, j);
  }
}

}  // namespace

namespace {

// The output cut into instruction tiles, each accumulated over K in increasing order: `mma(r0, mr,
// k0, b, c)` runs one instruction's worth of K on the accumulator tile c (mr x the tile's columns).
template <class Mma>
Matrix tiled_gemm(const MmaInstr& in, std::int64_t rows, std::int64_t k, const Matrix& d, Mma&& mma) {
  const std::int64_t k_steps = ceil_div(k, in.k);
  Matrix out(rows, d.cols());
  for (std::int64_t r0 = 0; r0 < rows; r0 += in.m) {
    const std::int64_t mr = std::min<std::int64_t>(in.m, rows - r0);
    for (std::int64_t c0 = 0; c0 < d.cols(); c0 += in.n) {
      const std::int64_t nc = std::min<std::int64_t>(in.n, d.cols() - c0);
      Matrix c(mr, nc);
      for (std::int64_t step = 0; step < k_steps; ++step) {
        const std::int64_t k0 = step * in.k;
        mma(r0, mr, k0, b_fragment(d, k0, in.k, c0, nc), c);
      }
      store(c, r0, c0, out);
    }
  }
  return out;
}

}  // namespace

Matrix functional_gemm(TensorCore& tc, DType dtype, const MmaShape& shape, const Matrix& s, const Matrix& d) {
  check_gemm(shape, s.cols(), d);
  const MmaInstr in = tc.instruction_for(dtype, shape, 0, 0);
  return tiled_gemm(in, s.rows(), s.cols(), d,
                    [&](std::int64_t r0, std::int64_t mr, std::int64_t k0, const Matrix& b, Matrix& c) {
                      Matrix a(mr, in.k);
                      for (std::int64_t i = 0; i < mr; ++i) {
                        for (std::int64_t kk = 0; kk < in.k && k0 + kk < s.cols(); ++kk) a.at(i, kk) = s.at(r0 + i, k0 + kk);
                      }
                      tc.mma_dense(a, b, c);
                    });
}

Matrix functional_gemm(TensorCore& tc, DType dtype, const MmaShape& shape, const NmCompressed& s, const Matrix& d) {
  check_gemm(shape, s.cols(), d);
  if (tc.mode(dtype, s.n(), s.m()) != MmaMode::sparse) return functional_gemm(tc, dtype, shape, s.decompress(), d);
  const MmaInstr in = tc.instruction_for(dtype, shape, s.n(), s.m());
  return tiled_gemm(in, s.rows(), s.cols(), d,
                    [&](std::int64_t r0, std::int64_t, std::int64_t k0, const Matrix& b, Matrix& c) {
                      tc.mma_sparse(s, r0, k0, b, c);
                    });
}

Matrix reference_gemm(const Matrix& s_pruned, const Matrix& d) {
  if (s_pruned.cols() != d.rows()) {
    throw ShapeError(fmt::format("reference GEMM: S has K = {}, D has {} rows", s_pruned.cols(), d.rows()));
  }
  Matrix out(s_pruned.rows(), d.cols());
  for (std::int64_t i = 0; i < s_pruned.rows(); ++i) {
    const float* srow = s_pruned.row(i);
    for (std::int64_t j = 0; j < d.cols(); ++j) {
      float acc = 0.0f;
      for (std::int64_t kk = 0; kk < s_pruned.cols(); ++kk) acc = lane_mac(acc, srow[kk], d.at(kk, j));
      out.at(i, j) = acc;
    }
  }
  return out;
}

}  // namespace stcsim
