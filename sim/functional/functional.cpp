// run_functional: each pattern family's datapath and the bitwise comparison (functional.h).
#include "functional/functional.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/checked.h"
#include "common/error.h"
#include "common/rng_fill.h"
#include "sparsity/nm_layout.h"
#include "sparsity/registry.h"
#include "sparsity/spec.h"
#include "sparsity/tile_layout.h"

namespace stcsim {

namespace {

// What one family's datapath needs: the tensor core, the instruction shape and data type, and the
// output it writes into (R x P, zero where nothing is computed).
struct Datapath {
  TensorCore& tc;
  DType dtype;
  MmaShape shape;
  TileShape cta;
  const Matrix& d;
  Matrix& out;
};

// Rows `ks` of d (a K index < 0 or past d's end gives a zero row): the dense operand's K rows that
// match a gathered S.
Matrix gather_rows(const Matrix& d, const std::vector<std::int64_t>& ks) {
  Matrix g(static_cast<std::int64_t>(ks.size()), d.cols());
  for (std::size_t i = 0; i < ks.size(); ++i) {
    if (ks[i] < 0 || ks[i] >= d.rows()) continue;
    std::copy(d.row(ks[i]), d.row(ks[i]) + d.cols(), g.row(static_cast<std::int64_t>(i)));
  }
  return g;
}

// Columns `ks` of rows [r0, r1) of s, zero for a K index < 0 or past s's end.
Matrix gather_cols(const Matrix& s, std::int64_t r0, std::int64_t r1, const std::vector<std::int64_t>& ks) {
  Matrix g(r1 - r0, static_cast<std::int64_t>(ks.size()));
  for (std::int64_t r = r0; r < r1; ++r) {
    for (std::size_t i = 0; i < ks.size(); ++i) {
      if (ks[i] >= 0 && ks[i] < s.cols()) g.at(r - r0, static_cast<std::int64_t>(i)) = s.at(r, ks[i]);
    }
  }
  return g;
}

// Row i of `part` becomes output row rows[i].
template <class Rows>
void scatter_rows(const Matrix& part, const Rows& rows, Matrix& out) {
  for (std::int64_t i = 0; i < part.rows(); ++i) {
    const std::int64_t r = static_cast<std::int64_t>(rows[static_cast<std::size_t>(i)]);
    std::copy(part.row(i), part.row(i) + part.cols(), out.row(r));
  }
}

std::vector<std::int64_t> row_range(std::int64_t r0, std::int64_t r1) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(r1 - r0));
  for (std::int64_t i = 0; i < r1 - r0; ++i) v[static_cast<std::size_t>(i)] = r0 + i;
  return v;
}

// The machine's tensor cores must run this N:M sparse when the mapping says sparse_nm.
void require_sparse(const Datapath& dp, const GemmOp& g, int n, int m) {
  if (dp.tc.mode(dp.dtype, n, m) != MmaMode::sparse) {
    throw UnsupportedError(
        fmt::format("{}: the mapping puts {} on the {}:{} sparse path, but the kernel's {} tensor cores run it {}",
                    g.layer, g.pattern, n, m, family_name(dp.tc.family()), mma_mode_name(dp.tc.mode(dp.dtype, n, m))));
  }
}

std::string run_nm(Datapath& dp, const GemmOp& g, const GemmMapping& map, const Compressed& c) {
  const auto* nm = dynamic_cast<const NmCompressed*>(&c);
  if (!nm) throw Error(fmt::format("{}: pattern {} did not give an N:M layout", g.layer, g.pattern));
  if (map.path == MathPath::dense_on_zeros) {
    dp.out = functional_gemm(dp.tc, dp.dtype, dp.shape, nm->decompress(), dp.d);
    return fmt::format("dense MMAs on explicit zeros ({}:{} has no sparse path here)", nm->n(), nm->m());
  }
  require_sparse(dp, g, nm->n(), nm->m());
  dp.out = functional_gemm(dp.tc, dp.dtype, dp.shape, *nm, dp.d);
  return fmt::format("sparse {}:{} MMAs through the operand selector", nm->n(), nm->m());
}

