#include "cuda/device/nvml.h"

#include <dlfcn.h>

namespace stcsim::replay {

namespace {

// The few NVML entry points used, by their published C signatures (return 0 = success).
using NvmlDevice = void*;
using InitFn = int (*)();
using ShutdownFn = int (*)();
using ByPciFn = int (*)(const char*, NvmlDevice*);
using EnergyFn = int (*)(NvmlDevice, unsigned long long*);
using ClockFn = int (*)(NvmlDevice, int, unsigned*);
using LimitFn = int (*)(NvmlDevice, unsigned*);
using DriverFn = int (*)(char*, unsigned);
constexpr int kClockSm = 1;

template <class F>
F sym(void* lib, const char* name) {
  return reinterpret_cast<F>(dlsym(lib, name));
}

}  // namespace

struct Nvml::Impl {
  void* lib = nullptr;
  NvmlDevice dev = nullptr;
  ShutdownFn shutdown = nullptr;
  EnergyFn energy = nullptr;
  ClockFn clock = nullptr;
  LimitFn limit = nullptr;
  DriverFn driver = nullptr;
};

Nvml::Nvml(const std::string& pci_bus_id) : impl_(std::make_unique<Impl>()) {
  impl_->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (impl_->lib == nullptr) return;
  auto init = sym<InitFn>(impl_->lib, "nvmlInit_v2");
  auto by_pci = sym<ByPciFn>(impl_->lib, "nvmlDeviceGetHandleByPciBusId_v2");
  impl_->shutdown = sym<ShutdownFn>(impl_->lib, "nvmlShutdown");
  impl_->energy = sym<EnergyFn>(impl_->lib, "nvmlDeviceGetTotalEnergyConsumption");
  impl_->clock = sym<ClockFn>(impl_->lib, "nvmlDeviceGetClockInfo");
  impl_->limit = sym<LimitFn>(impl_->lib, "nvmlDeviceGetPowerManagementLimit");
  impl_->driver = sym<DriverFn>(impl_->lib, "nvmlSystemGetDriverVersion");
  if (init == nullptr || by_pci == nullptr || init() != 0) {
    dlclose(impl_->lib);
    impl_->lib = nullptr;
    return;
  }
  if (by_pci(pci_bus_id.c_str(), &impl_->dev) != 0) impl_->dev = nullptr;
}

Nvml::~Nvml() {
  if (impl_->lib == nullptr) return;
  if (impl_->shutdown) impl_->shutdown();
  dlclose(impl_->lib);
}

bool Nvml::loaded() const { return impl_->lib != nullptr; }

bool Nvml::available() const { return impl_->lib != nullptr && impl_->dev != nullptr; }

std::optional<std::uint64_t> Nvml::energy_mj() const {
  unsigned long long mj = 0;
  if (!available() || impl_->energy == nullptr || impl_->energy(impl_->dev, &mj) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(mj);
}

std::optional<unsigned> Nvml::sm_clock_mhz() const {
  unsigned mhz = 0;
  if (!available() || impl_->clock == nullptr || impl_->clock(impl_->dev, kClockSm, &mhz) != 0) return std::nullopt;
  return mhz;
}

std::optional<unsigned> Nvml::power_limit_mw() const {
  unsigned mw = 0;
  if (!available() || impl_->limit == nullptr || impl_->limit(impl_->dev, &mw) != 0) return std::nullopt;
  return mw;
}

std::optional<std::string> Nvml::driver_version() const {
  char buf[96] = {};
  if (!available() || impl_->driver == nullptr || impl_->driver(buf, sizeof buf) != 0) return std::nullopt;
  return std::string(buf);
}

}  // namespace stcsim::replay
