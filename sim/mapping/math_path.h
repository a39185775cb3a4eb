// Which math path a GEMM takes on a configured machine: dense tensor cores, the hardware N:M path,
// a dense fallback on explicit zeros, or tiles of unequal work through the tile scheduler. This is
// the decision the cycle-level model acts on; it is made here, once, from the pattern and the
// machine's tensor-core table, and refused with an error naming the GEMM where the machine cannot
// run it (a data type its tensor cores lack, or an N:M pattern with unsupported_sparsity: error).
#pragma once

#include <string>

#include "config/machine_config.h"
#include "trace/gemm.h"

namespace stcsim {

enum class MathPath {
  dense,           // nothing pruned (or an activation-by-activation GEMM)
  sparse_nm,       // the tensor core's N:M path; with tiles for tvw, after column selection for V:N:M
  dense_on_zeros,  // an N:M pattern the hardware lacks, run dense with the zeros stored (config: dense)
  tiles_dense,     // tile-wise: dense tensor cores on compacted tiles of unequal K
  block_dense,     // block-sparse: dense MMAs over the kept blocks only
  unstructured,    // unstructured: the kernel's own choice (see the model); no tensor-core sparsity
};

std::string_view math_path_name(MathPath p);

struct GemmMapping {
  MathPath path = MathPath::dense;
  bool tiled = false;              // work is cut into tiles of unequal K (tw, tvw)
  int hw_n = 0;                    // the N:M the tensor core executes (V:N:M runs N:2N), 0 if none
  int hw_m = 0;
  double peak_speedup = 1.0;       // sparse over dense tensor-core rate for this dtype (1 if dense path)
  std::string note;                // one line for reports
};

// Throws Error ("layer: reason") if the machine cannot run the GEMM.
GemmMapping map_gemm(const GemmOp& g, const MachineConfig& machine);

}  // namespace stcsim
