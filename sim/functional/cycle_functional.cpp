// FunctionalLaunch: the cycle model's MMAs on values (cycle_functional.h).
#include "functional/cycle_functional.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "sparsity/spec.h"
#include "sparsity/tile_layout.h"

namespace stcsim {

namespace {

const TileCompressed& tile_layout(const SparseOperand& op, const GemmOp& g) {
  const auto* t = dynamic_cast<const TileCompressed*>(op.compressed.get());
  if (t == nullptr) throw Error(fmt::format("{}: pattern {} did not give a tile layout", g.layer, g.pattern));
  return *t;
}

}  // namespace

FunctionalLaunch::FunctionalLaunch(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine,
                                   const LaunchPlan& plan, std::uint64_t seed, std::size_t line)
    : g_(g),
      plan_(plan),
      path_(map.path),
      tc_(machine.arch.tensor_core, machine.kernel.instruction, TensorCore::cooperating_for(machine.kernel.instruction)) {
  check_functional_size(g);
  if (plan.splits > 1) {
    throw UnsupportedError(fmt::format(
        "{}: functional mode through the cycle model takes no split-k launch (this one splits K {} ways): set "
        "kernel.split_k: 1, or leave out --model cycle",
        g.layer, plan.splits));
  }
  op_ = build_operand(g, seed, line);
  // The dense kernel of a sparse line (kernel.dense_fallback) multiplies the pruned weights as dense.
  family_ = path_ == MathPath::dense ? "dense" : op_.pattern->family();
  const KernelConfig& k = machine.kernel;
  const MmaShape shape = k.mma_for(g.dtype);
  dense_ = tc_.instruction_for(g.dtype, shape, 0, 0);
  if (path_ == MathPath::sparse_nm) {
    if (tc_.mode(g.dtype, map.hw_n, map.hw_m) != MmaMode::sparse) {
      throw UnsupportedError(fmt::format("{}: the mapping puts {} on the {}:{} sparse path, which the kernel's tensor "
                                         "cores do not run sparse",
                                         g.layer, g.pattern, map.hw_n, map.hw_m));
    }
    sparse_ = tc_.instruction_for(g.dtype, shape, map.hw_n, map.hw_m);
  }
  cta_ = k.cta_tile_for(g.dtype);
  warp_ = k.warp_tile_for(g.dtype);
  issuers_ = std::max(1, k.compute_warps() / tc_.cooperating());
  d_ = functional_dense_operand(g, seed, line);
  s_ = op_.compressed->decompress();
  out_ = Matrix(s_.rows(), d_.cols());
  if (family_ == "vnm" && path_ == MathPath::sparse_nm) {
    vnm_v_ = vnm_shape(*op_.pattern).v;
    vnm_ = vnm_blocks(g, *op_.pattern, op_.mask, s_);
    for (const VnmBlock& b : vnm_) vnm_d_.push_back(gathered_rows(d_, b.ks));
  } else if (family_ == "tw" || family_ == "tvw") {
    const TileCompressed& tl = tile_layout(op_, g);
    for (std::int64_t t = 0; t < tl.tiles(); ++t) {
      const TileInfo& ti = tl.tile(t);
      if (ti.empty()) {
        tile_s_.emplace_back();
        tile_d_.emplace_back();
        continue;
      }
      const std::vector<std::int32_t> ks = tl.tile_ks(t);
      tile_d_.push_back(gathered_rows(d_, std::vector<std::int64_t>(ks.begin(), ks.end())));
      if (tl.nm_tiles()) {
        tile_s_.push_back(tl.tile_nm(t).decompress());
      } else {
        Matrix st(ti.kept_rows, ti.kept_k);
        const auto first = tl.values().begin() + ti.values_offset;
        std::copy(first, first + ti.stored_values, st.data().begin());
        tile_s_.push_back(std::move(st));
      }
    }
  } else if (family_ == "block") {
    block_b_ = split_spec(op_.pattern->spec()).get_int("b");
  }
  for (std::size_t rb = 0; rb < plan.row_blocks().size(); ++rb) {
    rows_.push_back(plan.output_rows(CtaPos{0, static_cast<std::uint32_t>(rb), 0, 0, 0}));
  }
  for (const CtaPos& c : plan.ctas()) {
    if (c.copy != 0) continue;
    const CtaWork& w = plan.work_of(c);
    expected_ += static_cast<std::uint64_t>(w.dense_mmas() + w.sparse_mmas());
  }
}

const MmaTiles& FunctionalLaunch::tiles_for(const CtaPos& pos, const CtaWork& work) {
  auto& t = tiles_[pos.work];
  if (!t) t = std::make_unique<MmaTiles>(work, dense_.m, dense_.n, warp_.m, warp_.n, cta_.m, cta_.n, issuers_);
  return *t;
}

void FunctionalLaunch::dense_mma(const Matrix& s, std::int64_t s_row0, const Matrix& d, std::int64_t k0,
                                 std::int64_t k1, std::int64_t col0, Matrix& c) {
  if (k1 <= k0) throw Error(fmt::format("{}: cycle model: an MMA over an empty K range from {}", g_.layer, k0));
  Matrix a(c.rows(), k1 - k0);
  for (std::int64_t i = 0; i < c.rows() && s_row0 + i < s.rows(); ++i) {
    for (std::int64_t kk = k0; kk < std::min(k1, s.cols()); ++kk) a.at(i, kk - k0) = s.at(s_row0 + i, kk);
  }
  Matrix b(k1 - k0, c.cols());
  for (std::int64_t kk = k0; kk < std::min(k1, d.rows()); ++kk) {
    for (std::int64_t j = 0; j < c.cols(); ++j) b.at(kk - k0, j) = d.at(kk, col0 + j);
  }
  tc_.mma_dense(a, b, c);
}

void FunctionalLaunch::sparse_mma(const NmCompressed& s, std::int64_t s_row0, const Matrix& d, std::int64_t k0,
                                  std::int64_t col0, Matrix& c) {
  Matrix b(sparse_.k, c.cols());
  for (std::int64_t kk = k0; kk < std::min<std::int64_t>(k0 + sparse_.k, d.rows()); ++kk) {
    for (std::int64_t j = 0; j < c.cols(); ++j) b.at(kk - k0, j) = d.at(kk, col0 + j);
  }
  tc_.mma_sparse(s, s_row0, k0, b, c);
}

void FunctionalLaunch::mma(const CtaPos& pos, const CtaWork& work, std::int32_t tile, std::int64_t kb,
                           std::int32_t step, bool sparse) {
  if (pos.copy != 0) return;  // the batch's other copies: the same operands
  ++executed_;
  ++(sparse ? sparse_count_ : dense_count_);
  const MmaTile& t = tiles_for(pos, work).tile(tile);
  const std::vector<std::int64_t>& rows = rows_.at(pos.row_block);
  const std::int64_t col0 = plan_.col_begin(pos) + t.col0;
  const auto row_of = [&](std::int64_t i) { return rows.at(static_cast<std::size_t>(t.row0 + i)); };
  Matrix c(t.rows, t.cols);
  for (std::int64_t i = 0; i < t.rows; ++i) std::copy_n(out_.row(row_of(i)) + col0, t.cols, c.row(i));
  const std::int64_t kbase = work.kblock_key(kb) * cta_.k;
  const std::int64_t r0 = row_of(0);
  if (family_ == "tw" || family_ == "tvw") {
    const RowBlock& rb = plan_.row_blocks().at(pos.row_block);
    const TileCompressed& tl = tile_layout(op_, g_);
    const TileInfo& ti = tl.tile(rb.tile);
    const std::int64_t local = rb.kept_offset - ti.rows_offset + t.row0;
    const auto tt = static_cast<std::size_t>(rb.tile);
    if (sparse) {
      sparse_mma(tl.tile_nm(rb.tile), local, tile_d_.at(tt), kbase + step * std::int64_t{sparse_.k}, col0, c);
    } else {
      const std::int64_t k0 = kbase + step * std::int64_t{dense_.k};
      dense_mma(tile_s_.at(tt), local, tile_d_.at(tt), k0, std::min({k0 + dense_.k, kbase + cta_.k, ti.kept_k}), col0,
                c);
    }
  } else if (family_ == "block") {
    // The segment's kept blocks in this k-block, in K order, each in k-steps.
    const std::int64_t b = block_b_, br = r0 / b, kend = std::min(kbase + cta_.k, s_.cols());
    std::int64_t left = step;
    bool done = false;
    for (std::int64_t bc = kbase / b; bc * b < kend && !done; ++bc) {
      if (!op_.mask.at(br * b, bc * b)) continue;
      const std::int64_t c0 = std::max(kbase, bc * b), c1 = std::min(kend, (bc + 1) * b);
      const std::int64_t steps = ceil_div(c1 - c0, dense_.k);
      if (left < steps) {
        const std::int64_t k0 = c0 + left * dense_.k;
        // Rows of the tile past its segment belong to the next block row: not this MMA's.
        Matrix part(std::min<std::int64_t>(t.rows, (br + 1) * b - r0), t.cols);
        for (std::int64_t i = 0; i < part.rows(); ++i) std::copy_n(c.row(i), t.cols, part.row(i));
        dense_mma(s_, r0, d_, k0, std::min(c1, k0 + dense_.k), col0, part);
        for (std::int64_t i = 0; i < part.rows(); ++i) std::copy_n(part.row(i), t.cols, c.row(i));
        done = true;
      }
      left -= steps;
    }
    if (!done) {
      throw Error(fmt::format("{}: cycle model: k-step {} of rows {}.. in k-block {} is past the kept blocks", g_.layer,
                              step, r0, kb));
    }
  } else if (sparse && family_ == "vnm") {
    // Each V-row block's rows through its own gathered operand.
    const std::int64_t k0 = kbase + step * std::int64_t{sparse_.k};
    for (std::int64_t i = 0; i < t.rows;) {
      const auto vb = static_cast<std::size_t>((r0 + i) / vnm_v_);
      const VnmBlock& blk = vnm_.at(vb);
      const std::int64_t n = std::min<std::int64_t>(t.rows - i, blk.r0 + blk.packed.rows() - (r0 + i));
      Matrix part(n, t.cols);
      for (std::int64_t x = 0; x < n; ++x) std::copy_n(c.row(i + x), t.cols, part.row(x));
      sparse_mma(blk.packed, r0 + i - blk.r0, vnm_d_.at(vb), k0, col0, part);
      for (std::int64_t x = 0; x < n; ++x) std::copy_n(part.row(x), t.cols, c.row(i + x));
      i += n;
    }
  } else if (sparse) {
    const auto* nm = dynamic_cast<const NmCompressed*>(op_.compressed.get());
    if (nm == nullptr) throw Error(fmt::format("{}: pattern {} did not give an N:M layout", g_.layer, g_.pattern));
    sparse_mma(*nm, r0, d_, kbase + step * std::int64_t{sparse_.k}, col0, c);
  } else {
    const std::int64_t k0 = kbase + step * std::int64_t{dense_.k};
    dense_mma(s_, r0, d_, k0, std::min({k0 + dense_.k, kbase + cta_.k, s_.cols()}), col0, c);
  }
  for (std::int64_t i = 0; i < t.rows; ++i) std::copy_n(c.row(i), t.cols, out_.row(row_of(i)) + col0);
}

FunctionalResult FunctionalLaunch::finish() const {
  if (executed_ != expected_) {
    throw Error(fmt::format("{}: functional mode: the cycle model's warps issued {} MMAs, its plan has {}", g_.layer,
                            executed_, expected_));
  }
  FunctionalResult res;
  res.path = fmt::format("cycle model: {} dense and {} sparse MMAs as its warps issued them ({} path)", dense_count_,
                         sparse_count_, math_path_name(path_));
  res.rows = s_.rows();
  res.cols = d_.cols();
  res.k = s_.cols();
  compare_with_reference(out_, reference_gemm(apply_mask(op_.weights, op_.mask), d_), res);
  res.tensor_core = tc_.stats();
  res.selector = tc_.selector().stats();
  return res;
}

}  // namespace stcsim
