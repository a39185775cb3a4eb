#include "common/npy.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <cstring>

#include "common/checked.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/strings.h"

namespace stcsim {

namespace {

[[noreturn]] void bad(const std::string& name, const std::string& why) {
  throw IoError(fmt::format("{}: not a valid .npy file: {}", name, why));
}

// Value of `key` in the header dict text, e.g. 'descr': '<f4' -> <f4 (quotes kept for strings).
std::string dict_value(const std::string& dict, const std::string& key, const std::string& name) {
  const std::string k1 = "'" + key + "'";
  auto pos = dict.find(k1);
  if (pos == std::string::npos) bad(name, fmt::format("header has no '{}'", key));
  pos = dict.find(':', pos + k1.size());
  if (pos == std::string::npos) bad(name, fmt::format("header '{}' has no value", key));
  ++pos;
  while (pos < dict.size() && dict[pos] == ' ') ++pos;
  if (pos >= dict.size()) bad(name, fmt::format("header '{}' has no value", key));
  std::size_t end = pos;
  if (dict[pos] == '\'') {
    end = dict.find('\'', pos + 1);
    if (end == std::string::npos) bad(name, "unterminated string in header");
    return dict.substr(pos + 1, end - pos - 1);
  }
  if (dict[pos] == '(') {
    end = dict.find(')', pos);
    if (end == std::string::npos) bad(name, "unterminated shape tuple in header");
    return dict.substr(pos, end - pos + 1);
  }
  while (end < dict.size() && dict[end] != ',' && dict[end] != '}') ++end;
  return std::string(trim(std::string_view(dict).substr(pos, end - pos)));
}

float half_to_float(std::uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  float v = 0.0f;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::nanf("") : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  }
  return sign ? -v : v;
}

template <class T>
T load_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <class T>
const char* descr_of();
template <> const char* descr_of<float>() { return "<f4"; }
template <> const char* descr_of<double>() { return "<f8"; }
template <> const char* descr_of<std::uint8_t>() { return "|u1"; }
template <> const char* descr_of<std::int32_t>() { return "<i4"; }
template <> const char* descr_of<std::uint32_t>() { return "<u4"; }
template <> const char* descr_of<std::int64_t>() { return "<i8"; }

}  // namespace

NpyHeader parse_npy_header(const std::string& bytes, const std::string& name) {
  static const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) bad(name, "missing the \\x93NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0;
  std::size_t start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad(name, "truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    start = 12;
  } else {
    bad(name, fmt::format("unsupported format version {}", major));
  }
  if (header_len > bytes.size() - start) bad(name, "header longer than the file");
  const std::string dict = bytes.substr(start, header_len);
  NpyHeader h;
  h.data_offset = start + header_len;
  h.descr = dict_value(dict, "descr", name);
  const std::string fo = dict_value(dict, "fortran_order", name);
  if (fo == "True") {
    h.fortran_order = true;
  } else if (fo != "False") {
    bad(name, fmt::format("fortran_order is '{}'", fo));
  }
  std::string shape = dict_value(dict, "shape", name);
  if (shape.size() < 2 || shape.front() != '(') bad(name, "shape is not a tuple");
  for (auto part : split(std::string_view(shape).substr(1, shape.size() - 2), ',')) {
    if (trim(part).empty()) continue;
    const auto v = parse_int(part);
    if (!v || *v < 0) bad(name, fmt::format("bad dimension '{}' in shape", std::string(trim(part))));
    h.shape.push_back(*v);
  }
  return h;
}

Matrix load_npy_matrix(const std::string& path) { return parse_npy_matrix(read_file(path), path); }

