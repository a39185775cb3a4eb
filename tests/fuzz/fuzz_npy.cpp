// Fuzz target: .npy weight files (common/npy.h). Any bytes either load as a matrix or are refused with
// a stcsim::Error; a loaded float32 matrix saved and loaded again is the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "common/npy.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  stcsim::Matrix m;
  try {
    m = stcsim::parse_npy_matrix(bytes, "fuzz.npy");
  } catch (const stcsim::Error&) {
    return 0;
  }
  const std::string again = stcsim::npy_bytes(m.data(), {m.rows(), m.cols()});
  const stcsim::Matrix back = stcsim::parse_npy_matrix(again, "again.npy");
  stcsim::fuzz::require(back.rows() == m.rows() && back.cols() == m.cols(), "a saved matrix loads back with another shape");
  for (std::int64_t i = 0; i < m.size(); ++i) {
    const float a = m.data()[static_cast<std::size_t>(i)], b = back.data()[static_cast<std::size_t>(i)];
    stcsim::fuzz::require(a == b || (a != a && b != b), "a saved matrix loads back with other values");
  }
  return 0;
}
