// Fuzz target: workload descriptions (workload/workload.h): a document loads and generates a trace at
// its default batch, or is refused with a stcsim::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "workload/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const stcsim::Workload w = stcsim::parse_workload(text, "fuzz.yaml");
    (void)stcsim::generate_trace(w, w.default_batch, w.default_seq, "dense");
  } catch (const stcsim::Error&) {
  }
  return 0;
}
