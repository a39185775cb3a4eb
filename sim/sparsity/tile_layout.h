// Tile-wise sparsity (TW, Guo et al., SC'20) and its compressed layout, shared by the tw and tvw families.
//
// In our orientation (rows x cols, cols = K; common/matrix.h) a tile is a band of g consecutive rows,
// tile t covering rows [t*g, min(rows, t*g + g)), the last band shorter where g does not divide rows.
// Inside a tile whole K columns are pruned (a K position pruned for every row of the band), and whole
// rows (output features) may be pruned globally, so the kept part of a tile is a smaller dense tile:
// the mask restricted to tile t is the outer product keep_row[r] AND keep_k[t][k]. The literature's
// K x N view (column tiles of g output columns, K rows pruned inside each) is this one transposed.
//
// Layout (TileCompressed), tiles in order:
//   kept_rows    int32, the kept rows of every tile as global row ids, increasing. Rows never leave
//                their band, so tile t's rows are the run of ids inside its band: no offset needed.
//   kept_k       int32, the kept K positions of every tile, increasing within a tile.
//   tile_offsets int64, tiles + 1 entries: tile t's kept K is kept_k[tile_offsets[t], tile_offsets[t+1]).
//   values       float, each tile's kept_rows_t x kept_k_t values row-major (tw), or (tvw) each tile's
//                compacted values as an N:M operand (nm_layout.h): kept_rows_t x slots_t, slots_t =
//                ceil(kept_k_t / M) * N, and its metadata words (kept_rows_t x words_t) in `metadata`.
//                A tile's values (and metadata) start at the running sum over the tiles before it,
//                which a reader walking the tiles in order accumulates, so they need no offsets either.
// Metadata bytes = 4 * (sum of kept row list lengths + sum of kept K list lengths) + 8 * (tiles + 1),
//                  plus, for tvw, each tile's N:M metadata: kept_rows_t * ceil(ceil(kept_k_t / M) * N *
//                  ceil(log2 M) / 32) * 4.
// An empty tile (nothing kept) costs only its offset entry.
//
// Left out: how a kernel schedules the unequal tiles (the tile scheduler reads tile() for that) and any
// reordering of rows across tiles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/checked.h"
#include "sparsity/compressed.h"
#include "sparsity/nm_layout.h"
#include "sparsity/spec.h"

namespace stcsim {

inline std::int64_t tile_count(std::int64_t rows, std::int64_t g) { return ceil_div(rows, g); }

// The tile-level choice of a TW mask: rows kept globally, and K positions kept per tile. The mask
// is, in tile t, row_kept[r] AND k_kept[t * cols + k].
struct TileSelection {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t g = 1;
  std::vector<std::uint8_t> row_kept;  // rows entries
  std::vector<std::uint8_t> k_kept;    // tiles x cols, row-major

