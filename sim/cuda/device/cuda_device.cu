#include "cuda/device/cuda_device.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "cuda/device/cuda_util.h"
#include "cuda/device/nvml.h"
#include "cuda/device/runners.h"

namespace stcsim::replay {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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

// cuBLAS's workspace, given to the handle so that graph capture needs no allocation (32 MiB: the
// size cuBLAS's documentation recommends for Hopper).
constexpr std::size_t kCublasWorkspace = std::size_t{32} << 20;

class Graph {
 public:
  Graph() = default;
  ~Graph() {
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  cudaGraph_t* graph() { return &graph_; }
  cudaGraphExec_t* exec() { return &exec_; }
  cudaGraphExec_t get() const { return exec_; }

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

class CudaDevice : public Device {
 public:
  explicit CudaDevice(const CudaDeviceOptions& opt) : opt_(opt) {
    cuda_check(cudaSetDevice(opt.index), "cudaSetDevice");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    if (cublasCreate(&cublas_) != CUBLAS_STATUS_SUCCESS) throw Error("cuBLAS: cublasCreate failed");
    if (cusparseCreate(&cusparse_) != CUSPARSE_STATUS_SUCCESS) throw Error("cuSPARSE: cusparseCreate failed");
    // The stream first, then the workspace: cublasSetStream resets the workspace to the default pool.
    if (cublasSetStream(cublas_, stream_) != CUBLAS_STATUS_SUCCESS) throw Error("cuBLAS: cublasSetStream failed");
    workspace_ = DeviceArray<unsigned char>(kCublasWorkspace);
    if (cublasSetWorkspace(cublas_, workspace_.get(), kCublasWorkspace) != CUBLAS_STATUS_SUCCESS) {
      throw Error("cuBLAS: cublasSetWorkspace failed");
    }
    char bus[32] = {};
    cuda_check(cudaDeviceGetPCIBusId(bus, sizeof bus, opt.index), "cudaDeviceGetPCIBusId");
    nvml_ = std::make_unique<Nvml>(bus);
    lt_ = load_cusparselt_plugin(lt_note_);
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
    d.memory_bytes = prop.totalGlobalMem;
    d.l2_bytes = prop.l2CacheSize;
    int v = 0, khz = 0;
    cuda_check(cudaDriverGetVersion(&v), "cudaDriverGetVersion");
    d.driver_version = fmt::format("CUDA driver API {}.{}", v / 1000, (v % 1000) / 10);
    if (const auto nv = nvml_->driver_version()) d.driver_version += ", driver " + *nv;
    cuda_check(cudaRuntimeGetVersion(&v), "cudaRuntimeGetVersion");
    d.runtime_version = fmt::format("CUDA runtime {}.{}", v / 1000, (v % 1000) / 10);
    int cb = 0, cs = 0;
    cublasGetVersion(cublas_, &cb);
    cusparseGetVersion(cusparse_, &cs);
    d.library_versions = fmt::format("cuBLAS {}, cuSPARSE {}, {}", cb, cs, lt_ ? cusparselt_plugin_version(*lt_) : lt_note_);
    cuda_check(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, opt_.index), "clock rate");
    d.sm_clock_max_mhz = khz * 1e-3;
    cuda_check(cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, opt_.index), "memory clock rate");
    d.mem_clock_max_mhz = khz * 1e-3;
    d.nvml = nvml_->available();
    if (const auto mhz = nvml_->sm_clock_mhz()) d.sm_clock_now_mhz = *mhz;
    if (const auto mw = nvml_->power_limit_mw()) d.power_limit_w = *mw * 1e-3;
    return d;
  }

  bool has_backend(Backend b) const override { return b != Backend::cusparselt || lt_ != nullptr; }
  std::string backend_note(Backend b) const override { return b == Backend::cusparselt && !lt_ ? lt_note_ : std::string(); }

  std::unique_ptr<GemmRunner> prepare(const StagedGemm& s) override {
    switch (s.backend) {
      case Backend::cublas: return make_cublas_runner(s, cublas_, stream_);
      case Backend::own: return make_own_runner(s, stream_);
      case Backend::cusparselt: return make_cusparselt_runner(s, lt_, stream_, opt_.lt_search);
      case Backend::cusparse: return make_cusparse_runner(s, cusparse_, stream_);
    }
    throw Error("unknown backend");
  }

