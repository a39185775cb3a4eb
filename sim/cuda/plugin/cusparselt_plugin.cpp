// libstcsim_cusparselt.so: cuSPARSELt's 2:4 GEMM (cuda/host/cusparselt_flow.h) behind the C interface
// of cusparselt_plugin.h. Built by CMake where it finds the library (sim/cuda/CMakeLists.txt), or on a
// GPU machine by scripts/build_cusparselt_plugin.sh against the library found there; compiled in every
// CUDA build against tests/cuda/stub/cusparseLt.h so that it stays compile-tested where the library is
// absent. It calls no CUDA runtime function: memory and stream waits go through the binary's table.
#include "cuda/plugin/cusparselt_plugin.h"

#include <cusparseLt.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "cuda/host/cusparselt_flow.h"

namespace {

// CUDA runtime errors come back offset by this, to tell them from the library's statuses.
constexpr int kCudaBase = 100000;

const char* status_name(int s) {
  switch (s) {
    case 1: return "CUSPARSE_STATUS_NOT_INITIALIZED";
    case 2: return "CUSPARSE_STATUS_ALLOC_FAILED";
    case 3: return "CUSPARSE_STATUS_INVALID_VALUE";
    case 4: return "CUSPARSE_STATUS_ARCH_MISMATCH";
    case 5: return "CUSPARSE_STATUS_MAPPING_ERROR";
    case 6: return "CUSPARSE_STATUS_EXECUTION_FAILED";
    case 7: return "CUSPARSE_STATUS_INTERNAL_ERROR";
    case 8: return "CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED";
    case 9: return "CUSPARSE_STATUS_ZERO_PIVOT";
    case 10: return "CUSPARSE_STATUS_NOT_SUPPORTED";
    case 11: return "CUSPARSE_STATUS_INSUFFICIENT_RESOURCES";
    default: return "unknown status";
  }
}

struct LtApi {
  using Handle = cusparseLtHandle_t;
  using MatDesc = cusparseLtMatDescriptor_t;
  using MatmulDesc = cusparseLtMatmulDescriptor_t;
  using AlgSel = cusparseLtMatmulAlgSelection_t;
  using Plan = cusparseLtMatmulPlan_t;
  using Stream = cudaStream_t;

  const StcsimLtCuda* cuda = nullptr;

  static cudaDataType type(bool bf16) { return bf16 ? CUDA_R_16BF : CUDA_R_16F; }
  static int st(cusparseStatus_t s) { return static_cast<int>(s); }
  static int cu(int e) { return e == 0 ? 0 : kCudaBase + e; }

