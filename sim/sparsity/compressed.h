// The compressed form of a pruned operand: what the hardware (or a sparse kernel) reads instead of
// the dense matrix. Each pattern family has its own layout; this is their common face.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "common/matrix.h"

namespace stcsim {

class Compressed {
 public:
  virtual ~Compressed() = default;

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }

  // Value slots stored, including explicit zeros the layout needs (padding of N:M groups, blocks).
  virtual std::int64_t stored_values() const = 0;
  // Bytes of indices, pointers and bit-packed metadata: everything that is not a value.
  virtual std::uint64_t metadata_bytes() const = 0;
  std::uint64_t value_bytes(DType t) const {
    return static_cast<std::uint64_t>(stored_values()) * static_cast<std::uint64_t>(dtype_bytes(t));
  }
  std::uint64_t compressed_bytes(DType t) const { return value_bytes(t) + metadata_bytes(); }

  // The dense matrix back, pruned entries zero. Exact: values are stored unmodified.
  virtual Matrix decompress() const = 0;

  // Layout-specific figures for reports (tile K spread, blocks kept, ...), in a fixed order.
  virtual std::vector<std::pair<std::string, double>> details() const { return {}; }

  // Writes the layout's arrays as .npy files into `dir` (which exists).
  // Returns the file names written.
  virtual std::vector<std::string> save(const std::string& dir) const = 0;

 protected:
  Compressed(std::int64_t rows, std::int64_t cols) : rows_(rows), cols_(cols) {}

 private:
  std::int64_t rows_;
  std::int64_t cols_;
};

}  // namespace stcsim
