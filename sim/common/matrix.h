// Dense matrices and masks of the sparse operand.
//
// Orientation used everywhere in the sparsity code: the sparse operand is a rows x cols matrix whose
// cols run along the GEMM's reduction dimension K, stored row-major. That is the A operand of the
// sparse MMA instructions (M x K), and also a framework's linear-layer weight [out_features,
// in_features]. A weight used as the B operand (K x N) is seen transposed: rows = N, cols = K.
// N:M groups therefore run along a row, over M consecutive K positions.
#pragma once

#include <cstdint>
#include <vector>

#include "common/checked.h"

namespace stcsim {

template <class T>
class Grid {
 public:
  Grid() = default;
  Grid(std::int64_t rows, std::int64_t cols, T fill = T{})
      : rows_(rows), cols_(cols), data_(checked_elems(rows, cols), fill) {}

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::int64_t size() const { return rows_ * cols_; }

  T& at(std::int64_t r, std::int64_t c) { return data_[static_cast<std::size_t>(r * cols_ + c)]; }
  const T& at(std::int64_t r, std::int64_t c) const { return data_[static_cast<std::size_t>(r * cols_ + c)]; }
  T* row(std::int64_t r) { return data_.data() + r * cols_; }
  const T* row(std::int64_t r) const { return data_.data() + r * cols_; }
  std::vector<T>& data() { return data_; }
  const std::vector<T>& data() const { return data_; }

  bool operator==(const Grid& o) const { return rows_ == o.rows_ && cols_ == o.cols_ && data_ == o.data_; }
  bool operator!=(const Grid& o) const { return !(*this == o); }

 private:
  static std::size_t checked_elems(std::int64_t rows, std::int64_t cols) {
    if (rows < 0 || cols < 0) throw ShapeError("matrix: negative dimension");
    const std::uint64_t n = checked_mul(static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols), "matrix");
    checked_mul(n, sizeof(T), "matrix bytes");
    return static_cast<std::size_t>(n);
  }

  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  std::vector<T> data_;
};

// Weight values (fp32 in memory whatever the GEMM's data type; byte counts use the data type).
using Matrix = Grid<float>;
// 1 = kept, 0 = pruned.
using Mask = Grid<std::uint8_t>;

// w with pruned entries set to zero.
Matrix apply_mask(const Matrix& w, const Mask& m);
std::int64_t count_kept(const Mask& m);

}  // namespace stcsim
