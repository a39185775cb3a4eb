// A sparsity pattern: how a weight matrix may be pruned, and the layout its compressed form takes.
// One implementation per file under patterns/, each made from a spec string by the registry.
// Every pattern keeps its structural parameters (N, M, V, G, ...) explicit: none is reduced to a density.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sparsity/compressed.h"
#include "common/matrix.h"

namespace stcsim {

class Pattern {
 public:
  virtual ~Pattern() = default;

  // The canonical spec string; parsing it gives an equal pattern.
  virtual std::string spec() const = 0;
  // The registry name of the family ("dense", "nm", "vnm", "tw", "tvw", "block", "unstructured").
  virtual std::string family() const = 0;

  // Fraction of weights kept, as the pattern's parameters state it (N/M, 1 - sparsity, ...). Masks
  // on shapes that do not divide evenly can keep slightly more; stats report what was kept.
  virtual double nominal_density() const = 0;

  // Bits of position index per kept value (N:M: ceil(log2 M)); 0 where the layout has none per value.
  virtual int index_bits_per_value() const { return 0; }

  // Builds a conforming mask keeping the largest magnitudes, meeting the pattern's sparsity exactly
  // where its granularity allows. Ties break toward the lower index, so masks are deterministic.
  virtual Mask build_mask(const Matrix& w) const = 0;

  // How closely build_mask meets the nominal density on a rows x cols shape that the pattern's groups
  // divide: the kept count lies strictly less than granularity() weights from nominal_density() *
  // rows * cols. 1 for patterns that meet it exactly (a kept count is an integer); coarser for
  // patterns that prune in units too big to hit every count (tw: one K-segment or one row).
  virtual std::int64_t granularity(std::int64_t /*rows*/, std::int64_t /*cols*/) const { return 1; }

  // Throws MaskError, saying where and why, if `m` does not conform.
  virtual void check_mask(const Mask& m) const = 0;

  // Compresses w under a conforming mask (checked first).
  virtual std::unique_ptr<Compressed> compress(const Matrix& w, const Mask& m) const = 0;

  Matrix decompress(const Compressed& c) const { return c.decompress(); }

  // True if a hardware N:M path applies directly (N and M set); used by reports and, later, the model.
  virtual bool is_nm() const { return false; }
  virtual int n() const { return 0; }
  virtual int m() const { return 0; }
};

// Throws MaskError when mask and matrix shapes differ.
void check_same_shape(const Matrix& w, const Mask& m);

}  // namespace stcsim
