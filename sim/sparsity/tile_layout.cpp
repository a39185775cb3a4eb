#include "sparsity/tile_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/npy.h"
#include "sparsity/spec.h"

namespace stcsim {

Mask TileSelection::mask() const {
  Mask out(rows, cols, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    if (!row_kept[static_cast<std::size_t>(r)]) continue;
    const std::uint8_t* k = k_kept.data() + (r / g) * cols;
    std::copy(k, k + cols, out.row(r));
  }
  return out;
}

std::int64_t tw_unit_size(std::int64_t rows, std::int64_t cols, std::int64_t g) {
  return std::max<std::int64_t>({1, std::min(g, rows), cols});
}

TileSelection tw_select(const Matrix& w, std::int64_t g, double sparsity) {
  TileSelection s;
  s.rows = w.rows();
  s.cols = w.cols();
  s.g = g;
  const std::int64_t rows = s.rows, cols = s.cols, tiles = s.tiles();
  s.row_kept.assign(static_cast<std::size_t>(rows), 1);
  s.k_kept.assign(static_cast<std::size_t>(tiles * cols), 1);
  const std::int64_t target = std::llround(sparsity * static_cast<double>(w.size()));
  if (target <= 0) return s;

  // Scores: mean |w| per unit. Unit ids: segment t*cols + k first, then row nseg + r, so sorting by
  // (score, id) puts segments before rows on a tie and the lower index first within a kind.
  const std::int64_t nseg = tiles * cols;
  std::vector<double> score(static_cast<std::size_t>(nseg + rows), 0.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = w.row(r);
    double* seg = score.data() + (r / g) * cols;
    double sum = 0.0;
    for (std::int64_t c = 0; c < cols; ++c) {
      const double a = std::fabs(row[c]);
      seg[c] += a;
      sum += a;
    }
    score[static_cast<std::size_t>(nseg + r)] = sum / static_cast<double>(cols);
  }
  std::vector<std::int64_t> live_rows(static_cast<std::size_t>(tiles));  // band rows not pruned, per tile
  for (std::int64_t t = 0; t < tiles; ++t) {
    const std::int64_t height = std::min(rows, (t + 1) * g) - t * g;
    live_rows[static_cast<std::size_t>(t)] = height;
    for (std::int64_t c = 0; c < cols; ++c)
      score[static_cast<std::size_t>(t * cols + c)] /= static_cast<double>(height);
  }
  std::vector<std::int64_t> live_k(static_cast<std::size_t>(tiles), cols);  // K positions not pruned, per tile

  struct Unit {
    double score;
    std::int64_t id;
  };
  std::vector<Unit> order(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) order[i] = {score[i], static_cast<std::int64_t>(i)};
  // (score, id) is a total order, so the unstable sort is still deterministic.
  std::sort(order.begin(), order.end(),
            [](const Unit& a, const Unit& b) { return a.score < b.score || (a.score == b.score && a.id < b.id); });

  std::int64_t pruned = 0;
  for (const Unit& u : order) {
    if (pruned >= target) break;
    const bool is_seg = u.id < nseg;
    const std::int64_t t = is_seg ? u.id / cols : (u.id - nseg) / g;
    std::uint8_t& kept =
        is_seg ? s.k_kept[static_cast<std::size_t>(u.id)] : s.row_kept[static_cast<std::size_t>(u.id - nseg)];
    // Weights this unit newly prunes: its entries not already pruned by the other kind of unit.
    const std::int64_t adds = !kept    ? 0
                              : is_seg ? live_rows[static_cast<std::size_t>(t)]
                                       : live_k[static_cast<std::size_t>(t)];
    if (adds == 0) continue;
    if (pruned + adds > target && pruned + adds - target >= target - pruned) break;
    kept = 0;
    --(is_seg ? live_k : live_rows)[static_cast<std::size_t>(t)];
    pruned += adds;
  }
  return s;
}

TileSupport tile_support(const Mask& mask, std::int64_t g, std::int64_t t) {
  TileSupport s;
  const std::int64_t r0 = t * g, r1 = std::min(mask.rows(), r0 + g);
  std::vector<std::uint8_t> k_or(static_cast<std::size_t>(mask.cols()), 0);
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::uint8_t* row = mask.row(r);
    bool any = false;
    for (std::int64_t c = 0; c < mask.cols(); ++c) {
      if (row[c]) {
        any = true;
        k_or[static_cast<std::size_t>(c)] = 1;
      }
    }
    if (any) s.rows.push_back(static_cast<std::int32_t>(r));
  }
  for (std::int64_t c = 0; c < mask.cols(); ++c) {
    if (k_or[static_cast<std::size_t>(c)]) s.ks.push_back(static_cast<std::int32_t>(c));
  }
  return s;
}

