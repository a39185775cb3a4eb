// The own kernel's runner: uploads the staged own_layout() arrays and D, and launches the gemm_kernel instance
// that matches the kernel config's tiling. Instances are compiled for a fixed list of tilings (below):
// adding one is one line.
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "common/checked.h"
#include "cuda/device/cuda_util.h"
#include "cuda/device/gemm_kernel.cuh"
#include "cuda/device/runners.h"
#include "cuda/host/replay_layout.h"

namespace stcsim::replay {

namespace {

using LaunchFn = void (*)(const kernels::GemmArgs&, dim3, cudaStream_t);

struct Instance {
  KernelTiling tiling;
  bool sparse;
  bool bf16;
  LaunchFn launch;
};

template <int BM, int BN, int BK, int WM, int WN, int ST, bool SP, bool BF>
void launch_instance(const kernels::GemmArgs& args, dim3 grid, cudaStream_t stream) {
  using Shape = kernels::GemmShape<BM, BN, BK, WM, WN, ST, SP>;
  auto* fn = kernels::gemm_kernel<BM, BN, BK, WM, WN, ST, SP, BF>;
  static const cudaError_t attr = cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, Shape::kSmemBytes);
  cuda_check(attr, "setting the own kernel's shared memory size");
  fn<<<grid, Shape::kThreads, Shape::kSmemBytes, stream>>>(args);
  cuda_check(cudaGetLastError(), "launching the own kernel");
}

template <int BM, int BN, int BK, int WM, int WN, int ST>
void add_tiling(std::vector<Instance>& out) {
  KernelTiling t;
  t.bm = BM, t.bn = BN, t.bk = BK, t.wm = WM, t.wn = WN, t.stages = ST;
  out.push_back({t, false, false, &launch_instance<BM, BN, BK, WM, WN, ST, false, false>});
  out.push_back({t, false, true, &launch_instance<BM, BN, BK, WM, WN, ST, false, true>});
  out.push_back({t, true, false, &launch_instance<BM, BN, BK, WM, WN, ST, true, false>});
  out.push_back({t, true, true, &launch_instance<BM, BN, BK, WM, WN, ST, true, true>});
}

const std::vector<Instance>& instances() {
  static const std::vector<Instance> all = [] {
    std::vector<Instance> v;
    add_tiling<128, 128, 64, 64, 64, 3>(v);  // configs/kernels/mma_sp_128x128x64_3stage.yaml
    add_tiling<64, 64, 64, 32, 32, 3>(v);    // small tiles: small GEMMs and narrow tw tiles
    return v;
  }();
  return all;
}

class OwnRunner : public GemmRunner {
 public:
  OwnRunner(const StagedGemm& s, cudaStream_t stream) : stream_(stream) {
    const KernelTiling& tl = s.tiling;
    const OwnLayout& layout = *s.own;
    for (const Instance& in : instances()) {
      if (in.tiling.same_shape(tl) && in.sparse == layout.sparse && in.bf16 == (s.dtype == DType::bf16)) instance_ = &in;
    }
    if (instance_ == nullptr) {
      throw UnsupportedError(fmt::format("the own kernel is not compiled for {} (compiled: {}); add the tiling in {}",
                                         tl.describe(), own_kernel_instances(), __FILE__));
    }
    kernel_ = fmt::format("own {}, {}; {}", layout.sparse ? "mma.sp m16n8k32" : "mma.sync m16n8k16", tl.describe(),
                          layout.description);
    a_ = DeviceArray<std::uint16_t>(layout.a_values);
    meta_ = DeviceArray<std::uint32_t>(layout.meta);
    ks_ = DeviceArray<std::int32_t>(layout.ks);
    rows_ = DeviceArray<std::int32_t>(layout.row_ids);
    items_ = DeviceArray<CtaItem>(layout.items);
    d_ = DeviceArray<std::uint16_t>(s.d->bits);
    c_ = DeviceArray<float>(static_cast<std::size_t>(s.rows * s.cols));
    c_.zero();  // rows no item writes (pruned whole) stay zero
    args_ = {a_.get(), meta_.get(), ks_.get(), rows_.get(), items_.get(), static_cast<int>(layout.items.size()), d_.get(),
             static_cast<int>(s.d->ld), static_cast<int>(s.cols), c_.get(), static_cast<int>(s.cols), tl.along_n};
    const auto col_blocks = static_cast<unsigned>(ceil_div(s.cols, tl.bn));
    const auto items = static_cast<unsigned>(layout.items.size());
    grid_ = tl.along_n ? dim3(col_blocks, items) : dim3(items, col_blocks);
    if (grid_.y > 65535) throw UnsupportedError(fmt::format("own kernel: grid of {} x {} CTAs is over 65535 in y", grid_.x, grid_.y));
  }

  std::string kernel() const override { return kernel_; }
  void launch() override {
    if (grid_.x == 0 || grid_.y == 0) return;  // nothing kept: C stays zero
    instance_->launch(args_, grid_, stream_);
  }
  std::vector<float> result() override { return download_floats(c_.get(), c_.size(), stream_); }

 private:
  cudaStream_t stream_;
  const Instance* instance_ = nullptr;
  std::string kernel_;
  DeviceArray<std::uint16_t> a_, d_;
  DeviceArray<std::uint32_t> meta_;
  DeviceArray<std::int32_t> ks_, rows_;
  DeviceArray<CtaItem> items_;
  DeviceArray<float> c_;
  kernels::GemmArgs args_{};
  dim3 grid_;
};

}  // namespace

std::string own_kernel_instances() {
  std::string out;
  for (const Instance& in : instances()) {
    if (in.sparse || in.bf16) continue;
    out += (out.empty() ? "" : "; ") + in.tiling.describe();
  }
  return out;
}

std::vector<KernelTiling> own_kernel_tilings() {
  std::vector<KernelTiling> out;
  for (const Instance& in : instances()) {
    if (!in.sparse && !in.bf16) out.push_back(in.tiling);
  }
  return out;
}

std::unique_ptr<GemmRunner> make_own_runner(const StagedGemm& s, cudaStream_t stream) {
  if (!s.own || !s.d) throw Error("own kernel: the GEMM was not staged for it");
  return std::make_unique<OwnRunner>(s, stream);
}

std::vector<float> download_floats(const float* d, std::size_t n, cudaStream_t stream) {
  std::vector<float> out(n);
  if (n) cuda_check(cudaMemcpyAsync(out.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost, stream), "download");
  cuda_check(cudaStreamSynchronize(stream), "waiting for the GEMM");
  return out;
}

}  // namespace stcsim::replay
