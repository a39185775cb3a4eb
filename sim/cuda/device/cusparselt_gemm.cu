// cuSPARSELt's 2:4 GEMM through its plugin (cuda/plugin/cusparselt_plugin.h), loaded at run time:
// $STCSIM_CUSPARSELT_PLUGIN, else libstcsim_cusparselt.so in lib/ beside the binary, else beside the
// binary itself. Without the plugin (or the library it needs) the backend is absent and says why.
// The library takes S dense with its 2:4 zeros (staged padded: replay_stage.h lt_padding), checks the
// pattern and compresses S itself; what it runs is then compared with the reference like every other
// backend. Its output is in the GEMM's 16-bit type (rounds_output).
#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "cuda/device/cuda_util.h"
#include "cuda/device/runners.h"
#include "cuda/host/half.h"
#include "cuda/plugin/cusparselt_plugin.h"

namespace stcsim::replay {

namespace {

int cu_alloc(void** p, size_t bytes) { return static_cast<int>(cudaMalloc(p, bytes)); }
int cu_free(void* p) { return static_cast<int>(cudaFree(p)); }
int cu_copy(void* dst, const void* src, size_t bytes, void* stream) {
  return static_cast<int>(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream)));
}
int cu_sync(void* stream) { return static_cast<int>(cudaStreamSynchronize(static_cast<cudaStream_t>(stream))); }
const char* cu_error(int e) { return cudaGetErrorString(static_cast<cudaError_t>(e)); }
const StcsimLtCuda kCuda = {cu_alloc, cu_free, cu_copy, cu_sync, cu_error};

std::string exe_dir() {
  char buf[PATH_MAX] = {};
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<std::size_t>(n));
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

template <class F>
F sym(void* lib, const char* name) {
  return reinterpret_cast<F>(dlsym(lib, name));
}

}  // namespace

class CusparseltPlugin {
 public:
  CusparseltPlugin(void* lib, std::string path) : lib_(lib), path_(std::move(path)) {
    abi_ = sym<StcsimLtAbiFn>(lib, "stcsim_lt_abi");
    version_ = sym<StcsimLtVersionFn>(lib, "stcsim_lt_version");
    create = sym<StcsimLtCreateFn>(lib, "stcsim_lt_create");
    launch = sym<StcsimLtLaunchFn>(lib, "stcsim_lt_launch");
    describe = sym<StcsimLtDescribeFn>(lib, "stcsim_lt_describe");
    destroy = sym<StcsimLtDestroyFn>(lib, "stcsim_lt_destroy");
  }
  ~CusparseltPlugin() { dlclose(lib_); }
  CusparseltPlugin(const CusparseltPlugin&) = delete;
  CusparseltPlugin& operator=(const CusparseltPlugin&) = delete;
  bool complete() const { return abi_ && version_ && create && launch && describe && destroy && abi_() == STCSIM_LT_ABI; }
  std::string version() const {
    char buf[128] = {};
    version_(buf, sizeof buf);
    return fmt::format("{} (plugin {})", buf, path_);
  }

  StcsimLtCreateFn create = nullptr;
  StcsimLtLaunchFn launch = nullptr;
  StcsimLtDescribeFn describe = nullptr;
  StcsimLtDestroyFn destroy = nullptr;

 private:
  void* lib_;
  std::string path_;
  StcsimLtAbiFn abi_ = nullptr;
  StcsimLtVersionFn version_ = nullptr;
};

