// NumPy .npy files (format versions 1.0, 2.0 and 3.0), little-endian, C or Fortran order.
// Reading turns any real or integer element type into float; writing supports the element types the
// project produces (masks, values, indices, metadata words).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/matrix.h"

namespace stcsim {

struct NpyHeader {
  std::string descr;               // e.g. "<f4"
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
  std::size_t data_offset = 0;     // bytes from the start of the file
};

// Parses the header of an in-memory .npy file; IoError naming `name` on any defect.
NpyHeader parse_npy_header(const std::string& bytes, const std::string& name);

// Loads a weight matrix. 2-D arrays load as they are; an N-D array (N > 2, e.g. a convolution's
// [out, in, kh, kw]) loads as [shape[0], product of the rest]; a 1-D array as one row.
// Accepted types: float16/32/64, signed and unsigned 8- to 64-bit integers, bool.
Matrix load_npy_matrix(const std::string& path);
// The same from the file's bytes in memory; `name` is used in messages.
Matrix parse_npy_matrix(const std::string& bytes, const std::string& name);

// Serialises an array; T is one of float, double, uint8_t, int32_t, uint32_t, int64_t.
template <class T>
std::string npy_bytes(const std::vector<T>& data, const std::vector<std::int64_t>& shape);

template <class T>
void save_npy(const std::string& path, const std::vector<T>& data, const std::vector<std::int64_t>& shape);

}  // namespace stcsim