std::string run_vnm(Datapath& dp, const GemmOp& g, const GemmMapping& map, const Pattern& p, const Mask& mask,
                    const Matrix& s) {
  const VnmShape vs = vnm_shape(p);
  if (map.path == MathPath::dense_on_zeros) {
    dp.out = functional_gemm(dp.tc, dp.dtype, dp.shape, s, dp.d);
    return fmt::format("dense MMAs on explicit zeros ({} runs {}:{}, which has no sparse path here)", p.spec(), vs.n,
                       2 * vs.n);
  }
  require_sparse(dp, g, vs.n, 2 * vs.n);
  for (const VnmBlock& blk : vnm_blocks(g, p, mask, s)) {
    scatter_rows(functional_gemm(dp.tc, dp.dtype, dp.shape, blk.packed, gather_rows(dp.d, blk.ks)),
                 row_range(blk.r0, blk.r0 + blk.packed.rows()), dp.out);
  }
  return fmt::format(
      "{}: 2N = {} of every {} columns gathered per {}-row block, sparse {}:{} MMAs through the "
      "operand selector",
      p.spec(), 2 * vs.n, vs.m, vs.v, vs.n, 2 * vs.n);
}

std::string run_tiles(Datapath& dp, const GemmOp& g, const GemmMapping& map, const Compressed& c) {
  const auto* tc = dynamic_cast<const TileCompressed*>(&c);
  if (!tc) throw Error(fmt::format("{}: pattern {} did not give a tile layout", g.layer, g.pattern));
  const bool nm_tiles = tc->nm_tiles();
  const bool sparse = nm_tiles && map.path == MathPath::sparse_nm;
  if (sparse) require_sparse(dp, g, tc->n(), tc->m());
  for (std::int64_t t = 0; t < tc->tiles(); ++t) {
    const TileInfo& ti = tc->tile(t);
    if (ti.empty()) continue;
    const std::vector<std::int32_t> rows = tc->tile_rows(t);
    const std::vector<std::int32_t> tks = tc->tile_ks(t);
    const Matrix dt = gather_rows(dp.d, std::vector<std::int64_t>(tks.begin(), tks.end()));
    Matrix part;
    if (nm_tiles) {
      const NmCompressed& nt = tc->tile_nm(t);
      part = sparse ? functional_gemm(dp.tc, dp.dtype, dp.shape, nt, dt)
                    : functional_gemm(dp.tc, dp.dtype, dp.shape, nt.decompress(), dt);
    } else {
      // The tile's kept_rows x kept_k values, row-major, as the layout stores them.
      Matrix st(ti.kept_rows, ti.kept_k);
      const auto first = tc->values().begin() + ti.values_offset;
      std::copy(first, first + ti.stored_values, st.data().begin());
      part = functional_gemm(dp.tc, dp.dtype, dp.shape, st, dt);
    }
    scatter_rows(part, rows, dp.out);
  }
  if (!nm_tiles) return "dense MMAs on kept tiles (tw): each tile's kept rows x kept K gathered";
  if (sparse) {
    return fmt::format(
        "sparse {}:{} MMAs through the operand selector on kept tiles (tvw): each tile's kept rows x "
        "kept K gathered",
        tc->n(), tc->m());
  }
  return fmt::format("dense MMAs on explicit zeros in kept tiles (tvw; {}:{} has no sparse path here)", tc->n(),
                     tc->m());
}

// BSR: per block row, the kept blocks (a block is kept whole, so its first element tells) side by
// side in K order.
std::string run_block(Datapath& dp, const Pattern& p, const Mask& mask, const Matrix& s) {
  const std::int64_t b = split_spec(p.spec()).get_int("b");
  const std::int64_t kdim = s.cols();
  std::int64_t kept_blocks = 0;
  std::vector<std::int64_t> ks;
  for (std::int64_t r0 = 0; r0 < s.rows(); r0 += b) {
    const std::int64_t r1 = std::min(s.rows(), r0 + b);
    ks.clear();
    for (std::int64_t c0 = 0; c0 < kdim; c0 += b) {
      if (!mask.at(r0, c0)) continue;
      ++kept_blocks;
      for (std::int64_t c = c0; c < std::min(kdim, c0 + b); ++c) ks.push_back(c);
    }
    if (ks.empty()) continue;
    scatter_rows(functional_gemm(dp.tc, dp.dtype, dp.shape, gather_cols(s, r0, r1, ks), gather_rows(dp.d, ks)),
                 row_range(r0, r1), dp.out);
  }
  return fmt::format("dense MMAs over the {} kept {}x{} blocks only (BSR block rows)", kept_blocks, b, b);
}

