#include "cuda/host/replay_stage.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/checked.h"
#include "common/error.h"
#include "common/parallel.h"
#include "cuda/host/half.h"
#include "sparsity/spec.h"

namespace stcsim::replay {

namespace {

std::int64_t pad_to(std::int64_t x, std::int64_t m) { return ceil_div(std::max<std::int64_t>(x, 1), m) * m; }

}  // namespace

std::int64_t ld8(std::int64_t n) { return pad_to(n, 8); }

LtPadding lt_padding(std::int64_t rows, std::int64_t k, std::int64_t cols) { return {pad_to(rows, 32), pad_to(k, 64), pad_to(cols, 32)}; }

HalfMatrix stage_half(const Matrix& m, DType t, std::int64_t rows, std::int64_t ld) {
  if (rows < m.rows() || ld < m.cols()) {
    throw ShapeError(fmt::format("staging a {}x{} matrix into {}x{}", m.rows(), m.cols(), rows, ld));
  }
  HalfMatrix h;
  h.rows = rows;
  h.cols = m.cols();
  h.ld = ld;
  h.dtype = t;
  h.bits.assign(static_cast<std::size_t>(checked_mul(static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(ld), "staged matrix")),
                0);
  const std::int64_t grain = std::max<std::int64_t>(1, (std::int64_t{1} << 16) / std::max<std::int64_t>(ld, 1));
  parallel_for(m.rows(), grain, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      to_half_bits(m.row(r), h.bits.data() + r * ld, static_cast<std::size_t>(m.cols()), t);
    }
  });
  return h;
}

std::shared_ptr<const HalfMatrix> DenseStager::get(std::int64_t rows, std::int64_t ld) {
  const std::lock_guard<std::mutex> lock(mu_);
  for (const auto& h : made_) {
    if (h->rows == rows && h->ld == ld) return h;
  }
  made_.push_back(std::make_shared<const HalfMatrix>(stage_half(*d_, t_, rows, ld)));
  return made_.back();
}

std::uint64_t StagedGemm::host_bytes() const {
  std::uint64_t b = 0;
  if (s) b += s->bytes();
  if (d) b += d->bytes();
  if (own) {
    b += own->a_values.size() * 2 + own->meta.size() * 4 + own->ks.size() * 4 + own->row_ids.size() * 4 +
         own->items.size() * sizeof(CtaItem);
  }
  if (csr) b += csr->row_ptr.size() * 4 + csr->col_idx.size() * 4 + csr->values.size() * 2;
  if (ell) b += ell->col_ind.size() * 4 + ell->values.size() * 2;
  return b;
}

StagedGemm stage_gemm(Backend b, const ReplayProblem& p, const KernelTiling& tiling, DenseStager& d) {
  const DType t = p.gemm.dtype;
  if (!is_half_type(t)) {
    throw UnsupportedError(fmt::format("{}: the replay runs fp16 and bf16 GEMMs, not {}", p.gemm.layer, dtype_name(t)));
  }
  StagedGemm s;
  s.backend = b;
  s.dtype = t;
  s.rows = p.rows;
  s.cols = p.cols;
  s.k = p.k;
  switch (b) {
    case Backend::cublas:
      s.s = std::make_shared<const HalfMatrix>(stage_half(p.pruned, t, p.rows, ld8(p.k)));
      s.d = d.get(p.k, ld8(p.cols));
      break;
    case Backend::own:
      s.own = std::make_shared<const OwnLayout>(own_layout(*p.s.pattern, *p.s.compressed, p.pruned, t, tiling));
      s.tiling = tiling;
      s.d = d.get(p.k, ld8(p.cols));
      break;
    case Backend::cusparselt: {
      const std::string fam = p.s.pattern->family();
      if (fam != "nm" || p.s.pattern->n() != 2 || p.s.pattern->m() != 4) {
        throw UnsupportedError(fmt::format("cuSPARSELt runs 2:4, not {}", p.s.pattern->spec()));
      }
      const LtPadding pad = lt_padding(p.rows, p.k, p.cols);
      s.s = std::make_shared<const HalfMatrix>(stage_half(p.pruned, t, pad.rows, pad.k));
      s.d = d.get(pad.k, pad.cols);
      break;
    }
    case Backend::cusparse: {
      const std::string fam = p.s.pattern->family();
      if (fam == "block") {
        const int blk = static_cast<int>(split_spec(p.s.pattern->spec()).get_int("b"));
        s.ell = std::make_shared<const BlockedEllLayout>(blocked_ell_layout(p.pruned, p.s.mask, blk, t));
        s.d = d.get(s.ell->cols_pad, ld8(p.cols));
      } else if (fam == "unstructured") {
        s.csr = std::make_shared<const CsrLayout>(csr_layout(p.pruned, p.s.mask, t));
        s.d = d.get(p.k, ld8(p.cols));
      } else {
        throw UnsupportedError(fmt::format("cuSPARSE runs block and unstructured patterns, not {}", p.s.pattern->spec()));
      }
      break;
    }
  }
  return s;
}

}  // namespace stcsim::replay
