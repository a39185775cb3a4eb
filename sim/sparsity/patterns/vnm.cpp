// V:N:M, vector-wise N:M in the style of VENOM (Castro et al., SC'23): the matrix is cut into blocks of
// V rows x M columns (along K). Each block selects 2N of its M columns, shared by all its V rows, and
// inside them every row keeps at most N values: N:2N, which for N = 2 is the 2:4 the sparse tensor
// core runs. Density N/M, with M free of the hardware's M = 4.
//
// Mask: per block, the 2N columns of largest sum |w| over the block's rows are selected, then each row
// keeps its N largest |w| among them (ties to the lower column both times). A last block row with
// fewer than V rows is a shorter block; a last block narrower than M selects min(2N, width) columns
// and keeps min(N, that) per row, so such shapes can keep slightly more than N/M.
//
// Layout: gathering each block's 2N selected columns side by side gives a rows x (ceil(cols/M) * 2N)
// operand in N:2N, which is what the kernel hands the sparse tensor core. It is stored exactly as
// nm_layout.h stores N:M (N value slots and N indices into the 2N selected columns per row per block,
// ceil(log2 2N) bits each, one bit stream per row in 32-bit words), next to the selected column
// indices: per block, 2N indices of ceil(log2 M) bits in increasing order, all the blocks of one block
// row forming one little-endian bit stream in 32-bit words (the same packing as the per-row stream, so
// one decoder reads both). Blocks whose mask uses fewer than 2N columns are padded with the lowest
// unused positions (possibly past the matrix edge in a narrow last block; they decompress to nothing).
//
// Metadata bytes:
//   column indices: ceil(rows / V) * ceil(ceil(cols / M) * 2N * ceil(log2 M) / 32) * 4
//   row indices:    rows * ceil(ceil(cols / M) * N * ceil(log2 2N) / 32) * 4
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/checked.h"
#include "common/error.h"
#include "common/npy.h"
#include "sparsity/nm_layout.h"
#include "sparsity/registry.h"

namespace stcsim {

namespace {

// Bit-stream access for the column-index words; `bits` <= 8, so a field spans at most two words.
int get_bits(const std::uint32_t* w, std::int64_t nwords, std::int64_t field, int bits) {
  const std::int64_t bit = field * bits;
  std::uint64_t chunk = w[bit / 32];
  if (bit / 32 + 1 < nwords) chunk |= static_cast<std::uint64_t>(w[bit / 32 + 1]) << 32;
  return static_cast<int>((chunk >> (bit % 32)) & ((1u << bits) - 1));
}

void set_bits(std::uint32_t* w, std::int64_t field, int bits, int value) {
  const std::int64_t bit = field * bits;
  const std::uint64_t mask = static_cast<std::uint64_t>((1u << bits) - 1) << (bit % 32);
  const std::uint64_t val = (static_cast<std::uint64_t>(value) << (bit % 32)) & mask;
  w[bit / 32] = static_cast<std::uint32_t>((w[bit / 32] & ~mask) | val);
  if ((mask >> 32) != 0) w[bit / 32 + 1] = static_cast<std::uint32_t>((w[bit / 32 + 1] & ~(mask >> 32)) | (val >> 32));
}

class VnmCompressed : public Compressed {
 public:
  VnmCompressed(std::int64_t rows, std::int64_t cols, int v, int n, int m)
      : Compressed(rows, cols),
        v_(v),
        n_(n),
        m_(m),
        col_bits_(index_bits(m)),
        blocks_per_row_(ceil_div(cols, m)),
        block_rows_(ceil_div(rows, v)),
        gathered_(rows, blocks_per_row_ * 2 * n, n, 2 * n) {
    col_words_ = ceil_div(blocks_per_row_ * 2 * n_ * col_bits_, 32);
    col_meta_.assign(
        static_cast<std::size_t>(checked_mul(static_cast<std::uint64_t>(block_rows_),
                                             static_cast<std::uint64_t>(col_words_), "V:N:M column indices")),
        0u);
  }

