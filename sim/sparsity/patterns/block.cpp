// block(b=..., sparsity=...): block sparsity. The matrix is cut into b x b blocks (the last block row
// and block column smaller where b does not divide the shape) and whole blocks are pruned, so a kernel
// runs dense tensor-core tiles over the kept blocks only.
//
// Mask: the target is round(sparsity * rows * cols) pruned weights. Blocks are visited in ascending
// order of sum |w| (ties: lower block index, row-major over blocks) and pruned while the running
// pruned count plus the block's element count stays <= target; the first block that would overshoot
// ends the pruning, so a block is never pruned while a lower-scoring one is kept. When the target is a
// whole number of blocks (256 x 1024 with b = 32 and sparsity 0.75: 192 of 256 blocks) the density
// is exactly 1 - sparsity; otherwise it is at most one block's worth above it.
//
// Layout: BSR (block sparse row). block_row_ptr (int64, ceil(rows/b) + 1 entries) gives each block
// row's range in block_col_idx (int32, one per kept block, increasing within a block row); values
// hold b*b entries per kept block, row-major inside the block, edge blocks padded with zeros to b*b
// (the padding counts as stored values, as a kernel loads whole blocks).
//
// Metadata bytes: 8 * (ceil(rows / b) + 1) + 4 * kept_blocks.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "common/checked.h"
#include "common/error.h"
#include "common/npy.h"
#include "sparsity/registry.h"

namespace stcsim {

namespace {

class BlockCompressed : public Compressed {
 public:
  BlockCompressed(std::int64_t rows, std::int64_t cols, std::int64_t b)
      : Compressed(rows, cols), b_(b), block_rows_(ceil_div(rows, b)), block_cols_(ceil_div(cols, b)) {}

  std::int64_t b() const { return b_; }
  std::int64_t kept_blocks() const { return static_cast<std::int64_t>(col_idx_.size()); }
  const std::vector<std::int64_t>& block_row_ptr() const { return row_ptr_; }
  const std::vector<std::int32_t>& block_col_idx() const { return col_idx_; }
  const std::vector<float>& values() const { return values_; }

  // Fills the layout from a conforming mask: a block is kept when its elements are kept.
  void pack(const Matrix& w, const Mask& mask) {
    row_ptr_.assign(1, 0);
    for (std::int64_t br = 0; br < block_rows_; ++br) {
      for (std::int64_t bc = 0; bc < block_cols_; ++bc) {
        if (!mask.at(br * b_, bc * b_)) continue;
        col_idx_.push_back(static_cast<std::int32_t>(bc));
        const std::size_t base = values_.size();
        values_.resize(base + static_cast<std::size_t>(b_ * b_), 0.0f);
        const std::int64_t r1 = std::min(rows(), (br + 1) * b_);
        const std::int64_t c1 = std::min(cols(), (bc + 1) * b_);
        for (std::int64_t r = br * b_; r < r1; ++r) {
          for (std::int64_t c = bc * b_; c < c1; ++c) {
            values_[base + static_cast<std::size_t>((r - br * b_) * b_ + (c - bc * b_))] = w.at(r, c);
          }
        }
      }
      row_ptr_.push_back(kept_blocks());
    }
  }

  std::int64_t stored_values() const override { return static_cast<std::int64_t>(values_.size()); }
  std::uint64_t metadata_bytes() const override { return metadata_bytes_for(rows(), b_, kept_blocks()); }

  static std::uint64_t metadata_bytes_for(std::int64_t rows, std::int64_t b, std::int64_t kept_blocks) {
    return checked_add(checked_mul(8, static_cast<std::uint64_t>(ceil_div(rows, b) + 1), "block metadata"),
                       checked_mul(4, static_cast<std::uint64_t>(kept_blocks), "block metadata"), "block metadata");
  }

  Matrix decompress() const override {
    Matrix out(rows(), cols());
    for (std::int64_t br = 0; br < block_rows_; ++br) {
      for (std::int64_t k = row_ptr_[static_cast<std::size_t>(br)]; k < row_ptr_[static_cast<std::size_t>(br) + 1];
           ++k) {
        const std::int64_t bc = col_idx_[static_cast<std::size_t>(k)];
        const std::int64_t r1 = std::min(rows(), (br + 1) * b_);
        const std::int64_t c1 = std::min(cols(), (bc + 1) * b_);
        for (std::int64_t r = br * b_; r < r1; ++r) {
          for (std::int64_t c = bc * b_; c < c1; ++c) {
            out.at(r, c) = values_[static_cast<std::size_t>(k * b_ * b_ + (r - br * b_) * b_ + (c - bc * b_))];
          }
        }
      }
    }
    return out;
  }

  std::vector<std::pair<std::string, double>> details() const override {
    return {{"blocks_total", static_cast<double>(block_rows_ * block_cols_)},
            {"blocks_kept", static_cast<double>(kept_blocks())}};
  }

  std::vector<std::string> save(const std::string& dir) const override {
    save_npy(dir + "/values.npy", values_, {kept_blocks(), b_, b_});
    save_npy(dir + "/block_row_ptr.npy", row_ptr_, {block_rows_ + 1});
    save_npy(dir + "/block_col_idx.npy", col_idx_, {kept_blocks()});
    return {"values.npy", "block_row_ptr.npy", "block_col_idx.npy"};
  }

 private:
  std::int64_t b_;
  std::int64_t block_rows_;
  std::int64_t block_cols_;
  std::vector<std::int64_t> row_ptr_;
  std::vector<std::int32_t> col_idx_;
  std::vector<float> values_;
};

class BlockPattern : public Pattern {
 public:
  BlockPattern(std::int64_t b, double sparsity) : b_(b), sparsity_(sparsity) {}

