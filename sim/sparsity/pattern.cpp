#include "sparsity/pattern.h"

#include <fmt/format.h>

#include "common/error.h"

namespace stcsim {

void check_same_shape(const Matrix& w, const Mask& m) {
  if (w.rows() != m.rows() || w.cols() != m.cols()) {
    throw MaskError(fmt::format("mask is {}x{} but the matrix is {}x{}", m.rows(), m.cols(), w.rows(), w.cols()));
  }
}

}  // namespace stcsim
