#include "cuda/host/replay_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/checked.h"
#include "common/error.h"
#include "common/parallel.h"
#include "cuda/host/half.h"
#include "sparsity/nm_layout.h"
#include "sparsity/tile_layout.h"

namespace stcsim::replay {

namespace {

std::int64_t round_up(std::int64_t x, std::int64_t m) { return ceil_div(x, m) * m; }

std::int32_t to_i32(std::int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<std::int32_t>::max()) {
    throw ShapeError(fmt::format("replay layout: {} ({}) does not fit the kernel's 32-bit indices", what, v));
  }
  return static_cast<std::int32_t>(v);
}

bool is_24(const NmCompressed& c) { return c.n() == 2 && c.m() == 4; }

// Appends an N:M 2:4 operand (rows x K) as `rows` rows of kpad / 2 values and kpad / 32 metadata
// words: the compressor's arrays, padded.
void append_24(const NmCompressed& c, std::int64_t kpad, DType t, OwnLayout& out) {
  const std::int64_t ld = kpad / 2;
  const std::int64_t meta_ld = kpad / 32;
  const std::int64_t slots = c.slots_per_row();
  const std::int64_t groups = c.groups_per_row();
  const std::size_t vbase = out.a_values.size(), mbase = out.meta.size();
  out.a_values.resize(vbase + static_cast<std::size_t>(c.rows() * ld), 0);
  out.meta.resize(mbase + static_cast<std::size_t>(c.rows() * meta_ld), 0);
  const std::int64_t copy = std::min(slots, ld);
  parallel_for(c.rows(), std::max<std::int64_t>(1, (std::int64_t{1} << 15) / std::max<std::int64_t>(ld, 1)), [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      to_half_bits(c.values().data() + r * slots, out.a_values.data() + vbase + r * ld, static_cast<std::size_t>(copy), t);
      const std::uint32_t* w = c.metadata().data() + r * c.words_per_row();
      for (std::int64_t i = 0; i < meta_ld; ++i) {
        std::uint32_t word = i < c.words_per_row() ? w[i] : 0;
        for (int nib = 0; nib < 8; ++nib) {
          if (i * 8 + nib >= groups) {
            word &= ~(0xFu << (4 * nib));
            word |= kPadNibble << (4 * nib);
          }
        }
        out.meta[mbase + static_cast<std::size_t>(r * meta_ld + i)] = word;
      }
    }
  });
}

void append_dense_rows(const float* values, std::int64_t rows, std::int64_t cols, std::int64_t ld, DType t,
                       OwnLayout& out) {
  const std::size_t base = out.a_values.size();
  out.a_values.resize(base + static_cast<std::size_t>(rows * ld), 0);
  std::uint16_t* dst = out.a_values.data() + base;
  parallel_for(rows, std::max<std::int64_t>(1, (std::int64_t{1} << 16) / std::max<std::int64_t>(ld, 1)), [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) to_half_bits(values + r * cols, dst + r * ld, static_cast<std::size_t>(cols), t);
  });
}

// Items for `rows` rows that start at a_base / meta_base, split into row blocks of bm.
void add_items(std::int64_t rows, std::int64_t a_base, std::int64_t meta_base, std::int64_t a_ld, std::int64_t meta_ld,
               std::int64_t kpad, std::int64_t ks_offset, std::int64_t row_offset, std::int64_t out_row,
               std::int64_t d_rows, const KernelTiling& tl, OwnLayout& out) {
  for (std::int64_t r0 = 0; r0 < rows; r0 += tl.bm) {
    CtaItem it;
    it.a_offset = a_base + r0 * a_ld;
    it.meta_offset = meta_base + r0 * meta_ld;
    it.ks_offset = ks_offset;
    it.row_offset = row_offset < 0 ? -1 : row_offset + r0;
    it.a_ld = to_i32(a_ld, "A row length");
    it.meta_ld = to_i32(meta_ld, "metadata words per row");
    it.rows = static_cast<std::int32_t>(std::min<std::int64_t>(tl.bm, rows - r0));
    it.k_extent = to_i32(kpad, "K");
    it.out_row = to_i32(out_row < 0 ? 0 : out_row + r0, "output row");
    it.d_rows = to_i32(d_rows, "K");
    out.items.push_back(it);
  }
}

