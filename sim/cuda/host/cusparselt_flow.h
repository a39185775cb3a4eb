// cuSPARSELt's 2:4 GEMM as a sequence of library calls, written once against an API table so that the
// same code runs on the GPU (device/cusparselt_plugin.cpp, Api = the library and the CUDA runtime) and
// in the host tests (a recording stand-in that models stream order). What it guarantees:
//   - every object it creates is destroyed, also when a later step fails (one guard per object);
//   - the prune check's answer is read only after the stream it ran on has finished (the check runs
//     asynchronously on `stream`; a copy that does not wait for that stream could read the flag before
//     the library wrote it, and pass or fail the check at random);
//   - with `search`, the algorithm is chosen once by cusparseLtMatmulSearch here, outside any timed
//     region, and the workspace is sized for the algorithm chosen;
//   - launch() is the GEMM alone.
// S is rows x k, D k x cols, C rows x cols, row-major, 16-bit, already padded (replay_stage.h
// lt_padding) and in device memory.
//
// Api provides: types Handle, MatDesc, MatmulDesc, AlgSel, Plan, Stream; int status codes (0 = success)
// from init, destroy, structured_desc, dense_desc, desc_destroy, matmul_desc, alg_sel_init, plan_init,
// plan_destroy, prune_check, compressed_size, compress, workspace_size, search, matmul, alg_id;
// device memory through dev_alloc, dev_free, copy_to_host_async and stream_sync; and describe(status).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "common/error.h"

namespace stcsim::replay {

struct LtShape {
  std::int64_t rows = 0, k = 0, cols = 0;  // padded
  bool bf16 = false;
};

template <class Api>
class LtGemm {
 public:
  LtGemm(Api& api, const LtShape& shape, const void* s, const void* d, void* c, typename Api::Stream stream, bool search)
      : api_(api), shape_(shape), d_(d), c_(c), stream_(stream) {
    // A constructor that throws runs no destructor: what was made so far is released here.
    try {
      setup(s, search);
    } catch (...) {
      release();
      throw;
    }
  }

  ~LtGemm() { release(); }
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  void launch() { check(api_.matmul(&handle_, &plan_, compressed_, d_, c_, workspace_, stream_), "cusparseLtMatmul"); }

  std::string algorithm() const {
    std::string s = searched_ ? "cusparseLtMatmulSearch" : "default algorithm";
    if (alg_id_ >= 0) s += ", config id " + std::to_string(alg_id_);
    return s;
  }

 private:
  void setup(const void* s, bool search) {
    const LtShape& shape = shape_;
    check(api_.init(&handle_), "cusparseLtInit");
    handle_live_ = true;
    check(api_.structured_desc(&handle_, &ma_, shape.rows, shape.k, shape.bf16), "structured descriptor (S)");
    ma_live_ = true;
    check(api_.dense_desc(&handle_, &mb_, shape.k, shape.cols, shape.bf16), "dense descriptor (D)");
    mb_live_ = true;
    check(api_.dense_desc(&handle_, &mc_, shape.rows, shape.cols, shape.bf16), "dense descriptor (C)");
    mc_live_ = true;
    check(api_.matmul_desc(&handle_, &mm_, &ma_, &mb_, &mc_), "matmul descriptor");
    check(api_.alg_sel_init(&handle_, &alg_, &mm_), "algorithm selection");
    check(api_.plan_init(&handle_, &plan_, &mm_, &alg_), "plan");
    plan_live_ = true;

    // The prune check writes its answer on `stream`; it is copied back on the same stream and read
    // only once the stream has finished.
    int* valid_dev = static_cast<int*>(alloc(sizeof(int), "the prune check's flag"));
    check(api_.prune_check(&handle_, &mm_, s, valid_dev, stream_), "prune check");
    int valid = -1;
    check(api_.copy_to_host_async(&valid, valid_dev, sizeof(int), stream_), "copying the prune check's flag");
    check(api_.stream_sync(stream_), "waiting for the prune check");
    if (valid != 0) throw Error("cuSPARSELt: the library does not accept the compressor's mask as 2:4");

    std::size_t csize = 0, cbuf = 0;
    check(api_.compressed_size(&handle_, &plan_, &csize, &cbuf), "compressed size");
    compressed_ = alloc(csize, "the compressed S");
    void* buffer = alloc(cbuf, "the compression buffer");
    check(api_.compress(&handle_, &plan_, s, compressed_, buffer, stream_), "compress");
    check(api_.stream_sync(stream_), "compress");
    size_workspace();
    if (search) {
      check(api_.search(&handle_, &plan_, compressed_, d_, c_, workspace_, stream_), "cusparseLtMatmulSearch");
      check(api_.stream_sync(stream_), "cusparseLtMatmulSearch");
      searched_ = true;
      size_workspace();  // the algorithm chosen may want another workspace
    }
    int id = -1;
    if (api_.alg_id(&handle_, &alg_, &id) == 0) alg_id_ = id;
  }

  void release() {
    for (std::size_t i = 0; i < n_buffers_; ++i) {
      if (buffers_[i].second) api_.dev_free(buffers_[i].first);
      buffers_[i].second = false;
    }
    if (plan_live_) api_.plan_destroy(&plan_);
    if (mc_live_) api_.desc_destroy(&mc_);
    if (mb_live_) api_.desc_destroy(&mb_);
    if (ma_live_) api_.desc_destroy(&ma_);
    if (handle_live_) api_.destroy(&handle_);
    plan_live_ = mc_live_ = mb_live_ = ma_live_ = handle_live_ = false;
  }

  void check(int status, const char* what) {
    if (status != 0) throw Error(std::string("cuSPARSELt: ") + what + ": " + api_.describe(status));
  }
  void* alloc(std::size_t bytes, const char* what) {
    if (n_buffers_ == kMaxBuffers) throw Error(std::string("cuSPARSELt: too many device buffers, allocating ") + what);
    void* p = nullptr;
    check(api_.dev_alloc(&p, bytes == 0 ? 1 : bytes), what);
    buffers_[n_buffers_++] = {p, true};
    return p;
  }
  void size_workspace() {
    std::size_t w = 0;
    check(api_.workspace_size(&handle_, &plan_, &w), "workspace size");
    if (workspace_ != nullptr && w <= workspace_bytes_) return;
    for (std::size_t i = 0; i < n_buffers_; ++i) {
      if (buffers_[i].first == workspace_ && buffers_[i].second) {
        api_.dev_free(workspace_);
        buffers_[i].second = false;
      }
    }
    workspace_ = alloc(w, "the workspace");
    workspace_bytes_ = w;
  }

  Api& api_;
  LtShape shape_;
  const void* d_;
  void* c_;
  typename Api::Stream stream_;
  typename Api::Handle handle_{};
  typename Api::MatDesc ma_{}, mb_{}, mc_{};
  typename Api::MatmulDesc mm_{};
  typename Api::AlgSel alg_{};
  typename Api::Plan plan_{};
  bool handle_live_ = false, ma_live_ = false, mb_live_ = false, mc_live_ = false, plan_live_ = false;
  static constexpr std::size_t kMaxBuffers = 8;
  std::pair<void*, bool> buffers_[kMaxBuffers] = {};
  std::size_t n_buffers_ = 0;
  void* compressed_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  bool searched_ = false;
  int alg_id_ = -1;
};

}  // namespace stcsim::replay
