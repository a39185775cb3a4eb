// What a backend uploads for one GEMM, built on the host: 16-bit operands padded as that backend
// reads them, and the own kernel's and cuSPARSE's layouts (replay_layout.h). Staging is plain C++ and
// runs on the preparation threads (replay_prep.h), off the GPU's critical path; the device side
// (device/) only copies these arrays. The same arrays feed the host tests' stand-in device.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/host/replay_layout.h"
#include "cuda/host/replay_problem.h"

namespace stcsim::replay {

// A matrix as 16-bit bits, row-major: rows x ld, the columns past `cols` and the rows past the
// source's zero.
struct HalfMatrix {
  std::int64_t rows = 0, cols = 0, ld = 0;
  DType dtype = DType::fp16;
  std::vector<std::uint16_t> bits;
  std::uint64_t bytes() const { return bits.size() * sizeof(std::uint16_t); }
};

// m as 16-bit bits in `rows` >= m.rows() rows of `ld` >= m.cols() elements.
HalfMatrix stage_half(const Matrix& m, DType t, std::int64_t rows, std::int64_t ld);

// How each backend pads: cuBLAS and the own kernel read S and D with rows of a multiple of 8
// elements; cuSPARSELt takes rows and columns padded to 32 and K to 64 (zeros, which keep S 2:4 and
// the product unchanged); cuSPARSE's Blocked-ELL reads D with K padded to whole blocks.
std::int64_t ld8(std::int64_t n);
struct LtPadding {
  std::int64_t rows = 0, k = 0, cols = 0;
};
LtPadding lt_padding(std::int64_t rows, std::int64_t k, std::int64_t cols);

struct StagedGemm {
  Backend backend = Backend::cublas;
  DType dtype = DType::fp16;
  std::int64_t rows = 0, cols = 0, k = 0;   // C = S x D is rows x cols over K = k
  std::shared_ptr<const HalfMatrix> s;      // cublas: S, rows x ld8(k); cusparselt: S padded (lt_padding)
  std::shared_ptr<const HalfMatrix> d;      // D as this backend reads it (every backend)
  std::shared_ptr<const OwnLayout> own;     // own
  KernelTiling tiling;                      // own
  std::shared_ptr<const CsrLayout> csr;     // cusparse, unstructured
  std::shared_ptr<const BlockedEllLayout> ell;  // cusparse, block
  std::uint64_t host_bytes() const;         // what it holds (shared arrays counted in full)
};

// Shares D's 16-bit copies between the backends of one GEMM (and, through the preparer's cache,
// between the patterns of one line): one per padded shape. Safe to use from several threads.
class DenseStager {
 public:
  explicit DenseStager(std::shared_ptr<const Matrix> d, DType t) : d_(std::move(d)), t_(t) {}
  std::shared_ptr<const HalfMatrix> get(std::int64_t rows, std::int64_t ld);
  const std::shared_ptr<const Matrix>& matrix() const { return d_; }

 private:
  std::shared_ptr<const Matrix> d_;
  DType t_;
  std::mutex mu_;
  std::vector<std::shared_ptr<const HalfMatrix>> made_;
};

// Stages problem p (S from p.pruned and p.s, D from `d`) for backend b. UnsupportedError when b
// cannot run p's pattern.
StagedGemm stage_gemm(Backend b, const ReplayProblem& p, const KernelTiling& tiling, DenseStager& d);

}  // namespace stcsim::replay
