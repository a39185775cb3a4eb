#include "sparsity/stats.h"

#include <cmath>

#include "common/checked.h"

namespace stcsim {

std::pair<double, double> magnitude_kept(const Matrix& w, const Mask& mask) {
  check_same_shape(w, mask);
  double abs_all = 0.0, abs_kept = 0.0, sq_all = 0.0, sq_kept = 0.0;
  for (std::size_t i = 0; i < w.data().size(); ++i) {
    const double v = w.data()[i];
    abs_all += std::fabs(v);
    sq_all += v * v;
    if (mask.data()[i]) {
      abs_kept += std::fabs(v);
      sq_kept += v * v;
    }
  }
  return {abs_all > 0.0 ? abs_kept / abs_all : 1.0, sq_all > 0.0 ? sq_kept / sq_all : 1.0};
}

PatternStats measure(const Pattern& p, const Matrix& w, const Mask& mask, const Compressed& c, DType dtype) {
  PatternStats s;
  s.pattern = p.spec();
  s.family = p.family();
  s.dtype = dtype;
  s.rows = w.rows();
  s.cols = w.cols();
  s.kept = count_kept(mask);
  const double total = static_cast<double>(w.rows()) * static_cast<double>(w.cols());
  s.density = total > 0 ? static_cast<double>(s.kept) / total : 0.0;
  s.nominal_density = p.nominal_density();
  s.stored_values = c.stored_values();
  s.dense_bytes = checked_mul(static_cast<std::uint64_t>(w.size()), static_cast<std::uint64_t>(dtype_bytes(dtype)), "dense bytes");
  s.value_bytes = c.value_bytes(dtype);
  s.metadata_bytes = c.metadata_bytes();
  s.compressed_bytes = c.compressed_bytes(dtype);
  s.compression_ratio = s.dense_bytes ? static_cast<double>(s.compressed_bytes) / static_cast<double>(s.dense_bytes) : 0.0;
  s.index_bits_per_value = p.index_bits_per_value();
  s.metadata_bits_per_kept = s.kept ? 8.0 * static_cast<double>(s.metadata_bytes) / static_cast<double>(s.kept) : 0.0;
  std::tie(s.abs_kept, s.sq_kept) = magnitude_kept(w, mask);
  s.details = c.details();
  return s;
}

}  // namespace stcsim