void tile_layout(const TileCompressed& tc, DType t, const KernelTiling& tl, OwnLayout& out) {
  std::int64_t empty = 0;
  for (std::int64_t i = 0; i < tc.tiles(); ++i) {
    const TileInfo& info = tc.tile(i);
    if (info.empty()) {
      ++empty;
      continue;
    }
    const std::int64_t kpad = round_up(info.kept_k, tl.bk);
    const auto a_base = static_cast<std::int64_t>(out.a_values.size());
    const auto meta_base = static_cast<std::int64_t>(out.meta.size());
    const auto ks_base = static_cast<std::int64_t>(out.ks.size());
    const auto row_base = static_cast<std::int64_t>(out.row_ids.size());
    for (std::int32_t k : tc.tile_ks(i)) out.ks.push_back(k);
    out.ks.resize(static_cast<std::size_t>(ks_base + kpad), 0);
    for (std::int32_t r : tc.tile_rows(i)) out.row_ids.push_back(r);
    std::int64_t a_ld = kpad, meta_ld = 0;
    if (tc.nm_tiles()) {
      const NmCompressed& nm = tc.tile_nm(i);
      append_24(nm, kpad, t, out);
      a_ld = kpad / 2;
      meta_ld = kpad / 32;
    } else {
      append_dense_rows(tc.values().data() + info.values_offset, info.kept_rows, info.kept_k, kpad, t, out);
    }
    add_items(info.kept_rows, a_base, meta_base, a_ld, meta_ld, kpad, ks_base, row_base, -1, 0, tl, out);
  }
  out.description = fmt::format("{} tiles of g={} ({} empty) compacted to kept rows x kept K{}, D rows gathered",
                                tc.tiles(), tc.g(), empty, tc.nm_tiles() ? " as 2:4" : "");
}

}  // namespace

std::string KernelTiling::describe() const {
  return fmt::format("{}x{}x{} CTA, {}x{} warps, {} stages", bm, bn, bk, wm, wn, stages);
}

KernelTiling kernel_tiling(const KernelConfig& kc) {
  if (kc.instruction != MmaFamily::mma_sync && kc.instruction != MmaFamily::mma_sp_sync) {
    throw UnsupportedError(fmt::format(
        "kernel.instruction: the backend's own kernels issue mma.sync / mma.sp.sync, not {} (kernel '{}'); "
        "replay with a config of that family (configs/h100_mma_sp.yaml) or only the vendor libraries (--backends)",
        family_name(kc.instruction), kc.name));
  }
  KernelTiling tl;
  tl.bm = kc.cta_tile.m;
  tl.bn = kc.cta_tile.n;
  tl.bk = kc.cta_tile.k;
  tl.wm = kc.warp_tile.m;
  tl.wn = kc.warp_tile.n;
  tl.stages = kc.stages;
  tl.along_n = kc.raster == RasterOrder::along_n;
  tl.longest_first = kc.tile_scheduler == TileOrder::longest_first;
  if (tl.bk % 32 != 0) throw UnsupportedError(fmt::format("kernel.cta_tile.k: the own kernels need a multiple of 32 (got {})", tl.bk));
  if (tl.wm % 16 != 0 || tl.wn % 16 != 0) {
    throw UnsupportedError(fmt::format("kernel.warp_tile: the own kernels need multiples of 16 (got {}x{})", tl.wm, tl.wn));
  }
  return tl;
}

bool own_kernel_supports(const Pattern& p, DType t) {
  if (!is_half_type(t)) return false;
  const std::string fam = p.family();
  if (fam == "dense" || fam == "tw") return true;
  if (fam == "nm") return p.n() == 2 && p.m() == 4;
  if (fam == "tvw") return p.n() == 2 && p.m() == 4;
  return false;
}

