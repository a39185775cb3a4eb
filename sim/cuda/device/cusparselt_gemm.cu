// cuSPARSELt's 2:4 GEMM, where the build found the library (STCSIM_CUSPARSELT_ROOT, see
// docs/backend.md). The library takes S dense with its 2:4 zeros, checks the pattern, and compresses
// it itself; what it runs is then compared with the reference like every other backend. Its output is
// in the GEMM's 16-bit type (rounds_output). Dimensions are padded with zeros (rows and columns to 32,
// K to 64), which keeps S 2:4 and the product unchanged. The algorithm is the library's default (no
// cusparseLtMatmulSearch, which launches many kernels).
#include <fmt/format.h>

#include "cuda/device/runners.h"

#if defined(STCSIM_HAVE_CUSPARSELT)
#include <cusparseLt.h>

#include "common/checked.h"
#include "cuda/device/cuda_util.h"
#include "cuda/host/half.h"
#include "cuda/host/replay_layout.h"
#endif

namespace stcsim::replay {

#if !defined(STCSIM_HAVE_CUSPARSELT)

bool cusparselt_built() { return false; }
std::string cusparselt_version() { return "not built"; }
std::unique_ptr<GemmRunner> make_cusparselt_runner(const ReplayProblem&, cudaStream_t) {
  throw UnsupportedError("this build has no cuSPARSELt (configure with -DSTCSIM_CUSPARSELT_ROOT=..., docs/backend.md)");
}

#else

namespace {

void lt_check(cusparseStatus_t s, const char* what) {
  if (s != CUSPARSE_STATUS_SUCCESS) throw Error(fmt::format("cuSPARSELt: {}: status {}", what, static_cast<int>(s)));
}

std::int64_t pad(std::int64_t x, std::int64_t m) { return ceil_div(std::max<std::int64_t>(x, 1), m) * m; }

class CusparseltRunner : public GemmRunner {
 public:
  CusparseltRunner(const ReplayProblem& p, cudaStream_t stream) : stream_(stream), rows_(p.rows), cols_(p.cols), dtype_(p.gemm.dtype) {
    const cudaDataType vt = dtype_ == DType::bf16 ? CUDA_R_16BF : CUDA_R_16F;
    rp_ = pad(p.rows, 32);
    kp_ = pad(p.k, 64);
    cp_ = pad(p.cols, 32);
    Matrix s(rp_, kp_), d(kp_, cp_);
    for (std::int64_t r = 0; r < p.rows; ++r) std::copy(p.pruned.row(r), p.pruned.row(r) + p.k, s.row(r));
    for (std::int64_t r = 0; r < p.k; ++r) std::copy(p.d.row(r), p.d.row(r) + p.cols, d.row(r));
    s_ = DeviceArray<std::uint16_t>(half_matrix(s, dtype_, kp_));
    d_ = DeviceArray<std::uint16_t>(half_matrix(d, dtype_, cp_));
    c_ = DeviceArray<std::uint16_t>(static_cast<std::size_t>(rp_ * cp_));
    c_.zero();
    lt_check(cusparseLtInit(&handle_), "cusparseLtInit");
    live_ = true;
    lt_check(cusparseLtStructuredDescriptorInit(&handle_, &ma_, rp_, kp_, kp_, 16, vt, CUSPARSE_ORDER_ROW,
                                                CUSPARSELT_SPARSITY_50_PERCENT),
             "structured descriptor (S)");
    lt_check(cusparseLtDenseDescriptorInit(&handle_, &mb_, kp_, cp_, cp_, 16, vt, CUSPARSE_ORDER_ROW), "dense descriptor (D)");
    lt_check(cusparseLtDenseDescriptorInit(&handle_, &mc_, rp_, cp_, cp_, 16, vt, CUSPARSE_ORDER_ROW), "dense descriptor (C)");
    lt_check(cusparseLtMatmulDescriptorInit(&handle_, &mm_, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                            &ma_, &mb_, &mc_, &mc_, CUSPARSE_COMPUTE_32F),
             "matmul descriptor");
    lt_check(cusparseLtMatmulAlgSelectionInit(&handle_, &alg_, &mm_, CUSPARSELT_MATMUL_ALG_DEFAULT), "algorithm selection");
    lt_check(cusparseLtMatmulPlanInit(&handle_, &plan_, &mm_, &alg_), "plan");
    DeviceArray<int> valid(1);
    lt_check(cusparseLtSpMMAPruneCheck(&handle_, &mm_, s_.get(), valid.get(), stream_), "prune check");
    const std::vector<int> v = valid.download();
    if (v.at(0) != 0) throw Error("cuSPARSELt: the library does not accept the compressor's mask as 2:4");
    std::size_t csize = 0, cbuf = 0, wsize = 0;
    lt_check(cusparseLtSpMMACompressedSize(&handle_, &plan_, &csize, &cbuf), "compressed size");
    compressed_ = DeviceArray<unsigned char>(csize);
    DeviceArray<unsigned char> buffer(cbuf);
    lt_check(cusparseLtSpMMACompress(&handle_, &plan_, s_.get(), compressed_.get(), buffer.get(), stream_), "compress");
    cuda_check(cudaStreamSynchronize(stream_), "compress");
    lt_check(cusparseLtMatmulGetWorkspace(&handle_, &plan_, &wsize), "workspace size");
    work_ = DeviceArray<unsigned char>(wsize);
  }
  ~CusparseltRunner() override {
    if (!live_) return;
    cusparseLtMatmulPlanDestroy(&plan_);
    cusparseLtMatDescriptorDestroy(&ma_);
    cusparseLtMatDescriptorDestroy(&mb_);
    cusparseLtMatDescriptorDestroy(&mc_);
    cusparseLtDestroy(&handle_);
  }
  std::string kernel() const override { return "cusparseLtMatmul 2:4 (default algorithm, 16-bit out)"; }
  bool rounds_output() const override { return true; }
  void launch() override {
    const float alpha = 1.0f, beta = 0.0f;
    lt_check(cusparseLtMatmul(&handle_, &plan_, &alpha, compressed_.get(), d_.get(), &beta, c_.get(), c_.get(), work_.get(),
                              &stream_, 1),
             "cusparseLtMatmul");
  }
  std::vector<float> result() override {
    cuda_check(cudaStreamSynchronize(stream_), "waiting for the GEMM");
    const std::vector<std::uint16_t> bits = c_.download();
    std::vector<float> out(static_cast<std::size_t>(rows_ * cols_));
    for (std::int64_t r = 0; r < rows_; ++r) {
      for (std::int64_t c = 0; c < cols_; ++c) {
        out[static_cast<std::size_t>(r * cols_ + c)] = from_half_bits(bits[static_cast<std::size_t>(r * cp_ + c)], dtype_);
      }
    }
    return out;
  }