void tw_check_mask(const Mask& mask, std::int64_t g, const std::string& what) {
  const std::int64_t cols = mask.cols();
  std::vector<std::uint8_t> row_or;
  std::vector<std::uint8_t> k_or;
  for (std::int64_t t = 0; t < tile_count(mask.rows(), g); ++t) {
    const std::int64_t r0 = t * g, r1 = std::min(mask.rows(), r0 + g);
    row_or.assign(static_cast<std::size_t>(r1 - r0), 0);
    k_or.assign(static_cast<std::size_t>(cols), 0);
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::uint8_t* row = mask.row(r);
      for (std::int64_t c = 0; c < cols; ++c) {
        if (row[c]) {
          row_or[static_cast<std::size_t>(r - r0)] = 1;
          k_or[static_cast<std::size_t>(c)] = 1;
        }
      }
    }
    // A kept entry always lies inside its row-OR and K-OR; only a pruned entry whose row and K column
    // are both kept elsewhere in the tile breaks the outer product.
    for (std::int64_t r = r0; r < r1; ++r) {
      if (!row_or[static_cast<std::size_t>(r - r0)]) continue;
      const std::uint8_t* row = mask.row(r);
      for (std::int64_t c = 0; c < cols; ++c) {
        if (!row[c] && k_or[static_cast<std::size_t>(c)]) {
          throw MaskError(
              fmt::format("{}: tile {} (rows {}..{}): row {}, k {} is pruned while row {} and K position {} "
                          "keep other values in the tile; a tile keeps whole K positions of its kept rows",
                          what, t, r0, r1 - 1, r, c, r, c));
        }
      }
    }
  }
}

void tile_check_index_range(std::int64_t rows, std::int64_t cols, const std::string& what) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  if (rows > kMax || cols > kMax) {
    throw ShapeError(fmt::format("{}: {}x{} does not fit the int32 row and K lists", what, rows, cols));
  }
}

TileCompressed::TileCompressed(std::int64_t rows, std::int64_t cols, std::int64_t g, int n, int m)
    : Compressed(rows, cols), g_(g), n_(n), m_(m) {
  offsets_.push_back(0);
}

void TileCompressed::add_tile(const Matrix& w, const Mask& mask, std::vector<std::int32_t> rows,
                              std::vector<std::int32_t> ks) {
  TileInfo info;
  const std::int64_t t = tiles();
  info.row_begin = t * g_;
  info.row_end = std::min(this->rows(), info.row_begin + g_);
  info.rows_offset = static_cast<std::int64_t>(kept_rows_.size());
  info.kept_rows = static_cast<std::int64_t>(rows.size());
  info.k_offset = static_cast<std::int64_t>(kept_k_.size());
  info.kept_k = static_cast<std::int64_t>(ks.size());
  const std::int64_t kr = info.kept_rows, kk = info.kept_k;

  Matrix tile_w(kr, kk);
  Mask tile_mask(kr, kk, 0);
  for (std::int64_t i = 0; i < kr; ++i) {
    for (std::int64_t j = 0; j < kk; ++j) {
      const std::int64_t r = rows[static_cast<std::size_t>(i)], c = ks[static_cast<std::size_t>(j)];
      tile_mask.at(i, j) = mask.at(r, c);
      tile_w.at(i, j) = mask.at(r, c) ? w.at(r, c) : 0.0f;
    }
  }
  if (nm_tiles()) {
    info.values_offset = stored_;
    NmCompressed nm(kr, kk, n_, m_);
    nm_pack(tile_w, tile_mask, nm);
    info.stored_values = nm.stored_values();
    nm_.push_back(std::move(nm));
  } else {
    info.values_offset = static_cast<std::int64_t>(values_.size());
    info.stored_values = kr * kk;
    values_.insert(values_.end(), tile_w.data().begin(), tile_w.data().end());
  }
  stored_ += info.stored_values;
  kept_rows_.insert(kept_rows_.end(), rows.begin(), rows.end());
  kept_k_.insert(kept_k_.end(), ks.begin(), ks.end());
  offsets_.push_back(static_cast<std::int64_t>(kept_k_.size()));
  tiles_.push_back(info);
}

std::vector<std::int32_t> TileCompressed::tile_rows(std::int64_t t) const {
  const TileInfo& i = tile(t);
  return {kept_rows_.begin() + i.rows_offset, kept_rows_.begin() + i.rows_offset + i.kept_rows};
}

