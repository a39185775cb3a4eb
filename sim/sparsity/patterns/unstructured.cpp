// unstructured(sparsity=...): global magnitude pruning with no structure. Of rows * cols weights,
// exactly rows * cols - round(sparsity * rows * cols) are kept: the largest |w| over the whole matrix,
// ties kept at the lower flat (row-major) index. The sparse tensor core cannot use this; it is the
// reference point that structured patterns are compared against, and what a CSR kernel would run.
//
// Layout: CSR. row_ptr (int64, rows + 1 entries) gives each row's range in col_idx (int32, one per
// kept value, increasing within a row) and values (the kept values, no padding).
//
// Metadata bytes: 8 * (rows + 1) + 4 * nnz.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "common/checked.h"
#include "common/error.h"
#include "common/npy.h"
#include "sparsity/registry.h"

namespace stcsim {

namespace {

class CsrCompressed : public Compressed {
 public:
  CsrCompressed(const Matrix& w, const Mask& mask) : Compressed(w.rows(), w.cols()) {
    row_ptr_.reserve(static_cast<std::size_t>(w.rows()) + 1);
    row_ptr_.push_back(0);
    for (std::int64_t r = 0; r < w.rows(); ++r) {
      for (std::int64_t c = 0; c < w.cols(); ++c) {
        if (!mask.at(r, c)) continue;
        col_idx_.push_back(static_cast<std::int32_t>(c));
        values_.push_back(w.at(r, c));
      }
      row_ptr_.push_back(static_cast<std::int64_t>(values_.size()));
    }
  }

  std::int64_t nnz() const { return static_cast<std::int64_t>(values_.size()); }
  const std::vector<std::int64_t>& row_ptr() const { return row_ptr_; }
  const std::vector<std::int32_t>& col_idx() const { return col_idx_; }
  const std::vector<float>& values() const { return values_; }

  std::int64_t stored_values() const override { return nnz(); }
  std::uint64_t metadata_bytes() const override { return metadata_bytes_for(rows(), nnz()); }

  static std::uint64_t metadata_bytes_for(std::int64_t rows, std::int64_t nnz) {
    return checked_add(checked_mul(8, static_cast<std::uint64_t>(rows + 1), "CSR metadata"),
                       checked_mul(4, static_cast<std::uint64_t>(nnz), "CSR metadata"), "CSR metadata");
  }

  Matrix decompress() const override {
    Matrix out(rows(), cols());
    for (std::int64_t r = 0; r < rows(); ++r) {
      for (std::int64_t k = row_ptr_[static_cast<std::size_t>(r)]; k < row_ptr_[static_cast<std::size_t>(r) + 1]; ++k) {
        out.at(r, col_idx_[static_cast<std::size_t>(k)]) = values_[static_cast<std::size_t>(k)];
      }
    }
    return out;
  }

  std::vector<std::pair<std::string, double>> details() const override { return {{"nnz", static_cast<double>(nnz())}}; }

  std::vector<std::string> save(const std::string& dir) const override {
    save_npy(dir + "/values.npy", values_, {nnz()});
    save_npy(dir + "/row_ptr.npy", row_ptr_, {rows() + 1});
    save_npy(dir + "/col_idx.npy", col_idx_, {nnz()});
    return {"values.npy", "row_ptr.npy", "col_idx.npy"};
  }

 private:
  std::vector<std::int64_t> row_ptr_;
  std::vector<std::int32_t> col_idx_;
  std::vector<float> values_;
};

// |w| as an unsigned key: the bit patterns of non-negative floats order as their values, and as
// integers they order totally (a NaN ranks above infinity instead of breaking the sort).
std::uint32_t magnitude_key(float v) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits & 0x7fffffffu;
}

class UnstructuredPattern : public Pattern {
 public:
  explicit UnstructuredPattern(double sparsity) : sparsity_(sparsity) {}

  std::string spec() const override { return fmt::format("unstructured(sparsity={})", format_param(sparsity_)); }
  std::string family() const override { return "unstructured"; }
  double nominal_density() const override { return 1.0 - sparsity_; }

  Mask build_mask(const Matrix& w) const override {
    const std::int64_t total = w.size();
    const std::int64_t keep = total - std::llround(sparsity_ * static_cast<double>(total));
    Mask mask(w.rows(), w.cols(), 0);
    if (keep <= 0) return mask;
    const auto& data = w.data();
    // Selection, not a sort: nth_element finds the keep-th largest key in linear time, then one pass
    // keeps everything above it and the first of the equal ones in flat order.
    std::vector<std::uint32_t> keys(data.size());
    for (std::size_t i = 0; i < data.size(); ++i) keys[i] = magnitude_key(data[i]);
    std::nth_element(keys.begin(), keys.begin() + (keep - 1), keys.end(), std::greater<std::uint32_t>());
    const std::uint32_t threshold = keys[static_cast<std::size_t>(keep - 1)];
    std::int64_t above = 0;
    for (std::size_t i = 0; i < data.size(); ++i) above += magnitude_key(data[i]) > threshold ? 1 : 0;
    std::int64_t ties_left = keep - above;
    auto& out = mask.data();
    for (std::size_t i = 0; i < data.size(); ++i) {
      const std::uint32_t k = magnitude_key(data[i]);
      if (k > threshold) {
        out[i] = 1;
      } else if (k == threshold && ties_left > 0) {
        out[i] = 1;
        --ties_left;
      }
    }
    return mask;
  }

  // Any mask conforms; the shape is checked against the matrix where there is one (compress).
  void check_mask(const Mask&) const override {}

  std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& mask) const override {
    check_same_shape(w, mask);
    if (w.cols() > std::numeric_limits<std::int32_t>::max()) {
      throw ShapeError(fmt::format("{}: {} columns do not fit the int32 col_idx", spec(), w.cols()));
    }
    return std::make_unique<CsrCompressed>(w, mask);
  }

 private:
  double sparsity_;
};

}  // namespace

void register_unstructured_pattern(PatternRegistry& reg) {
  reg.add({"unstructured", "unstructured(sparsity=0..<1)", "global magnitude pruning, no structure; stored as CSR",
           [](const SpecArgs& a) -> std::unique_ptr<Pattern> {
             a.expect_keys({"sparsity"});
             const double s = a.get_double("sparsity");
             // Written so that NaN fails too.
             if (!(s >= 0.0 && s < 1.0)) {
               throw SpecError(
                   fmt::format("pattern '{}': sparsity must be in [0, 1) (got {})", a.text, format_param(s)));
             }
             return std::make_unique<UnstructuredPattern>(s);
           }});
}

}  // namespace stcsim