  std::string spec() const override { return fmt::format("block(b={},sparsity={})", b_, format_param(sparsity_)); }
  std::string family() const override { return "block"; }
  double nominal_density() const override { return 1.0 - sparsity_; }
  // Pruning goes a whole block at a time, so on shapes that b divides the kept count is within one
  // block (less the rounding of the target) of the nominal.
  std::int64_t granularity(std::int64_t /*rows*/, std::int64_t /*cols*/) const override { return b_ * b_; }

  Mask build_mask(const Matrix& w) const override {
    const std::int64_t nbr = ceil_div(w.rows(), b_);
    const std::int64_t nbc = ceil_div(w.cols(), b_);
    // (sum |w|, block index) pairs order as the pruning goes, ties to the lower index; sorting them
    // directly avoids the cache misses of sorting indices by a looked-up score.
    std::vector<std::pair<double, std::int64_t>> order(static_cast<std::size_t>(nbr * nbc));
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = {0.0, static_cast<std::int64_t>(k)};
    for (std::int64_t r = 0; r < w.rows(); ++r) {
      const float* row = w.row(r);
      auto* s = order.data() + (r / b_) * nbc;
      for (std::int64_t c = 0; c < w.cols(); ++c) s[c / b_].first += std::fabs(row[c]);
    }
    const std::int64_t target = std::llround(sparsity_ * static_cast<double>(w.size()));
    Mask mask(w.rows(), w.cols(), 1);
    std::int64_t pruned = 0;
    // Prunes block k if it still fits under the target.
    auto prune = [&](std::int64_t k) {
      const std::int64_t r0 = (k / nbc) * b_, c0 = (k % nbc) * b_;
      const std::int64_t r1 = std::min(w.rows(), r0 + b_), c1 = std::min(w.cols(), c0 + b_);
      const std::int64_t elems = (r1 - r0) * (c1 - c0);
      if (pruned + elems > target) return false;
      pruned += elems;
      for (std::int64_t r = r0; r < r1; ++r) std::fill(mask.row(r) + c0, mask.row(r) + c1, std::uint8_t{0});
      return true;
    };
    // The result is that of walking all blocks in sorted order, without the full sort (seconds for
    // b = 1 on 4096 x 4096). No block holds more than b*b weights, so the target / (b*b) lowest-scoring
    // blocks fit whatever their order: a linear selection finds them. Past them, the walk sorts the next
    // blocks in chunks that double, as it usually stops within a few blocks.
    const auto end = order.end();
    auto next = order.begin() + std::min<std::int64_t>(target / (b_ * b_), static_cast<std::int64_t>(order.size()));
    std::nth_element(order.begin(), next, end);
    for (auto it = order.begin(); it != next; ++it) prune(it->second);
    for (std::int64_t chunk = 64; next != end; chunk *= 2) {
      const auto last = next + std::min<std::int64_t>(chunk, end - next);
      std::nth_element(next, last, end);
      std::sort(next, last);
      for (; next != last; ++next) {
        if (!prune(next->second)) return mask;
      }
    }
    return mask;
  }

  void check_mask(const Mask& mask) const override {
    for (std::int64_t r0 = 0; r0 < mask.rows(); r0 += b_) {
      const std::int64_t r1 = std::min(mask.rows(), r0 + b_);
      for (std::int64_t c0 = 0; c0 < mask.cols(); c0 += b_) {
        const std::int64_t c1 = std::min(mask.cols(), c0 + b_);
        std::int64_t kept = 0;
        for (std::int64_t r = r0; r < r1; ++r) {
          for (std::int64_t c = c0; c < c1; ++c) kept += mask.at(r, c) ? 1 : 0;
        }
        const std::int64_t elems = (r1 - r0) * (c1 - c0);
        if (kept != 0 && kept != elems) {
          throw MaskError(
              fmt::format("{}: block ({}, {}) at rows {}..{}, columns {}..{} keeps {} of {} values; "
                          "a block is kept or pruned whole",
                          spec(), r0 / b_, c0 / b_, r0, r1 - 1, c0, c1 - 1, kept, elems));
        }
      }
    }
  }

  std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& mask) const override {
    check_same_shape(w, mask);
    check_mask(mask);
    if (ceil_div(w.cols(), b_) > std::numeric_limits<std::int32_t>::max()) {
      throw ShapeError(
          fmt::format("{}: {} block columns do not fit the int32 block_col_idx", spec(), ceil_div(w.cols(), b_)));
    }
    auto out = std::make_unique<BlockCompressed>(w.rows(), w.cols(), b_);
    out->pack(w, mask);
    return out;
  }

 private:
  std::int64_t b_;
  double sparsity_;
};

}  // namespace

void register_block_pattern(PatternRegistry& reg) {
  reg.add({"block", "block(b=1..4096,sparsity=0..<1)", "whole b x b blocks pruned, lowest sum |w| first; stored as BSR",
           [](const SpecArgs& a) -> std::unique_ptr<Pattern> {
             a.expect_keys({"b", "sparsity"});
             const auto b = a.get_int("b");
             if (b < 1 || b > 4096)
               throw SpecError(fmt::format("pattern '{}': b must be in 1..4096 (got {})", a.text, b));
             const double s = a.get_double("sparsity");
             // Written so that NaN fails too.
             if (!(s >= 0.0 && s < 1.0)) {
               throw SpecError(
                   fmt::format("pattern '{}': sparsity must be in [0, 1) (got {})", a.text, format_param(s)));
             }
             return std::make_unique<BlockPattern>(b, s);
           }});
}

}  // namespace stcsim