  std::int64_t block_rows() const { return block_rows_; }
  std::int64_t blocks_per_row() const { return blocks_per_row_; }
  NmCompressed& gathered() { return gathered_; }

  // Position (0..M-1) of the s-th selected column of block (br, bc).
  int column(std::int64_t br, std::int64_t bc, int s) const {
    if (col_bits_ == 0) return 0;
    return get_bits(col_meta_.data() + br * col_words_, col_words_, bc * 2 * n_ + s, col_bits_);
  }
  void set_column(std::int64_t br, std::int64_t bc, int s, int position) {
    if (col_bits_ == 0) return;
    set_bits(col_meta_.data() + br * col_words_, bc * 2 * n_ + s, col_bits_, position);
  }

  std::int64_t stored_values() const override { return gathered_.stored_values(); }
  std::uint64_t metadata_bytes() const override { return metadata_bytes_for(rows(), cols(), v_, n_, m_); }

  static std::uint64_t metadata_bytes_for(std::int64_t rows, std::int64_t cols, int v, int n, int m) {
    const std::int64_t blocks = ceil_div(cols, m);
    const std::uint64_t col_bytes =
        checked_mul(static_cast<std::uint64_t>(ceil_div(rows, v)),
                    static_cast<std::uint64_t>(ceil_div(blocks * 2 * n * index_bits(m), 32) * 4), "V:N:M metadata");
    return checked_add(col_bytes, NmCompressed::metadata_bytes_for(rows, blocks * 2 * n, n, 2 * n), "V:N:M metadata");
  }

  Matrix decompress() const override {
    const Matrix g = gathered_.decompress();
    Matrix out(rows(), cols());
    for (std::int64_t r = 0; r < rows(); ++r) {
      const std::int64_t br = r / v_;
      for (std::int64_t bc = 0; bc < blocks_per_row_; ++bc) {
        for (int s = 0; s < 2 * n_; ++s) {
          const std::int64_t c = bc * m_ + column(br, bc, s);
          // Padding positions past a narrow last block hold zeros and have no column to go to.
          if (c < cols()) out.at(r, c) = g.at(r, bc * 2 * n_ + s);
        }
      }
    }
    return out;
  }

  std::vector<std::pair<std::string, double>> details() const override {
    return {{"v", v_},
            {"column_index_bits", col_bits_},
            {"row_index_bits", gathered_.bits()},
            {"blocks", static_cast<double>(block_rows_ * blocks_per_row_)}};
  }

  std::vector<std::string> save(const std::string& dir) const override {
    save_npy(dir + "/values.npy", gathered_.values(), {rows(), gathered_.slots_per_row()});
    save_npy(dir + "/metadata.npy", gathered_.metadata(), {rows(), gathered_.words_per_row()});
    save_npy(dir + "/column_indices.npy", col_meta_, {block_rows_, col_words_});
    return {"values.npy", "metadata.npy", "column_indices.npy"};
  }

 private:
  int v_;
  int n_;
  int m_;
  int col_bits_;
  std::int64_t blocks_per_row_;
  std::int64_t block_rows_;
  std::int64_t col_words_ = 0;
  std::vector<std::uint32_t> col_meta_;
  NmCompressed gathered_;  // the rows x (blocks * 2N) N:2N operand of the selected columns
};

class VnmPattern : public Pattern {
 public:
  VnmPattern(int v, int n, int m) : v_(v), n_(n), m_(m) {}

  std::string spec() const override { return fmt::format("{}:{}:{}", v_, n_, m_); }
  std::string family() const override { return "vnm"; }
  double nominal_density() const override { return static_cast<double>(n_) / m_; }
  int index_bits_per_value() const override { return index_bits(std::int64_t{2} * n_); }
  // Not the hardware's N:M directly (the column selection comes first), but N and M stay explicit.
  int n() const override { return n_; }
  int m() const override { return m_; }

