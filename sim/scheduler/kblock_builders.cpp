// Per-family k-block work of one CTA row (kblock_builders.h). Byte and kept counts that the layout
// defines per row over a K prefix (N:M slots, metadata words) are apportioned to k-blocks as
// differences of that prefix function, so a row block's k-blocks add up to the layout's bytes exactly.
#include "scheduler/kblock_builders.h"

#include <algorithm>

#include "common/checked.h"

namespace stcsim::sched {

namespace {

using u64 = std::uint64_t;

u64 U(std::int64_t v) { return static_cast<u64>(v); }

// Per row of an N:M operand over the K prefix [0, k): kept values (a magnitude mask keeps N per full
// group and min(N, q) in a short group of q), value slots and metadata words (nm_layout.h).
struct NmPrefix {
  std::int64_t n, m;
  int bits;
  NmPrefix(std::int64_t n_, std::int64_t m_) : n(n_), m(m_), bits(index_bits(m_)) {}
  std::int64_t kept(std::int64_t k) const { return (k / m) * n + std::min(n, k % m); }
  std::int64_t slots(std::int64_t k) const { return ceil_div(k, m) * n; }
  std::int64_t words(std::int64_t k) const { return ceil_div(slots(k) * bits, 32); }
};

// The k-block ranges of a loop over `len` K positions in steps of `step`.
template <class F>
void for_each_kblock(std::int64_t len, std::int64_t step, F&& f) {
  for (std::int64_t kb = 0; kb * step < len; ++kb) f(kb, kb * step, std::min(len, (kb + 1) * step));
}

}  // namespace

RowWork dense_row(const Shapes& s, std::int64_t rows, std::int64_t cols) {
  RowWork out;
  for_each_kblock(s.k, s.cta.k, [&](std::int64_t kb, std::int64_t k0, std::int64_t k1) {
    const std::int64_t k = k1 - k0;
    KBlock b;
    b.k = k;
    b.dense_mmas = s.mmas(rows, cols, k, s.mma.k);
    b.s_bytes = U(rows * k * s.elem_bytes);
    b.d_bytes = U(k * cols * s.elem_bytes);
    b.kept_macs = U(rows) * U(cols) * U(k);
    out.items.push_back({b, kb, k, false});
  });
  return out;
}

RowWork nm_on_zeros_row(const Shapes& s, std::int64_t rows, std::int64_t cols, int n, int m) {
  RowWork out = dense_row(s, rows, cols);
  const NmPrefix nm(n, m);
  for (auto& it : out.items) {
    const std::int64_t k0 = it.key * s.cta.k;
    const std::int64_t k1 = k0 + it.block.k;
    it.block.kept_macs = U(rows) * U(cols) * U(nm.kept(k1) - nm.kept(k0));
  }
  return out;
}

RowWork nm_sparse_row(const Shapes& s, std::int64_t rows, std::int64_t cols, int n, int m) {
  RowWork out;
  const NmPrefix nm(n, m);
  for_each_kblock(s.k, s.cta.k, [&](std::int64_t kb, std::int64_t k0, std::int64_t k1) {
    const std::int64_t k = k1 - k0;
    KBlock b;
    b.k = k;
    b.sparse_mmas = s.mmas(rows, cols, k, s.sparse_k(n, m));
    b.s_bytes = U(rows * (nm.slots(k1) - nm.slots(k0)) * s.elem_bytes) + U(rows * (nm.words(k1) - nm.words(k0)) * 4);
    b.d_bytes = U(k * cols * s.elem_bytes);
    b.kept_macs = U(rows) * U(cols) * U(nm.kept(k1) - nm.kept(k0));
    out.items.push_back({b, kb, k, false});
  });
  return out;
}

RowWork vnm_sparse_row(const Shapes& s, std::int64_t rows, std::int64_t cols, int n, int m, std::int64_t vblocks,
                       std::int64_t vspan) {
  RowWork out;
  const std::int64_t n2 = 2 * std::int64_t{n};
  const std::int64_t gathered = ceil_div(s.k, m) * n2;
  const NmPrefix rowidx(n, n2);  // N:2N inside the gathered columns
  const int col_bits = index_bits(m);
  const std::int64_t kept_row = NmPrefix(n, m).kept(s.k);
  const auto kept = [&](std::int64_t kg) { return std::min(kept_row, rowidx.kept(kg)); };
  const auto col_words = [&](std::int64_t kg) { return ceil_div(ceil_div(kg, n2) * n2 * col_bits, 32); };
  const auto dense_of = [&](std::int64_t kg) { return std::min(s.k, ceil_div(kg, n2) * m); };
  for_each_kblock(gathered, s.cta.k, [&](std::int64_t kb, std::int64_t k0, std::int64_t k1) {
    const std::int64_t k = k1 - k0;
    KBlock b;
    b.k = k;
    b.sparse_mmas = s.mmas(rows, cols, k, s.sparse_k(n, static_cast<int>(n2)));
    b.s_bytes = U(rows * (rowidx.slots(k1) - rowidx.slots(k0)) * s.elem_bytes) +
                U(rows * (rowidx.words(k1) - rowidx.words(k0)) * 4) + U(vblocks * (col_words(k1) - col_words(k0)) * 4);
    const std::int64_t region_k = dense_of(k1) - dense_of(k0);
    b.d_region_bytes = U(region_k * cols * s.elem_bytes);
    b.d_bytes = U(std::min(region_k, k * std::max<std::int64_t>(1, vspan)) * cols * s.elem_bytes);
    b.kept_macs = U(rows) * U(cols) * U(kept(k1) - kept(k0));
    out.items.push_back({b, kb, region_k, false});
  });
  return out;
}

RowWork tile_row(const Shapes& s, const TileCompressed& tc, const Mask& mask, std::int64_t tile,
                 std::int64_t kept_offset, std::int64_t rows, std::int64_t cols, bool sparse) {
  RowWork out;
  const TileInfo& ti = tc.tile(tile);
  const std::int64_t kk = ti.kept_k;
  const auto& ids = tc.kept_k();
  const auto& row_ids = tc.kept_rows();
  // Kept weights of these rows at the first j of the tile's kept K positions (tvw: N:M drops some).
  std::vector<std::int64_t> kept_prefix(static_cast<std::size_t>(kk) + 1, 0);
  for (std::int64_t j = 0; j < kk; ++j) {
    const std::int64_t col = ids[static_cast<std::size_t>(ti.k_offset + j)];
    std::int64_t c = 0;
    for (std::int64_t r = 0; r < rows; ++r) c += mask.at(row_ids[static_cast<std::size_t>(kept_offset + r)], col);
    kept_prefix[static_cast<std::size_t>(j) + 1] = kept_prefix[static_cast<std::size_t>(j)] + c;
  }
  // Its kept row ids and the tile's two offsets, read once; each k-block reads its kept K ids.
  out.header_bytes = U(4 * rows + 16);
  const bool nm = sparse && tc.nm_tiles();
  const NmPrefix pre(nm ? tc.n() : 1, nm ? tc.m() : 2);
  for_each_kblock(kk, s.cta.k, [&](std::int64_t kb, std::int64_t k0, std::int64_t k1) {
    const std::int64_t k = k1 - k0;
    KBlock b;
    b.k = k;
    if (nm) {
      b.sparse_mmas = s.mmas(rows, cols, k, s.sparse_k(tc.n(), tc.m()));
      b.s_bytes =
          U(rows * (pre.slots(k1) - pre.slots(k0)) * s.elem_bytes) + U(rows * (pre.words(k1) - pre.words(k0)) * 4);
    } else {
      b.dense_mmas = s.mmas(rows, cols, k, s.mma.k);
      b.s_bytes = U(rows * k * s.elem_bytes);
    }
    b.s_bytes += U(4 * k);
    b.d_bytes = U(k * cols * s.elem_bytes);
    // Its kept K rows are gathered out of the whole K x cols column of D, shared by every tile.
    b.d_region_bytes = U(s.k * cols * s.elem_bytes);
    b.kept_macs = U(kept_prefix[static_cast<std::size_t>(k1)] - kept_prefix[static_cast<std::size_t>(k0)]) * U(cols);
    // The tile's share of the dense K, in proportion to its kept K.
    const std::int64_t dense_k = s.k * k1 / kk - s.k * k0 / kk;
    out.items.push_back({b, kb, dense_k, false});
  });
  return out;
}

RowWork block_row(const Shapes& s, const Mask& mask, std::int64_t b, std::int64_t r0, std::int64_t r1,
                  std::int64_t cols) {
  RowWork out;
  struct Segment {
    std::int64_t block_row, rows;
  };
  std::vector<Segment> segs;
  for (std::int64_t br = r0 / b; br * b < r1; ++br) {
    segs.push_back({br, std::min(r1, (br + 1) * b) - std::max(r0, br * b)});
  }
  // Each block row's pointer pair, read once.
  out.header_bytes = U(16 * static_cast<std::int64_t>(segs.size()));
  for (const Segment& g : segs) out.segment_rows.push_back(static_cast<std::int32_t>(g.rows));
  const std::int64_t kdim = mask.cols();
  std::vector<std::uint8_t> any(static_cast<std::size_t>(s.cta.k));
  for_each_kblock(kdim, s.cta.k, [&](std::int64_t kb, std::int64_t k0, std::int64_t k1) {
    KBlock blk;
    blk.segment_steps.assign(segs.size(), 0);
    std::fill(any.begin(), any.end(), 0);
    for (std::size_t si = 0; si < segs.size(); ++si) {
      const Segment& g = segs[si];
      for (std::int64_t bc = k0 / b; bc * b < k1; ++bc) {
        if (!mask.at(g.block_row * b, bc * b)) continue;
        const std::int64_t c0 = std::max(k0, bc * b);
        const std::int64_t c1 = std::min({k1, (bc + 1) * b, kdim});
        const std::int64_t ext = c1 - c0;
        for (std::int64_t c = c0; c < c1; ++c) any[static_cast<std::size_t>(c - k0)] = 1;
        blk.dense_mmas += s.mmas(g.rows, cols, ext, s.mma.k);
        blk.segment_steps[si] += static_cast<std::int32_t>(ceil_div(ext, std::int64_t{s.mma.k}));
        blk.s_bytes += U(g.rows * ext * s.elem_bytes) + 4;  // values and the block's column index
        blk.kept_macs += U(g.rows) * U(ext) * U(cols);
      }
    }
    const std::int64_t union_k = std::count(any.begin(), any.end(), std::uint8_t{1});
    blk.k = union_k;
    // The kernel loads D by whole k-block tiles (fixed-shape tile loads, shared in L2 by every row
    // block), and only for k-blocks holding a kept block of its rows.
    blk.d_bytes = union_k > 0 ? U((k1 - k0) * cols * s.elem_bytes) : 0;
    out.items.push_back({blk, kb, k1 - k0, union_k == 0});
  });
  return out;
}

RowWork unstructured_row(const Shapes& s, const Mask& mask, std::int64_t r0, std::int64_t r1, std::int64_t cols) {
  RowWork out;
  const std::int64_t kdim = mask.cols();
  const std::int64_t rows = r1 - r0;
  std::vector<std::int64_t> nnz(static_cast<std::size_t>(ceil_div(kdim, s.cta.k)), 0);
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::uint8_t* row = mask.row(r);
    for (std::int64_t c = 0; c < kdim; ++c) nnz[static_cast<std::size_t>(c / s.cta.k)] += row[c];
  }
  // CSR row pointers of its rows (and the closing one after the last row), read once.
  out.header_bytes = U(8 * rows + (r1 == mask.rows() ? 8 : 0));
  for_each_kblock(kdim, s.cta.k, [&](std::int64_t kb, std::int64_t k0, std::int64_t k1) {
    const std::int64_t k = k1 - k0;
    const std::int64_t z = nnz[static_cast<std::size_t>(kb)];
    KBlock b;
    b.k = k;
    b.dense_mmas = s.mmas(rows, cols, k, s.mma.k);
    b.s_bytes = U(z * (s.elem_bytes + 4));  // values and column indices
    b.d_bytes = U(k * cols * s.elem_bytes);
    b.kept_macs = U(z) * U(cols);
    out.items.push_back({b, kb, k, z == 0});
  });
  return out;
}

}  // namespace stcsim::sched
