// tvw(g=..., sparsity=..., n=..., m=...): tile-vector-wise sparsity: tw (tile_layout.h) at the tile
// level, then N:M inside each kept tile along its compacted K, so a kernel gathers each tile's kept K
// and runs it on the sparse tensor core's N:M path. `sparsity` is the tile level's; N:M multiplies it:
// nominal density (1 - sparsity) * N / M.
//
// Mask: tw_select by magnitude at the given sparsity, then per tile the kept rows x kept K are gathered
// side by side and nm_build_mask keeps the N largest |w| of every M consecutive compacted positions of
// each row; a short last group of q < M positions keeps min(N, q), up to N(M-N)/M over its N/M share.
//
// Conformance: a tile conforms when its support fits the rows keeping anything (row-OR) times some
// increasing kept-K list S of the tile, and along S every group of M consecutive positions keeps at
// most N per row. S must contain every K position keeping anything (the K-OR), but it may also hold
// positions that keep nothing: N:M can drop a kept K position in every row of a tile (always so in a
// one-row tile), and the list the mask was built on is no longer visible in the mask, so taking S =
// K-OR alone would refuse our own masks. tvw_k_list() decides whether some S exists (an exact dynamic
// program, not a heuristic; a test checks it against exhaustive search) and returns the one whose groups
// end earliest. compress stores that S as the tile's kept K; it can differ from the list tw_select
// kept (padding positions are the lowest free ones, not necessarily ones tw kept).
//
// Layout: TileCompressed with each tile as an NmCompressed of kept_rows x |S|. Metadata bytes:
// 4 * (sum of kept row list lengths + sum of kept K list lengths) + 8 * (tiles + 1) plus per tile
// kept_rows_t * ceil(ceil(|S_t| / M) * N * ceil(log2 M) / 32) * 4.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "common/checked.h"
#include "common/error.h"
#include "sparsity/registry.h"
#include "sparsity/tile_layout.h"

