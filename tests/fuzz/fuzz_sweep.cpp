// Fuzz target: sweep files (sweep/sweep_spec.h), read as if they were in configs/sweeps/ (so the
// corpus's relative config and trace paths resolve). Any document either expands or is refused with a
// stcsim::Error; an expanded sweep's points all have runs and the columns their axes name.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "config/yaml_doc.h"
#include "fuzz_support.h"
#include "sweep/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string path = std::string(STCSIM_SOURCE_DIR) + "/configs/sweeps/fuzz.yaml";
  stcsim::sweep::SweepSpec s;
  try {
    s = stcsim::sweep::parse_sweep(stcsim::YamlDoc::parse(text, path), path);
  } catch (const stcsim::Error&) {
    return 0;
  }
  for (const auto& p : s.points) {
    stcsim::fuzz::require(!p.patterns.empty(), "a point without runs");
    stcsim::fuzz::require(p.columns.size() == s.columns.size() || p.columns.empty(), "a point with the wrong columns");
  }
  return 0;
}