Matrix parse_npy_matrix(const std::string& bytes, const std::string& path) {
  const NpyHeader h = parse_npy_header(bytes, path);
  if (h.shape.empty()) bad(path, "a scalar, not a matrix");
  std::int64_t rows = 1;
  std::int64_t cols = 1;
  if (h.shape.size() == 1) {
    cols = h.shape[0];
  } else {
    rows = h.shape[0];
    for (std::size_t i = 1; i < h.shape.size(); ++i) {
      cols = static_cast<std::int64_t>(checked_mul(static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(h.shape[i]), "npy shape"));
    }
  }
  if (rows == 0 || cols == 0) bad(path, "the array is empty");
  const std::string& d = h.descr;
  if (d.size() < 3) bad(path, fmt::format("unsupported dtype '{}'", d));
  const char order = d[0];
  const char kind = d[1];
  const auto width = parse_int(d.substr(2));
  if (!width || (order != '<' && order != '|' && order != '=')) {
    bad(path, fmt::format("unsupported dtype '{}' (little-endian numbers only)", d));
  }
  const auto elem = static_cast<std::size_t>(*width);
  const bool ok = (kind == 'f' && (elem == 2 || elem == 4 || elem == 8)) ||
                  ((kind == 'i' || kind == 'u') && (elem == 1 || elem == 2 || elem == 4 || elem == 8)) ||
                  (kind == 'b' && elem == 1);
  if (!ok) bad(path, fmt::format("unsupported dtype '{}'", d));
  const std::uint64_t count = checked_mul(static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols), "npy shape");
  const std::uint64_t need = checked_mul(count, elem, "npy size");
  if (bytes.size() - h.data_offset < need) {
    bad(path, fmt::format("data is {} bytes, shape needs {}", bytes.size() - h.data_offset, need));
  }
  Matrix m(rows, cols);
  const char* base = bytes.data() + h.data_offset;
  for (std::uint64_t i = 0; i < count; ++i) {
    const char* p = base + i * elem;
    double v = 0.0;
    if (kind == 'f') {
      v = elem == 2 ? half_to_float(load_le<std::uint16_t>(p)) : elem == 4 ? load_le<float>(p) : load_le<double>(p);
    } else if (kind == 'i') {
      v = elem == 1 ? load_le<std::int8_t>(p) : elem == 2 ? load_le<std::int16_t>(p) : elem == 4 ? load_le<std::int32_t>(p) : static_cast<double>(load_le<std::int64_t>(p));
    } else {
      v = elem == 1 ? load_le<std::uint8_t>(p) : elem == 2 ? load_le<std::uint16_t>(p) : elem == 4 ? load_le<std::uint32_t>(p) : static_cast<double>(load_le<std::uint64_t>(p));
    }
    if (!std::isfinite(v)) bad(path, fmt::format("element {} is not finite", i));
    // Weights are held as 32-bit floats: a float64 or 64-bit integer beyond their range is refused
    // (found by fuzzing: it became infinite, which nothing downstream expects).
    if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
      bad(path, fmt::format("element {} ({}) does not fit a 32-bit float", i, v));
    }
    // Fortran order: element i is (i % rows, i / rows) of the flattened [rows, cols] view.
    const std::int64_t r = h.fortran_order ? static_cast<std::int64_t>(i % static_cast<std::uint64_t>(rows)) : static_cast<std::int64_t>(i / static_cast<std::uint64_t>(cols));
    const std::int64_t c = h.fortran_order ? static_cast<std::int64_t>(i / static_cast<std::uint64_t>(rows)) : static_cast<std::int64_t>(i % static_cast<std::uint64_t>(cols));
    m.at(r, c) = static_cast<float>(v);
  }
  return m;
}

template <class T>
std::string npy_bytes(const std::vector<T>& data, const std::vector<std::int64_t>& shape) {
  std::string shp = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) shp += fmt::format("{}{}", shape[i], shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  shp += ")";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr_of<T>(), shp);
  // Pad so that the data starts on a 64-byte boundary, header ending in '\n' (format 1.0).
  const std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  out += dict;
  out.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(T));
  return out;
}

template <class T>
void save_npy(const std::string& path, const std::vector<T>& data, const std::vector<std::int64_t>& shape) {
  write_file_atomic(path, npy_bytes(data, shape));
}

#define STCSIM_NPY_INSTANTIATE(T)                                                                \
  template std::string npy_bytes<T>(const std::vector<T>&, const std::vector<std::int64_t>&); \
  template void save_npy<T>(const std::string&, const std::vector<T>&, const std::vector<std::int64_t>&);
STCSIM_NPY_INSTANTIATE(float)
STCSIM_NPY_INSTANTIATE(double)
STCSIM_NPY_INSTANTIATE(std::uint8_t)
STCSIM_NPY_INSTANTIATE(std::int32_t)
STCSIM_NPY_INSTANTIATE(std::uint32_t)
STCSIM_NPY_INSTANTIATE(std::int64_t)
#undef STCSIM_NPY_INSTANTIATE

}  // namespace stcsim