 private:
  cudaStream_t stream_;
  std::int64_t rows_, cols_, rp_ = 0, kp_ = 0, cp_ = 0;
  DType dtype_;
  bool live_ = false;
  cusparseLtHandle_t handle_{};
  cusparseLtMatDescriptor_t ma_{}, mb_{}, mc_{};
  cusparseLtMatmulDescriptor_t mm_{};
  cusparseLtMatmulAlgSelection_t alg_{};
  cusparseLtMatmulPlan_t plan_{};
  DeviceArray<std::uint16_t> s_, d_, c_;
  DeviceArray<unsigned char> compressed_, work_;
};

}  // namespace

bool cusparselt_built() { return true; }

std::string cusparselt_version() {
  return fmt::format("cuSPARSELt {}.{}.{} (headers)", CUSPARSELT_VER_MAJOR, CUSPARSELT_VER_MINOR, CUSPARSELT_VER_PATCH);
}

std::unique_ptr<GemmRunner> make_cusparselt_runner(const ReplayProblem& p, cudaStream_t stream) {
  if (p.s.pattern->family() != "nm" || p.s.pattern->n() != 2 || p.s.pattern->m() != 4) {
    throw UnsupportedError(fmt::format("cuSPARSELt runs 2:4, not {}", p.s.pattern->spec()));
  }
  return std::make_unique<CusparseltRunner>(p, stream);
}

#endif

}  // namespace stcsim::replay
