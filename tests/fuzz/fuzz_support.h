// Shared by the fuzz targets: a failed property aborts, which libFuzzer reports with the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace stcsim::fuzz {

inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property failed: %s\n", what);
    std::abort();
  }
}

}  // namespace stcsim::fuzz