  int init(Handle* h) { return st(cusparseLtInit(h)); }
  int destroy(Handle* h) { return st(cusparseLtDestroy(h)); }
  int structured_desc(Handle* h, MatDesc* m, std::int64_t rows, std::int64_t cols, bool bf16) {
    return st(cusparseLtStructuredDescriptorInit(h, m, rows, cols, cols, 16, type(bf16), CUSPARSE_ORDER_ROW,
                                                 CUSPARSELT_SPARSITY_50_PERCENT));
  }
  int dense_desc(Handle* h, MatDesc* m, std::int64_t rows, std::int64_t cols, bool bf16) {
    return st(cusparseLtDenseDescriptorInit(h, m, rows, cols, cols, 16, type(bf16), CUSPARSE_ORDER_ROW));
  }
  int desc_destroy(MatDesc* m) { return st(cusparseLtMatDescriptorDestroy(m)); }
  int matmul_desc(Handle* h, MatmulDesc* mm, MatDesc* a, MatDesc* b, MatDesc* c) {
    return st(cusparseLtMatmulDescriptorInit(h, mm, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, a, b, c,
                                             c, CUSPARSE_COMPUTE_32F));
  }
  int alg_sel_init(Handle* h, AlgSel* a, MatmulDesc* mm) {
    return st(cusparseLtMatmulAlgSelectionInit(h, a, mm, CUSPARSELT_MATMUL_ALG_DEFAULT));
  }
  int plan_init(Handle* h, Plan* p, MatmulDesc* mm, AlgSel* a) { return st(cusparseLtMatmulPlanInit(h, p, mm, a)); }
  int plan_destroy(Plan* p) { return st(cusparseLtMatmulPlanDestroy(p)); }
  int prune_check(Handle* h, MatmulDesc* mm, const void* s, int* valid, Stream stream) {
    return st(cusparseLtSpMMAPruneCheck(h, mm, s, valid, stream));
  }
  int compressed_size(Handle* h, Plan* p, std::size_t* size, std::size_t* buffer) {
    return st(cusparseLtSpMMACompressedSize(h, p, size, buffer));
  }
  int compress(Handle* h, Plan* p, const void* s, void* out, void* buffer, Stream stream) {
    return st(cusparseLtSpMMACompress(h, p, s, out, buffer, stream));
  }
  int workspace_size(Handle* h, Plan* p, std::size_t* bytes) { return st(cusparseLtMatmulGetWorkspace(h, p, bytes)); }
  int search(Handle* h, Plan* p, const void* a, const void* b, void* c, void* ws, Stream stream) {
    const float alpha = 1.0f, beta = 0.0f;
    return st(cusparseLtMatmulSearch(h, p, &alpha, a, b, &beta, c, c, ws, &stream, 1));
  }
  int matmul(Handle* h, Plan* p, const void* a, const void* b, void* c, void* ws, Stream stream) {
    const float alpha = 1.0f, beta = 0.0f;
    return st(cusparseLtMatmul(h, p, &alpha, a, b, &beta, c, c, ws, &stream, 1));
  }
  int alg_id(Handle* h, AlgSel* a, int* id) {
    return st(cusparseLtMatmulAlgGetAttribute(h, a, CUSPARSELT_MATMUL_ALG_CONFIG_ID, id, sizeof(int)));
  }
  int dev_alloc(void** p, std::size_t bytes) { return cu(cuda->dev_alloc(p, bytes)); }
  int dev_free(void* p) { return cu(cuda->dev_free(p)); }
  int copy_to_host_async(void* dst, const void* src, std::size_t bytes, Stream stream) {
    return cu(cuda->copy_to_host_async(dst, src, bytes, stream));
  }
  int stream_sync(Stream stream) { return cu(cuda->stream_sync(stream)); }
  std::string describe(int s) const {
    if (s >= kCudaBase) return std::string("CUDA: ") + cuda->error_string(s - kCudaBase);
    return std::string(status_name(s)) + " (" + std::to_string(s) + ")";
  }
};

void put(char* out, std::size_t n, const std::string& s) {
  if (out != nullptr && n > 0) std::snprintf(out, n, "%s", s.c_str());
}

}  // namespace

struct StcsimLtGemm {
  LtApi api;
  std::unique_ptr<stcsim::replay::LtGemm<LtApi>> gemm;
};

extern "C" {

int stcsim_lt_abi(void) { return STCSIM_LT_ABI; }

int stcsim_lt_version(char* out, std::size_t n) {
  int major = 0, minor = 0, patch = 0;
  if (cusparseLtGetProperty(MAJOR_VERSION, &major) != CUSPARSE_STATUS_SUCCESS ||
      cusparseLtGetProperty(MINOR_VERSION, &minor) != CUSPARSE_STATUS_SUCCESS ||
      cusparseLtGetProperty(PATCH_LEVEL, &patch) != CUSPARSE_STATUS_SUCCESS) {
    put(out, n, "cuSPARSELt (version unknown)");
    return 1;
  }
  put(out, n, "cuSPARSELt " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));
  return 0;
}

StcsimLtGemm* stcsim_lt_create(const StcsimLtCuda* cuda, std::int64_t rows, std::int64_t k, std::int64_t cols, int bf16,
                               const void* s, const void* d, void* c, void* stream, int search, char* err, std::size_t errlen) {
  try {
    auto g = std::make_unique<StcsimLtGemm>();
    g->api.cuda = cuda;
    const stcsim::replay::LtShape shape{rows, k, cols, bf16 != 0};
    g->gemm = std::make_unique<stcsim::replay::LtGemm<LtApi>>(g->api, shape, s, d, c, static_cast<cudaStream_t>(stream), search != 0);
    return g.release();
  } catch (const std::exception& e) {
    put(err, errlen, e.what());
  } catch (...) {
    put(err, errlen, "cuSPARSELt: unknown error");
  }
  return nullptr;
}

int stcsim_lt_launch(StcsimLtGemm* g, char* err, std::size_t errlen) {
  try {
    g->gemm->launch();
    return 0;
  } catch (const std::exception& e) {
    put(err, errlen, e.what());
  }
  return 1;
}

int stcsim_lt_describe(const StcsimLtGemm* g, char* out, std::size_t n) {
  put(out, n, g->gemm->algorithm());
  return 0;
}

void stcsim_lt_destroy(StcsimLtGemm* g) { delete g; }

}  // extern "C"
