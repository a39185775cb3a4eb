// The board's energy counter, clocks and power limit through NVML, loaded at run time (dlopen of the
// driver's libnvidia-ml.so.1), so that the backend starts, and its no-GPU tests run, where no driver
// is installed. Every query answers nullopt when NVML or the value is not there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace stcsim::replay {

class Nvml {
 public:
  // Opens NVML and the device with this PCI bus id ("0000:19:00.0", from cudaDeviceGetPCIBusId).
  explicit Nvml(const std::string& pci_bus_id);
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  bool available() const;  // the library and the device
  bool loaded() const;     // the library alone
  std::optional<std::uint64_t> energy_mj() const;     // total energy since the driver loaded, millijoules
  std::optional<unsigned> sm_clock_mhz() const;        // current SM clock
  std::optional<unsigned> power_limit_mw() const;
  std::optional<std::string> driver_version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stcsim::replay