// CSR rows: per CTA row block, the CTA k-blocks holding any non-zero of its rows.
std::string run_unstructured(Datapath& dp, const Mask& mask, const Matrix& s) {
  const std::int64_t kdim = s.cols();
  const std::int64_t cm = dp.cta.m, ck = dp.cta.k;
  const std::int64_t nkb = ceil_div(kdim, ck);
  std::vector<std::uint8_t> any(static_cast<std::size_t>(nkb));
  std::vector<std::int64_t> ks;
  std::int64_t run = 0, total = 0;
  for (std::int64_t r0 = 0; r0 < s.rows(); r0 += cm) {
    const std::int64_t r1 = std::min(s.rows(), r0 + cm);
    std::fill(any.begin(), any.end(), std::uint8_t{0});
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::uint8_t* row = mask.row(r);
      for (std::int64_t c = 0; c < kdim; ++c) any[static_cast<std::size_t>(c / ck)] |= row[c];
    }
    ks.clear();
    for (std::int64_t kb = 0; kb < nkb; ++kb) {
      ++total;
      if (!any[static_cast<std::size_t>(kb)]) continue;
      ++run;
      for (std::int64_t c = kb * ck; c < std::min(kdim, (kb + 1) * ck); ++c) ks.push_back(c);
    }
    if (ks.empty()) continue;
    scatter_rows(functional_gemm(dp.tc, dp.dtype, dp.shape, gather_cols(s, r0, r1, ks), gather_rows(dp.d, ks)),
                 row_range(r0, r1), dp.out);
  }
  return fmt::format("dense MMAs over the CTA k-blocks ({}x{}) holding a non-zero (CSR rows): {} of {}", cm, ck, run,
                     total);
}

bool same_bits(float a, float b) {
  if (a == 0.0f && b == 0.0f) return true;  // +0 and -0: see functional.h
  std::uint32_t x = 0, y = 0;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x == y;
}

// The math paths a family may take (map_gemm's choices).
bool path_fits(const std::string& fam, MathPath p) {
  if (fam == "dense") return p == MathPath::dense;
  if (fam == "nm" || fam == "vnm" || fam == "tvw") return p == MathPath::sparse_nm || p == MathPath::dense_on_zeros;
  if (fam == "tw") return p == MathPath::tiles_dense;
  if (fam == "block") return p == MathPath::block_dense;
  if (fam == "unstructured") return p == MathPath::unstructured;
  return false;
}

}  // namespace

VnmShape vnm_shape(const Pattern& p) {
  const SpecArgs a = split_spec(p.spec());
  return {a.positional.at(0), static_cast<int>(a.positional.at(1)), static_cast<int>(a.positional.at(2))};
}