OwnLayout own_layout(const Pattern& p, const Compressed& c, const Matrix& pruned, DType t, const KernelTiling& tl) {
  if (!own_kernel_supports(p, t)) {
    throw UnsupportedError(fmt::format("the own kernels run dense, 2:4, tw and tvw with 2:4 tiles in fp16 or bf16, not {} in {}",
                                       p.spec(), dtype_name(t)));
  }
  OwnLayout out;
  const std::int64_t rows = pruned.rows(), k = pruned.cols();
  const std::int64_t kpad = round_up(std::max<std::int64_t>(k, 1), tl.bk);
  const std::string fam = p.family();
  if (fam == "dense") {
    append_dense_rows(pruned.data().data(), rows, k, kpad, t, out);
    add_items(rows, 0, 0, kpad, 0, kpad, -1, -1, 0, k, tl, out);
    out.description = "dense S, row-major";
  } else if (fam == "nm") {
    const auto* nm = dynamic_cast<const NmCompressed*>(&c);
    if (nm == nullptr || !is_24(*nm)) throw Error(fmt::format("replay layout: {} did not compress to a 2:4 operand", p.spec()));
    out.sparse = true;
    append_24(*nm, kpad, t, out);
    add_items(rows, 0, 0, kpad / 2, kpad / 32, kpad, -1, -1, 0, k, tl, out);
    out.description = "2:4 compressed S (2 values + one metadata nibble per group of 4)";
  } else {
    const auto* tc = dynamic_cast<const TileCompressed*>(&c);
    if (tc == nullptr) throw Error(fmt::format("replay layout: {} did not compress to a tile layout", p.spec()));
    out.sparse = tc->nm_tiles();
    if (out.sparse && !(tc->n() == 2 && tc->m() == 4)) throw UnsupportedError(fmt::format("{}: tiles are not 2:4", p.spec()));
    tile_layout(*tc, t, tl, out);
  }
  if (tl.longest_first) {
    std::stable_sort(out.items.begin(), out.items.end(),
                     [](const CtaItem& a, const CtaItem& b) { return a.k_extent > b.k_extent; });
  }
  return out;
}

Matrix emulate_own_kernel(const OwnLayout& l, const Matrix& d, std::int64_t rows, DType t) {
  Matrix c(rows, d.cols());
  std::vector<float> acc(static_cast<std::size_t>(d.cols()));
  for (const CtaItem& it : l.items) {
    for (std::int64_t r = 0; r < it.rows; ++r) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      auto d_row = [&](std::int64_t kk) -> const float* {
        if (it.ks_offset >= 0) return d.row(l.ks.at(static_cast<std::size_t>(it.ks_offset + kk)));
        return kk < it.d_rows ? d.row(kk) : nullptr;
      };
      auto mac = [&](float a, std::int64_t kk) {
        const float* dr = d_row(kk);
        if (dr == nullptr) return;
        for (std::int64_t j = 0; j < d.cols(); ++j) acc[static_cast<std::size_t>(j)] += a * dr[j];
      };
      const std::uint16_t* a = l.a_values.data() + it.a_offset + r * it.a_ld;
      if (!l.sparse) {
        for (std::int64_t kk = 0; kk < it.k_extent; ++kk) mac(from_half_bits(a[kk], t), kk);
      } else {
        for (std::int64_t grp = 0; grp < it.k_extent / 4; ++grp) {
          const std::uint32_t word = l.meta.at(static_cast<std::size_t>(it.meta_offset + r * it.meta_ld + grp / 8));
          const std::uint32_t nib = (word >> (4 * (grp % 8))) & 0xFu;
          mac(from_half_bits(a[2 * grp], t), 4 * grp + (nib & 3u));
          mac(from_half_bits(a[2 * grp + 1], t), 4 * grp + (nib >> 2));
        }
      }
      const std::int64_t out_row =
          it.row_offset >= 0 ? l.row_ids.at(static_cast<std::size_t>(it.row_offset + r)) : it.out_row + r;
      std::copy(acc.begin(), acc.end(), c.row(out_row));
    }
  }
  return c;
}

