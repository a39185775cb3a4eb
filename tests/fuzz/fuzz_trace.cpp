// Fuzz target: trace files (trace/trace_io.h). Any input either parses, and then formats and parses
// back to the same trace, or is refused with a stcsim::Error; nothing else may happen.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "fuzz_support.h"
#include "sparsity/registry.h"
#include "trace/trace_io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  stcsim::Trace t;
  try {
    t = stcsim::parse_trace(text, "fuzz.trace", stcsim::builtin_registry());
  } catch (const stcsim::Error&) {
    return 0;
  }
  const stcsim::Trace back = stcsim::parse_trace(stcsim::format_trace(t), "fuzz.trace", stcsim::builtin_registry());
  stcsim::fuzz::require(back.ops == t.ops, "a parsed trace does not read back equal after formatting");
  return 0;
}