namespace stcsim {

namespace {

// The kept-K list S of the band [r0, r1) that makes its mask N:M along S, or nullopt if none exists.
//
// Let u_1 < ... < u_U be the K positions keeping anything in the band. S cuts them into consecutive
// runs, one per group of M, each run padded with M - (run length) positions keeping nothing (the last
// group needs no padding). A run u_a..u_i is valid when it holds at most M positions and no row keeps
// more than N in it. Padding must come from positions between the previous group's end and the next
// run's start, so with E the column where a group ends, a group holding run u_a..u_i (not the last)
// ends at best at E = max(u_i, E_prev + M), and needs E < u_{i+1}. An earlier end never hurts what
// follows, so f(i) = the earliest end of a valid cut of u_1..u_i ending a group at u_i is a dynamic
// program over i, each step looking back at most M runs: O(U * M) plus one pass over the band's mask.
std::optional<std::vector<std::int32_t>> tvw_k_list(const Mask& mask, std::int64_t r0, std::int64_t r1, int n, int m) {
  const std::int64_t cols = mask.cols();
  std::vector<std::uint8_t> used(static_cast<std::size_t>(cols), 0);
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::uint8_t* row = mask.row(r);
    for (std::int64_t c = 0; c < cols; ++c) used[static_cast<std::size_t>(c)] |= row[c];
  }
  std::vector<std::int64_t> u(1, -1);  // 1-based: u[1..U]
  for (std::int64_t c = 0; c < cols; ++c) {
    if (used[static_cast<std::size_t>(c)]) u.push_back(c);
  }
  const std::int64_t nu = static_cast<std::int64_t>(u.size()) - 1;
  if (nu == 0) return std::vector<std::int32_t>{};

  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  std::vector<std::int64_t> f(static_cast<std::size_t>(nu + 1), kNone);
  std::vector<std::int64_t> from(static_cast<std::size_t>(nu + 1), 0);  // the run's first index a
  f[0] = -1;
  // Per row, the run indices where it keeps a value; a run must start after the (N+1)-th latest of
  // every row, and that bound only grows with i.
  std::vector<std::vector<std::int64_t>> hits(static_cast<std::size_t>(r1 - r0));
  std::int64_t lo = 1;
  for (std::int64_t i = 1; i <= nu; ++i) {
    const std::int64_t c = u[static_cast<std::size_t>(i)];
    for (std::int64_t r = r0; r < r1; ++r) {
      if (!mask.at(r, c)) continue;
      auto& h = hits[static_cast<std::size_t>(r - r0)];
      h.push_back(i);
      if (static_cast<std::int64_t>(h.size()) > n) lo = std::max(lo, h[h.size() - 1 - static_cast<std::size_t>(n)] + 1);
    }
    std::int64_t best = kNone;
    for (std::int64_t a = std::max(lo, i - m + 1); a <= i; ++a) {
      const std::int64_t prev = f[static_cast<std::size_t>(a - 1)];
      if (prev != kNone && prev < u[static_cast<std::size_t>(a)] && prev < best) {
        best = prev;
        from[static_cast<std::size_t>(i)] = a;
      }
    }
    if (best != kNone) f[static_cast<std::size_t>(i)] = std::max(c, best + m);
  }
  if (from[static_cast<std::size_t>(nu)] == 0) return std::nullopt;

  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  for (std::int64_t i = nu; i > 0; i = runs.back().first - 1) runs.emplace_back(from[static_cast<std::size_t>(i)], i);
  std::reverse(runs.begin(), runs.end());
  std::vector<std::int32_t> s;
  std::int64_t end = -1;
  for (std::size_t j = 0; j < runs.size(); ++j) {
    const auto [a, i] = runs[j];
    if (j + 1 == runs.size()) {
      for (std::int64_t x = a; x <= i; ++x) s.push_back(static_cast<std::int32_t>(u[static_cast<std::size_t>(x)]));
      break;
    }
    // The run's positions plus the lowest empty positions after the previous group, M in all; the
    // used positions in (end, next_end] are exactly this run's.
    const std::int64_t next_end = std::max(u[static_cast<std::size_t>(i)], end + m);
    std::int64_t pad = m - (i - a + 1);
    for (std::int64_t c = end + 1; c <= next_end; ++c) {
      if (used[static_cast<std::size_t>(c)]) {
        s.push_back(static_cast<std::int32_t>(c));
      } else if (pad > 0) {
        s.push_back(static_cast<std::int32_t>(c));
        --pad;
      }
    }
    end = next_end;
  }
  return s;
}

class TvwPattern : public Pattern {
 public:
  TvwPattern(std::int64_t g, double sparsity, int n, int m) : g_(g), sparsity_(sparsity), n_(n), m_(m) {}

  std::string spec() const override {
    return fmt::format("tvw(g={},sparsity={},n={},m={})", g_, format_param(sparsity_), n_, m_);
  }
  std::string family() const override { return "tvw"; }
  double nominal_density() const override { return (1.0 - sparsity_) * n_ / m_; }
  int index_bits_per_value() const override { return index_bits(m_); }
  int n() const override { return n_; }
  int m() const override { return m_; }

  // The tile level misses its count by less than one unit U (tw.cpp), scaled by N/M here; each kept
  // row's short last N:M group keeps at most N(M-N)/M more than N/M of the row's kept K.
  std::int64_t granularity(std::int64_t rows, std::int64_t cols) const override {
    const std::int64_t unit = tw_unit_size(rows, cols, g_);
    return ceil_div(unit * n_ + rows * n_ * (m_ - n_), m_) + 1;
  }

  Mask build_mask(const Matrix& w) const override {
    const TileSelection sel = tw_select(w, g_, sparsity_);
    Mask mask = sel.mask();
    std::vector<std::int64_t> rs, ks;
    for (std::int64_t t = 0; t < sel.tiles(); ++t) {
      rs.clear();
      ks.clear();
      for (std::int64_t r = t * g_; r < std::min(w.rows(), (t + 1) * g_); ++r) {
        if (sel.row_kept[static_cast<std::size_t>(r)]) rs.push_back(r);
      }
      for (std::int64_t k = 0; k < w.cols(); ++k) {
        if (sel.k_kept[static_cast<std::size_t>(t * w.cols() + k)]) ks.push_back(k);
      }
      if (rs.empty() || ks.empty()) continue;
      const std::int64_t nr = static_cast<std::int64_t>(rs.size()), nk = static_cast<std::int64_t>(ks.size());
      Matrix tile(nr, nk);
      for (std::int64_t i = 0; i < nr; ++i) {
        for (std::int64_t j = 0; j < nk; ++j)
          tile.at(i, j) = w.at(rs[static_cast<std::size_t>(i)], ks[static_cast<std::size_t>(j)]);
      }
      const Mask nm = nm_build_mask(tile, n_, m_);
      for (std::int64_t i = 0; i < nr; ++i) {
        for (std::int64_t j = 0; j < nk; ++j)
          mask.at(rs[static_cast<std::size_t>(i)], ks[static_cast<std::size_t>(j)]) = nm.at(i, j);
      }
    }
    return mask;
  }

