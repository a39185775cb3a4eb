/* A stand-in cuSPARSELt library for tests/cuda/gpu_cli_test.sh: every entry point of the stand-in
 * header (cusparseLt.h beside this file) that the plugin links, each answering "not supported" but the
 * version query. With it the plugin builds (scripts/build_cusparselt_plugin.sh) and stcsim-gpu loads it
 * on a machine without the library or a GPU; no GEMM can run through it. */
#include "cusparseLt.h"

#define NS return CUSPARSE_STATUS_NOT_SUPPORTED

cusparseStatus_t cusparseLtInit(cusparseLtHandle_t* h) { (void)h; NS; }
cusparseStatus_t cusparseLtDestroy(const cusparseLtHandle_t* h) { (void)h; NS; }
cusparseStatus_t cusparseLtGetProperty(libraryPropertyType t, int* v) {
  (void)t;
  *v = 0;
  return CUSPARSE_STATUS_SUCCESS;
}
cusparseStatus_t cusparseLtStructuredDescriptorInit(const cusparseLtHandle_t* h, cusparseLtMatDescriptor_t* m, int64_t r,
                                                    int64_t c, int64_t ld, uint32_t a, cudaDataType t, cusparseOrder_t o,
                                                    cusparseLtSparsity_t s) {
  (void)h, (void)m, (void)r, (void)c, (void)ld, (void)a, (void)t, (void)o, (void)s;
  NS;
}
cusparseStatus_t cusparseLtDenseDescriptorInit(const cusparseLtHandle_t* h, cusparseLtMatDescriptor_t* m, int64_t r, int64_t c,
                                               int64_t ld, uint32_t a, cudaDataType t, cusparseOrder_t o) {
  (void)h, (void)m, (void)r, (void)c, (void)ld, (void)a, (void)t, (void)o;
  NS;
}
cusparseStatus_t cusparseLtMatDescriptorDestroy(const cusparseLtMatDescriptor_t* m) { (void)m; NS; }
cusparseStatus_t cusparseLtMatmulDescriptorInit(const cusparseLtHandle_t* h, cusparseLtMatmulDescriptor_t* mm, cusparseOperation_t a,
                                                cusparseOperation_t b, const cusparseLtMatDescriptor_t* ma,
                                                const cusparseLtMatDescriptor_t* mb, const cusparseLtMatDescriptor_t* mc,
                                                const cusparseLtMatDescriptor_t* md, cusparseComputeType t) {
  (void)h, (void)mm, (void)a, (void)b, (void)ma, (void)mb, (void)mc, (void)md, (void)t;
  NS;
}
cusparseStatus_t cusparseLtMatmulAlgSelectionInit(const cusparseLtHandle_t* h, cusparseLtMatmulAlgSelection_t* s,
                                                  const cusparseLtMatmulDescriptor_t* mm, cusparseLtMatmulAlg_t a) {
  (void)h, (void)s, (void)mm, (void)a;
  NS;
}
cusparseStatus_t cusparseLtMatmulAlgGetAttribute(const cusparseLtHandle_t* h, const cusparseLtMatmulAlgSelection_t* s,
                                                 cusparseLtMatmulAlgAttribute_t a, void* d, size_t n) {
  (void)h, (void)s, (void)a, (void)d, (void)n;
  NS;
}
cusparseStatus_t cusparseLtMatmulPlanInit(const cusparseLtHandle_t* h, cusparseLtMatmulPlan_t* p, const cusparseLtMatmulDescriptor_t* mm,
                                          const cusparseLtMatmulAlgSelection_t* s) {
  (void)h, (void)p, (void)mm, (void)s;
  NS;
}
cusparseStatus_t cusparseLtMatmulPlanDestroy(const cusparseLtMatmulPlan_t* p) { (void)p; NS; }
cusparseStatus_t cusparseLtMatmulGetWorkspace(const cusparseLtHandle_t* h, const cusparseLtMatmulPlan_t* p, size_t* w) {
  (void)h, (void)p, (void)w;
  NS;
}
cusparseStatus_t cusparseLtSpMMAPruneCheck(const cusparseLtHandle_t* h, const cusparseLtMatmulDescriptor_t* mm, const void* in, int* v,
                                           cudaStream_t s) {
  (void)h, (void)mm, (void)in, (void)v, (void)s;
  NS;
}
cusparseStatus_t cusparseLtSpMMACompressedSize(const cusparseLtHandle_t* h, const cusparseLtMatmulPlan_t* p, size_t* a, size_t* b) {
  (void)h, (void)p, (void)a, (void)b;
  NS;
}
cusparseStatus_t cusparseLtSpMMACompress(const cusparseLtHandle_t* h, const cusparseLtMatmulPlan_t* p, const void* d, void* c, void* b,
                                         cudaStream_t s) {
  (void)h, (void)p, (void)d, (void)c, (void)b, (void)s;
  NS;
}
cusparseStatus_t cusparseLtMatmul(const cusparseLtHandle_t* h, const cusparseLtMatmulPlan_t* p, const void* al, const void* a,
                                  const void* b, const void* be, const void* c, void* d, void* w, cudaStream_t* s, int32_t n) {
  (void)h, (void)p, (void)al, (void)a, (void)b, (void)be, (void)c, (void)d, (void)w, (void)s, (void)n;
  NS;
}
cusparseStatus_t cusparseLtMatmulSearch(const cusparseLtHandle_t* h, cusparseLtMatmulPlan_t* p, const void* al, const void* a,
                                        const void* b, const void* be, const void* c, void* d, void* w, cudaStream_t* s, int32_t n) {
  (void)h, (void)p, (void)al, (void)a, (void)b, (void)be, (void)c, (void)d, (void)w, (void)s, (void)n;
  NS;
}
