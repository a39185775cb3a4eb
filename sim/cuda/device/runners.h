// The GEMM runners of each backend (cuda/host/replay_device.h GemmRunner), made by the CUDA device
// (cuda_device.cu). Each uploads its staged operands (cuda/host/replay_stage.h) once at construction
// and launches on `stream`.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusparse.h>

#include <memory>
#include <string>
#include <vector>

#include "cuda/host/replay_device.h"

namespace stcsim::replay {

// The own kernel (gemm_kernel.cuh) on the staged own_layout(); UnsupportedError when the tiling is
// not among the compiled instances (own_kernel_instances() lists them).
std::unique_ptr<GemmRunner> make_own_runner(const StagedGemm& s, cudaStream_t stream);
std::string own_kernel_instances();
// The tilings the own kernel is compiled for.
std::vector<KernelTiling> own_kernel_tilings();

// cublasGemmEx on the staged S (fp32 output, fp32 accumulation): the reference and the vendor dense GEMM.
std::unique_ptr<GemmRunner> make_cublas_runner(const StagedGemm& s, cublasHandle_t handle, cudaStream_t stream);

// cusparseSpMM: Blocked-ELL for block patterns, CSR for unstructured.
std::unique_ptr<GemmRunner> make_cusparse_runner(const StagedGemm& s, cusparseHandle_t handle, cudaStream_t stream);

// cuSPARSELt's 2:4 GEMM through its plugin (cusparselt_gemm.cu); null, with `note` saying where it
// looked and why it failed, when there is none. With `search`, the plugin picks the algorithm once by
// cusparseLtMatmulSearch.
class CusparseltPlugin;
std::shared_ptr<CusparseltPlugin> load_cusparselt_plugin(std::string& note);
std::string cusparselt_plugin_version(const CusparseltPlugin& p);
std::unique_ptr<GemmRunner> make_cusparselt_runner(const StagedGemm& s, std::shared_ptr<CusparseltPlugin> plugin, cudaStream_t stream,
                                                   bool search);

// Copies a device fp32 or 16-bit matrix back as fp32 (stream-ordered, then waits).
std::vector<float> download_floats(const float* d, std::size_t n, cudaStream_t stream);

}  // namespace stcsim::replay