  Mask build_mask(const Matrix& w) const override {
    Mask mask(w.rows(), w.cols(), 0);
    std::vector<double> score(static_cast<std::size_t>(m_));
    std::vector<int> order(static_cast<std::size_t>(m_));
    std::vector<int> chosen;
    for (std::int64_t r0 = 0; r0 < w.rows(); r0 += v_) {
      const std::int64_t r1 = std::min<std::int64_t>(r0 + v_, w.rows());
      for (std::int64_t c0 = 0; c0 < w.cols(); c0 += m_) {
        const int width = static_cast<int>(std::min<std::int64_t>(m_, w.cols() - c0));
        std::fill(score.begin(), score.begin() + width, 0.0);
        for (std::int64_t r = r0; r < r1; ++r) {
          const float* row = w.row(r) + c0;
          for (int j = 0; j < width; ++j) score[static_cast<std::size_t>(j)] += std::fabs(row[j]);
        }
        order.resize(static_cast<std::size_t>(width));
        std::iota(order.begin(), order.end(), 0);
        // Largest block score first, the lower column winning a tie: a total order, so a partial sort
        // (no allocation, unlike stable_sort) gives the same columns every time.
        const int selected = std::min(2 * n_, width);
        std::partial_sort(order.begin(), order.begin() + selected, order.end(), [&](int a, int b) {
          const double sa = score[static_cast<std::size_t>(a)], sb = score[static_cast<std::size_t>(b)];
          return sa > sb || (sa == sb && a < b);
        });
        chosen.assign(order.begin(), order.begin() + selected);
        const int keep = std::min(n_, selected);
        for (std::int64_t r = r0; r < r1; ++r) {
          const float* row = w.row(r) + c0;
          order.assign(chosen.begin(), chosen.end());
          std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](int a, int b) {
            const float fa = std::fabs(row[a]), fb = std::fabs(row[b]);
            return fa > fb || (fa == fb && a < b);
          });
          for (int k = 0; k < keep; ++k) mask.at(r, c0 + order[static_cast<std::size_t>(k)]) = 1;
        }
      }
    }
    return mask;
  }

  void check_mask(const Mask& mask) const override {
    std::vector<bool> used(static_cast<std::size_t>(m_));
    for (std::int64_t r0 = 0; r0 < mask.rows(); r0 += v_) {
      const std::int64_t r1 = std::min<std::int64_t>(r0 + v_, mask.rows());
      for (std::int64_t c0 = 0; c0 < mask.cols(); c0 += m_) {
        const int width = static_cast<int>(std::min<std::int64_t>(m_, mask.cols() - c0));
        std::fill(used.begin(), used.end(), false);
        for (std::int64_t r = r0; r < r1; ++r) {
          int kept = 0;
          for (int j = 0; j < width; ++j) {
            if (mask.at(r, c0 + j)) {
              ++kept;
              used[static_cast<std::size_t>(j)] = true;
            }
          }
          if (kept > n_) {
            throw MaskError(
                fmt::format("{}: block row {}, block column {}: row {} keeps {} values in columns {}..{}, "
                            "at most N = {} allowed",
                            spec(), r0 / v_, c0 / m_, r, kept, c0, c0 + width - 1, n_));
          }
        }
        const int distinct = static_cast<int>(std::count(used.begin(), used.end(), true));
        if (distinct > 2 * n_) {
          throw MaskError(
              fmt::format("{}: block row {}, block column {} (rows {}..{}, columns {}..{}) keeps values in "
                          "{} distinct columns, at most 2N = {} allowed",
                          spec(), r0 / v_, c0 / m_, r0, r1 - 1, c0, c0 + width - 1, distinct, 2 * n_));
        }
      }
    }
  }