  std::int64_t tiles() const { return tile_count(rows, g); }
  Mask mask() const;
};

// Magnitude TW selection, pruning round(sparsity * rows * cols) weights to within one unit.
// Units are tile K-segments (tile t, column k: the band's entries at column k) and whole rows, scored
// by their mean |w|. Units are pruned in ascending score (ties: segments before rows, then the lower
// index), counting only the weights each newly prunes (a segment of an already pruned row adds
// nothing new there); at the unit that would pass the target, pruning stops before or after it,
// whichever lands closer (before on a tie, so the density is not pushed below nominal). Later, smaller
// units are never tried in its place: the order stays that of the scores. The pruned count is hence
// within half the last unit's new weights of the target, and that unit holds at most tw_unit_size().
TileSelection tw_select(const Matrix& w, std::int64_t g, double sparsity);

// The most weights one TW unit prunes: a K-segment (min(g, rows)) or a row (cols); at least 1.
std::int64_t tw_unit_size(std::int64_t rows, std::int64_t cols, std::int64_t g);

// Tile t's support in a mask: rows and K positions keeping at least one value in the tile.
struct TileSupport {
  std::vector<std::int32_t> rows;  // global row ids
  std::vector<std::int32_t> ks;
};
TileSupport tile_support(const Mask& mask, std::int64_t g, std::int64_t t);

// Throws MaskError, naming the tile, row and K position, where a tile's mask is not the outer product
// of its kept rows and kept K positions. `what` prefixes the message (the spec).
void tw_check_mask(const Mask& mask, std::int64_t g, const std::string& what);

// The spec parameters of tw, shared with tvw (whose tile level is a tw): g in 1..65536 and sparsity in
// [0, 1), both required. SpecError "pattern '<spec>': <key>: <reason>".
std::int64_t tile_spec_g(const SpecArgs& a);
double tile_spec_sparsity(const SpecArgs& a);

// Throws ShapeError when row or K ids would not fit the int32 lists.
void tile_check_index_range(std::int64_t rows, std::int64_t cols, const std::string& what);

// One tile's entry, as the tile scheduler reads it (the work of tile t is kept_rows x kept_k, or
// kept_rows x N:M slots for tvw).
struct TileInfo {
  std::int64_t row_begin = 0;  // the band [row_begin, row_end)
  std::int64_t row_end = 0;
  std::int64_t rows_offset = 0;  // range in kept_rows()
  std::int64_t kept_rows = 0;
  std::int64_t k_offset = 0;  // range in kept_k() (= tile_offsets()[t])
  std::int64_t kept_k = 0;
  std::int64_t values_offset = 0;  // range in the concatenated values
  std::int64_t stored_values = 0;
  bool empty() const { return kept_rows == 0 || kept_k == 0; }
};

class TileCompressed : public Compressed {
 public:
  // n = m = 0: each tile's values are stored dense (tw); otherwise as N:M along the kept K (tvw).
  TileCompressed(std::int64_t rows, std::int64_t cols, std::int64_t g, int n = 0, int m = 0);

  // Appends the next tile, in tile order: its kept rows (global ids inside its band, increasing), its
  // kept K positions (increasing), and the values of w under `mask` at those rows and K (zero where the
  // mask prunes, which tvw's N:M and K padding need). For tvw the compacted mask must be N:M.
  void add_tile(const Matrix& w, const Mask& mask, std::vector<std::int32_t> rows, std::vector<std::int32_t> ks);

  std::int64_t g() const { return g_; }
  bool nm_tiles() const { return m_ > 0; }
  int n() const { return n_; }
  int m() const { return m_; }
  std::int64_t tiles() const { return static_cast<std::int64_t>(tiles_.size()); }
  const TileInfo& tile(std::int64_t t) const { return tiles_.at(static_cast<std::size_t>(t)); }
  std::vector<std::int32_t> tile_rows(std::int64_t t) const;
  std::vector<std::int32_t> tile_ks(std::int64_t t) const;

  const std::vector<std::int64_t>& tile_offsets() const { return offsets_; }
  const std::vector<std::int32_t>& kept_rows() const { return kept_rows_; }
  const std::vector<std::int32_t>& kept_k() const { return kept_k_; }
  // Dense tile values (tw); empty for tvw, whose tiles are tile_nm().
  const std::vector<float>& values() const { return values_; }
  // Tile t as an N:M operand of kept_rows x kept_k (tvw only).
  const NmCompressed& tile_nm(std::int64_t t) const { return nm_.at(static_cast<std::size_t>(t)); }

  std::int64_t stored_values() const override { return stored_; }
  std::uint64_t metadata_bytes() const override;
  Matrix decompress() const override;
  // tiles, tiles_empty, then over the non-empty tiles: kept_k_min, kept_k_mean, kept_k_max, and
  // kept_rows_total, k_imbalance = max / mean kept K (1 when no tile keeps anything): the spread a
  // tile scheduler sees when each tile's work is its kept K.
  std::vector<std::pair<std::string, double>> details() const override;
  std::vector<std::string> save(const std::string& dir) const override;

 private:
  std::int64_t g_;
  int n_;
  int m_;
  std::int64_t stored_ = 0;
  std::vector<TileInfo> tiles_;
  std::vector<std::int64_t> offsets_;
  std::vector<std::int32_t> kept_rows_;
  std::vector<std::int32_t> kept_k_;
  std::vector<float> values_;
  std::vector<NmCompressed> nm_;
};

}  // namespace stcsim
