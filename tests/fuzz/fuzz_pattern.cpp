// Fuzz target: pattern specs (sparsity/spec.h, the registry and every pattern family). The first line
// is a spec; the bytes after it seed a small weight matrix. A spec either is refused with a
// stcsim::Error, or makes a pattern whose canonical spec parses back to itself, whose mask conforms,
// and whose compressed form decompresses to exactly the pruned matrix.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "fuzz_support.h"
#include "sparsity/pattern.h"
#include "sparsity/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = text.find('\n');
  const std::string spec = text.substr(0, nl);
  const std::string rest = nl == std::string::npos ? std::string() : text.substr(nl + 1);
  std::unique_ptr<stcsim::Pattern> p;
  try {
    p = stcsim::builtin_registry().make(spec);
  } catch (const stcsim::Error&) {
    return 0;
  }
  stcsim::fuzz::require(stcsim::builtin_registry().canonical(p->spec()) == p->spec(), "canonical spec does not read back");
  // A small matrix whose shape and values come from the remaining bytes.
  const std::int64_t rows = rest.empty() ? 4 : 1 + static_cast<unsigned char>(rest[0]) % 40;
  const std::int64_t cols = rest.size() < 2 ? 8 : 1 + static_cast<unsigned char>(rest[1]) % 70;
  stcsim::Matrix w(rows, cols);
  for (std::int64_t i = 0; i < w.size(); ++i) {
    const auto b = rest.size() > 2 ? static_cast<unsigned char>(rest[2 + static_cast<std::size_t>(i) % (rest.size() - 2)]) : 1u;
    w.data()[static_cast<std::size_t>(i)] = static_cast<float>(static_cast<int>(b) - 128) / 16.0f;
  }
  try {
    const stcsim::Mask mask = p->build_mask(w);
    p->check_mask(mask);
    const auto c = p->compress(w, mask);
    stcsim::fuzz::require(c->decompress() == stcsim::apply_mask(w, mask), "decompress(compress(w)) differs from the pruned matrix");
  } catch (const stcsim::Error&) {
    // Shapes a pattern cannot take (a V larger than the rows, ...) are refused, which is fine.
  }
  return 0;
}
