// The vendor libraries' runners: cuBLAS (dense, and the reference of every check) and cuSPARSE
// (Blocked-ELL for block sparsity, CSR for unstructured). All upload the staged S (rows x K) and D
// (K x cols, row-major; cuda/host/replay_stage.h) in the GEMM's 16-bit type and write C (rows x cols, row-major) in fp32 with fp32
// accumulation, as the own kernel does.
#include <fmt/format.h>

#include "common/checked.h"
#include "cuda/device/cuda_util.h"
#include "cuda/device/runners.h"
#include "cuda/host/replay_layout.h"

namespace stcsim::replay {

namespace {

void cublas_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw Error(fmt::format("cuBLAS: {}: status {}", what, static_cast<int>(s)));
}

void cusparse_check(cusparseStatus_t s, const char* what) {
  if (s != CUSPARSE_STATUS_SUCCESS) {
    throw Error(fmt::format("cuSPARSE: {}: {} ({})", what, cusparseGetErrorString(s), static_cast<int>(s)));
  }
}

cudaDataType cuda_type(DType t) { return t == DType::bf16 ? CUDA_R_16BF : CUDA_R_16F; }

// cublasGemmEx on the staged S and D. The handle's stream and workspace are set once, by the device
// (cuda_device.cu): setting the stream at each launch would drop the workspace a graph capture needs.
class CublasRunner : public GemmRunner {
 public:
  CublasRunner(const StagedGemm& st, cublasHandle_t h, cudaStream_t stream)
      : h_(h), stream_(stream), rows_(st.rows), cols_(st.cols), k_(st.k), type_(cuda_type(st.dtype)) {
    lds_ = st.s->ld;
    ldd_ = st.d->ld;
    s_ = DeviceArray<std::uint16_t>(st.s->bits);
    d_ = DeviceArray<std::uint16_t>(st.d->bits);
    c_ = DeviceArray<float>(static_cast<std::size_t>(rows_ * cols_));
    c_.zero();
  }
  std::string kernel() const override { return "cublasGemmEx (fp32 accumulate, fp32 out)"; }
  void launch() override {
    if (rows_ == 0 || cols_ == 0 || k_ == 0) return;
    const float alpha = 1.0f, beta = 0.0f;
    // Row-major C = S x D is column-major C^T = D^T x S^T: D (row-major K x cols) is column-major
    // cols x K with ld ldd, S is column-major K x rows with ld lds.
    cublas_check(cublasGemmEx(h_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(cols_), static_cast<int>(rows_),
                              static_cast<int>(k_), &alpha, d_.get(), type_, static_cast<int>(ldd_), s_.get(), type_,
                              static_cast<int>(lds_), &beta, c_.get(), CUDA_R_32F, static_cast<int>(cols_),
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx");
  }
  std::vector<float> result() override { return download_floats(c_.get(), c_.size(), stream_); }

 private:
  cublasHandle_t h_;
  cudaStream_t stream_;
  std::int64_t rows_, cols_, k_, lds_ = 0, ldd_ = 0;
  cudaDataType type_;
  DeviceArray<std::uint16_t> s_, d_;
  DeviceArray<float> c_;
};

// cusparseSpMM with S as CSR or Blocked-ELL. Blocked-ELL pads S to whole blocks, so D is staged with
// zero rows to match and C computed over the padded rows, of which the first `rows` are returned.
class CusparseRunner : public GemmRunner {
 public:
  CusparseRunner(const StagedGemm& st, cusparseHandle_t h, cudaStream_t stream)
      : h_(h), stream_(stream), rows_(st.rows), cols_(st.cols) {
    const cudaDataType vt = cuda_type(st.dtype);
    std::int64_t c_rows = st.rows;
    if (st.ell) {
      const BlockedEllLayout& ell = *st.ell;
      c_rows = ell.rows_pad;
      idx_ = DeviceArray<std::int32_t>(ell.col_ind);
      vals_ = DeviceArray<std::uint16_t>(ell.values);
      cusparse_check(cusparseCreateBlockedEll(&a_, ell.rows_pad, ell.cols_pad, ell.block, ell.ell_blocks * ell.block, idx_.get(),
                                              vals_.get(), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, vt),
                     "cusparseCreateBlockedEll");
      kernel_ = fmt::format("cusparseSpMM Blocked-ELL ({}x{} blocks, {} slots per block row)", ell.block, ell.block, ell.ell_blocks);
    } else if (st.csr) {
      const CsrLayout& csr = *st.csr;
      ptr_ = DeviceArray<std::int32_t>(csr.row_ptr);
      idx_ = DeviceArray<std::int32_t>(csr.col_idx);
      vals_ = DeviceArray<std::uint16_t>(csr.values);
      cusparse_check(cusparseCreateCsr(&a_, csr.rows, csr.cols, static_cast<std::int64_t>(csr.values.size()), ptr_.get(),
                                       idx_.get(), vals_.get(), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, vt),
                     "cusparseCreateCsr");
      kernel_ = fmt::format("cusparseSpMM CSR ({} non-zeros)", csr.values.size());
    } else {
      throw UnsupportedError("cuSPARSE: the GEMM was not staged as CSR or Blocked-ELL");
    }
    d_ = DeviceArray<std::uint16_t>(st.d->bits);
    c_ = DeviceArray<float>(static_cast<std::size_t>(c_rows * st.cols));
    c_.zero();
    cusparse_check(cusparseCreateDnMat(&b_, st.d->rows, st.cols, st.d->ld, d_.get(), vt, CUSPARSE_ORDER_ROW), "cusparseCreateDnMat(D)");
    cusparse_check(cusparseCreateDnMat(&cm_, c_rows, st.cols, st.cols, c_.get(), CUDA_R_32F, CUSPARSE_ORDER_ROW),
                   "cusparseCreateDnMat(C)");
    const float alpha = 1.0f, beta = 0.0f;
    std::size_t bytes = 0;
    cusparse_check(cusparseSpMM_bufferSize(h_, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, a_,
                                           b_, &beta, cm_, CUDA_R_32F, CUSPARSE_SPMM_ALG_DEFAULT, &bytes),
                   "cusparseSpMM_bufferSize");
    work_ = DeviceArray<unsigned char>(bytes);
  }
  ~CusparseRunner() override {
    if (a_) cusparseDestroySpMat(a_);
    if (b_) cusparseDestroyDnMat(b_);
    if (cm_) cusparseDestroyDnMat(cm_);
  }
  std::string kernel() const override { return kernel_; }
  void launch() override {
    if (rows_ == 0 || cols_ == 0) return;
    const float alpha = 1.0f, beta = 0.0f;
    cusparse_check(cusparseSetStream(h_, stream_), "cusparseSetStream");
    cusparse_check(cusparseSpMM(h_, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, a_, b_, &beta,
                                cm_, CUDA_R_32F, CUSPARSE_SPMM_ALG_DEFAULT, work_.get()),
                   "cusparseSpMM");
  }
  std::vector<float> result() override {
    std::vector<float> all = download_floats(c_.get(), c_.size(), stream_);
    all.resize(static_cast<std::size_t>(rows_ * cols_));
    return all;
  }

 private:
  cusparseHandle_t h_;
  cudaStream_t stream_;
  std::int64_t rows_, cols_;
  std::string kernel_;
  DeviceArray<std::int32_t> ptr_, idx_;
  DeviceArray<std::uint16_t> vals_, d_;
  DeviceArray<float> c_;
  DeviceArray<unsigned char> work_;
  cusparseSpMatDescr_t a_ = nullptr;
  cusparseDnMatDescr_t b_ = nullptr, cm_ = nullptr;
};

}  // namespace

std::unique_ptr<GemmRunner> make_cublas_runner(const StagedGemm& s, cublasHandle_t handle, cudaStream_t stream) {
  if (!s.s || !s.d) throw Error("cuBLAS: the GEMM was not staged for it");
  return std::make_unique<CublasRunner>(s, handle, stream);
}

std::unique_ptr<GemmRunner> make_cusparse_runner(const StagedGemm& s, cusparseHandle_t handle, cudaStream_t stream) {
  if (!s.d) throw Error("cuSPARSE: the GEMM was not staged for it");
  return std::make_unique<CusparseRunner>(s, handle, stream);
}

}  // namespace stcsim::replay