std::vector<std::int32_t> TileCompressed::tile_ks(std::int64_t t) const {
  const TileInfo& i = tile(t);
  return {kept_k_.begin() + i.k_offset, kept_k_.begin() + i.k_offset + i.kept_k};
}

std::uint64_t TileCompressed::metadata_bytes() const {
  const char* what = "tile metadata";
  std::uint64_t lists = checked_add(kept_rows_.size(), kept_k_.size(), what);
  std::uint64_t bytes = checked_add(checked_mul(4, lists, what), checked_mul(8, offsets_.size(), what), what);
  for (const auto& nm : nm_) bytes = checked_add(bytes, nm.metadata_bytes(), what);
  return bytes;
}

Matrix TileCompressed::decompress() const {
  Matrix out(rows(), cols());
  for (std::int64_t t = 0; t < tiles(); ++t) {
    const TileInfo& info = tile(t);
    const std::int32_t* rs = kept_rows_.data() + info.rows_offset;
    const std::int32_t* ks = kept_k_.data() + info.k_offset;
    if (nm_tiles()) {
      const Matrix tile_w = nm_[static_cast<std::size_t>(t)].decompress();
      for (std::int64_t i = 0; i < info.kept_rows; ++i) {
        for (std::int64_t j = 0; j < info.kept_k; ++j) out.at(rs[i], ks[j]) = tile_w.at(i, j);
      }
    } else {
      const float* v = values_.data() + info.values_offset;
      for (std::int64_t i = 0; i < info.kept_rows; ++i) {
        for (std::int64_t j = 0; j < info.kept_k; ++j) out.at(rs[i], ks[j]) = v[i * info.kept_k + j];
      }
    }
  }
  return out;
}

std::vector<std::pair<std::string, double>> TileCompressed::details() const {
  std::int64_t empty = 0, nonempty = 0, k_min = 0, k_max = 0, k_sum = 0;
  for (const TileInfo& i : tiles_) {
    if (i.empty()) {
      ++empty;
      continue;
    }
    k_min = nonempty == 0 ? i.kept_k : std::min(k_min, i.kept_k);
    k_max = std::max(k_max, i.kept_k);
    k_sum += i.kept_k;
    ++nonempty;
  }
  const double k_mean = nonempty ? static_cast<double>(k_sum) / static_cast<double>(nonempty) : 0.0;
  return {{"tiles", static_cast<double>(tiles())},
          {"tiles_empty", static_cast<double>(empty)},
          {"kept_k_min", static_cast<double>(k_min)},
          {"kept_k_mean", k_mean},
          {"kept_k_max", static_cast<double>(k_max)},
          {"kept_rows_total", static_cast<double>(kept_rows_.size())},
          {"k_imbalance", nonempty ? static_cast<double>(k_max) / k_mean : 1.0}};
}

std::vector<std::string> TileCompressed::save(const std::string& dir) const {
  save_npy(dir + "/tile_offsets.npy", offsets_, {static_cast<std::int64_t>(offsets_.size())});
  save_npy(dir + "/kept_rows.npy", kept_rows_, {static_cast<std::int64_t>(kept_rows_.size())});
  save_npy(dir + "/kept_k.npy", kept_k_, {static_cast<std::int64_t>(kept_k_.size())});
  if (!nm_tiles()) {
    save_npy(dir + "/values.npy", values_, {static_cast<std::int64_t>(values_.size())});
    return {"tile_offsets.npy", "kept_rows.npy", "kept_k.npy", "values.npy"};
  }
  std::vector<float> values;
  std::vector<std::uint32_t> meta;
  for (const auto& nm : nm_) {
    values.insert(values.end(), nm.values().begin(), nm.values().end());
    meta.insert(meta.end(), nm.metadata().begin(), nm.metadata().end());
  }
  save_npy(dir + "/values.npy", values, {static_cast<std::int64_t>(values.size())});
  save_npy(dir + "/metadata.npy", meta, {static_cast<std::int64_t>(meta.size())});
  return {"tile_offsets.npy", "kept_rows.npy", "kept_k.npy", "values.npy", "metadata.npy"};
}

std::int64_t tile_spec_g(const SpecArgs& a) {
  const auto g = a.get_int("g");
  if (g < 1 || g > 65536) throw SpecError(fmt::format("pattern '{}': g: must be in 1..65536 (got {})", a.text, g));
  return g;
}

double tile_spec_sparsity(const SpecArgs& a) {
  const double s = a.get_double("sparsity");
  // Written so that NaN fails too.
  if (!(s >= 0.0 && s < 1.0)) {
    throw SpecError(fmt::format("pattern '{}': sparsity: must be in [0, 1) (got {})", a.text, format_param(s)));
  }
  return s;
}

}  // namespace stcsim
