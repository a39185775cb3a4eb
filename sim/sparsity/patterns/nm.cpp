// N:M: in every group of M consecutive weights along K, at most N are kept (2:4 is the sparse tensor
// core's pattern). Compressed as nm_layout.h describes.
#include <fmt/format.h>

#include "common/checked.h"
#include "common/error.h"
#include "sparsity/nm_layout.h"
#include "sparsity/registry.h"

namespace stcsim {

namespace {

class NmPattern : public Pattern {
 public:
  NmPattern(int n, int m) : n_(n), m_(m) {}

  std::string spec() const override { return fmt::format("{}:{}", n_, m_); }
  std::string family() const override { return "nm"; }
  double nominal_density() const override { return static_cast<double>(n_) / m_; }
  int index_bits_per_value() const override { return index_bits(m_); }
  bool is_nm() const override { return true; }
  int n() const override { return n_; }
  int m() const override { return m_; }

  Mask build_mask(const Matrix& w) const override { return nm_build_mask(w, n_, m_); }

  void check_mask(const Mask& mask) const override { nm_check_mask(mask, n_, m_, spec().c_str()); }

  std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& mask) const override {
    check_same_shape(w, mask);
    check_mask(mask);
    auto out = std::make_unique<NmCompressed>(w.rows(), w.cols(), n_, m_);
    nm_pack(w, mask, *out);
    return out;
  }

 private:
  int n_;
  int m_;
};

}  // namespace

void register_nm_pattern(PatternRegistry& reg) {
  reg.add({"nm", "N:M (1 <= N < M <= 16)", "at most N of every M consecutive weights along K kept",
           [](const SpecArgs& a) -> std::unique_ptr<Pattern> {
             // Found by fuzzing: "nm(...)" reached here with no positional values.
             if (a.positional.size() != 2) throw SpecError(fmt::format("pattern '{}': write N:M, e.g. 2:4", a.text));
             const auto n = a.positional.at(0);
             const auto m = a.positional.at(1);
             if (m < 2 || m > 16) throw SpecError(fmt::format("pattern '{}': M must be in 2..16 (got {})", a.text, m));
             if (n < 1 || n >= m) {
               throw SpecError(fmt::format("pattern '{}': N must be in 1..M-1 = 1..{} (got {})", a.text, m - 1, n));
             }
             return std::make_unique<NmPattern>(static_cast<int>(n), static_cast<int>(m));
           }});
}

}  // namespace stcsim