// V:N:M's compressed layout, rebuilt per V-row block by vnm.cpp's rule: the block's selected columns
// are those any of its rows keeps, padded to 2N with the lowest unused positions, in increasing order.
std::vector<VnmBlock> vnm_blocks(const GemmOp& g, const Pattern& p, const Mask& mask, const Matrix& s) {
  const VnmShape vs = vnm_shape(p);
  const int n = vs.n, m = vs.m;
  const std::int64_t kdim = s.cols();
  const std::int64_t blocks = ceil_div(kdim, m);
  std::vector<std::uint8_t> used(static_cast<std::size_t>(m));
  std::vector<int> cols;
  std::vector<VnmBlock> out;
  for (std::int64_t r0 = 0; r0 < s.rows(); r0 += vs.v) {
    const std::int64_t r1 = std::min(s.rows(), r0 + vs.v);
    std::vector<std::int64_t> ks;  // gathered K position -> original K (-1: padding past the edge)
    for (std::int64_t bc = 0; bc < blocks; ++bc) {
      const std::int64_t c0 = bc * m;
      const int width = static_cast<int>(std::min<std::int64_t>(m, kdim - c0));
      std::fill(used.begin(), used.end(), std::uint8_t{0});
      for (std::int64_t r = r0; r < r1; ++r) {
        for (int j = 0; j < width; ++j) used[static_cast<std::size_t>(j)] |= mask.at(r, c0 + j);
      }
      cols.clear();
      for (int j = 0; j < m; ++j) {
        if (used[static_cast<std::size_t>(j)]) cols.push_back(j);
      }
      if (static_cast<int>(cols.size()) > 2 * n) {
        throw MaskError(fmt::format("{}: {}: block rows {}..{}, columns {}..{} keep {} distinct columns, at most {}",
                                    g.layer, p.spec(), r0, r1 - 1, c0, c0 + width - 1, cols.size(), 2 * n));
      }
      for (int j = 0; j < m && static_cast<int>(cols.size()) < 2 * n; ++j) {
        if (!used[static_cast<std::size_t>(j)]) {
          cols.push_back(j);
          used[static_cast<std::size_t>(j)] = 1;
        }
      }
      std::sort(cols.begin(), cols.end());
      for (const int j : cols) ks.push_back(j < width ? c0 + j : -1);
    }
    // The block's gathered N:2N operand: values and mask at the selected columns, packed as the
    // sparse instruction reads it.
    const Matrix gw = gather_cols(s, r0, r1, ks);
    Mask gm(r1 - r0, static_cast<std::int64_t>(ks.size()), 0);
    for (std::int64_t r = r0; r < r1; ++r) {
      for (std::size_t i = 0; i < ks.size(); ++i) {
        if (ks[i] >= 0) gm.at(r - r0, static_cast<std::int64_t>(i)) = mask.at(r, ks[i]);
      }
    }
    NmCompressed packed(r1 - r0, gw.cols(), n, 2 * n);
    nm_pack(gw, gm, packed);
    out.push_back({r0, std::move(ks), std::move(packed)});
  }
  return out;
}

Matrix gathered_rows(const Matrix& d, const std::vector<std::int64_t>& ks) { return gather_rows(d, ks); }

void compare_with_reference(const Matrix& out, const Matrix& reference, FunctionalResult& res) {
  if (out.rows() != reference.rows() || out.cols() != reference.cols()) {
    throw ShapeError(fmt::format("functional mode: the output is {}x{}, the reference {}x{}", out.rows(), out.cols(),
                                 reference.rows(), reference.cols()));
  }
  res.elements = static_cast<std::uint64_t>(out.size());
  res.mismatches = 0;
  res.max_abs_error = 0;
  for (std::size_t i = 0; i < out.data().size(); ++i) {
    const float a = out.data()[i], b = reference.data()[i];
    if (!same_bits(a, b)) ++res.mismatches;
    res.max_abs_error = std::max(res.max_abs_error, std::fabs(static_cast<double>(a) - static_cast<double>(b)));
  }
}

Matrix functional_dense_operand(const GemmOp& g, std::uint64_t seed, std::size_t line) {
  const std::int64_t k = g.k;
  const std::int64_t p = g.sparse == Operand::B ? g.m : g.n;
  const float scale = g.dtype == DType::int8 ? 1.0f : 0.125f;
  Matrix d(k, p);
  // below(16) draws once per value (16 divides 2^64: nothing is rejected).
  fill_from_stream(d.data().data(), d.size(), derive_seed(seed, g.layer + "/dense", line), 1, [scale](Rng& rng) {
    const auto u = static_cast<int>(rng.below(16));
    return static_cast<float>(u < 8 ? u - 8 : u - 7) * scale;
  });
  return d;
}

