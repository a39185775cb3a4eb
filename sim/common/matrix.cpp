#include "common/matrix.h"

#include "common/error.h"
#include "common/parallel.h"

namespace stcsim {

Matrix apply_mask(const Matrix& w, const Mask& m) {
  if (w.rows() != m.rows() || w.cols() != m.cols()) throw MaskError("mask shape does not match the matrix");
  Matrix out(w.rows(), w.cols());
  const float* in = w.data().data();
  const std::uint8_t* keep = m.data().data();
  float* o = out.data().data();
  parallel_for(w.size(), std::int64_t{1} << 18, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) o[i] = keep[i] ? in[i] : 0.0f;
  });
  return out;
}

std::int64_t count_kept(const Mask& m) {
  std::int64_t n = 0;
  for (auto v : m.data()) n += v ? 1 : 0;
  return n;
}

}  // namespace stcsim