  std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& mask) const override {
    check_same_shape(w, mask);
    check_mask(mask);
    auto out = std::make_unique<VnmCompressed>(w.rows(), w.cols(), v_, n_, m_);
    // The selected columns come from the mask (the columns any row of the block keeps), so any
    // conforming mask compresses, not only the one build_mask makes.
    const std::int64_t gcols = out->blocks_per_row() * 2 * n_;
    Matrix gw(w.rows(), gcols);
    Mask gm(w.rows(), gcols, 0);
    std::vector<bool> used(static_cast<std::size_t>(m_));
    std::vector<int> cols;
    for (std::int64_t r0 = 0; r0 < w.rows(); r0 += v_) {
      const std::int64_t r1 = std::min<std::int64_t>(r0 + v_, w.rows());
      const std::int64_t br = r0 / v_;
      for (std::int64_t bc = 0; bc < out->blocks_per_row(); ++bc) {
        const std::int64_t c0 = bc * m_;
        const int width = static_cast<int>(std::min<std::int64_t>(m_, w.cols() - c0));
        std::fill(used.begin(), used.end(), false);
        for (std::int64_t r = r0; r < r1; ++r) {
          for (int j = 0; j < width; ++j)
            used[static_cast<std::size_t>(j)] = used[static_cast<std::size_t>(j)] || mask.at(r, c0 + j);
        }
        cols.clear();
        for (int j = 0; j < m_; ++j) {
          if (used[static_cast<std::size_t>(j)]) cols.push_back(j);
        }
        // Pad to exactly 2N with the lowest unused positions, as the gathered operand needs 2N columns.
        for (int j = 0; j < m_ && static_cast<int>(cols.size()) < 2 * n_; ++j) {
          if (!used[static_cast<std::size_t>(j)]) {
            cols.push_back(j);
            used[static_cast<std::size_t>(j)] = true;
          }
        }
        std::sort(cols.begin(), cols.end());
        for (int s = 0; s < 2 * n_; ++s) {
          const int j = cols[static_cast<std::size_t>(s)];
          out->set_column(br, bc, s, j);
          if (j >= width) continue;
          for (std::int64_t r = r0; r < r1; ++r) {
            gw.at(r, bc * 2 * n_ + s) = w.at(r, c0 + j);
            gm.at(r, bc * 2 * n_ + s) = mask.at(r, c0 + j);
          }
        }
      }
    }
    nm_pack(gw, gm, out->gathered());
    return out;
  }

 private:
  int v_;
  int n_;
  int m_;
};

}  // namespace

void register_vnm_pattern(PatternRegistry& reg) {
  reg.add({"vnm", "V:N:M (1 <= V <= 4096, 1 <= N, 2N < M <= 256)",
           "blocks of V rows x M columns select 2N columns shared by their rows, then N:2N in each row",
           [](const SpecArgs& a) -> std::unique_ptr<Pattern> {
             // Found by fuzzing: "vnm(...)" reached here with no positional values, and 2 * N overflowed.
             if (a.positional.size() != 3) throw SpecError(fmt::format("pattern '{}': write V:N:M, e.g. 64:2:8", a.text));
             const auto v = a.positional.at(0);
             const auto n = a.positional.at(1);
             const auto m = a.positional.at(2);
             if (v < 1 || v > 4096)
               throw SpecError(fmt::format("pattern '{}': V must be in 1..4096 (got {})", a.text, v));
             if (m < 2 || m > 256)
               throw SpecError(fmt::format("pattern '{}': M must be in 2..256 (got {})", a.text, m));
             if (n < 1 || n > m / 2) {
               throw SpecError(fmt::format("pattern '{}': N must be in 1..M/2 = 1..{} (got {})", a.text, m / 2, n));
             }
             if (2 * n == m) {  // every block selects all its columns: V plays no part
               throw SpecError(fmt::format("pattern '{}': 2N = M selects every column of each block, so V does nothing: "
                                           "that is the N:M pattern {}:{} (write {}:{})",
                                           a.text, n, m, n, m));
             }
             return std::make_unique<VnmPattern>(static_cast<int>(v), static_cast<int>(n), static_cast<int>(m));
           }});
}

}  // namespace stcsim
