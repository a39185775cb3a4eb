// The contract between the host-side layouts (replay_layout.h) and the project's own GEMM kernel
// (device/gemm_kernel.cuh): one CtaItem per row block of the output, read by every CTA of that
// block's row (one per column block). Plain data, the same bytes on host and device.
//
// A CTA computes rows [0, rows) of its item against columns [n0, n0 + bn) of D:
//   A values  a_values[a_offset + r * a_ld + kk] for kk in [0, k_extent) (dense), or the compressed
//             2:4 values (k_extent / 2 per row) and metadata words meta[meta_offset + r * meta_ld + k / 32];
//   D rows    k itself (ks_offset < 0; rows at or past d_rows read as zero) or ks[ks_offset + k] (a
//             gather: tile-wise sparsity's kept K, padded with index 0 where A holds zeros);
//   C rows    out_row + r (row_offset < 0) or row_ids[row_offset + r] (a tile's kept rows).
#pragma once

#include <cstdint>

namespace stcsim::replay {

struct CtaItem {
  std::int64_t a_offset = 0;     // elements into the A values
  std::int64_t meta_offset = 0;  // words into the metadata (sparse)
  std::int64_t ks_offset = -1;   // into ks; -1: D rows are k itself
  std::int64_t row_offset = -1;  // into row_ids; -1: output rows out_row + r
  std::int32_t a_ld = 0;         // A values per row
  std::int32_t meta_ld = 0;      // metadata words per row
  std::int32_t rows = 0;         // valid rows, 1..bm
  std::int32_t k_extent = 0;     // K (dense-equivalent) the CTA walks, a multiple of bk
  std::int32_t out_row = 0;
  std::int32_t d_rows = 0;       // D rows that exist (ks_offset < 0)
};

}  // namespace stcsim::replay