void check_functional_size(const GemmOp& g) {
  if (const auto bad = gemm_problem(g)) throw ShapeError(fmt::format("{}: {}: {}", g.layer, bad->first, bad->second));
  const auto m = static_cast<std::uint64_t>(g.m), n = static_cast<std::uint64_t>(g.n), k = static_cast<std::uint64_t>(g.k);
  const std::uint64_t macs = checked_mul(checked_mul(m, n, "functional MACs"), k, "functional MACs");
  if (macs > kFunctionalMacLimit) {
    throw ShapeError(fmt::format("{}: {}x{}x{} is {} MACs, over functional mode's limit of {} (2^30) per GEMM", g.layer,
                                 g.m, g.n, g.k, macs, kFunctionalMacLimit));
  }
  const std::uint64_t values = checked_add(checked_add(checked_mul(m, k, "functional values"),
                                                       checked_mul(k, n, "functional values"), "functional values"),
                                           checked_mul(m, n, "functional values"), "functional values");
  if (values > kFunctionalValueLimit) {
    throw ShapeError(fmt::format("{}: {}x{}x{} holds {} operand and output values, over functional mode's limit of {} "
                                 "(2^28, about 1 GiB) per GEMM",
                                 g.layer, g.m, g.n, g.k, values, kFunctionalValueLimit));
  }
}

FunctionalResult run_functional(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine,
                                const SparseOperand& s, std::uint64_t seed, std::size_t line) {
  check_functional_size(g);
  const auto [rows, kdim] = g.sparse_shape();
  if (!s.pattern || !s.compressed) {
    throw ShapeError(fmt::format("{}: the sparse operand has no pattern or compressed form (build_operand)", g.layer));
  }
  if (s.weights.rows() != rows || s.weights.cols() != kdim || s.mask.rows() != rows || s.mask.cols() != kdim ||
      s.compressed->rows() != rows || s.compressed->cols() != kdim) {
    throw ShapeError(fmt::format("{}: sparse operand is {}x{} (mask {}x{}), the GEMM needs {}x{}", g.layer,
                                 s.weights.rows(), s.weights.cols(), s.mask.rows(), s.mask.cols(), rows, kdim));
  }
  const std::string expected =
      g.sparse == Operand::none ? std::string("dense") : builtin_registry().make(g.pattern)->spec();
  if (s.pattern->spec() != expected) {
    throw Error(fmt::format("{}: sparse operand was pruned by {}, the GEMM's pattern is {}", g.layer, s.pattern->spec(),
                            expected));
  }
  const std::string fam = s.pattern->family();
  if (!path_fits(fam, map.path)) {
    throw Error(fmt::format("{}: the {} path does not fit pattern {} ({})", g.layer, math_path_name(map.path),
                            s.pattern->spec(), fam));
  }

  const Matrix d = functional_dense_operand(g, seed, line);
  const Matrix reference = reference_gemm(apply_mask(s.weights, s.mask), d);

  const MmaFamily family = machine.kernel.instruction;
  TensorCore tc(machine.arch.tensor_core, family, TensorCore::cooperating_for(family));
  Matrix out(rows, d.cols());
  Datapath dp{tc, g.dtype, machine.kernel.mma_for(g.dtype), machine.kernel.cta_tile_for(g.dtype), d, out};

  FunctionalResult res;
  if (fam == "dense") {
    out = functional_gemm(tc, g.dtype, dp.shape, s.compressed->decompress(), d);
    res.path = "dense MMAs";
  } else if (fam == "nm") {
    res.path = run_nm(dp, g, map, *s.compressed);
  } else if (fam == "vnm") {
    res.path = run_vnm(dp, g, map, *s.pattern, s.mask, s.compressed->decompress());
  } else if (fam == "tw" || fam == "tvw") {
    res.path = run_tiles(dp, g, map, *s.compressed);
  } else if (fam == "block") {
    res.path = run_block(dp, *s.pattern, s.mask, s.compressed->decompress());
  } else {
    res.path = run_unstructured(dp, s.mask, s.compressed->decompress());
  }

  res.rows = rows;
  res.cols = d.cols();
  res.k = kdim;
  compare_with_reference(out, reference, res);
  res.tensor_core = tc.stats();
  res.selector = tc.selector().stats();
  return res;
}

}  // namespace stcsim