std::shared_ptr<CusparseltPlugin> load_cusparselt_plugin(std::string& note) {
  std::vector<std::string> places;
  if (const char* env = std::getenv("STCSIM_CUSPARSELT_PLUGIN")) places.emplace_back(env);
  const std::string dir = exe_dir();
  places.push_back(dir + "/lib/libstcsim_cusparselt.so");
  places.push_back(dir + "/libstcsim_cusparselt.so");
  std::string tried;
  for (const std::string& p : places) {
    if (access(p.c_str(), R_OK) != 0) {
      tried += fmt::format("{}{} (absent)", tried.empty() ? "" : "; ", p);
      continue;
    }
    void* lib = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      tried += fmt::format("{}{} ({})", tried.empty() ? "" : "; ", p, e ? e : "dlopen failed");
      continue;
    }
    auto plugin = std::make_shared<CusparseltPlugin>(lib, p);
    if (!plugin->complete()) {
      tried += fmt::format("{}{} (not a plugin of ABI {})", tried.empty() ? "" : "; ", p, STCSIM_LT_ABI);
      continue;
    }
    note.clear();
    return plugin;
  }
  note = fmt::format("no cuSPARSELt plugin: looked in {} (scripts/build_cusparselt_plugin.sh builds it)", tried);
  return nullptr;
}

std::string cusparselt_plugin_version(const CusparseltPlugin& p) { return p.version(); }

namespace {

class CusparseltRunner : public GemmRunner {
 public:
  CusparseltRunner(const StagedGemm& st, std::shared_ptr<CusparseltPlugin> plugin, cudaStream_t stream, bool search)
      : plugin_(std::move(plugin)), stream_(stream), rows_(st.rows), cols_(st.cols), dtype_(st.dtype) {
    rp_ = st.s->rows;
    kp_ = st.s->ld;
    cp_ = st.d->ld;
    s_ = DeviceArray<std::uint16_t>(st.s->bits);
    d_ = DeviceArray<std::uint16_t>(st.d->bits);
    c_ = DeviceArray<std::uint16_t>(static_cast<std::size_t>(rp_ * cp_));
    c_.zero();
    char err[512] = {};
    gemm_ = plugin_->create(&kCuda, rp_, kp_, cp_, dtype_ == DType::bf16 ? 1 : 0, s_.get(), d_.get(), c_.get(), stream_,
                            search ? 1 : 0, err, sizeof err);
    if (gemm_ == nullptr) throw Error(err);
    char alg[256] = {};
    plugin_->describe(gemm_, alg, sizeof alg);
    kernel_ = fmt::format("cusparseLtMatmul 2:4 ({}, 16-bit out)", alg);
  }
  ~CusparseltRunner() override {
    if (gemm_) plugin_->destroy(gemm_);
  }
  std::string kernel() const override { return kernel_; }
  bool rounds_output() const override { return true; }
  void launch() override {
    char err[512] = {};
    if (plugin_->launch(gemm_, err, sizeof err) != 0) throw Error(err);
  }
  std::vector<float> result() override {
    std::vector<std::uint16_t> bits(c_.size());
    cuda_check(cudaMemcpyAsync(bits.data(), c_.get(), bits.size() * 2, cudaMemcpyDeviceToHost, stream_), "download");
    cuda_check(cudaStreamSynchronize(stream_), "waiting for the GEMM");
    std::vector<float> out(static_cast<std::size_t>(rows_ * cols_));
    for (std::int64_t r = 0; r < rows_; ++r) {
      for (std::int64_t c = 0; c < cols_; ++c) {
        out[static_cast<std::size_t>(r * cols_ + c)] = from_half_bits(bits[static_cast<std::size_t>(r * cp_ + c)], dtype_);
      }
    }
    return out;
  }

 private:
  std::shared_ptr<CusparseltPlugin> plugin_;
  cudaStream_t stream_;
  std::int64_t rows_, cols_, rp_ = 0, kp_ = 0, cp_ = 0;
  DType dtype_;
  DeviceArray<std::uint16_t> s_, d_, c_;
  StcsimLtGemm* gemm_ = nullptr;
  std::string kernel_;
};

}  // namespace

std::unique_ptr<GemmRunner> make_cusparselt_runner(const StagedGemm& s, std::shared_ptr<CusparseltPlugin> plugin, cudaStream_t stream,
                                                   bool search) {
  if (!plugin) throw UnsupportedError("cuSPARSELt: no plugin loaded");
  if (!s.s || !s.d) throw Error("cuSPARSELt: the GEMM was not staged for it");
  return std::make_unique<CusparseltRunner>(s, std::move(plugin), stream, search);
}

}  // namespace stcsim::replay
