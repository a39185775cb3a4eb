#include "sm/mma_tiles.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

MmaTiles::MmaTiles(const CtaWork& work, int m, int n, int warp_m, int warp_n, int cta_m, int cta_n, int issuers)
    : issuers_(std::max(1, issuers)) {
  m = std::max(1, m);
  n = std::max(1, n);
  const auto cols = static_cast<std::int32_t>(work.cols);
  const std::int64_t ct = ceil_div(work.cols, n);
  std::vector<std::int32_t> segs = work.segment_rows;
  if (segs.empty()) segs.push_back(static_cast<std::int32_t>(work.rows));
  const int wn = std::max(1, cta_n / std::max(1, warp_n));
  const int wm = std::max(1, cta_m / std::max(1, warp_m));
  const auto add = [&](std::int32_t seg, std::int32_t seg0, std::int32_t seg_rows, std::int64_t rt, std::int64_t c) {
    const auto r0 = static_cast<std::int32_t>(rt * m);
    const auto c0 = static_cast<std::int32_t>(c * n);
    tiles_.push_back({seg, seg0 + r0, std::min<std::int32_t>(m, seg_rows - r0), c0, std::min<std::int32_t>(n, cols - c0)});
  };
  std::int32_t seg0 = 0;
  for (std::size_t s = 0; s < segs.size(); ++s) {
    const std::int64_t rt_n = ceil_div(segs[s], m);
    for (std::int64_t rt = 0; rt < rt_n; ++rt) {
      for (std::int64_t c = 0; c < ct; ++c) add(static_cast<std::int32_t>(s), seg0, segs[s], rt, c);
    }
    seg0 += segs[s];
  }
  // Warp-tile order: by the warp tile (row-major over the CTA tile) a tile's first row and column
  // fall in; within it, as listed (segment, row, column).
  const auto warp_of = [&](const MmaTile& t) {
    return std::min(wm - 1, t.row0 / std::max(1, warp_m)) * wn + std::min(wn - 1, t.col0 / std::max(1, warp_n));
  };
  std::stable_sort(tiles_.begin(), tiles_.end(),
                   [&](const MmaTile& a, const MmaTile& b) { return warp_of(a) < warp_of(b); });
}

std::pair<std::int64_t, std::int64_t> MmaTiles::range(int issuer) const {
  const std::int64_t t = count();
  return {t * issuer / issuers_, t * (issuer + 1) / issuers_};
}

std::int64_t MmaTiles::dense_steps(const KBlock& b, std::int64_t t) const {
  if (!b.segment_steps.empty()) {
    const auto s = static_cast<std::size_t>(tile(t).segment);
    if (s >= b.segment_steps.size()) throw Error("MMA tiles: a k-block has fewer segments than the CTA");
    return b.segment_steps[s];
  }
  if (b.dense_mmas == 0) return 0;
  if (count() == 0 || b.dense_mmas % count() != 0) {
    throw Error(fmt::format("MMA tiles: {} dense MMAs do not divide over the CTA's {} instruction tiles", b.dense_mmas,
                            count()));
  }
  return b.dense_mmas / count();
}

std::int64_t MmaTiles::sparse_steps(const KBlock& b, std::int64_t /*t*/) const {
  if (b.sparse_mmas == 0) return 0;
  if (count() == 0 || b.sparse_mmas % count() != 0) {
    throw Error(fmt::format("MMA tiles: {} sparse MMAs do not divide over the CTA's {} instruction tiles",
                            b.sparse_mmas, count()));
  }
  return b.sparse_mmas / count();
}

std::int64_t MmaTiles::issuer_mmas(const KBlock& b, int issuer) const {
  const auto [first, last] = range(issuer);
  std::int64_t n = 0;
  for (std::int64_t t = first; t < last; ++t) n += dense_steps(b, t) + sparse_steps(b, t);
  return n;
}

}  // namespace stcsim
