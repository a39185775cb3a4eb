// Fuzz target: --set overrides. The input is one or more "key.path=value" lines applied to the shipped
// H100 machine; the result loads or is refused with a stcsim::Error.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "common/error.h"
#include "config/machine_config.h"
#include "config/yaml_doc.h"
#include "sparsity/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const stcsim::YamlDoc base = stcsim::YamlDoc::load(std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml");
  const std::string text(reinterpret_cast<const char*>(data), size);
  stcsim::YamlDoc doc = base;
  try {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) doc.apply_set(line);
    (void)stcsim::MachineConfig::from_yaml(doc);
  } catch (const stcsim::Error&) {
  }
  return 0;
}
