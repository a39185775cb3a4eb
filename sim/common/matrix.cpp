#include "common/matrix.h"

#include "common/error.h"

namespace stcsim {

Matrix apply_mask(const Matrix& w, const Mask& m) {
  if (w.rows() != m.rows() || w.cols() != m.cols()) throw MaskError("mask shape does not match the matrix");
  Matrix out(w.rows(), w.cols());
  for (std::size_t i = 0; i < w.data().size(); ++i) out.data()[i] = m.data()[i] ? w.data()[i] : 0.0f;
  return out;
}

std::int64_t count_kept(const Mask& m) {
  std::int64_t n = 0;
  for (auto v : m.data()) n += v ? 1 : 0;
  return n;
}

}  // namespace stcsim
