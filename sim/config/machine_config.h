// A whole machine: the GPU (arch), the GEMM kernel it runs (kernel) and the energy per action
// (energy), loaded from one YAML document with includes and --set overrides, checked section by
// section and then across sections (the kernel's instruction exists on the GPU, its shared memory
// and threads fit an SM, the energy table covers the GPU's data types).
//
// Left out: multi-GPU systems, and anything about the workload (GEMM shapes, patterns: see traces).
#pragma once

#include <string>
#include <vector>

#include "config/energy_config.h"
#include "config/gpu_config.h"
#include "config/kernel_config.h"
#include "config/yaml_doc.h"

namespace stcsim {

struct MachineConfig {
  GpuConfig arch;
  KernelConfig kernel;
  // More kernels a tuned library could pick from (`kernel.candidates`: a list of mappings, each
  // merged key by key onto `kernel`, each with its own name). Every GEMM line runs the candidate
  // (with `kernel` itself first) that the simulator times fastest on it (gpu/simulation.h). Empty:
  // `kernel` alone.
  std::vector<KernelConfig> kernel_candidates;
  EnergyConfig energy;

  // The machine once per kernel it can run: `kernel` first, then each candidate as `kernel` (their
  // kernel_candidates empty).
  std::vector<MachineConfig> kernel_variants() const;

  // Reads all three sections (each required; no other top-level key) and checks them together.
  static MachineConfig from_yaml(const YamlDoc& doc);
  bool operator==(const MachineConfig& o) const {
    return arch == o.arch && kernel == o.kernel && kernel_candidates == o.kernel_candidates && energy == o.energy;
  }
  bool operator!=(const MachineConfig& o) const { return !(*this == o); }
};

// Loads a machine file, applying each "a.b.c=value" of `sets` (as given to --set) in order after
// includes. IoError if the file cannot be read, ConfigError naming file:line and key path otherwise.
MachineConfig load_machine_config(const std::string& path, const std::vector<std::string>& sets = {});

// For `stcsim validate`: checks whichever of arch, kernel and energy the file holds (an include
// shared between machines may hold only one), and across the sections it holds. Any other
// top-level key, or a file with none of the three, is a ConfigError.
// Returns the sections the file holds, in the order arch, kernel, energy.
std::vector<std::string> validate_config_file(const std::string& path);

// A few lines for `stcsim run` to echo: GPU, peak TFLOP/s per data type (dense and per sparse
// pattern, computed from the fields), memory, kernel tiles, energy table.
std::string describe(const MachineConfig& c);

// The fully resolved config, every key with defaults and derived values filled in, as YAML that
// load_machine_config reads back to an equal MachineConfig.
std::string to_yaml(const MachineConfig& c);

}  // namespace stcsim
