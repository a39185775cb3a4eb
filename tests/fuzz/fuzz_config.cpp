// Fuzz target: machine config YAML (arch, kernel and energy sections; config/). A document either
// loads, and then dumps to YAML that loads back equal, or is refused with a stcsim::Error. Includes
// are resolved against the shipped configs folder, so the corpus's `include:` lines work.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "config/machine_config.h"
#include "config/yaml_doc.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  stcsim::MachineConfig m;
  try {
    const stcsim::YamlDoc doc = stcsim::YamlDoc::parse(text, std::string(STCSIM_SOURCE_DIR) + "/configs/fuzz.yaml");
    m = stcsim::MachineConfig::from_yaml(doc);
  } catch (const stcsim::Error&) {
    return 0;
  }
  const stcsim::YamlDoc again = stcsim::YamlDoc::parse(stcsim::to_yaml(m), "dumped.yaml");
  stcsim::fuzz::require(stcsim::MachineConfig::from_yaml(again) == m, "a loaded config does not load back equal from its dump");
  return 0;
}
