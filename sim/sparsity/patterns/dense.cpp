// dense: nothing pruned; the compressed form is the matrix itself, with no metadata.
#include <fmt/format.h>

#include "common/error.h"
#include "common/npy.h"
#include "sparsity/registry.h"

namespace stcsim {

namespace {

class DenseCompressed : public Compressed {
 public:
  explicit DenseCompressed(Matrix w) : Compressed(w.rows(), w.cols()), w_(std::move(w)) {}
  std::int64_t stored_values() const override { return w_.size(); }
  std::uint64_t metadata_bytes() const override { return 0; }
  Matrix decompress() const override { return w_; }
  std::vector<std::string> save(const std::string& dir) const override {
    save_npy(dir + "/values.npy", w_.data(), {w_.rows(), w_.cols()});
    return {"values.npy"};
  }

 private:
  Matrix w_;
};

class DensePattern : public Pattern {
 public:
  std::string spec() const override { return "dense"; }
  std::string family() const override { return "dense"; }
  double nominal_density() const override { return 1.0; }
  Mask build_mask(const Matrix& w) const override { return Mask(w.rows(), w.cols(), 1); }
  void check_mask(const Mask& mask) const override {
    for (std::int64_t r = 0; r < mask.rows(); ++r) {
      for (std::int64_t c = 0; c < mask.cols(); ++c) {
        if (!mask.at(r, c)) throw MaskError(fmt::format("dense: row {}, column {} is pruned", r, c));
      }
    }
  }
  std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& mask) const override {
    check_same_shape(w, mask);
    check_mask(mask);
    return std::make_unique<DenseCompressed>(w);
  }
};

}  // namespace

void register_dense_pattern(PatternRegistry& reg) {
  reg.add({"dense", "dense", "nothing pruned", [](const SpecArgs& a) -> std::unique_ptr<Pattern> {
             if (!a.positional.empty() || !a.named.empty()) {
               throw SpecError(fmt::format("pattern '{}': dense takes no parameters", a.text));
             }
             return std::make_unique<DensePattern>();
           }});
}

}  // namespace stcsim
