// The N:M compressed layout, shared by the N:M family and by the families that put N:M inside
// tiles (tvw). Per row: ceil(cols / M) groups of M positions along K, each stored as N value slots
// and N position indices of ceil(log2 M) bits, in increasing order within the group.
//
// Metadata packing: per row, the indices form one little-endian bit stream (slot s occupies bits
// [s*b, s*b + b) with b = ceil(log2 M)), stored in 32-bit words, the row padded to a whole word.
// For 2:4 this is the sparse MMA instruction's layout: one nibble per group of 4, the lower index
// in bits [1:0] and the higher in bits [3:2] (0b0100 keeps positions 0 and 1, 0b1110 keeps 2 and 3),
// eight groups per 32-bit word, the group at the lower K in the lower nibble (ordered metadata).
// Groups that keep fewer than N values are padded with zero values at unused positions, as the
// instruction needs exactly N per group. A row whose length is not a multiple of M ends in a
// short group, as if padded with zeros to the multiple.
#pragma once

#include <cstdint>
#include <vector>

#include "sparsity/compressed.h"

namespace stcsim {

class NmCompressed : public Compressed {
 public:
  NmCompressed(std::int64_t rows, std::int64_t cols, int n, int m);

  int n() const { return n_; }
  int m() const { return m_; }
  int bits() const { return bits_; }
  std::int64_t groups_per_row() const { return groups_; }
  std::int64_t slots_per_row() const { return groups_ * n_; }
  std::int64_t words_per_row() const { return words_; }

  // Values: rows x slots_per_row, row-major. Metadata: rows x words_per_row.
  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }
  std::vector<std::uint32_t>& metadata() { return meta_; }
  const std::vector<std::uint32_t>& metadata() const { return meta_; }

  // The position (0..M-1) of slot `slot` of row `row`, read from the packed metadata.
  int index(std::int64_t row, std::int64_t slot) const;
  void set_index(std::int64_t row, std::int64_t slot, int position);

  std::int64_t stored_values() const override { return rows() * slots_per_row(); }
  std::uint64_t metadata_bytes() const override;
  Matrix decompress() const override;
  std::vector<std::string> save(const std::string& dir) const override;

  // Metadata bytes of a rows x cols operand in this layout (the formula the tests check).
  static std::uint64_t metadata_bytes_for(std::int64_t rows, std::int64_t cols, int n, int m);

 private:
  int n_;
  int m_;
  int bits_;
  std::int64_t groups_;
  std::int64_t words_;
  std::vector<float> values_;
  std::vector<std::uint32_t> meta_;
};

// Fills `out` from a conforming mask (at most n kept per group). Shared by nm and tvw.
void nm_pack(const Matrix& w, const Mask& mask, NmCompressed& out);

// Keeps the n largest |w| of every group of m along each row (fewer in a short last group).
Mask nm_build_mask(const Matrix& w, int n, int m);

// Throws MaskError at the first group keeping more than n.
void nm_check_mask(const Mask& mask, int n, int m, const char* what);

}  // namespace stcsim
