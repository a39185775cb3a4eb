/* A stand-in for cuSPARSELt's header, with the declarations sim/cuda/plugin/cusparselt_plugin.cpp uses,
 * written from the library's public API reference (docs.nvidia.com/cuda/cusparselt). It exists only
 * so that the plugin compiles where the library is not installed (the development and CI machines):
 * nothing built against it is linked or run. The opaque structures' sizes here are not the library's;
 * the real plugin is always built against the real header (scripts/build_cusparselt_plugin.sh). */
#ifndef STCSIM_STUB_CUSPARSELT_H
#define STCSIM_STUB_CUSPARSELT_H

#include <cuda_runtime_api.h>
#include <cusparse.h>
#include <library_types.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { uint8_t data[1024]; } cusparseLtHandle_t;
typedef struct { uint8_t data[1024]; } cusparseLtMatDescriptor_t;
typedef struct { uint8_t data[1024]; } cusparseLtMatmulDescriptor_t;
typedef struct { uint8_t data[1024]; } cusparseLtMatmulAlgSelection_t;
typedef struct { uint8_t data[1024]; } cusparseLtMatmulPlan_t;

typedef enum { CUSPARSELT_SPARSITY_50_PERCENT } cusparseLtSparsity_t;
typedef enum { CUSPARSE_COMPUTE_32I, CUSPARSE_COMPUTE_16F, CUSPARSE_COMPUTE_32F } cusparseComputeType;
typedef enum { CUSPARSELT_MATMUL_ALG_DEFAULT } cusparseLtMatmulAlg_t;
typedef enum { CUSPARSELT_MATMUL_ALG_CONFIG_ID = 0 } cusparseLtMatmulAlgAttribute_t;

cusparseStatus_t cusparseLtInit(cusparseLtHandle_t* handle);
cusparseStatus_t cusparseLtDestroy(const cusparseLtHandle_t* handle);
cusparseStatus_t cusparseLtGetProperty(libraryPropertyType propertyType, int* value);
cusparseStatus_t cusparseLtStructuredDescriptorInit(const cusparseLtHandle_t* handle, cusparseLtMatDescriptor_t* matDescr,
                                                    int64_t rows, int64_t cols, int64_t ld, uint32_t alignment,
                                                    cudaDataType valueType, cusparseOrder_t order, cusparseLtSparsity_t sparsity);
cusparseStatus_t cusparseLtDenseDescriptorInit(const cusparseLtHandle_t* handle, cusparseLtMatDescriptor_t* matDescr,
                                               int64_t rows, int64_t cols, int64_t ld, uint32_t alignment,
                                               cudaDataType valueType, cusparseOrder_t order);
cusparseStatus_t cusparseLtMatDescriptorDestroy(const cusparseLtMatDescriptor_t* matDescr);
cusparseStatus_t cusparseLtMatmulDescriptorInit(const cusparseLtHandle_t* handle, cusparseLtMatmulDescriptor_t* matmulDescr,
                                                cusparseOperation_t opA, cusparseOperation_t opB,
                                                const cusparseLtMatDescriptor_t* matA, const cusparseLtMatDescriptor_t* matB,
                                                const cusparseLtMatDescriptor_t* matC, const cusparseLtMatDescriptor_t* matD,
                                                cusparseComputeType computeType);
cusparseStatus_t cusparseLtMatmulAlgSelectionInit(const cusparseLtHandle_t* handle, cusparseLtMatmulAlgSelection_t* algSelection,
                                                  const cusparseLtMatmulDescriptor_t* matmulDescr, cusparseLtMatmulAlg_t alg);
cusparseStatus_t cusparseLtMatmulAlgGetAttribute(const cusparseLtHandle_t* handle,
                                                 const cusparseLtMatmulAlgSelection_t* algSelection,
                                                 cusparseLtMatmulAlgAttribute_t attribute, void* data, size_t dataSize);
cusparseStatus_t cusparseLtMatmulPlanInit(const cusparseLtHandle_t* handle, cusparseLtMatmulPlan_t* plan,
                                          const cusparseLtMatmulDescriptor_t* matmulDescr,
                                          const cusparseLtMatmulAlgSelection_t* algSelection);
cusparseStatus_t cusparseLtMatmulPlanDestroy(const cusparseLtMatmulPlan_t* plan);
cusparseStatus_t cusparseLtMatmulGetWorkspace(const cusparseLtHandle_t* handle, const cusparseLtMatmulPlan_t* plan,
                                              size_t* workspaceSize);
cusparseStatus_t cusparseLtSpMMAPruneCheck(const cusparseLtHandle_t* handle, const cusparseLtMatmulDescriptor_t* matmulDescr,
                                           const void* d_in, int* d_valid, cudaStream_t stream);
cusparseStatus_t cusparseLtSpMMACompressedSize(const cusparseLtHandle_t* handle, const cusparseLtMatmulPlan_t* plan,
                                               size_t* compressedSize, size_t* compressedBufferSize);
cusparseStatus_t cusparseLtSpMMACompress(const cusparseLtHandle_t* handle, const cusparseLtMatmulPlan_t* plan,
                                         const void* d_dense, void* d_compressed, void* d_compressed_buffer,
                                         cudaStream_t stream);
cusparseStatus_t cusparseLtMatmul(const cusparseLtHandle_t* handle, const cusparseLtMatmulPlan_t* plan, const void* alpha,
                                  const void* d_A, const void* d_B, const void* beta, const void* d_C, void* d_D,
                                  void* workspace, cudaStream_t* streams, int32_t numStreams);
cusparseStatus_t cusparseLtMatmulSearch(const cusparseLtHandle_t* handle, cusparseLtMatmulPlan_t* plan, const void* alpha,
                                        const void* d_A, const void* d_B, const void* beta, const void* d_C, void* d_D,
                                        void* workspace, cudaStream_t* streams, int32_t numStreams);

#ifdef __cplusplus
}
#endif

#endif
