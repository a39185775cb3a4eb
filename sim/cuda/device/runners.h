// The GEMM runners of each backend (cuda/host/replay_device.h GemmRunner), made by the CUDA device
// (cuda_device.cu). Each uploads its operands once at construction and launches on `stream`.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusparse.h>

#include <memory>
#include <string>
#include <vector>

#include "cuda/host/replay_device.h"

namespace stcsim::replay {

// The own kernel (gemm_kernel.cuh) on the layout of own_layout(); UnsupportedError when the tiling is
// not among the compiled instances (own_kernel_instances() lists them).
std::unique_ptr<GemmRunner> make_own_runner(const ReplayProblem& p, const KernelTiling& tiling, cudaStream_t stream);
std::string own_kernel_instances();
// The tilings the own kernel is compiled for.
std::vector<KernelTiling> own_kernel_tilings();

// cublasGemmEx on the pruned S (fp32 output, fp32 accumulation): the dense reference and the vendor dense GEMM.
std::unique_ptr<GemmRunner> make_cublas_runner(const ReplayProblem& p, cublasHandle_t handle, cudaStream_t stream);

// cusparseSpMM: Blocked-ELL for block patterns, CSR for unstructured.
std::unique_ptr<GemmRunner> make_cusparse_runner(const ReplayProblem& p, cusparseHandle_t handle, cudaStream_t stream);

// cuSPARSELt's 2:4 GEMM (only where the build found the library).
bool cusparselt_built();
std::unique_ptr<GemmRunner> make_cusparselt_runner(const ReplayProblem& p, cudaStream_t stream);
std::string cusparselt_version();

// Copies a device fp32 or 16-bit matrix back as fp32 (stream-ordered, then waits).
std::vector<float> download_floats(const float* d, std::size_t n, cudaStream_t stream);

}  // namespace stcsim::replay