  Timing time(GemmRunner& r, const TimingOptions& t) override {
    Timing out;
    // One launch, which also loads the kernel's module: its time sizes the warm-up batches.
    const double t1 = timed([&] { r.launch(); });
    long batch = std::clamp(static_cast<long>(std::ceil(5e-3 / std::max(t1, 1e-7))), 1L, static_cast<long>(t.max_batch));
    const auto w0 = Clock::now();
    while (since(w0) < t.warmup_s) {
      for (long i = 0; i < batch; ++i) r.launch();
      cuda_check(cudaStreamSynchronize(stream_), "warm-up");
    }
    out.warmup_done_s = since(w0);
    // The launch time at the warmed-up clock sizes the samples.
    const double tb = timed([&] {
                        for (long i = 0; i < batch; ++i) r.launch();
                      }) /
                      static_cast<double>(batch);
    const long n = std::clamp(static_cast<long>(std::ceil(t.min_sample_s / std::max(tb, 1e-9))), 1L, static_cast<long>(t.max_batch));
    out.launches_per_sample = n;
    Graph graph;
    out.method = "stream";
    if (t.graph) out.method = capture(r, n, graph);
    auto run_sample = [&] {
      if (graph.get() != nullptr) {
        cuda_check(cudaGraphLaunch(graph.get(), stream_), "cudaGraphLaunch");
      } else {
        for (long i = 0; i < n; ++i) r.launch();
      }
    };
    std::vector<double> clocks;
    for (int i = 0; i < t.repeats; ++i) {
      Event a, b;
      cuda_check(cudaEventRecord(a.get(), stream_), "cudaEventRecord");
      run_sample();
      cuda_check(cudaEventRecord(b.get(), stream_), "cudaEventRecord");
      sample_clock(clocks);
      // The clock is sampled while the sample runs (every millisecond), not after it.
      auto last = Clock::now();
      for (;;) {
        const cudaError_t q = cudaEventQuery(b.get());
        if (q == cudaSuccess) break;
        if (q != cudaErrorNotReady) cuda_check(q, "timed launches");
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        if (since(last) >= 1e-3) {
          sample_clock(clocks);
          last = Clock::now();
        }
      }
      out.seconds.push_back(elapsed_s(a, b) / static_cast<double>(n));
    }
    if (!clocks.empty()) {
      std::sort(clocks.begin(), clocks.end());
      out.clock_samples = static_cast<int>(clocks.size());
      out.sm_clock_mhz = clocks[clocks.size() / 2];
      out.sm_clock_min_mhz = clocks.front();
      out.sm_clock_max_mhz = clocks.back();
    }
    if (t.energy_window_s > 0 && nvml_->energy_mj()) out.energy_j = energy_per_launch(r, out.median(), t.energy_window_s);
    return out;
  }

  std::optional<std::string> lost() override {
    (void)cudaGetLastError();  // clears errors that do not outlive the call that raised them
    const cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) return std::nullopt;
    return fmt::format("the CUDA context is lost: {} ({})", cudaGetErrorString(e), static_cast<int>(e));
  }

 private:
  template <class F>
  double timed(F&& f) {
    Event a, b;
    cuda_check(cudaEventRecord(a.get(), stream_), "cudaEventRecord");
    f();
    cuda_check(cudaEventRecord(b.get(), stream_), "cudaEventRecord");
    cuda_check(cudaEventSynchronize(b.get()), "timed launch");
    return elapsed_s(a, b);
  }

  void sample_clock(std::vector<double>& clocks) {
    if (const auto mhz = nvml_->sm_clock_mhz()) clocks.push_back(*mhz);
  }

  // Captures n launches as a graph; the timing method, or why the stream is used instead.
  std::string capture(GemmRunner& r, long n, Graph& g) {
    cuda_check(cudaStreamSynchronize(stream_), "before capture");
    std::string why;
    if (cudaStreamBeginCapture(stream_, cudaStreamCaptureModeRelaxed) != cudaSuccess) {
      (void)cudaGetLastError();
      return "stream (graph capture could not start)";
    }
    try {
      for (long i = 0; i < n; ++i) r.launch();
    } catch (const std::exception& e) {
      why = e.what();
    }
    const cudaError_t end = cudaStreamEndCapture(stream_, g.graph());
    if (why.empty() && end != cudaSuccess) why = cudaGetErrorString(end);
    if (why.empty() && cudaGraphInstantiate(g.exec(), *g.graph(), 0) != cudaSuccess) why = "cudaGraphInstantiate failed";
    if (why.empty() && cudaGraphLaunch(g.get(), stream_) != cudaSuccess) why = "the first graph launch failed";
    if (why.empty() && cudaStreamSynchronize(stream_) != cudaSuccess) why = "the first graph launch failed";
    if (!why.empty()) {
      (void)cudaGetLastError();
      if (g.get() != nullptr) {
        cudaGraphExecDestroy(g.get());
        *g.exec() = nullptr;
      }
      return "stream (graph capture failed: " + why + ")";
    }
    return "graph";
  }

  // Launches back to back for about window_s and divides the board energy by the launches.
  double energy_per_launch(GemmRunner& r, double median_s, double window_s) {
    const double per = std::max(median_s, 1e-6);
    const long n = std::clamp(static_cast<long>(std::ceil(window_s / per)), 1L, 1000000L);
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
  DeviceArray<unsigned char> workspace_;
  std::unique_ptr<Nvml> nvml_;
  std::shared_ptr<CusparseltPlugin> lt_;
  std::string lt_note_;
};

}  // namespace

std::vector<KernelTiling> compiled_tilings() { return own_kernel_tilings(); }

std::vector<std::string> runtime_library_report() {
  std::vector<std::string> out;
  std::string note;
  const auto lt = load_cusparselt_plugin(note);
  out.push_back(lt ? "cuSPARSELt: " + cusparselt_plugin_version(*lt) : "cuSPARSELt: " + note);
  Nvml nvml("");
  out.push_back(std::string("NVML (libnvidia-ml.so.1): ") + (nvml.loaded() ? "loaded" : "not found"));
  return out;
}

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
