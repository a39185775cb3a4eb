#include "cuda/device/cuda_device.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda/device/cuda_util.h"
#include "cuda/device/nvml.h"
#include "cuda/device/runners.h"

namespace stcsim::replay {

namespace {

class Event {
 public:
  Event() { cuda_check(cudaEventCreate(&e_), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_{};
};

double elapsed_s(const Event& a, const Event& b) {
  float ms = 0;
  cuda_check(cudaEventElapsedTime(&ms, a.get(), b.get()), "cudaEventElapsedTime");
  return static_cast<double>(ms) * 1e-3;
}

class CudaDevice : public Device {
 public:
  explicit CudaDevice(const CudaDeviceOptions& opt) : opt_(opt) {
    cuda_check(cudaSetDevice(opt.index), "cudaSetDevice");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    if (cublasCreate(&cublas_) != CUBLAS_STATUS_SUCCESS) throw Error("cuBLAS: cublasCreate failed");
    if (cusparseCreate(&cusparse_) != CUSPARSE_STATUS_SUCCESS) throw Error("cuSPARSE: cusparseCreate failed");
    char bus[32] = {};
    cuda_check(cudaDeviceGetPCIBusId(bus, sizeof bus, opt.index), "cudaDeviceGetPCIBusId");
    nvml_ = std::make_unique<Nvml>(bus);
  }
  ~CudaDevice() override {
    cusparseDestroy(cusparse_);
    cublasDestroy(cublas_);
    cudaStreamDestroy(stream_);
  }

  DeviceInfo info() override {
    DeviceInfo d;
    cudaDeviceProp prop{};
    cuda_check(cudaGetDeviceProperties(&prop, opt_.index), "cudaGetDeviceProperties");
    d.name = prop.name;
    d.compute_capability = fmt::format("{}.{}", prop.major, prop.minor);
    d.sms = prop.multiProcessorCount;
    int v = 0, khz = 0;
    cuda_check(cudaDriverGetVersion(&v), "cudaDriverGetVersion");
    d.driver_version = fmt::format("CUDA driver API {}.{}", v / 1000, (v % 1000) / 10);
    if (const auto nv = nvml_->driver_version()) d.driver_version += ", driver " + *nv;
    cuda_check(cudaRuntimeGetVersion(&v), "cudaRuntimeGetVersion");
    d.runtime_version = fmt::format("CUDA runtime {}.{}", v / 1000, (v % 1000) / 10);
    int cb = 0, cs = 0;
    cublasGetVersion(cublas_, &cb);
    cusparseGetVersion(cusparse_, &cs);
    d.library_versions = fmt::format("cuBLAS {}, cuSPARSE {}, {}", cb, cs, cusparselt_version());
    cuda_check(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, opt_.index), "clock rate");
    d.sm_clock_max_mhz = khz * 1e-3;
    cuda_check(cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, opt_.index), "memory clock rate");
    d.mem_clock_max_mhz = khz * 1e-3;
    d.nvml = nvml_->available();
    if (const auto mw = nvml_->power_limit_mw()) d.power_limit_w = *mw * 1e-3;
    return d;
  }

  bool has_backend(Backend b) const override { return b != Backend::cusparselt || cusparselt_built(); }

  std::unique_ptr<GemmRunner> prepare(Backend b, const ReplayProblem& p, const KernelTiling& tiling) override {
    switch (b) {
      case Backend::cublas: return make_cublas_runner(p, cublas_, stream_);
      case Backend::own: return make_own_runner(p, tiling, stream_);
      case Backend::cusparselt: return make_cusparselt_runner(p, stream_);
      case Backend::cusparse: return make_cusparse_runner(p, cusparse_, stream_);
    }
    throw Error("unknown backend");
  }

  std::vector<float> reference(const ReplayProblem& p) override {
    auto r = make_cublas_runner(p, cublas_, stream_);
    r->launch();
    return r->result();
  }

  Timing time(GemmRunner& r, int warmup, int repeats) override {
    Timing t;
    for (int i = 0; i < warmup; ++i) r.launch();
    cuda_check(cudaStreamSynchronize(stream_), "warm-up");
    std::vector<Event> start(static_cast<std::size_t>(repeats)), stop(static_cast<std::size_t>(repeats));
    for (int i = 0; i < repeats; ++i) {
      cuda_check(cudaEventRecord(start[static_cast<std::size_t>(i)].get(), stream_), "cudaEventRecord");
      r.launch();
      cuda_check(cudaEventRecord(stop[static_cast<std::size_t>(i)].get(), stream_), "cudaEventRecord");
    }
    cuda_check(cudaStreamSynchronize(stream_), "timed launches");
    for (int i = 0; i < repeats; ++i) t.seconds.push_back(elapsed_s(start[static_cast<std::size_t>(i)], stop[static_cast<std::size_t>(i)]));
    if (const auto mhz = nvml_->sm_clock_mhz()) t.sm_clock_mhz = *mhz;
    if (opt_.energy_window_s > 0 && nvml_->energy_mj()) t.energy_j = energy_per_launch(r, t.median());
    return t;
  }

 private:
  // Launches back to back for about energy_window_s and divides the board energy by the launches.
  double energy_per_launch(GemmRunner& r, double median_s) {
    const double per = std::max(median_s, 1e-6);
    const long n = std::clamp(static_cast<long>(std::ceil(opt_.energy_window_s / per)), 1L, 1000000L);
    const auto before = nvml_->energy_mj();
    for (long i = 0; i < n; ++i) r.launch();
    cuda_check(cudaStreamSynchronize(stream_), "energy window");
    const auto after = nvml_->energy_mj();
    if (!before || !after || *after < *before) return -1;
    return static_cast<double>(*after - *before) * 1e-3 / static_cast<double>(n);
  }

  CudaDeviceOptions opt_;
  cudaStream_t stream_{};
  cublasHandle_t cublas_{};
  cusparseHandle_t cusparse_{};
  std::unique_ptr<Nvml> nvml_;
};

}  // namespace

std::vector<KernelTiling> compiled_tilings() { return own_kernel_tilings(); }

std::unique_ptr<Device> open_cuda_device(const CudaDeviceOptions& opt) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) throw NoGpuError(fmt::format("no GPU: {}", cudaGetErrorString(e)));
  if (count == 0) throw NoGpuError("no GPU: no CUDA device found");
  if (opt.index < 0 || opt.index >= count) {
    throw NoGpuError(fmt::format("--device {}: there are {} CUDA device(s)", opt.index, count));
  }
  return std::make_unique<CudaDevice>(opt);
}

}  // namespace stcsim::replay
