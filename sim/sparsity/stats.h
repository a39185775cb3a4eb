// What pruning a matrix with a pattern gives: density, bytes, metadata, magnitude kept.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "sparsity/compressed.h"
#include "sparsity/pattern.h"

namespace stcsim {

struct PatternStats {
  std::string pattern;
  std::string family;
  DType dtype = DType::fp16;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t kept = 0;              // non-zero positions of the mask
  double density = 0.0;               // kept / (rows * cols)
  double nominal_density = 0.0;       // what the pattern's parameters state
  std::int64_t stored_values = 0;     // value slots in the compressed form (with padding)
  std::uint64_t dense_bytes = 0;      // rows * cols * element size
  std::uint64_t value_bytes = 0;
  std::uint64_t metadata_bytes = 0;
  std::uint64_t compressed_bytes = 0; // values + metadata
  double compression_ratio = 0.0;     // compressed / dense
  int index_bits_per_value = 0;       // N:M position bits per kept value
  double metadata_bits_per_kept = 0.0;
  double abs_kept = 0.0;              // sum |w| kept / sum |w|
  double sq_kept = 0.0;               // sum w^2 kept / sum w^2
  std::vector<std::pair<std::string, double>> details;

  // Each field once, for the table printer and the JSON writer.
  template <class F>
  void visit(F&& f) const {
    f("pattern", pattern);
    f("family", family);
    f("dtype", std::string(dtype_name(dtype)));
    f("rows", rows);
    f("cols", cols);
    f("kept", kept);
    f("density", density);
    f("nominal_density", nominal_density);
    f("stored_values", stored_values);
    f("dense_bytes", dense_bytes);
    f("value_bytes", value_bytes);
    f("metadata_bytes", metadata_bytes);
    f("compressed_bytes", compressed_bytes);
    f("compression_ratio", compression_ratio);
    f("index_bits_per_value", index_bits_per_value);
    f("metadata_bits_per_kept", metadata_bits_per_kept);
    f("abs_kept", abs_kept);
    f("sq_kept", sq_kept);
  }
};

PatternStats measure(const Pattern& p, const Matrix& w, const Mask& mask, const Compressed& c, DType dtype);

// Share of sum |w| and sum w^2 that the mask keeps (1.0 for an all-zero matrix).
std::pair<double, double> magnitude_kept(const Matrix& w, const Mask& mask);

}  // namespace stcsim
