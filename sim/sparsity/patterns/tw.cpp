// tw(g=..., sparsity=...): tile-wise sparsity (Guo et al., SC'20, "Accelerating sparse DNN models
// without hardware-support via tile-wise sparsity"). Bands of g rows are tiles; each tile prunes whole
// K positions and rows are pruned globally, so every kept tile is a smaller dense tile that dense
// tensor cores run, tiles differing in their kept K. See tile_layout.h for the structure and layout.
//
// Mask: tw_select (tile_layout.h) by magnitude, units of a tile K-segment or a whole row scored by
// mean |w|, with no further knob. It prunes round(sparsity * rows * cols) weights to within one unit
// (min(g, rows) or cols weights, whichever is larger): granularity() says so, and the contract test
// holds the density to it. Masks on random scores keep the same count to within that too.
//
// Conformance: in every tile the mask is the outer product of its row-OR and K-OR vectors.
// Metadata bytes: 4 * (sum of kept row list lengths + sum of kept K list lengths) + 8 * (tiles + 1).
#include <fmt/format.h>

#include "common/error.h"
#include "sparsity/registry.h"
#include "sparsity/tile_layout.h"

namespace stcsim {

namespace {

class TwPattern : public Pattern {
 public:
  TwPattern(std::int64_t g, double sparsity) : g_(g), sparsity_(sparsity) {}

  std::string spec() const override { return fmt::format("tw(g={},sparsity={})", g_, format_param(sparsity_)); }
  std::string family() const override { return "tw"; }
  double nominal_density() const override { return 1.0 - sparsity_; }
  std::int64_t granularity(std::int64_t rows, std::int64_t cols) const override { return tw_unit_size(rows, cols, g_); }

  Mask build_mask(const Matrix& w) const override { return tw_select(w, g_, sparsity_).mask(); }

  void check_mask(const Mask& mask) const override { tw_check_mask(mask, g_, spec()); }

  std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& mask) const override {
    check_same_shape(w, mask);
    check_mask(mask);
    tile_check_index_range(w.rows(), w.cols(), spec());
    auto out = std::make_unique<TileCompressed>(w.rows(), w.cols(), g_);
    for (std::int64_t t = 0; t < tile_count(w.rows(), g_); ++t) {
      TileSupport s = tile_support(mask, g_, t);
      out->add_tile(w, mask, std::move(s.rows), std::move(s.ks));
    }
    return out;
  }

 private:
  std::int64_t g_;
  double sparsity_;
};

}  // namespace

void register_tw_pattern(PatternRegistry& reg) {
  reg.add({"tw", "tw(g=1..65536,sparsity=0..<1)",
           "tile-wise: bands of g rows each prune whole K positions, rows pruned globally; dense tiles of unequal K",
           [](const SpecArgs& a) -> std::unique_ptr<Pattern> {
             a.expect_keys({"g", "sparsity"});
             return std::make_unique<TwPattern>(tile_spec_g(a), tile_spec_sparsity(a));
           }});
}

}  // namespace stcsim
