/* The cuSPARSELt plugin's C interface (libstcsim_cusparselt.so). stcsim-gpu loads the plugin at run
 * time (device/cusparselt_gemm.cu), so that one binary runs with cuSPARSELt where the library is and
 * without it elsewhere, and so that the plugin can be built on a GPU machine against the library found
 * there (scripts/build_cusparselt_plugin.sh) with a plain C++ compiler. The plugin calls no CUDA runtime
 * function of its own: device memory and stream waits go through the table the binary passes, so the
 * process has one CUDA runtime. Every function returns 0 on success, else writes a one-line message
 * into err (errlen bytes). */
#ifndef STCSIM_CUSPARSELT_PLUGIN_H
#define STCSIM_CUSPARSELT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCSIM_LT_ABI 1

/* The binary's CUDA runtime: 0 on success, else the cudaError_t value. */
typedef struct StcsimLtCuda {
  int (*dev_alloc)(void** p, size_t bytes);
  int (*dev_free)(void* p);
  int (*copy_to_host_async)(void* dst, const void* src, size_t bytes, void* stream);
  int (*stream_sync)(void* stream);
  const char* (*error_string)(int status);
} StcsimLtCuda;

typedef struct StcsimLtGemm StcsimLtGemm;

typedef int (*StcsimLtAbiFn)(void);
typedef int (*StcsimLtVersionFn)(char* out, size_t n);
typedef StcsimLtGemm* (*StcsimLtCreateFn)(const StcsimLtCuda* cuda, int64_t rows, int64_t k, int64_t cols, int bf16,
                                          const void* s, const void* d, void* c, void* stream, int search, char* err,
                                          size_t errlen);
typedef int (*StcsimLtLaunchFn)(StcsimLtGemm* g, char* err, size_t errlen);
typedef int (*StcsimLtDescribeFn)(const StcsimLtGemm* g, char* out, size_t n);
typedef void (*StcsimLtDestroyFn)(StcsimLtGemm* g);

/* STCSIM_LT_ABI of the plugin. */
int stcsim_lt_abi(void);
/* "cuSPARSELt x.y.z" (the library's run-time version). */
int stcsim_lt_version(char* out, size_t n);
/* S (rows x k), D (k x cols) and C (rows x cols): row-major 16-bit device arrays, padded as cuSPARSELt
 * needs (rows and cols multiples of 32, k of 64). Checks that S is 2:4, compresses it, and with
 * search != 0 runs cusparseLtMatmulSearch once. NULL on failure. */
StcsimLtGemm* stcsim_lt_create(const StcsimLtCuda* cuda, int64_t rows, int64_t k, int64_t cols, int bf16, const void* s,
                               const void* d, void* c, void* stream, int search, char* err, size_t errlen);
/* One GEMM, asynchronous on the stream given at creation. */
int stcsim_lt_launch(StcsimLtGemm* g, char* err, size_t errlen);
/* The algorithm used ("cusparseLtMatmulSearch, config id 3"). */
int stcsim_lt_describe(const StcsimLtGemm* g, char* out, size_t n);
void stcsim_lt_destroy(StcsimLtGemm* g);

#ifdef __cplusplus
}
#endif

#endif