  void check_mask(const Mask& mask) const override {
    for (std::int64_t t = 0; t < tile_count(mask.rows(), g_); ++t) {
      const std::int64_t r0 = t * g_, r1 = std::min(mask.rows(), r0 + g_);
      if (!tvw_k_list(mask, r0, r1, n_, m_)) refuse(mask, t, r0, r1);
    }
  }

  std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& mask) const override {
    check_same_shape(w, mask);
    tile_check_index_range(w.rows(), w.cols(), spec());
    auto out = std::make_unique<TileCompressed>(w.rows(), w.cols(), g_, n_, m_);
    for (std::int64_t t = 0; t < tile_count(w.rows(), g_); ++t) {
      const std::int64_t r0 = t * g_, r1 = std::min(w.rows(), r0 + g_);
      auto ks = tvw_k_list(mask, r0, r1, n_, m_);
      if (!ks) refuse(mask, t, r0, r1);
      out->add_tile(w, mask, tile_support(mask, g_, t).rows, std::move(*ks));
    }
    return out;
  }

 private:
  // No kept-K list works for the tile, so in particular the one without padding fails: name the first
  // of its groups where a row keeps more than N.
  [[noreturn]] void refuse(const Mask& mask, std::int64_t t, std::int64_t r0, std::int64_t r1) const {
    const std::vector<std::int32_t> ks = tile_support(mask, g_, t).ks;
    for (std::size_t g0 = 0; g0 < ks.size(); g0 += static_cast<std::size_t>(m_)) {
      const std::size_t g1 = std::min(ks.size(), g0 + static_cast<std::size_t>(m_));
      for (std::int64_t r = r0; r < r1; ++r) {
        int kept = 0;
        for (std::size_t j = g0; j < g1; ++j) kept += mask.at(r, ks[j]) ? 1 : 0;
        if (kept > n_) {
          throw MaskError(
              fmt::format("{}: tile {} (rows {}..{}): row {} keeps {} values at K positions {}..{} "
                          "(kept K positions {}..{} of the tile), and no kept-K list of the tile "
                          "brings every {} consecutive kept K positions to at most {} per row",
                          spec(), t, r0, r1 - 1, r, kept, ks[g0], ks[g1 - 1], g0, g1 - 1, m_, n_));
        }
      }
    }
    // Unreachable when tvw_k_list is right: the unpadded list would have been accepted.
    throw MaskError(fmt::format("{}: tile {} (rows {}..{}): no conforming kept-K list", spec(), t, r0, r1 - 1));
  }

  std::int64_t g_;
  double sparsity_;
  int n_;
  int m_;
};

}  // namespace

void register_tvw_pattern(PatternRegistry& reg) {
  reg.add({"tvw", "tvw(g=1..65536,sparsity=0..<1,n=N,m=M) (1 <= N < M <= 16)",
           "tile-vector-wise: tw at the given sparsity, then N:M along each kept tile's compacted K",
           [](const SpecArgs& a) -> std::unique_ptr<Pattern> {
             a.expect_keys({"g", "sparsity", "n", "m"});
             const auto g = tile_spec_g(a);
             const double s = tile_spec_sparsity(a);
             const auto m = a.get_int("m");
             if (m < 2 || m > 16) throw SpecError(fmt::format("pattern '{}': m: must be in 2..16 (got {})", a.text, m));
             const auto n = a.get_int("n");
             if (n < 1 || n >= m) {
               throw SpecError(fmt::format("pattern '{}': n: must be in 1..m-1 = 1..{} (got {})", a.text, m - 1, n));
             }
             return std::make_unique<TvwPattern>(g, s, static_cast<int>(n), static_cast<int>(m));
           }});
}

}  // namespace stcsim