CsrLayout csr_layout(const Matrix& pruned, const Mask& mask, DType t) {
  check_same_shape(pruned, mask);
  CsrLayout out;
  out.rows = pruned.rows();
  out.cols = pruned.cols();
  out.row_ptr.reserve(static_cast<std::size_t>(out.rows + 1));
  out.row_ptr.push_back(0);
  for (std::int64_t r = 0; r < out.rows; ++r) {
    for (std::int64_t k = 0; k < out.cols; ++k) {
      if (!mask.at(r, k)) continue;
      out.col_idx.push_back(static_cast<std::int32_t>(k));
      out.values.push_back(to_half_bits(pruned.at(r, k), t));
    }
    out.row_ptr.push_back(to_i32(static_cast<std::int64_t>(out.col_idx.size()), "CSR non-zeros"));
  }
  return out;
}

BlockedEllLayout blocked_ell_layout(const Matrix& pruned, const Mask& mask, int block, DType t) {
  check_same_shape(pruned, mask);
  if (block < 1) throw ShapeError(fmt::format("Blocked-ELL: block size must be >= 1 (got {})", block));
  BlockedEllLayout out;
  out.rows = pruned.rows();
  out.cols = pruned.cols();
  out.block = block;
  out.rows_pad = round_up(out.rows, block);
  out.cols_pad = round_up(out.cols, block);
  const std::int64_t brows = out.rows_pad / block, bcols = out.cols_pad / block;
  std::vector<std::vector<std::int32_t>> kept(static_cast<std::size_t>(brows));
  for (std::int64_t br = 0; br < brows; ++br) {
    for (std::int64_t bc = 0; bc < bcols; ++bc) {
      bool any = false;
      for (std::int64_t r = br * block; r < std::min(out.rows, (br + 1) * block) && !any; ++r) {
        for (std::int64_t k = bc * block; k < std::min(out.cols, (bc + 1) * block); ++k) {
          if (mask.at(r, k)) {
            any = true;
            break;
          }
        }
      }
      if (any) kept[static_cast<std::size_t>(br)].push_back(to_i32(bc, "block column"));
    }
    out.ell_blocks = std::max<std::int64_t>(out.ell_blocks, static_cast<std::int64_t>(kept[static_cast<std::size_t>(br)].size()));
  }
  out.ell_blocks = std::max<std::int64_t>(out.ell_blocks, 1);
  const std::int64_t ell_cols = out.ell_blocks * block;
  out.col_ind.assign(static_cast<std::size_t>(brows * out.ell_blocks), -1);
  out.values.assign(static_cast<std::size_t>(checked_mul(static_cast<std::uint64_t>(out.rows_pad),
                                                         static_cast<std::uint64_t>(ell_cols), "Blocked-ELL values")),
                    0);
  for (std::int64_t br = 0; br < brows; ++br) {
    const auto& ks = kept[static_cast<std::size_t>(br)];
    for (std::size_t slot = 0; slot < ks.size(); ++slot) {
      out.col_ind[static_cast<std::size_t>(br * out.ell_blocks) + slot] = ks[slot];
      for (std::int64_t i = 0; i < block; ++i) {
        const std::int64_t r = br * block + i;
        if (r >= out.rows) break;
        for (std::int64_t j = 0; j < block; ++j) {
          const std::int64_t k = std::int64_t{ks[slot]} * block + j;
          if (k >= out.cols || !mask.at(r, k)) continue;
          out.values[static_cast<std::size_t>(r * ell_cols + static_cast<std::int64_t>(slot) * block + j)] =
              to_half_bits(pruned.at(r, k), t);
        }
      }
    }
  }
  return out;
}

std::vector<std::uint16_t> half_matrix(const Matrix& m, DType t, std::int64_t ld) {
  if (ld < m.cols()) throw ShapeError(fmt::format("half_matrix: ld {} is less than {} columns", ld, m.cols()));
  std::vector<std::uint16_t> out(static_cast<std::size_t>(checked_mul(static_cast<std::uint64_t>(m.rows()),
                                                                      static_cast<std::uint64_t>(ld), "matrix")),
                                 0);
  parallel_for(m.rows(), std::max<std::int64_t>(1, (std::int64_t{1} << 16) / std::max<std::int64_t>(ld, 1)),
               [&](std::int64_t r0, std::int64_t r1) {
                 for (std::int64_t r = r0; r < r1; ++r) to_half_bits(m.row(r), out.data() + r * ld, static_cast<std::size_t>(m.cols()), t);
               });
  return out;
}

}  // namespace stcsim::replay
