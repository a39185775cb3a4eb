#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/npy.h"

using namespace stcsim;

namespace {

std::string tmp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "stcsim_npy_test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// A .npy file with a hand-written header (as NumPy writes them) and raw little-endian data.
std::string npy_with(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> vals) {
  std::string s;
  for (T v : vals) s.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return s;
}

}  // namespace

TEST_CASE("a saved float matrix loads back bit for bit", "[npy]") {
  const std::vector<float> vals = {1.5f, -2.25f, 0.0f, 3e-8f, 7.0f, -0.5f};
  const auto p = tmp_path("rt.npy");
  save_npy(p, vals, {2, 3});
  const Matrix m = load_npy_matrix(p);
  REQUIRE(m.rows() == 2);
  REQUIRE(m.cols() == 3);
  CHECK(m.data() == vals);
  const NpyHeader h = parse_npy_header(read_file(p), p);
  CHECK(h.data_offset % 64 == 0);
  CHECK(h.descr == "<f4");
}

TEST_CASE("npy element types, Fortran order and N-d shapes load as matrices", "[npy]") {
  const auto p = tmp_path("t.npy");
  write_file_atomic(p, npy_with("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", raw<double>({1, 2, 3, 4, 5, 6})));
  Matrix m = load_npy_matrix(p);
  // Fortran order: column-major, so row 0 is 1, 3, 5.
  CHECK(m.at(0, 0) == 1.0f);
  CHECK(m.at(0, 1) == 3.0f);
  CHECK(m.at(1, 2) == 6.0f);

  write_file_atomic(p, npy_with("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 3), }", raw<std::uint16_t>({0x3c00, 0xc000, 0x3555})));
  m = load_npy_matrix(p);
  CHECK(m.at(0, 0) == 1.0f);
  CHECK(m.at(0, 1) == -2.0f);
  CHECK(m.at(0, 2) == Approx(0.33325195f));

  write_file_atomic(p, npy_with("{'descr': '|i1', 'fortran_order': False, 'shape': (2, 2, 2), }", raw<std::int8_t>({1, -2, 3, -4, 5, -6, 7, -8})));
  m = load_npy_matrix(p);
  CHECK(m.rows() == 2);
  CHECK(m.cols() == 4);
  CHECK(m.at(1, 3) == -8.0f);

  write_file_atomic(p, npy_with("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", raw<std::int32_t>({9, 8, 7})));
  m = load_npy_matrix(p);
  CHECK(m.rows() == 1);
  CHECK(m.cols() == 3);
}

TEST_CASE("defective npy files are refused naming the file", "[npy]") {
  using Catch::Contains;
  const auto p = tmp_path("bad.npy");
  write_file_atomic(p, "not a numpy file");
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("bad.npy: not a valid .npy file: missing the"));
  write_file_atomic(p, npy_with("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }", raw<float>({1})));
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("unsupported dtype '>f4'"));
  write_file_atomic(p, npy_with("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 1), }", raw<float>({1, 2})));
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("unsupported dtype '<c8'"));
  write_file_atomic(p, npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", raw<float>({1, 2})));
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("data is 8 bytes, shape needs 64"));
  write_file_atomic(p, npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", raw<float>({1})));
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("a scalar"));
  write_file_atomic(p, npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", ""));
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("empty"));
  write_file_atomic(p, npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", raw<float>({std::nanf("")})));
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("not finite"));
  write_file_atomic(p, npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", ""));
  CHECK_THROWS_AS(load_npy_matrix(p), Error);
  CHECK_THROWS_WITH(load_npy_matrix(tmp_path("absent.npy")), Contains("absent.npy: cannot open"));
  // Found by fuzzing (tests/fuzz/corpus/npy/regress-float64-range): a float64 beyond float's range
  // loaded as infinity.
  write_file_atomic(p, npy_with("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", raw<double>({1.0, 1e300})));
  CHECK_THROWS_WITH(load_npy_matrix(p), Contains("element 1 (1e+300) does not fit a 32-bit float"));
}
