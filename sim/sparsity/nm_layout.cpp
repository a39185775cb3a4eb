#include "sparsity/nm_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/checked.h"
#include "common/error.h"
#include "common/npy.h"

namespace stcsim {

NmCompressed::NmCompressed(std::int64_t rows, std::int64_t cols, int n, int m)
    : Compressed(rows, cols), n_(n), m_(m), bits_(index_bits(m)), groups_(ceil_div(cols, m)) {
  words_ = ceil_div(groups_ * n_ * bits_, 32);
  values_.assign(static_cast<std::size_t>(checked_mul(static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(slots_per_row()), "N:M values")), 0.0f);
  meta_.assign(static_cast<std::size_t>(rows * words_), 0u);
}

int NmCompressed::index(std::int64_t row, std::int64_t slot) const {
  if (bits_ == 0) return 0;
  const std::int64_t bit = slot * bits_;
  const std::uint32_t* w = meta_.data() + row * words_;
  std::uint64_t chunk = w[bit / 32];
  if (bit / 32 + 1 < words_) chunk |= static_cast<std::uint64_t>(w[bit / 32 + 1]) << 32;
  return static_cast<int>((chunk >> (bit % 32)) & ((1u << bits_) - 1));
}

void NmCompressed::set_index(std::int64_t row, std::int64_t slot, int position) {
  if (bits_ == 0) return;
  const std::int64_t bit = slot * bits_;
  std::uint32_t* w = meta_.data() + row * words_;
  const std::uint64_t mask = static_cast<std::uint64_t>((1u << bits_) - 1) << (bit % 32);
  const std::uint64_t val = static_cast<std::uint64_t>(position) << (bit % 32);
  w[bit / 32] = static_cast<std::uint32_t>((w[bit / 32] & ~mask) | (val & mask));
  if ((mask >> 32) != 0) {
    w[bit / 32 + 1] = static_cast<std::uint32_t>((w[bit / 32 + 1] & ~(mask >> 32)) | ((val & mask) >> 32));
  }
}

std::uint64_t NmCompressed::metadata_bytes_for(std::int64_t rows, std::int64_t cols, int n, int m) {
  const std::int64_t bits_per_row = ceil_div(cols, m) * n * index_bits(m);
  return checked_mul(static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(ceil_div(bits_per_row, 32) * 4), "N:M metadata");
}

std::uint64_t NmCompressed::metadata_bytes() const { return metadata_bytes_for(rows(), cols(), n_, m_); }

Matrix NmCompressed::decompress() const {
  Matrix out(rows(), cols());
  for (std::int64_t r = 0; r < rows(); ++r) {
    for (std::int64_t g = 0; g < groups_; ++g) {
      for (int s = 0; s < n_; ++s) {
        const std::int64_t slot = g * n_ + s;
        const std::int64_t c = g * m_ + index(r, slot);
        const float v = values_[static_cast<std::size_t>(r * slots_per_row() + slot)];
        if (c < cols()) out.at(r, c) = v;
      }
    }
  }
  return out;
}

std::vector<std::string> NmCompressed::save(const std::string& dir) const {
  save_npy(dir + "/values.npy", values_, {rows(), slots_per_row()});
  save_npy(dir + "/metadata.npy", meta_, {rows(), words_});
  return {"values.npy", "metadata.npy"};
}

void nm_pack(const Matrix& w, const Mask& mask, NmCompressed& out) {
  const int n = out.n();
  const int m = out.m();
  std::vector<int> pos;
  std::vector<bool> used(static_cast<std::size_t>(m));
  for (std::int64_t r = 0; r < w.rows(); ++r) {
    for (std::int64_t g = 0; g < out.groups_per_row(); ++g) {
      const std::int64_t c0 = g * m;
      const int width = static_cast<int>(std::min<std::int64_t>(m, w.cols() - c0));
      pos.clear();
      std::fill(used.begin(), used.end(), false);
      for (int j = 0; j < width; ++j) {
        if (mask.at(r, c0 + j)) {
          pos.push_back(j);
          used[static_cast<std::size_t>(j)] = true;
        }
      }
      // Pad to exactly n slots with the lowest unused positions (zero values), keeping order.
      for (int j = 0; j < m && static_cast<int>(pos.size()) < n; ++j) {
        if (!used[static_cast<std::size_t>(j)]) {
          pos.push_back(j);
          used[static_cast<std::size_t>(j)] = true;
        }
      }
      std::sort(pos.begin(), pos.end());
      for (int s = 0; s < n; ++s) {
        const int j = pos[static_cast<std::size_t>(s)];
        const std::int64_t slot = g * n + s;
        const bool kept = j < width && mask.at(r, c0 + j);
        out.values()[static_cast<std::size_t>(r * out.slots_per_row() + slot)] = kept ? w.at(r, c0 + j) : 0.0f;
        out.set_index(r, slot, j);
      }
    }
  }
}

Mask nm_build_mask(const Matrix& w, int n, int m) {
  Mask mask(w.rows(), w.cols(), 0);
  std::vector<float> mag(static_cast<std::size_t>(m));
  for (std::int64_t r = 0; r < w.rows(); ++r) {
    const float* row = w.row(r);
    std::uint8_t* keep = mask.row(r);
    for (std::int64_t c0 = 0; c0 < w.cols(); c0 += m) {
      const int width = static_cast<int>(std::min<std::int64_t>(m, w.cols() - c0));
      for (int j = 0; j < width; ++j) mag[static_cast<std::size_t>(j)] = std::fabs(row[c0 + j]);
      // n rounds of "largest not yet kept"; the strict > lets the lower position win a tie.
      for (int round = 0; round < std::min(n, width); ++round) {
        int best = -1;
        for (int j = 0; j < width; ++j) {
          if (!keep[c0 + j] && (best < 0 || mag[static_cast<std::size_t>(j)] > mag[static_cast<std::size_t>(best)])) best = j;
        }
        keep[c0 + best] = 1;
      }
    }
  }
  return mask;
}

void nm_check_mask(const Mask& mask, int n, int m, const char* what) {
  for (std::int64_t r = 0; r < mask.rows(); ++r) {
    for (std::int64_t c0 = 0; c0 < mask.cols(); c0 += m) {
      const std::int64_t c1 = std::min<std::int64_t>(c0 + m, mask.cols());
      int kept = 0;
      for (std::int64_t c = c0; c < c1; ++c) kept += mask.at(r, c) ? 1 : 0;
      if (kept > n) {
        throw MaskError(fmt::format("{}: row {}, columns {}..{} keep {} values, {}:{} allows at most {}", what, r, c0,
                                    c1 - 1, kept, n, m, n));
      }
    }
  }
}

}  // namespace stcsim
