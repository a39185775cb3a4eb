// Small builders shared by the pattern tests: hand-written matrices and masks, a scratch folder,
// and the named figures of a compressed layout. (matrix_of may run before main, for file-level
// constants, so it reports a miscounted list by throwing, not through Catch.)
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "common/matrix.h"
#include "sparsity/compressed.h"

namespace stcsim::testing {

// A fresh folder under the system's temporary folder: <tmp>/stcsim_tests/<suite>/<name>.
inline std::string tmp_dir(const std::string& suite, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "stcsim_tests" / suite / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline Matrix matrix_of(std::int64_t rows, std::int64_t cols, std::initializer_list<float> vals) {
  Matrix w(rows, cols);
  if (static_cast<std::int64_t>(vals.size()) != rows * cols) throw std::logic_error("matrix_of: wrong number of values");
  std::copy(vals.begin(), vals.end(), w.data().begin());
  return w;
}

inline Mask mask_of(std::int64_t rows, std::int64_t cols, std::initializer_list<std::uint8_t> vals) {
  Mask m(rows, cols);
  if (static_cast<std::int64_t>(vals.size()) != rows * cols) throw std::logic_error("mask_of: wrong number of values");
  std::copy(vals.begin(), vals.end(), m.data().begin());
  return m;
}

// The value of one of Compressed::details(); fails the test if the layout has no such figure.
inline double detail(const Compressed& c, const std::string& name) {
  for (const auto& [k, v] : c.details()) {
    if (k == name) return v;
  }
  FAIL("no detail " << name);
  return 0.0;
}

}  // namespace stcsim::testing
